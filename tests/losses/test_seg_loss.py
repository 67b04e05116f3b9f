"""Eq. 3: the segmentation loss against pseudo part masks on the feature grid."""

import pytest
import torch
import torch.nn.functional as F

from rganet_reid.losses import SegmentationLoss, downsample_mask


def test_majority_vote_downsampling_picks_the_most_frequent_label_per_cell():
    mask = torch.tensor([[
        [1, 1, 2, 2],
        [1, 0, 2, 255],
        [3, 3, 255, 255],
        [0, 3, 255, 4],
    ]])
    out = downsample_mask(mask, (2, 2), num_classes=5, mode="majority")
    assert out.tolist() == [[[1, 2], [3, 255]]]


def test_majority_vote_ties_go_to_the_smaller_label_and_unknown_loses_ties():
    mask = torch.tensor([[[2, 1], [2, 1]]])
    assert downsample_mask(mask, (1, 1), 5).tolist() == [[[1]]]
    mask = torch.tensor([[[2, 1], [255, 255]]])  # unknown is the most frequent: unknown
    assert downsample_mask(mask, (1, 1), 5).tolist() == [[[255]]]
    mask = torch.tensor([[[255, 255], [3, 3]]])
    assert downsample_mask(mask, (1, 1), 5).tolist() == [[[3]]]


def test_nearest_downsampling_samples_cell_centres():
    mask = torch.arange(16).reshape(1, 4, 4) % 5
    out = downsample_mask(mask, (2, 2), 5, mode="nearest")
    assert out.tolist() == [[[mask[0, 1, 1].item(), mask[0, 1, 3].item()],
                             [mask[0, 3, 1].item(), mask[0, 3, 3].item()]]]


def test_seg_loss_is_pixel_cross_entropy_on_the_grid_ignoring_unknown():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 2, 2)  # N = 2 parts + background
    masks = torch.tensor([[[0, 1], [2, 255]], [[1, 1], [0, 2]]])
    loss = SegmentationLoss(num_parts=2)(logits, masks)
    log_p = F.log_softmax(logits, dim=1)
    terms = [-log_p[b, masks[b, y, x], y, x] for b in range(2) for y in range(2)
             for x in range(2) if masks[b, y, x] != 255]
    assert torch.allclose(loss, torch.stack(terms).mean(), atol=1e-6)


def test_eq3_literal_mode_leaves_background_pixels_out():
    torch.manual_seed(0)
    logits = torch.randn(1, 3, 1, 2)
    masks = torch.tensor([[[0, 2]]])
    loss = SegmentationLoss(2, include_background=False)(logits, masks)
    assert torch.allclose(loss, -F.log_softmax(logits, 1)[0, 2, 0, 1], atol=1e-6)
    all_bg = SegmentationLoss(2, include_background=False)(logits, torch.zeros(1, 1, 2).long())
    assert float(all_bg) == 0.0


def test_label_map_merges_dataset_labels_and_unmapped_labels_are_clear_errors():
    loss = SegmentationLoss(2, label_map=[0, 1, 1, 2, 2])
    assert loss.remap(torch.tensor([0, 1, 2, 3, 4, 255])).tolist() == [0, 1, 1, 2, 2, 255]
    with pytest.raises(ValueError, match="label_map"):
        SegmentationLoss(2)(torch.randn(1, 3, 2, 2), torch.full((1, 2, 2), 4))
    with pytest.raises(ValueError, match="does not cover"):
        loss.remap(torch.tensor([7]))
    with pytest.raises(ValueError, match="N\\+1"):
        SegmentationLoss(3)(torch.randn(1, 3, 2, 2), torch.zeros(1, 2, 2).long())


def test_image_resolution_upsamples_the_logits_so_a_part_smaller_than_a_cell_counts():
    # one 2x2 grid cell over a 4x4 mask: one foot pixel (label 2) among background
    mask = torch.zeros(1, 4, 4, dtype=torch.long)
    mask[0, 3, 0] = 2
    logits = torch.zeros(1, 3, 1, 1)
    logits[0, 0] = 4.0  # the cell says background
    grid = SegmentationLoss(2)
    image = SegmentationLoss(2, resolution="image")
    assert grid.target(logits, mask).tolist() == [[[0]]]  # the foot is outvoted
    assert image.target(logits, mask).shape == (1, 4, 4)
    up = F.interpolate(logits, size=(4, 4), mode="bilinear", align_corners=False)
    expected = F.cross_entropy(up, mask)
    assert torch.allclose(image(logits, mask), expected, atol=1e-6)
    assert float(image(logits, mask)) > float(grid(logits, mask))  # the missed foot costs
    with pytest.raises(ValueError, match="resolution"):
        SegmentationLoss(2, resolution="pixel")


def test_class_weights_scale_each_class_in_the_cross_entropy():
    torch.manual_seed(0)
    logits = torch.randn(1, 3, 2, 2)
    masks = torch.tensor([[[0, 1], [2, 2]]])
    weights = [0.5, 2.0, 1.0]
    loss = SegmentationLoss(2, class_weights=weights)(logits, masks)
    nll = -F.log_softmax(logits, 1)[0].permute(1, 2, 0).reshape(4, 3)[range(4), masks.view(-1)]
    w = torch.tensor(weights)[masks.view(-1)]
    assert torch.allclose(loss, (w * nll).sum() / w.sum(), atol=1e-6)
    with pytest.raises(ValueError, match="class_weights"):
        SegmentationLoss(2, class_weights=[1.0, 1.0])
