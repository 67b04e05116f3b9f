"""A torchreid model and an RGANet config through the same runner path on tiny SynthOcc."""

import json
import threading
from pathlib import Path

import pytest
import torch
from filelock import FileLock

from rganet_reid.benchmark.leaderboard import collect_runs, merge_seeds
from rganet_reid.benchmark.runner import (
    EVALUATION_KEYS,
    BenchmarkRunError,
    RunPlan,
    _with,
    config_hash,
    execute,
    plan_runs,
    run_benchmark,
)
from rganet_reid.benchmark.spec import ThroughputSettings
from rganet_reid.benchmark.spec_file import spec_from_dict
from rganet_reid.benchmark.throughput import count_parameters
from rganet_reid.engine.builder import build_model
from rganet_reid.utils.locking import lock_path

REPO = Path(__file__).resolve().parents[2]
OCC, PARTIAL = "synthocc_occluded", "synthocc_partial"


def _spec(protocols):
    return spec_from_dict({
        "name": "tiny", "protocols": protocols, "budget": {"max_epoch": 1},
        "overrides": {"data.synthocc.size": "tiny", "train.batch_size": 16, "data.workers": 0,
                      "test.batch_size": 64, "data.height": 128, "data.width": 64,
                      "clip_pretrain.max_epoch": 1},
        "throughput": {"batch_size": 4, "warmup": 1, "repeats": 2},
        "entries": [{"label": "RGANet", "config": str(REPO / "projects/RGANet/synth_occ.yaml")},
                    {"label": "OSNet", "model": "osnet_x0_25"}]})


def _results(run_dir):
    return json.loads((run_dir / "results.json").read_text())["results"]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Training here is tiny: one thread avoids oversubscribing a shared, loaded CPU (where
    two threads were measured 10x slower)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def trained(synthocc_root, tmp_path_factory):
    runs = tmp_path_factory.mktemp("bench") / "runs"
    plans = run_benchmark(_spec([OCC]), runs, root=synthocc_root)
    return runs, plans


def test_both_models_train_evaluate_and_are_measured(trained):
    _, plans = trained
    assert [p.cfg.model.name for p in plans] == ["rganet_tiny", "osnet_x0_25"]
    assert [p.cfg.loss.name for p in plans] == ["rganet", "triplet"]
    for plan in plans:
        bench = json.loads((plan.run_dir / "bench.json").read_text())
        assert bench["action"] == "train" and bench["config_hash"] == plan.config_hash
        assert bench["params"] > 100_000
        assert bench["inference"]["images_per_s"] > 0 and bench["inference"]["batch_size"] == 4
        assert bench["training"]["images_per_s"] > 0 and bench["training"]["epochs"] == 1
        assert (plan.run_dir / "model.pth").is_file()
        assert 0.0 <= _results(plan.run_dir)[OCC]["mAP"] <= 100.0
    rows = merge_seeds(collect_runs(plans), ["RGANet", "OSNet"])
    assert [(r.entry, r.protocol) for r in rows] == [("RGANet", OCC), ("OSNet", OCC)]
    assert rows[0].descriptor["rganet.regions"] == "rgm"
    # RGANet is counted as deployed: cached prototypes, no text encoder
    fresh = build_model(plans[0].cfg, num_classes=16)  # tiny SynthOcc: 16 training ids
    assert fresh.prompt.text_encoder is not None
    assert rows[0].params.mean < count_parameters(fresh)


def test_a_new_protocol_on_the_same_training_data_is_only_evaluated(trained, synthocc_root):
    runs, plans = trained
    before = {p.run_dir: (_results(p.run_dir)[OCC],
                          (p.run_dir / "model.pth").stat().st_mtime_ns) for p in plans}
    again = run_benchmark(_spec([OCC, PARTIAL]), runs, root=synthocc_root)
    assert [p.run_dir for p in again] == list(before)  # same folders: same training config
    for plan in again:
        bench = json.loads((plan.run_dir / "bench.json").read_text())
        assert bench["action"] == "evaluate"  # saved weights, no training
        assert bench["training"]["epochs"] == 1  # the training measurement is kept
        results = _results(plan.run_dir)
        occ, mtime = before[plan.run_dir]
        assert (plan.run_dir / "model.pth").stat().st_mtime_ns == mtime
        assert set(results) == {OCC, PARTIAL}
        assert results[OCC]["mAP"] == pytest.approx(occ["mAP"], abs=1e-6)
        assert results[OCC]["rank1"] == pytest.approx(occ["rank1"], abs=1e-6)


def test_an_up_to_date_run_is_not_retrained(trained):
    _, plans = trained
    mtime = (plans[1].run_dir / "bench.json").stat().st_mtime_ns
    execute(plans[1], throughput=_spec([OCC]).throughput)
    assert (plans[1].run_dir / "bench.json").stat().st_mtime_ns == mtime


