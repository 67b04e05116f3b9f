"""rganet-search: index → query (table + figure), ranklist of two models, one-line errors."""

import subprocess
import sys
from pathlib import Path

from PIL import Image

from rganet_reid.cli.search import main
from rganet_reid.visualization.ranklist import ranklist_figure_size

REPO = Path(__file__).resolve().parents[2]


def test_index_then_query_prints_the_table_and_draws_the_figure(rganet_run, tmp_path, capsys):
    gallery = str(Path(rganet_run.gallery_paths[0]).parent)
    index = str(tmp_path / "gallery")
    assert main(["index", "--model", str(rganet_run.run_dir), "--index", index, gallery,
                 "--chunk-size", "16", "--device", "cpu"]) == 0
    assert f"{len(rganet_run.gallery_paths)} images indexed" in capsys.readouterr().out
    queries = rganet_run.query_paths[:2]
    out = tmp_path / "ranks.png"
    assert main(["query", "--index", index, *queries, "-k", "4", "--exclude-same-camera",
                 "--out", str(out), "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    header = next(line for line in printed.splitlines() if "distance" in line)
    assert [c.strip() for c in header.split("|")[1:-1]] == [
        "query", "rank", "distance", "same id", "pid", "camid", "gallery image"]
    assert printed.count(".jpg |") >= 8  # 2 queries x 4 results
    assert Image.open(out).size == ranklist_figure_size(2, 4, title=True)


def test_search_errors_are_one_line_with_exit_code_2(rganet_run, osnet_run, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    index = str(tmp_path / "g")
    assert main(["index", "--model", str(rganet_run.weights), "--index", index, str(empty),
                 "--device", "cpu"]) == 2
    assert "holds no image" in capsys.readouterr().err
    assert main(["query", "--index", str(tmp_path / "nothing"), rganet_run.query_paths[0]]) == 2
    assert "is not a gallery index" in capsys.readouterr().err
    gallery = str(Path(rganet_run.gallery_paths[0]).parent)
    assert main(["index", "--model", str(rganet_run.weights), "--index", index, gallery,
                 "--device", "cpu"]) == 0
    assert main(["query", "--index", index, "--model", str(osnet_run.run_dir),
                 rganet_run.query_paths[0], "--device", "cpu"]) == 2
    assert "built by another model" in capsys.readouterr().err


def test_ranklist_of_two_models_on_the_same_queries(rganet_run, osnet_run, tmp_path):
    out = tmp_path / "fig5.png"
    assert main(["ranklist", "--model", str(osnet_run.run_dir), "--model",
                 str(rganet_run.run_dir), "--label", "OSNet", "--label", "RGANet",
                 "--dataset", "synthocc_occluded", "--root", str(rganet_run.cfg.data.root),
                 "--queries", "2", "-k", "5", "--out", str(out), "--device", "cpu"]) == 0
    assert Image.open(out).size == ranklist_figure_size(4, 5, title=True)


def test_tools_search_is_a_thin_wrapper():
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "search.py"), "--help"],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0 and "{index,query,ranklist,regions}" in proc.stdout


def test_regions_draws_fig4_for_image_files(rganet_run, tmp_path, capsys):
    from rganet_reid.visualization.regions import region_figure_size

    out = tmp_path / "fig4.png"
    assert main(["regions", "--model", str(rganet_run.run_dir), *rganet_run.query_paths[:3],
                 "--out", str(out), "--device", "cpu"]) == 0
    assert Image.open(out).size == region_figure_size(3, rganet_run.query.num_regions)
    assert "Figure:" in capsys.readouterr().out
