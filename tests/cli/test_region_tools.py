"""Fig. 4 and re-scoring commands on a saved run folder (the tiny RGANet run of conftest)."""

import json

import pytest
from PIL import Image

from rganet_reid.cli import draw_regions, rescore_readings
from rganet_reid.visualization.regions import region_figure_size


def test_draw_regions_draws_the_most_occluded_queries(rganet_run, tmp_path, capsys):
    out = tmp_path / "fig4.png"
    assert draw_regions.main([str(rganet_run.run_dir), "--count", "2", "--out", str(out)]) == 0
    assert Image.open(out).size == region_figure_size(2, rganet_run.query.num_regions)
    assert str(out) in capsys.readouterr().out


def test_rescore_readings_writes_one_result_per_reading(rganet_run, capsys):
    assert rescore_readings.main([str(rganet_run.run_dir), "--reading", "text=softmax_sum,"
                                  "regions,1", "--reading", "fig4=mean,centres,0.1"]) == 0
    saved = json.loads((rganet_run.run_dir / "rescore" / "readings.json").read_text())
    per = saved["results"]["synthocc_occluded"]
    assert set(per) == {"text", "fig4"}
    # the two readings weigh the same features differently: Eq. 10 differs, the masks do not
    assert per["text"]["miou"] == per["fig4"]["miou"]
    assert per["text"]["w_mean"] != per["fig4"]["w_mean"]
    assert "fig4" in capsys.readouterr().out


def test_rescore_readings_scales_eq10_weights_and_applies_config_overrides(rganet_run, capsys):
    """A reading's optional 4th field is rganet.region_weight_scale; ``-- KEY VALUE`` changes
    the run's config (here the test batch size: same features, so the same numbers)."""
    argv = [str(rganet_run.run_dir), "--reading", "c1=mean,centres,0.1,1", "--reading",
            "c3=mean,centres,0.1,3"]
    assert rescore_readings.main(argv + ["--", "test.batch_size", "3"]) == 0
    saved = json.loads((rganet_run.run_dir / "rescore" / "readings.json").read_text())
    per = saved["results"]["synthocc_occluded"]
    assert saved["readings"]["c3"]["weight_scale"] == 3.0
    # w itself, its AUROC and the w = 1 concatenation do not depend on the scale ...
    for key in ("w_mean", "auroc_w", "eq10_uniform_mAP", "eq10_global_mAP"):
        assert per["c1"][key] == per["c3"][key], key
    # ... Eq. 10 with c·w does, and only c ≠ 1 adds uniform weights at that scale
    assert per["c1"]["mAP"] != per["c3"]["mAP"]
    assert "eq10_uniform_scaled_mAP" in per["c3"] and "eq10_uniform_scaled_mAP" not in per["c1"]
    assert rescore_readings.main([str(rganet_run.run_dir), "--reading", "c1=mean,centres,0.1,1",
                                  "--", "test.batch_size"]) == 2
    assert "KEY VALUE" in capsys.readouterr().err


def test_a_reading_with_a_bad_scale_is_refused(rganet_run, capsys):
    for bad in ("x=mean,centres,0.1,0", "x=mean,centres,0.1,1,2", "x=mean,centres,0.1,big"):
        with pytest.raises(SystemExit) as exit_:
            rescore_readings.main([str(rganet_run.run_dir), "--reading", bad])
        assert exit_.value.code == 2
        assert "NAME=CONFIDENCE,IAI_MODE,TAU[,SCALE]" in capsys.readouterr().err


def test_bench_region_ceiling_prints_the_grid_bound(synthocc_root, capsys):
    from rganet_reid.cli import bench_region_ceiling

    assert bench_region_ceiling.main(["--root", str(synthocc_root), "--size", "tiny",
                                      "--grid", "16x8", "--grid", "128x64"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith(("16x8", "128x64"))]
    assert len(rows) == 4
    exact = [r for r in rows if r[0] == "128x64" and r[1] == "argmax"][0]
    assert [float(v) for v in exact[-5:]] == [1.0] * 5  # one cell per pixel: the truth
    coarse = [r for r in rows if r[0] == "16x8" and r[1] == "argmax"][0]
    assert float(coarse[-1]) < 0.9  # the patch grid loses the thin parts
    assert bench_region_ceiling.main(["--root", str(synthocc_root), "--size", "tiny",
                                      "--protocol", "nope"]) == 2
