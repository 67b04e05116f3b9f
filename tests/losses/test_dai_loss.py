"""The DAI's self-learning target (losses/dai_loss.py) and its place in Eq. 8."""

import math

import pytest
import torch
import torch.nn.functional as F

from rganet_reid.config.defaults import get_default_config
from rganet_reid.losses import build_loss
from rganet_reid.losses.dai_loss import (
    DiscriminationTargetLoss,
    balanced_bce,
    dai_target,
    mask_visibility,
)


def _logits():
    # 2 images x 2 regions x 3 identities; true ids 0 and 2
    region = torch.log(torch.tensor([[[0.7, 0.2, 0.1], [0.2, 0.3, 0.5]],
                                     [[0.1, 0.1, 0.8], [0.3, 0.6, 0.1]]]))
    glob = torch.log(torch.tensor([[0.35, 0.5, 0.15], [0.2, 0.0001, 0.7999]]))
    return region, glob, torch.tensor([0, 2])


def test_self_target_is_the_region_classifiers_probability_of_the_true_identity():
    region, _, pids = _logits()
    assert torch.allclose(dai_target(region, pids, "self"), torch.tensor([[0.7, 0.2], [0.8, 0.1]]),
                          atol=1e-5)


def test_relative_target_divides_by_the_global_probability_and_caps_at_one():
    region, glob, pids = _logits()
    target = dai_target(region, pids, "relative", glob)
    assert torch.allclose(target, torch.tensor([[1.0, 0.2 / 0.35], [1.0, 0.1 / 0.7999]]),
                          atol=1e-4)
    with pytest.raises(ValueError, match="global"):
        dai_target(region, pids, "relative")


def test_loss_is_bce_towards_the_detached_target_and_trains_only_alpha():
    region, glob, pids = _logits()
    region.requires_grad_(True)
    alpha = torch.tensor([[0.5, 0.5], [0.9, 0.9]], requires_grad=True)
    loss = DiscriminationTargetLoss("self")(alpha, region, pids, glob)
    expected = F.binary_cross_entropy(alpha.detach(), torch.tensor([[0.7, 0.2], [0.8, 0.1]]))
    assert float(loss.detach()) == pytest.approx(float(expected), rel=1e-5)
    loss.backward()
    assert region.grad is None  # the target is the network's own evidence, not a goal for it
    assert alpha.grad[0, 1] > 0 > alpha.grad[0, 0]  # α pulled towards 0.2 and 0.7
    with pytest.raises(ValueError, match="dai_target"):
        DiscriminationTargetLoss("weight")


@pytest.mark.parametrize("target", ["weight", "self", "relative"])
def test_eq8_has_the_dai_term_only_for_a_self_learning_target(target):
    cfg = get_default_config()
    cfg.rganet.num_regions = 2
    cfg.rganet.dai_target, cfg.rganet.dai_loss_weight = target, 0.5
    region, glob, pids = _logits()
    alpha = torch.full((2, 2), 0.6)
    out = {"global_feat": torch.randn(2, 4), "global_logits": glob, "region_feats":
           torch.randn(2, 2, 4), "region_logits": region, "weights": torch.full((2, 2), 0.5),
           "alpha": alpha}
    _, terms = build_loss(cfg, 3)(out, pids, None)
    assert ("loss_dai" in terms) == (target != "weight")
    if target != "weight":
        expected = 0.5 * F.binary_cross_entropy(alpha, dai_target(region, pids, target, glob))
        assert terms["loss_dai"] == pytest.approx(float(expected), rel=1e-5)


def _part_masks():
    """4 images of 8x4 pixels, labels 1..4 in bands; image 3 has its two lowest parts hidden
    below row 5 (label 0), image 2 two unknown feet pixels (255)."""
    masks = torch.zeros(4, 8, 4, dtype=torch.long)
    masks[:, 0:2], masks[:, 2:5], masks[:, 5:7], masks[:, 7] = 1, 2, 3, 4
    masks[3, 5:] = 0
    masks[2, 7, :2] = 255
    masks[1, 6] = 4  # a longer foot: above the median, capped at 1
    return masks


