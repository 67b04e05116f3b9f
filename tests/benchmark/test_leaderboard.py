"""Leaderboard rows from stored run folders (no training): loading, labelling, seed merging."""

import statistics

import pytest
from bench_helpers import metrics, write_run

from rganet_reid.benchmark.leaderboard import (
    LeaderboardError,
    Stat,
    collect_runs,
    load_runs,
    merge_seeds,
)
from rganet_reid.benchmark.runner import plan_runs
from rganet_reid.benchmark.spec_file import spec_from_dict


def _two_protocol_results(base):
    return {d: metrics(base, d) for d in ("synthocc_occluded", "synthocc_partial")}


def test_stored_runs_become_one_row_per_entry_and_protocol(tmp_path):
    write_run(tmp_path / "a" / "seed1", entry="A", seed=1, results=_two_protocol_results(50))
    write_run(tmp_path / "b" / "seed1", entry="B", seed=1,
              results={"synthocc_occluded": metrics(30, "synthocc_occluded")}, params=2_000_000)
    runs = load_runs([tmp_path])
    rows = merge_seeds(runs, entry_order=["B", "A"],
                       protocol_order=["synthocc_occluded", "synthocc_partial"])
    assert [(r.entry, r.protocol) for r in rows] == [
        ("B", "synthocc_occluded"), ("A", "synthocc_occluded"), ("A", "synthocc_partial")]
    a_partial = rows[2]
    assert a_partial.metrics["rank1"].mean == 51.0 and a_partial.metrics["rank3"].mean == 53.0
    assert "rank5" not in a_partial.metrics  # the partial protocol reports Rank-1/3 only
    assert a_partial.metrics["mAP"].mean == 49.0 and a_partial.metrics["mINP"].mean == 48.0
    assert rows[0].params.mean == 2_000_000 and rows[0].inference_ips.mean == 100.0


def test_seeds_merge_into_mean_and_sample_std(tmp_path):
    for seed, base in ((1, 40.0), (2, 44.0), (3, 51.0)):
        write_run(tmp_path / f"seed{seed}", entry="A", seed=seed,
                  results={"synthocc_occluded": metrics(base, "synthocc_occluded")},
                  infer=90.0 + seed, train=None if seed == 3 else 10.0 * seed)
    (row,) = merge_seeds(load_runs([tmp_path]))
    r1 = [41.0, 45.0, 52.0]
    assert row.seeds == [1, 2, 3]
    assert row.metrics["rank1"] == Stat(statistics.fmean(r1), statistics.stdev(r1), 3)
    assert row.metrics["mAP"].mean == pytest.approx(statistics.fmean([39.0, 43.0, 50.0]))
    assert row.inference_ips.mean == pytest.approx(92.0) and row.inference_ips.n == 3
    assert row.training_ips == Stat(15.0, statistics.stdev([10.0, 20.0]), 2)  # None skipped
    assert row.params == Stat(1_500_000, None, 3)  # shared by all seeds: no ± 0


def test_a_single_seed_has_no_std(tmp_path):
    write_run(tmp_path / "s", entry="A", seed=1,
              results={"synthocc_occluded": metrics(40, "synthocc_occluded")})
    (row,) = merge_seeds(load_runs([tmp_path]))
    assert row.metrics["rank1"] == Stat(41.0, None, 1)


def test_the_same_seed_found_twice_keeps_the_newer_run(tmp_path):
    write_run(tmp_path / "old", entry="A", seed=1, date="2025-01-01T00:00:00+00:00",
              results={"synthocc_occluded": metrics(10, "synthocc_occluded")})
    write_run(tmp_path / "new", entry="A", seed=1, date="2025-02-01T00:00:00+00:00",
              results={"synthocc_occluded": metrics(60, "synthocc_occluded")})
    (row,) = merge_seeds(load_runs([tmp_path]))
    assert row.metrics["rank1"] == Stat(61.0, None, 1)


def test_seeds_of_different_settings_are_not_averaged(tmp_path):
    for seed, regions in ((1, "rgm"), (2, "stripes")):
        write_run(tmp_path / f"s{seed}", entry="A", seed=seed,
                  results={"synthocc_occluded": metrics(40, "synthocc_occluded")},
                  descriptor={"rganet.regions": regions})
    with pytest.raises(LeaderboardError, match="rganet.regions"):
        merge_seeds(load_runs([tmp_path]))


def test_a_run_without_results_for_its_target_is_a_clear_error(tmp_path):
    run = write_run(tmp_path / "s", entry="A", seed=1,
                    results={"synthocc_occluded": metrics(40, "synthocc_occluded")})
    (run / "results.json").write_text('{"results": {}}')
    with pytest.raises(LeaderboardError, match="no results for 'synthocc_occluded'"):
        load_runs([tmp_path])


def _spec(seeds=(1,)):
    return spec_from_dict({
        "name": "t", "shape": "leaderboard", "seeds": list(seeds),
        "protocols": ["synthocc_occluded", "synthocc_holistic"],
        "entries": [{"label": "My ResNet", "model": "resnet18"},
                    {"label": "PCB", "model": "pcb_p4"}]})


def test_collect_labels_stored_runs_with_the_spec_and_merges_other_folders(tmp_path):
    spec = _spec(seeds=(1,))
    plans = plan_runs(spec, tmp_path / "runs")
    results = {d: metrics(20, d) for d in ("synthocc_occluded", "synthocc_holistic")}
    for plan in plans:
        write_run(plan.run_dir, entry="created elsewhere", seed=1, results=results,
                  config_hash=plan.config_hash)
    # seed 2 of ResNet ran on another machine; its folder is found by config hash
    other = tmp_path / "other_machine"
    write_run(other / "x" / "seed2", entry="whatever", seed=2, results={
        d: metrics(30, d) for d in results}, config_hash=plans[0].config_hash)
    write_run(other / "y" / "seed2", entry="unrelated", seed=2, results=results,
              config_hash="f" * 16)
    runs = collect_runs(plans, [other])
    rows = merge_seeds(runs, [e.label for e in spec.entries], spec.protocols)
    assert [(r.entry, r.protocol, r.seeds) for r in rows] == [
        ("My ResNet", "synthocc_occluded", [1, 2]), ("My ResNet", "synthocc_holistic", [1, 2]),
        ("PCB", "synthocc_occluded", [1]), ("PCB", "synthocc_holistic", [1])]
    assert rows[0].metrics["rank1"].mean == pytest.approx(26.0)  # (21 + 31) / 2
    assert rows[2].descriptor["loss.name"] == "softmax"  # the spec's config, not the folder's


def test_collect_skips_missing_runs(tmp_path):
    plans = plan_runs(_spec(), tmp_path / "runs")
    assert collect_runs(plans) == []
