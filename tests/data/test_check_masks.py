"""``tools/check_masks.py`` (:mod:`rganet_reid.cli.check_masks`) against a miniature
Occluded-Duke tree."""

from __future__ import annotations

import re

import numpy as np
import pytest

from rganet_reid.data.masks import mask_path_for, write_mask


@pytest.fixture
def duke_with_masks(tmp_path, trees):
    """A Duke tree and a complete, valid mask tree for its training images."""
    files = trees.duke(tmp_path)
    base, masks = tmp_path / "Occluded_Duke", tmp_path / "masks"
    for img in files["bounding_box_train"]:
        labels = np.arange(trees.IMG_H * trees.IMG_W).reshape(trees.IMG_H, trees.IMG_W) % 5
        write_mask(mask_path_for(img, base, masks), labels)
    return files, base, masks


def test_complete_valid_masks_pass(tmp_path, duke_with_masks, run_tool):
    _, _, masks = duke_with_masks
    code, out = run_tool("check_masks", "--dataset", "occluded_duke", "--root", str(tmp_path),
                         "--mask-root", str(masks), "--num-labels", "5")
    assert code == 0, out
    assert "Result: OK" in out and re.search(r"checked\s+4\n", out)


def test_missing_mis_sized_and_out_of_range_masks_are_each_named(tmp_path, trees,
                                                                  duke_with_masks, run_tool):
    files, base, masks = duke_with_masks
    train = files["bounding_box_train"]
    mask_path_for(train[0], base, masks).unlink()
    write_mask(mask_path_for(train[1], base, masks), np.zeros((4, 4), np.uint8))
    write_mask(mask_path_for(train[2], base, masks), np.full((trees.IMG_H, trees.IMG_W), 7))
    code, out = run_tool("check_masks", "--dataset", "occluded_duke", "--root", str(tmp_path),
                         "--mask-root", str(masks), "--num-labels", "5")
    assert code == 1 and "3 problem(s)" in out
    assert f"missing (1):\n  {mask_path_for(train[0], base, masks)}" in out
    assert f"mis-sized (1):\n  Part mask {mask_path_for(train[1], base, masks)}" in out
    assert "out-of-range (1)" in out and "label(s) [7]" in out


def test_wrongly_mirrored_mask_tree_gets_a_hint(tmp_path, duke_with_masks, run_tool):
    _, _, masks = duke_with_masks
    code, out = run_tool("check_masks", "--dataset", "occluded_duke", "--root", str(tmp_path),
                         "--mask-root", str(tmp_path))  # the dataset root instead of the masks
    assert code == 1 and "mask file(s) under the mask root match no image" in out
    assert "must mirror the tree below" in out


def test_test_only_dataset_checks_query_and_gallery_by_default(tmp_path, trees, run_tool):
    trees.partial_ilids(tmp_path, pids=(1, 2))
    (tmp_path / "masks").mkdir()
    code, out = run_tool("check_masks", "--dataset", "partial_ilids", "--root", str(tmp_path),
                         "--mask-root", str(tmp_path / "masks"))
    assert code == 1 and "(query, gallery)" in out and "missing (4)" in out


def test_a_missing_mask_root_is_named_not_every_mask(tmp_path, trees, run_tool):
    trees.partial_ilids(tmp_path, pids=(1, 2))
    code, out = run_tool("check_masks", "--dataset", "partial_ilids", "--root", str(tmp_path),
                         "--mask-root", str(tmp_path / "none"))
    assert code == 2 and "missing (" not in out
    assert f"Mask root {tmp_path / 'none'} is not a folder" in out
    assert "Traceback" not in out and out.count("Mask root") == 1  # one line


def test_unknown_split_is_a_usage_error(tmp_path, duke_with_masks, run_tool):
    _, _, masks = duke_with_masks
    code, out = run_tool("check_masks", "--dataset", "occluded_duke", "--root", str(tmp_path),
                         "--mask-root", str(masks), "--splits", "val")
    assert code == 2 and "no split(s) ['val']" in out