def test_other_throughput_settings_are_re_measured_without_retraining(trained):
    _, plans = trained
    weights = (plans[1].run_dir / "model.pth").stat().st_mtime_ns
    record = execute(plans[1], throughput=ThroughputSettings(batch_size=2, warmup=0, repeats=1))
    assert record["action"] == "evaluate" and record["inference"]["batch_size"] == 2
    assert (plans[1].run_dir / "model.pth").stat().st_mtime_ns == weights


def test_re_evaluation_needs_trained_weights(tmp_path, synthocc_root):
    (plan,) = [p for p in plan_runs(_spec([OCC]), tmp_path, synthocc_root)
               if p.entry.label == "OSNet"]
    with pytest.raises(BenchmarkRunError, match="no trained weights"):
        execute(plan, mode="evaluate")


def test_a_run_folder_in_use_is_waited_for_then_reused(trained):
    """Two benchmarks sharing a run: the second waits for the first, then reuses its result."""
    _, plans = trained
    bench = plans[1].run_dir / "bench.json"
    mtime = bench.stat().st_mtime_ns
    stored = json.loads(bench.read_text())["inference"]
    same = ThroughputSettings(batch_size=stored["batch_size"], warmup=stored["warmup"],
                              repeats=stored["repeats"])
    returned = []
    with FileLock(str(lock_path(plans[1].run_dir))):  # held by "another process"
        waiter = threading.Thread(
            target=lambda: returned.append(execute(plans[1], throughput=same)))
        waiter.start()
        waiter.join(timeout=1.0)
        assert waiter.is_alive() and returned == []  # blocked on the lock
    waiter.join(timeout=60)
    assert not waiter.is_alive()
    assert returned[0] == json.loads(bench.read_text())
    assert bench.stat().st_mtime_ns == mtime  # up to date after the wait: nothing redone


def test_a_run_that_cannot_train_stops_the_benchmark_before_anything_trains(tmp_path):
    spec = spec_from_dict({
        "name": "bad", "protocols": [OCC], "budget": {"max_epoch": 1},
        "entries": [{"label": "fine", "config": str(REPO / "projects/RGANet/synth_occ.yaml")},
                    {"label": "N=2", "config": str(REPO / "projects/RGANet/synth_occ.yaml"),
                     "overrides": {"rganet.num_regions": 2,
                                   "rganet.seg.label_map": [0, 1, 1, 2, 2]}}]})
    runs = tmp_path / "runs"
    with pytest.raises(BenchmarkRunError, match=r"entry 'N=2', seed 1: .*class_weights must "
                                                r"hold N\+1 = 3 weights"):
        run_benchmark(spec, runs)
    assert not runs.exists()  # the valid entry was not trained either


def _with_scale(plan: RunPlan, scale: float) -> RunPlan:
    cfg = _with(plan.cfg, {"rganet.region_weight_scale": scale})
    return RunPlan(plan.entry, plan.protocols, plan.seed, plan.run_dir, cfg, config_hash(cfg))


def test_the_config_hash_names_what_trains_not_how_it_is_scored(tmp_path, synthocc_root):
    plan = plan_runs(_spec([OCC]), tmp_path, synthocc_root)[0]
    assert "rganet.region_weight_scale" in EVALUATION_KEYS
    c = plan.cfg.rganet.region_weight_scale  # another c than the plan's (the default is 8)
    assert _with_scale(plan, 2 * c).config_hash == plan.config_hash
    momentum = _with(plan.cfg, {"rganet.memory.momentum": 0.9})
    assert config_hash(momentum) != plan.config_hash  # a training key still names another run


def test_another_evaluation_setting_re_evaluates_the_saved_weights(trained):
    """c of Eq. 10 changed: same folder, same weights, new results; then up to date."""
    _, plans = trained
    plan = plans[0]
    c = plan.cfg.rganet.region_weight_scale
    throughput = _spec([OCC]).throughput
    weights = (plan.run_dir / "model.pth").stat().st_mtime_ns
    bench = plan.run_dir / "bench.json"
    assert json.loads(bench.read_text())["evaluation"] == {"rganet.region_weight_scale": c}
    scaled = _with_scale(plan, 2 * c)
    record = execute(scaled, throughput=throughput)
    assert record["action"] == "evaluate"
    assert record["evaluation"] == {"rganet.region_weight_scale": 2 * c}
    assert (plan.run_dir / "model.pth").stat().st_mtime_ns == weights
    mtime = bench.stat().st_mtime_ns
    execute(scaled, throughput=throughput)
    assert bench.stat().st_mtime_ns == mtime  # scored at 2c already: nothing redone
    # A record from before the split has no "evaluation": it was scored at the fixed values
    fixed = _with_scale(plan, EVALUATION_KEYS["rganet.region_weight_scale"])
    assert execute(fixed, throughput=throughput)["evaluation"] == EVALUATION_KEYS
    old = json.loads(bench.read_text())
    del old["evaluation"]
    bench.write_text(json.dumps(old))
    mtime = bench.stat().st_mtime_ns
    execute(fixed, throughput=throughput)
    assert bench.stat().st_mtime_ns == mtime
