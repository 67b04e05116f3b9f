"""Table shapes from stored runs, and their formats parsing back to the same numbers."""

import json

import pytest
from bench_helpers import metrics, write_run
from table_readers import parse_markdown, parse_stat, read_csv, table_from_json

from rganet_reid.benchmark.leaderboard import Stat, collect_runs, load_runs, merge_seeds
from rganet_reid.benchmark.runner import plan_runs
from rganet_reid.benchmark.spec_file import spec_from_dict
from rganet_reid.benchmark.tables import (
    LEARNABLE_PROMPT,
    ReadmeError,
    build_table,
    replace_section,
    to_csv,
    to_json,
    to_markdown,
    to_terminal,
    write_table,
)

OCC = "synthocc_occluded"


def _rows_from_fake_runs(tmp_path, spec, base_of=lambda i: 40.0 + 5 * i, seeds=(1,)):
    """Fake a stored run for every planned run of ``spec``; returns merged rows."""
    plans = plan_runs(spec, tmp_path / "runs")
    labels = [e.label for e in spec.entries]
    for plan in plans:
        i = labels.index(plan.entry.label)
        write_run(plan.run_dir, entry=plan.entry.label, seed=plan.seed,
                  config_hash=plan.config_hash, params=1_000_000 * (i + 1),
                  results={d: metrics(base_of(i) + plan.seed, d) for d in plan.cfg.data.targets})
    return merge_seeds(collect_runs(plans), labels, spec.protocols)


def _rganet(label, **overrides):
    return {"label": label, "model": "rganet_tiny",
            "overrides": {f"rganet.{k}": v for k, v in overrides.items()}}


def test_leaderboard_has_every_metric_and_the_measurements(tmp_path):
    spec = spec_from_dict({"name": "lb", "protocols": [OCC, "synthocc_partial"], "seeds": [1, 2],
                           "entries": [{"label": "R18", "model": "resnet18"},
                                       {"label": "PCB", "model": "pcb_p4"}]})
    table = build_table("leaderboard", _rows_from_fake_runs(tmp_path, spec), spec)
    assert [c.header for c in table.columns][:8] == ["Model", "Protocol", "R1", "R3", "R5",
                                                     "R10", "mAP", "mINP"]
    first, partial = table.rows[0], table.rows[1]
    assert first["model"] == "R18" and first["rank1"] == Stat(42.5, pytest.approx(0.7071, 1e-3), 2)
    assert partial["rank5"] is None  # partial reports Rank-1/3 only
    assert first["params_m"] == Stat(1.0, None, 2) and first["infer_ips"].mean == 100.0
    text = to_terminal(table)
    assert "42.5 ± 0.7" in text and "mean ± sample std" in text and "batch 128" in text


def test_ablation_columns_come_from_the_entries_config_keys(tmp_path):
    spec = spec_from_dict({"name": "t5", "shape": "ablation", "protocols": [OCC], "entries": [
        _rganet("Baseline", regions="none", dai=False, iai=False),
        _rganet("Stripes + IAI", regions="stripes", dai=False, iai=True),
        _rganet("RGANet", regions="rgm", dai=True, iai=True),
        {"label": "PCB", "model": "pcb_p4"}]})
    table = build_table("ablation", _rows_from_fake_runs(tmp_path, spec), spec)
    got = [(r["index"], r["type"], r["dai"], r["iai"]) for r in table.rows]
    assert got == [(0, "Baseline", False, False), (1, "Fixed-stripe", False, True),
                   (2, "RGM", True, True), (3, "pcb_p4", False, False)]
    assert [c.header for c in table.columns][-2:] == ["R1", "mAP"]
    assert "✓" in to_markdown(table) and "✗" in to_markdown(table)


def test_ablation_can_show_region_quality_columns_with_two_decimals(tmp_path):
    spec = spec_from_dict({"name": "t5", "shape": "ablation", "protocols": [OCC], "seeds": [1, 2],
                           "metrics": ["mAP", "miou", "auroc_w", "eq10_oracle_mAP"],
                           "entries": [_rganet("Baseline", regions="none"),
                                       _rganet("RGANet", regions="rgm")]})
    plans = plan_runs(spec, tmp_path / "runs")
    for plan in plans:
        m = metrics(40.0, OCC)
        if plan.entry.label == "RGANet":  # only region models measure regions
            m.update(miou=0.6 + 0.02 * plan.seed, auroc_w=0.81, eq10_oracle_mAP=50.0,
                     auroc_visible_pairs=10)
        write_run(plan.run_dir, entry=plan.entry.label, seed=plan.seed,
                  config_hash=plan.config_hash, results={OCC: m})
    table = build_table("ablation", merge_seeds(collect_runs(plans), ["Baseline", "RGANet"],
                                                spec.protocols), spec)
    assert [c.header for c in table.columns][-4:] == ["mAP", "mIoU", "w-AUROC", "mAP (oracle w)"]
    base, full = table.rows
    assert base["synthocc_occluded.miou"] is None
    assert full["synthocc_occluded.miou"].mean == pytest.approx(0.63)
    _, cells = parse_markdown(to_markdown(table))
    assert cells[1][-4:] == ["39.0 ± 0.0", "0.63 ± 0.01", "0.81 ± 0.00", "50.0 ± 0.0"]
    assert cells[0][-3:] == ["-", "-", "-"]


