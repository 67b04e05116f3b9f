"""An oracle entry of a spec is evaluated (never trained) and stored like any run."""

import json

import pytest

from rganet_reid.benchmark.leaderboard import collect_runs, merge_seeds
from rganet_reid.benchmark.oracle import evaluate_oracle
from rganet_reid.benchmark.runner import run_benchmark
from rganet_reid.benchmark.spec import SpecError
from rganet_reid.benchmark.spec_file import spec_from_dict
from rganet_reid.benchmark.tables import build_table, to_markdown

PROTOCOLS = ["synthocc_occluded", "synthocc_holistic"]


def _spec(entries):
    return spec_from_dict({
        "name": "oracle", "protocols": PROTOCOLS, "budget": {"max_epoch": 1},
        "overrides": {"data.synthocc.size": "tiny", "data.workers": 0},
        "entries": entries})


def test_oracle_rows_hold_the_oracle_s_own_metrics(synthocc_root, tmp_path):
    spec = _spec([{"label": "Colour oracle (GT masks)", "oracle": "colour_histogram"}])
    runs = tmp_path / "runs"
    plans = run_benchmark(spec, runs, root=synthocc_root)
    (plan,) = plans
    assert plan.run_dir.name == "seed1" and "oracle-colour_histogram" in str(plan.run_dir)
    bench = json.loads((plan.run_dir / "bench.json").read_text())
    assert bench["action"] == "oracle" and bench["params"] is None
    direct = evaluate_oracle(plan.cfg, "colour_histogram")
    rows = merge_seeds(collect_runs(plans))
    assert [r.protocol for r in rows] == PROTOCOLS
    for row in rows:
        assert row.metrics["mAP"].mean == pytest.approx(direct[row.dataset]["mAP"])
        # tiny SynthOcc: the ground-truth colours find the person (measured 81 / 86 mAP;
        # pids and cameras swapped: 27 / 25)
        assert row.metrics["mAP"].mean > 60
    table = to_markdown(build_table("leaderboard", rows, spec))
    assert "Colour oracle (GT masks)" in table
    stamp = (plan.run_dir / "bench.json").stat().st_mtime_ns
    run_benchmark(spec, runs, root=synthocc_root)  # up to date: not evaluated again
    assert (plan.run_dir / "bench.json").stat().st_mtime_ns == stamp


def test_an_oracle_entry_names_a_known_oracle_and_no_model():
    with pytest.raises(SpecError, match="oracle must be one of"):
        _spec([{"label": "x", "oracle": "psychic"}])
    with pytest.raises(SpecError, match="oracle must be one of"):
        _spec([{"label": "x", "oracle": "colour_histogram", "model": "resnet50"}])