def test_mask_target_is_the_visible_share_of_each_part_against_half_the_batch_median():
    target = mask_visibility(_part_masks(), 4)
    # counts: head 8 each; upper 12; lower 8, 4 (image 1), 8, 0; feet 4, 8, 2, 0
    # medians (lower of the two middle values): 8, 12, 4, 2 -> references 4, 6, 2, 1
    expected = torch.tensor([[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0],
                             [1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0]])
    assert torch.equal(target, expected)
    lone = torch.zeros(3, 2, 2, dtype=torch.long)
    lone[0, 0, 0] = 2  # region 2 in one image only: median 0, presence instead
    assert torch.equal(mask_visibility(lone, 2)[:, 1], torch.tensor([1.0, 0.0, 0.0]))
    # a part at half its usual size is still visible (1); at a quarter it gets half
    sizes = torch.zeros(3, 8, 2, dtype=torch.long)
    sizes[0:2], sizes[2, 6:] = 1, 1  # 16, 16, 4 pixels: median 16, reference 8
    assert torch.equal(mask_visibility(sizes, 1).flatten(), torch.tensor([1.0, 1.0, 0.5]))
    sizes[2, 4:] = 1  # 8 pixels: half the median
    assert torch.equal(mask_visibility(sizes, 1).flatten(), torch.tensor([1.0, 1.0, 1.0]))


def test_mask_target_reads_the_batch_masks_through_the_label_map_and_needs_them():
    cfg = get_default_config()
    cfg.rganet.num_regions, cfg.rganet.dai_target = 2, "mask"
    cfg.rganet.seg.label_map = [0, 1, 1, 2, 2]  # 4 labelled parts -> 2 regions
    loss = DiscriminationTargetLoss.from_config(cfg)
    assert loss.needs_masks and build_loss(cfg, 3).needs_masks
    masks = _part_masks()
    alpha = torch.full((4, 2), 0.7, requires_grad=True)
    value = loss(alpha, torch.zeros(4, 2, 3), torch.zeros(4, dtype=torch.long), None, masks)
    # region 2 = lower + feet: 12, 12 (row 6 relabelled 4 still counts), 10, 0 -> median 10,
    # reference 5
    # targets: 7 visible regions, 1 hidden (image 3, region 2); balanced: the hidden one weighs 7
    balanced = (7 * -math.log(0.7) + 7 * -math.log(0.3)) / 14
    assert float(value.detach()) == pytest.approx(balanced, rel=1e-6)
    plain = float(F.binary_cross_entropy(alpha.detach(), torch.tensor(
        [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 0.0]])))
    assert float(value.detach()) > plain  # the rare hidden region is weighed up
    with pytest.raises(ValueError, match="data.load_masks"):
        loss(alpha, torch.zeros(4, 2, 3), torch.zeros(4, dtype=torch.long), None, None)


def test_balanced_bce_is_the_plain_mean_without_hidden_regions():
    alpha = torch.tensor([[0.9, 0.6], [0.8, 0.7]])
    ones = torch.ones(2, 2)
    assert float(balanced_bce(alpha, ones)) == pytest.approx(
        float(F.binary_cross_entropy(alpha, ones)))
    target = torch.tensor([[1.0, 0.25], [1.0, 1.0]])  # one hidden region weighs 3
    expected = (-math.log(0.9) - math.log(0.8) - math.log(0.7)
                + 3 * -(0.25 * math.log(0.6) + 0.75 * math.log(0.4))) / 6
    assert float(balanced_bce(alpha, target)) == pytest.approx(expected, rel=1e-6)


def test_eq8_hands_the_batch_masks_to_the_mask_target():
    cfg = get_default_config()
    cfg.rganet.num_regions, cfg.rganet.dai_target = 4, "mask"
    cfg.rganet.seg.weight_stage2 = 0.0  # the DAI alone needs the masks
    criterion = build_loss(cfg, 3)
    assert criterion.needs_masks
    masks = _part_masks()
    alpha = torch.full((4, 4), 0.7)
    out = {"global_feat": torch.randn(4, 8), "global_logits": torch.zeros(4, 3),
           "region_feats": torch.randn(4, 4, 8), "region_logits": torch.zeros(4, 4, 3),
           "weights": torch.full((4, 4), 0.5), "alpha": alpha}
    _, terms = criterion(out, torch.tensor([0, 1, 2, 0]), masks)
    expected = balanced_bce(alpha, mask_visibility(masks, 4))
    assert terms["loss_dai"] == pytest.approx(float(expected), rel=1e-6)
