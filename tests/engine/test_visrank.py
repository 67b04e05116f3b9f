"""test.visrank / test.visrank_topk / test.visrank_queries: rank-list figures at evaluation."""

from pathlib import Path

from PIL import Image

from rganet_reid.cli.main import main
from rganet_reid.visualization.ranklist import ranklist_figure_size

REPO = Path(__file__).resolve().parents[2]
BASELINE = str(REPO / "configs" / "baselines" / "osnet_x0_25.yaml")


def _opts(root, save_dir, *extra):
    return ["--config-file", BASELINE, "data.root", str(root), "data.synthocc.size", "tiny",
            "data.save_dir", str(save_dir), "data.workers", "0", "data.height", "64",
            "data.width", "32", "test.evaluate", "True", *extra]


def test_visrank_draws_the_configured_queries_and_ranks(synthocc_root, tmp_path):
    run = tmp_path / "run"
    assert main(_opts(synthocc_root, run, "test.visrank", "True", "test.visrank_topk", "5",
                      "test.visrank_queries", "3")) == 0
    figure = run / "visrank" / "synthocc_occluded.png"
    assert Image.open(figure).size == ranklist_figure_size(3, 5, title=True)


def test_no_figure_without_visrank(synthocc_root, tmp_path):
    run = tmp_path / "run"
    assert main(_opts(synthocc_root, run)) == 0
    assert (run / "results.json").is_file() and not (run / "visrank").exists()
