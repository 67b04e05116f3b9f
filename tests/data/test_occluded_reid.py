"""Occluded-REID (test-only) read from miniature trees in both known layouts."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from rganet_reid.compat import torchreid_metrics
from rganet_reid.data.datasets.base import DatasetLayoutError
from rganet_reid.data.datasets.layout import MalformedFileNameError
from rganet_reid.data.datasets.occluded_reid import OccludedREID
from rganet_reid.data.datasets.published import GALLERY_CAMID, QUERY_CAMID


def test_published_layout_reads_per_id_tif_folders_with_query_and_gallery_cameras(tmp_path,
                                                                                  trees):
    trees.occluded_reid(tmp_path, pids=(1, 2, 200), per_id=2)
    ds = OccludedREID(root=str(tmp_path), mode="query", verbose=False)
    assert ds.dataset_dir == str(tmp_path / "Occluded_REID")
    assert ds.train == [] and ds.eval_ranks == (1, 5, 10)
    assert [(Path(p).relative_to(tmp_path / "Occluded_REID").as_posix(), pid, cam)
            for p, pid, cam, _ in ds.query[:2]] == [
        ("occluded_body_images/001/001_01.tif", 1, QUERY_CAMID),
        ("occluded_body_images/001/001_02.tif", 1, QUERY_CAMID),
    ]
    assert {pid for _, pid, _, _ in ds.gallery} == {1, 2, 200}
    assert {cam for *_, cam, _ in ds.gallery} == {GALLERY_CAMID}
    assert all("whole_body_images" in p for p, *_ in ds.gallery)


def test_same_camera_rule_removes_no_true_match(tmp_path, trees):
    trees.occluded_reid(tmp_path, pids=(1, 2, 3), per_id=3)
    ds = OccludedREID(root=str(tmp_path), mode="query", verbose=False)
    q_pids = np.array([it[1] for it in ds.query])
    g_pids = np.array([it[1] for it in ds.gallery])
    q_cams = np.array([it[2] for it in ds.query])
    g_cams = np.array([it[2] for it in ds.gallery])
    # every same-pid gallery image survives the "same pid and same camera" filter
    same_pid = q_pids[:, None] == g_pids[None, :]
    removed = same_pid & (q_cams[:, None] == g_cams[None, :])
    assert same_pid.sum(1).min() == 3 and not removed.any()
    # so a perfect distance ranks every match first: torchreid's evaluation gives mAP 1
    distmat = np.where(same_pid, 0.0, 1.0) + np.arange(len(g_pids))[None, :] * 1e-3
    cmc, mAP = torchreid_metrics.evaluate_rank(distmat, q_pids, g_pids, q_cams, g_cams,
                                               max_rank=3, use_cython=False)
    assert mAP == pytest.approx(1.0) and cmc[0] == pytest.approx(1.0)


def test_renamed_query_gallery_variant_is_read_and_logged(tmp_path, trees, caplog):
    trees.occluded_reid(tmp_path, pids=(4, 5), per_id=2, renamed=True)
    with caplog.at_level(logging.INFO):
        ds = OccludedREID(root=str(tmp_path), mode="query", verbose=False)
    assert ds.dataset_dir == str(tmp_path / "OccludedREID")
    assert sorted((Path(p).name, pid, cam) for p, pid, cam, _ in ds.query)[0] == (
        "004_01.jpg", 4, QUERY_CAMID)
    assert {cam for *_, cam, _ in ds.gallery} == {GALLERY_CAMID}
    assert "renamed" in caplog.text


def test_published_layout_wins_when_both_variants_exist(tmp_path, trees):
    trees.occluded_reid(tmp_path, pids=(1,), per_id=1)
    trees.occluded_reid(tmp_path, pids=(9,), per_id=1, renamed=True)
    ds = OccludedREID(root=str(tmp_path), mode="query", verbose=False)
    assert [it[1] for it in ds.query] == [1]


def test_file_in_the_folder_of_another_identity_is_malformed(tmp_path, trees):
    base = trees.occluded_reid(tmp_path, pids=(1, 2), per_id=1)
    trees.write_image(base / "whole_body_images" / "002" / "001_05.tif")
    with pytest.raises(MalformedFileNameError, match=r"001_05\.tif.*identity 1.*'002'"):
        OccludedREID(root=str(tmp_path), mode="query", verbose=False)


def test_unknown_image_name_is_an_error_naming_the_file(tmp_path, trees):
    base = trees.occluded_reid(tmp_path, pids=(1,), per_id=1)
    trees.write_image(base / "occluded_body_images" / "001" / "IMG_0001.tif")
    with pytest.raises(MalformedFileNameError) as err:
        OccludedREID(root=str(tmp_path), mode="query", verbose=False)
    assert "IMG_0001.tif" in str(err.value) and "001/001_01.tif" in str(err.value)


def test_missing_gallery_folder_is_named(tmp_path, trees):
    base = tmp_path / "Occluded_REID"
    trees.write_image(base / "occluded_body_images" / "001" / "001_01.tif")
    with pytest.raises(DatasetLayoutError, match="whole_body_images"):
        OccludedREID(root=str(tmp_path), mode="query", verbose=False)


def test_wrong_root_lists_both_candidates(tmp_path):
    with pytest.raises(DatasetLayoutError) as err:
        OccludedREID(root=str(tmp_path), mode="query", verbose=False)
    assert "Occluded_REID" in str(err.value) and "OccludedREID" in str(err.value)


def test_training_mode_is_refused_because_the_set_is_test_only(tmp_path, trees):
    trees.occluded_reid(tmp_path)
    with pytest.raises(ValueError, match="test-only"):
        OccludedREID(root=str(tmp_path), mode="train", verbose=False)


def test_torchreid_init_image_dataset_builds_it_after_registration(tmp_path, trees,
                                                                   init_via_torchreid):
    trees.occluded_reid(tmp_path)
    ds = init_via_torchreid("occluded_reid", tmp_path, mode="gallery")
    assert isinstance(ds, OccludedREID) and len(ds) == len(ds.gallery) == 6
