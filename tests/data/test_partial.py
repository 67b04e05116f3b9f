"""Partial-REID and Partial-iLIDS (test-only) read from miniature published trees."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from rganet_reid.data.datasets import DATASETS
from rganet_reid.data.datasets.base import DatasetLayoutError
from rganet_reid.data.datasets.layout import MalformedFileNameError
from rganet_reid.data.datasets.partial import PartialILIDS, PartialREID
from rganet_reid.data.datasets.published import GALLERY_CAMID, QUERY_CAMID


def test_partial_reid_reads_pid_from_name_with_query_and_gallery_cameras(tmp_path, trees):
    trees.partial_reid(tmp_path, pids=(1, 2, 60), per_id=2)
    ds = PartialREID(root=str(tmp_path), mode="query", verbose=False)
    assert ds.train == [] and ds.eval_ranks == (1, 3)
    assert [(Path(p).name, pid, cam) for p, pid, cam, _ in ds.query[:3]] == [
        ("001_01.jpg", 1, QUERY_CAMID), ("001_02.jpg", 1, QUERY_CAMID),
        ("002_01.jpg", 2, QUERY_CAMID)]
    assert all("partial_body_images" in p for p, *_ in ds.query)
    assert {pid for _, pid, _, _ in ds.gallery} == {1, 2, 60}
    assert {cam for *_, cam, _ in ds.gallery} == {GALLERY_CAMID}


def test_partial_reid_prefers_partial_over_occluded_body_images(tmp_path, trees, caplog):
    trees.partial_reid(tmp_path, query_dirs=("partial_body_images", "occluded_body_images"))
    with caplog.at_level(logging.INFO):
        ds = PartialREID(root=str(tmp_path), mode="query", verbose=False)
    assert all("partial_body_images" in p for p, *_ in ds.query)
    assert "ignoring occluded_body_images" in caplog.text


def test_partial_reid_falls_back_to_occluded_body_images(tmp_path, trees):
    trees.partial_reid(tmp_path, query_dirs=("occluded_body_images",))
    ds = PartialREID(root=str(tmp_path), mode="query", verbose=False)
    assert ds.query and all("occluded_body_images" in p for p, *_ in ds.query)


def test_partial_reid_malformed_name_is_an_error(tmp_path, trees):
    base = trees.partial_reid(tmp_path)
    trees.write_image(base / "whole_body_images" / "001.jpg")
    with pytest.raises(MalformedFileNameError, match=r"001\.jpg.*<pid>_<index>\.jpg"):
        PartialREID(root=str(tmp_path), mode="query", verbose=False)


def test_partial_reid_missing_gallery_folder_is_named(tmp_path, trees):
    trees.write_image(tmp_path / "Partial_REID" / "partial_body_images" / "001_01.jpg")
    with pytest.raises(DatasetLayoutError, match="whole_body_images"):
        PartialREID(root=str(tmp_path), mode="query", verbose=False)


def test_partial_ilids_reads_the_identity_from_the_file_number(tmp_path, trees):
    trees.partial_ilids(tmp_path, pids=(1, 2, 119))
    ds = PartialILIDS(root=str(tmp_path), mode="query", verbose=False)
    assert [(Path(p).name, pid, cam) for p, pid, cam, _ in ds.query] == [
        ("001.jpg", 1, QUERY_CAMID), ("002.jpg", 2, QUERY_CAMID), ("119.jpg", 119, QUERY_CAMID)]
    assert [(pid, cam) for _, pid, cam, _ in ds.gallery] == [
        (1, GALLERY_CAMID), (2, GALLERY_CAMID), (119, GALLERY_CAMID)]
    assert ds.eval_ranks == (1, 3) and ds.train == []


def test_partial_ilids_wrong_root_names_the_layout(tmp_path):
    with pytest.raises(DatasetLayoutError) as err:
        PartialILIDS(root=str(tmp_path), mode="query", verbose=False)
    assert "Partial_iLIDS" in str(err.value) and "partial_body_images" in str(err.value)


def test_partial_ilids_malformed_name_is_an_error(tmp_path, trees):
    base = trees.partial_ilids(tmp_path)
    trees.write_image(base / "partial_body_images" / "001_01.jpg")
    with pytest.raises(MalformedFileNameError, match=r"001_01\.jpg"):
        PartialILIDS(root=str(tmp_path), mode="query", verbose=False)


@pytest.mark.parametrize("name,build", [("partial_reid", "partial_reid"),
                                        ("partial_ilids", "partial_ilids")])
def test_torchreid_init_image_dataset_builds_it_after_registration(tmp_path, trees, name,
                                                                   build, init_via_torchreid):
    getattr(trees, build)(tmp_path)
    ds = init_via_torchreid(name, tmp_path, mode="query")
    assert type(ds) is DATASETS.get(name) and len(ds) == len(ds.query) > 0
