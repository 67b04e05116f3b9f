"""The DAI's self-learning target (losses/dai_loss.py) and its place in Eq. 8."""

import pytest
import torch
import torch.nn.functional as F

from rganet_reid.config.defaults import get_default_config
from rganet_reid.losses import build_loss
from rganet_reid.losses.dai_loss import DiscriminationTargetLoss, dai_target


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
