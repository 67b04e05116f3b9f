"""Region mask IoU and occlusion AUROC (evaluation/region_quality.py) on hand-computed cases."""

import math

import numpy as np
import pytest
import torch

from rganet_reid.evaluation.region_quality import (
    PartIoU,
    auroc,
    grid_ceiling_iou,
    region_labels,
    region_part_map,
    region_visibility,
    remap_part_labels,
    visibility_auroc,
)


def test_auroc_counts_ordered_pairs_and_half_ties():
    # positives 0.9, 0.4; negatives 0.5, 0.4, 0.1 → pairs (pos > neg): 0.9 beats all 3,
    # 0.4 beats 0.1 and ties 0.4 → (3 + 1 + 0.5) / 6
    scores = [0.9, 0.4, 0.5, 0.4, 0.1]
    labels = [True, True, False, False, False]
    assert auroc(scores, labels) == pytest.approx(4.5 / 6)
    assert auroc([1, 2, 3], [False, True, True]) == 1.0
    assert auroc([1, 2, 3], [True, False, False]) == 0.0
    assert math.isnan(auroc([1, 2], [True, True]))


def test_visibility_auroc_keeps_only_clearly_visible_and_clearly_hidden_pairs():
    visibility = np.array([[1.0, 0.05, 0.3],
                           [0.5, 0.10, np.nan]])
    # visible: 1.0 (0.2), 0.5 (0.6); hidden: 0.05 (0.4), 0.10 (0.1); 0.3 and NaN left out
    scores = np.array([[0.2, 0.4, 0.99],
                       [0.6, 0.1, 0.0]])
    value, n_vis, n_hid = visibility_auroc(scores, visibility)
    # pairs: 0.2>0.4 no, 0.2>0.1 yes, 0.6>0.4 yes, 0.6>0.1 yes → 3/4
    assert (value, n_vis, n_hid) == (pytest.approx(0.75), 2, 2)
    with pytest.raises(ValueError, match="scores"):
        visibility_auroc(scores[:, :2], visibility)


def test_part_iou_sums_intersections_and_unions_over_images():
    acc = PartIoU(num_parts=2)
    truth1 = np.array([[1, 1, 0, 2]])
    pred1 = np.array([[1, 0, 0, 2]])  # part 1: I=1, U=2; part 2: I=1, U=1
    truth2 = np.array([[2, 2, 0, 0]])
    pred2 = np.array([[2, 1, 1, 0]])  # part 1: I=0, U=2; part 2: I=1, U=2
    acc.update(pred1, truth1)
    acc.update(torch.as_tensor(pred2), torch.as_tensor(truth2))
    np.testing.assert_allclose(acc.iou(), [1 / 4, 2 / 3])
    empty = PartIoU(3)
    empty.update(np.zeros((2, 2)), np.zeros((2, 2)))
    assert np.isnan(empty.iou()).all()
    with pytest.raises(ValueError, match="0..2"):
        acc.update(np.array([[3]]), np.array([[0]]))


def test_region_labels_upsample_the_logits_before_the_argmax():
    logits = torch.zeros(1, 3, 2, 1)
    logits[0, 1, 0, 0] = 5.0  # top cell: region 1
    logits[0, 2, 1, 0] = 5.0  # bottom cell: region 2
    labels = region_labels(logits, (4, 2))
    assert labels.shape == (1, 4, 2)
    assert labels[0, :2].eq(1).all() and labels[0, 2:].eq(2).all()


def test_regions_map_to_parts_through_the_label_map():
    assert region_part_map(4, 4) == [(0,), (1,), (2,), (3,)]
    assert region_part_map(2, 4, [0, 1, 1, 2, 2]) == [(0, 1), (2, 3)]
    assert region_part_map(5, 4) == [(0,), (1,), (2,), (3,), ()]
    labels = np.array([[0, 1, 2, 3, 4]])
    np.testing.assert_array_equal(remap_part_labels(labels, 2, [0, 1, 1, 2, 2]),
                                  [[0, 1, 1, 2, 2]])
    np.testing.assert_array_equal(remap_part_labels(labels, 3), [[0, 1, 2, 3, 0]])
    vis = np.array([[0.9, 0.8, 0.1, 0.0]])
    out = region_visibility(vis, region_part_map(2, 4, [0, 1, 1, 2, 2]))
    assert np.isnan(out).all()  # merged parts: visibility unknown
    np.testing.assert_allclose(region_visibility(vis, region_part_map(4, 4)), vis)


def test_grid_ceiling_is_exact_for_cell_aligned_parts_and_loses_parts_thinner_than_a_cell():
    truth = torch.zeros(1, 8, 4, dtype=torch.int64)
    truth[0, :4] = 1  # part 1: the top half, whole cells of a 2x1 grid
    truth[0, 4:] = 2
    assert np.allclose(grid_ceiling_iou(truth, 2, (2, 1)), [1.0, 1.0])
    thin = torch.zeros(1, 8, 4, dtype=torch.int64)
    thin[0, 6] = 1  # one row of an 4-row cell: a quarter of the cell's pixels
    assert grid_ceiling_iou(thin, 1, (2, 1))[0] == 0.0  # background wins every pixel
    assert grid_ceiling_iou(thin, 1, (2, 1), class_prior=(1.0, 4.0))[0] > 0.0  # a prior helps
    assert grid_ceiling_iou(thin, 1, (8, 4))[0] == 1.0  # a finer grid finds it
    with pytest.raises(ValueError, match="class_prior needs 2"):
        grid_ceiling_iou(thin, 1, (2, 1), class_prior=(1.0,))