def test_prompt_table_names_each_design(tmp_path):
    spec = spec_from_dict({"name": "t6", "shape": "prompts", "protocols": [OCC], "entries": [
        {"label": "photo", "model": "rganet_tiny", "overrides": {
            "rganet.prompt.mode": "template", "rganet.prompt.template": "a photo of a [CLASS]."}},
        {"label": "learned", "model": "rganet_tiny"}]})
    table = build_table("prompts", _rows_from_fake_runs(tmp_path, spec), spec)
    assert [r["prompt"] for r in table.rows] == ['"a photo of a [CLASS]."', LEARNABLE_PROMPT]


def test_sweep_table_groups_points_by_parameter_and_plots_them(tmp_path):
    from rganet_reid.benchmark.plots import plot_sweep

    spec = spec_from_dict({"name": "f3", "shape": "sweep", "protocols": [OCC], "sweeps": [{
        "base": {"label": "RGM", "model": "rganet_tiny"},
        "values": {"rganet.gamma": [5, 20, 50], "rganet.num_regions": [
            {"value": 2, "overrides": {"rganet.seg.label_map": [0, 1, 1, 2, 2]}}, 4]}}]})
    assert [e.label for e in spec.entries] == ["RGM", "RGM, γ=5", "RGM, γ=50", "RGM, N=2"]
    assert spec.entries[3].overrides["rganet.seg.label_map"] == [0, 1, 1, 2, 2]
    table = build_table("sweep", _rows_from_fake_runs(tmp_path, spec), spec)
    got = [(r["parameter"], r["value"], r["model"]) for r in table.rows]
    assert got == [("γ", "5", "RGM, γ=5"), ("γ", "20", "RGM"), ("γ", "50", "RGM, γ=50"),
                   ("N", "2", "RGM, N=2"), ("N", "4", "RGM")]  # the spec's key order
    png = plot_sweep(table, tmp_path / "f3.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_complexity_table_has_fps_params_and_accuracy(tmp_path):
    spec = spec_from_dict({"name": "t7", "shape": "complexity", "protocols": [OCC],
                           "entries": [{"label": "R18", "model": "resnet18"}]})
    table = build_table("complexity", _rows_from_fake_runs(tmp_path, spec), spec)
    assert [c.header for c in table.columns] == ["Methods", "FPS (img/s)", "#Params (M)",
                                                 "Train img/s", "R1", "mAP"]
    assert table.rows[0]["fps"].mean == 100.0 and table.rows[0][f"{OCC}.rank1"].mean == 42.0


@pytest.fixture
def seeded_table(tmp_path):
    for seed, base in ((1, 40.123), (2, 47.456)):
        for entry, shift in (("A | pipe", 0.0), ("B", 10.0)):
            write_run(tmp_path / entry / f"s{seed}", entry=entry, seed=seed,
                      results={OCC: metrics(base + shift, OCC)}, train=None)
    spec = spec_from_dict({"name": "rt", "protocols": [OCC],
                           "entries": [{"label": "A | pipe", "model": "resnet18"},
                                       {"label": "B", "model": "resnet18"}]})
    return build_table("leaderboard", merge_seeds(load_runs([tmp_path]),
                                                   ["A | pipe", "B"]), spec)


def test_json_round_trip_keeps_every_number(seeded_table):
    back = table_from_json(to_json(seeded_table))
    assert back.rows == seeded_table.rows
    assert [c.key for c in back.columns] == [c.key for c in seeded_table.columns]


def test_csv_round_trip_keeps_full_precision(seeded_table):
    rows = read_csv(to_csv(seeded_table))
    for got, want in zip(rows, seeded_table.rows):
        assert got["model"] == want["model"]
        for key in ("rank1", "mAP", "mINP", "infer_ips"):
            assert float(got[key]) == want[key].mean
            assert float(got[f"{key}_std"]) == want[key].std
        assert got["train_ips"] == "" and got["params_m_std"] == ""


def test_markdown_round_trip_gives_the_numbers_at_display_precision(seeded_table):
    headers, cells = parse_markdown(to_markdown(seeded_table))
    assert headers[:3] == ["Model", "Protocol", "R1"]
    for row, want in zip(cells, seeded_table.rows):
        record = dict(zip(headers, row))
        assert record["Model"] == want["model"]  # "|" in a label survives escaping
        mean, std = parse_stat(record["mAP"])
        assert mean == pytest.approx(want["mAP"].mean, abs=0.05)
        assert std == pytest.approx(want["mAP"].std, abs=0.05)
        assert parse_stat(record["Train img/s"]) is None


def test_write_table_writes_all_four_formats(seeded_table, tmp_path):
    paths = write_table(seeded_table, tmp_path / "out")
    assert sorted(paths) == ["csv", "json", "md", "txt"]
    assert json.loads(paths["json"].read_text())["name"] == "rt"
    assert paths["txt"].read_text().startswith(seeded_table.title)


def test_readme_section_between_markers_is_replaced_and_the_rest_kept():
    text = "# T\nintro\n<!-- table:lb -->\nold\n<!-- /table:lb -->\nafter\n"
    new = replace_section(text, "lb", "| a |\n|---|\n| 1 |")
    assert new == "# T\nintro\n<!-- table:lb -->\n| a |\n|---|\n| 1 |\n<!-- /table:lb -->\nafter\n"
    assert replace_section(new, "lb", "x") .count("<!-- table:lb -->") == 1


def test_readme_without_the_markers_names_what_to_add():
    with pytest.raises(ReadmeError, match="<!-- table:t5 -->.*sections present: \\['lb'\\]"):
        replace_section("<!-- table:lb -->\n<!-- /table:lb -->", "t5", "x")
