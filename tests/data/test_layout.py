"""Locating dataset trees and scanning split folders strictly."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from rganet_reid.data.datasets.base import DatasetLayoutError
from rganet_reid.data.datasets.layout import (
    DatasetScan,
    MalformedFileNameError,
    locate_candidate,
    relabel,
    scan_split,
)


def _parse_pid_cam(path: Path) -> tuple[int, int]:
    stem = path.stem
    if "_" not in stem:
        raise ValueError("no underscore")
    pid, cam = stem.split("_", 1)
    return int(pid), int(cam)


def test_locate_candidate_returns_first_candidate_holding_a_marker(tmp_path):
    (tmp_path / "a").mkdir()  # exists, but no marker
    (tmp_path / "b" / "query").mkdir(parents=True)
    (tmp_path / "c" / "query").mkdir(parents=True)
    index, path = locate_candidate("X", tmp_path, ["a", "b", "c"], ["query"], "LAYOUT")
    assert (index, path) == (1, tmp_path / "b")


def test_locate_candidate_error_lists_every_candidate_and_the_layout(tmp_path):
    (tmp_path / "a").mkdir()
    with pytest.raises(DatasetLayoutError) as err:
        locate_candidate("Thing", tmp_path, ["a", "b"], ["query"], "  <root>/a/query/")
    msg = str(err.value)
    assert str(tmp_path / "a") in msg and "exists but holds none of query" in msg
    assert str(tmp_path / "b") in msg and "(missing)" in msg
    assert "Expected layout:\n  <root>/a/query/" in msg
    assert "Thing" in msg


def test_scan_split_parses_sorted_and_records_every_malformed_name(tmp_path, trees):
    for name in ("2_1.jpg", "1_0.jpg", "bad.jpg", "worse.png"):
        trees.write_image(tmp_path / name)
    scan = scan_split(tmp_path, _parse_pid_cam, "<pid>_<cam>.jpg")
    assert [Path(p).name for p, _, _ in scan.items] == ["1_0.jpg", "2_1.jpg"]
    assert [(pid, cam) for _, pid, cam in scan.items] == [(1, 0), (2, 1)]
    assert sorted(Path(p).name for p, _ in scan.malformed) == ["bad.jpg", "worse.png"]


def test_scan_split_skips_thumbs_db_quietly_and_reports_other_non_images(tmp_path, trees,
                                                                          caplog):
    trees.write_image(tmp_path / "1_0.jpg")
    (tmp_path / "Thumbs.db").write_bytes(b"x")
    (tmp_path / "readme.txt").write_text("hi")
    with caplog.at_level(logging.INFO):
        scan = scan_split(tmp_path, _parse_pid_cam, "<pid>_<cam>.jpg")
    assert len(scan.items) == 1 and not scan.malformed
    assert sorted(p.name for p in scan.skipped) == ["Thumbs.db", "readme.txt"]
    assert "readme.txt" in caplog.text and "Thumbs.db" not in caplog.text


def test_scan_split_per_id_subfolders_flags_images_at_the_wrong_depth(tmp_path, trees):
    trees.write_image(tmp_path / "001" / "1_5.tif")
    trees.write_image(tmp_path / "1_6.tif")  # should be inside 001/
    scan = scan_split(tmp_path, _parse_pid_cam, "<pid>/<pid>_<n>.tif", per_id_subfolders=True)
    assert [(pid, cam) for _, pid, cam in scan.items] == [(1, 5)]
    assert scan.malformed[0][0].endswith("1_6.tif")
    assert "per-identity folder" in scan.malformed[0][1]


def test_scan_split_drop_keeps_parsed_junk_out_of_items(tmp_path, trees):
    for name in ("1_0.jpg", "-1_0.jpg"):
        trees.write_image(tmp_path / name)
    scan = scan_split(tmp_path, _parse_pid_cam, "x",
                      drop=lambda pid: "junk" if pid == -1 else None)
    assert [pid for _, pid, _ in scan.items] == [1]
    assert [why for _, why in scan.dropped] == ["junk"]


def test_raise_for_problems_lists_the_files_and_the_expected_scheme(tmp_path, trees):
    trees.write_image(tmp_path / "bad.jpg")
    scan = scan_split(tmp_path, _parse_pid_cam, "<pid>_<cam>.jpg")
    ds = DatasetScan(tmp_path, {"query": scan}, source="test")
    with pytest.raises(MalformedFileNameError) as err:
        ds.raise_for_problems("Owner")
    msg = str(err.value)
    assert "bad.jpg" in msg and "no underscore" in msg and "query: <pid>_<cam>.jpg" in msg
    assert len(err.value.problems) == 1


def test_relabel_maps_sorted_pids_to_consecutive_labels():
    items = [("a", 30, 0), ("b", 7, 1), ("c", 30, 2)]
    assert relabel(items) == [("a", 1, 0), ("b", 0, 1), ("c", 1, 2)]
