"""Fig. 4 and re-scoring commands on a saved run folder (the tiny RGANet run of conftest)."""

import json

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
