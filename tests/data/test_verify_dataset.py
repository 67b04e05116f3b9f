"""``tools/verify_dataset.py`` (:mod:`rganet_reid.cli.verify_dataset`) on miniature and
full-count trees."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["partial_ilids", "partial_reid"])
def test_a_tree_with_the_published_counts_passes(tmp_path, trees, run_tool, name):
    if name == "partial_ilids":
        trees.partial_ilids(tmp_path, pids=range(1, 120))
    else:
        trees.partial_reid(tmp_path, pids=range(1, 61), per_id=5)
    code, out = run_tool("verify_dataset", "--dataset", name, "--root", str(tmp_path))
    assert code == 0, out
    assert "Result: OK" in out and "MISMATCH" not in out and "images decode" in out


def test_count_mismatch_fails_unless_counts_are_skipped(tmp_path, trees, run_tool):
    trees.duke(tmp_path)
    code, out = run_tool("verify_dataset", "--dataset", "occluded_duke", "--root", str(tmp_path))
    assert code == 1 and "MISMATCH" in out and "15618" in out
    code, out = run_tool("verify_dataset", "--dataset", "occluded_duke",
                         "--root", str(tmp_path), "--no-counts")
    assert code == 0 and "Result: OK" in out


def test_every_malformed_name_is_listed(tmp_path, trees, run_tool):
    trees.market(tmp_path)
    base = tmp_path / "market1501" / "Market-1501-v15.09.15"
    for name in ("0002.jpg", "copy of 0002_c1s1_000451_03.jpg"):
        trees.write_image(base / "bounding_box_train" / name)
    code, out = run_tool("verify_dataset", "--dataset", "market1501_strict",
                         "--root", str(tmp_path), "--no-counts")
    assert code == 1 and "Malformed names (2)" in out
    assert "0002.jpg" in out and "copy of 0002_c1s1_000451_03.jpg" in out
    assert "<pid>_c<camera 1-6>s<seq>_<frame>_<box>.jpg" in out
    assert "Thumbs.db" not in out  # archive clutter is not a problem


def test_unreadable_images_are_listed_unless_images_are_skipped(tmp_path, trees, run_tool):
    files = trees.duke(tmp_path)
    truncated, garbage = files["query"][0], files["bounding_box_test"][1]
    truncated.write_bytes(truncated.read_bytes()[:60])
    garbage.write_bytes(b"not an image at all")
    code, out = run_tool("verify_dataset", "--dataset", "occluded_duke",
                         "--root", str(tmp_path), "--no-counts")
    assert code == 1 and "Unreadable images (2)" in out
    assert str(truncated) in out and str(garbage) in out
    code, out = run_tool("verify_dataset", "--dataset", "occluded_duke",
                         "--root", str(tmp_path), "--no-counts", "--no-images")
    assert code == 0 and "not opened" in out


def test_msmt17_report_includes_the_val_list_and_the_version(tmp_path, trees, run_tool):
    trees.msmt(tmp_path, version="v2")
    code, out = run_tool("verify_dataset", "--dataset", "msmt17_strict",
                         "--root", str(tmp_path), "--no-counts")
    assert code == 0 and "MSMT17 V2" in out
    assert any(line.startswith("val") for line in out.splitlines())


def test_wrong_root_reports_the_layout_error(tmp_path, run_tool):
    code, out = run_tool("verify_dataset", "--dataset", "occluded_reid", "--root", str(tmp_path))
    assert code == 1 and "LAYOUT ERROR" in out and "Occluded_REID" in out


def test_unknown_dataset_is_a_usage_error(tmp_path, run_tool):
    code, out = run_tool("verify_dataset", "--dataset", "cuhk03", "--root", str(tmp_path))
    assert code == 2 and "occluded_duke" in out


def test_the_script_runs_from_the_command_line(tmp_path, trees):
    trees.partial_ilids(tmp_path)
    proc = subprocess.run(
        [sys.executable, str(REPO / "tools" / "verify_dataset.py"), "--dataset",
         "partial_ilids", "--root", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1, proc.stderr  # 3 ids instead of the published 119
    assert "MISMATCH" in proc.stdout


def test_an_empty_split_is_a_problem_even_without_counts(tmp_path, trees, run_tool):
    files = trees.duke(tmp_path)
    for path in files["query"]:
        path.unlink()
    code, out = run_tool("verify_dataset", "--dataset", "occluded_duke",
                         "--root", str(tmp_path), "--no-counts")
    assert code == 1 and "Empty splits (1): no image of query" in out


def test_images_are_checked_by_the_reader_training_uses(tmp_path, trees, run_tool):
    """A 16-bit PNG reads (scaled, not white); a file training cannot read is listed."""
    from rganet_reid.data.image_io import read_rgb

    base = trees.partial_ilids(tmp_path, pids=(1, 2))
    sixteen = base / "partial_body_images" / "001.jpg"
    Image.fromarray(np.full((64, 32), 32896, np.uint16)).save(sixteen, format="PNG")
    assert Image.open(sixteen).mode == "I;16"
    assert np.asarray(read_rgb(sixteen)).max() == 128  # not clipped to a white 255
    code, out = run_tool("verify_dataset", "--dataset", "partial_ilids", "--root", str(tmp_path),
                         "--no-counts")
    assert code == 0 and "images decode" in out, out
    broken = base / "whole_body_images" / "002.jpg"
    broken.write_bytes(broken.read_bytes()[:100])
    code, out = run_tool("verify_dataset", "--dataset", "partial_ilids", "--root", str(tmp_path),
                         "--no-counts")
    assert code == 1 and f"{broken}: Cannot read image {broken}" in out
