"""Eq. 1–2 (masks from prototypes, masked average pooling) and the fixed stripes."""

import math

import pytest
import torch

from rganet_reid.modeling.rgm import (
    RegionGenerationModule,
    masked_average_pool,
    prototype_logits,
    stripe_features,
    stripe_masks,
)


def _softmax(values):
    exps = [math.exp(v) for v in values]
    return [e / sum(exps) for e in exps]


def test_eq1_masks_and_eq2_region_features_match_a_hand_computed_example():
    # d = 2, a 1x2 feature map: F(0,0) = (1, 0), F(0,1) = (0, 2).
    feature_map = torch.tensor([[[[1.0, 0.0]], [[0.0, 2.0]]]])  # (B=1, d=2, H=1, W=2)
    gamma = 2.0
    rgm = RegionGenerationModule(dim=2, gamma=gamma)
    with torch.no_grad():
        rgm.bg_prototype.copy_(torch.tensor([0.0, 3.0]))  # p0 along y
    parts = torch.tensor([[5.0, 0.0], [1.0, 1.0]])  # p1 along x, p2 diagonal
    logits, region = rgm(feature_map, parts)

    r = 1 / math.sqrt(2)
    # cosines (p0, p1, p2) at (0,0) = (0, 1, r); at (0,1) = (1, 0, r)
    s00 = _softmax([gamma * 0, gamma * 1, gamma * r])
    s01 = _softmax([gamma * 1, gamma * 0, gamma * r])
    assert logits.shape == (1, 3, 1, 2)
    assert torch.allclose(logits[0, :, 0, 0], torch.tensor([0.0, 2.0, 2 * r]), atol=1e-6)
    assert torch.allclose(logits[0, :, 0, 1], torch.tensor([2.0, 0.0, 2 * r]), atol=1e-6)
    masks = logits.softmax(dim=1)
    assert torch.allclose(masks[0, :, 0, 0], torch.tensor(s00), atol=1e-6)
    assert torch.allclose(masks[0, :, 0, 1], torch.tensor(s01), atol=1e-6)

    # Eq. 2 for region j (mask channel j = 1..N): Σ S_j F / Σ S_j
    for j in (1, 2):
        a, b = s00[j], s01[j]
        expected = [(a * 1.0 + b * 0.0) / (a + b), (a * 0.0 + b * 2.0) / (a + b)]
        assert torch.allclose(region[0, j - 1], torch.tensor(expected), atol=1e-5)


def test_masks_sum_to_one_over_all_prototypes_including_background():
    torch.manual_seed(0)
    rgm = RegionGenerationModule(dim=16, gamma=20.0)
    logits, _ = rgm(torch.randn(3, 16, 5, 4), torch.randn(4, 16))
    masks = logits.softmax(dim=1)
    assert masks.shape == (3, 5, 5, 4)
    assert torch.allclose(masks.sum(dim=1), torch.ones(3, 5, 4), atol=1e-6)


def test_prototype_logits_are_gamma_times_cosine_and_scale_invariant():
    torch.manual_seed(0)
    f, p = torch.randn(2, 8, 3, 3), torch.randn(4, 8)
    a = prototype_logits(f, p, gamma=20.0)
    b = prototype_logits(5 * f, 0.1 * p, gamma=20.0)
    assert torch.allclose(a, b, atol=1e-5)
    assert float(a.abs().max()) <= 20.0 + 1e-4


def test_masked_average_pool_weights_pixels_by_mask():
    feature_map = torch.arange(8, dtype=torch.float32).reshape(1, 2, 2, 2)  # d=2, 2x2
    masks = torch.tensor([[[[1.0, 0.0], [0.0, 3.0]]]])  # one region
    out = masked_average_pool(feature_map, masks)
    # channel 0 values [[0,1],[2,3]], channel 1 [[4,5],[6,7]]
    assert torch.allclose(out, torch.tensor([[[(0 + 3 * 3) / 4, (4 + 3 * 7) / 4]]]))


def test_stripes_partition_rows_top_to_bottom_even_when_uneven():
    masks = stripe_masks(7, 2, 3)
    assert masks.shape == (3, 7, 2)
    assert torch.equal(masks.sum(0), torch.ones(7, 2))
    assert masks[:, :, 0].sum(1).tolist() == [3, 2, 2]
    with pytest.raises(ValueError, match="height 2 into 3"):
        stripe_masks(2, 2, 3)


def test_stripe_features_are_band_means():
    torch.manual_seed(0)
    f = torch.randn(2, 4, 6, 3)
    out = stripe_features(f, 3)
    for j in range(3):
        assert torch.allclose(out[:, j], f[:, :, 2 * j : 2 * j + 2].mean(dim=(2, 3)), atol=1e-6)


@pytest.mark.parametrize("detach", [False, True])
def test_detached_masks_pass_no_reid_gradient_to_the_prototypes(detach):
    torch.manual_seed(0)
    rgm = RegionGenerationModule(8, gamma=20.0, detach_masks=detach)
    feats = torch.randn(2, 8, 4, 3, requires_grad=True)  # regions still train the encoder
    protos = torch.randn(3, 8, requires_grad=True)
    logits, regions = rgm(feats, protos)
    regions.sum().backward(retain_graph=True)  # a stand-in for the ReID losses
    reid_grad = 0.0 if protos.grad is None else float(protos.grad.abs().sum())
    assert (reid_grad == 0) if detach else (reid_grad > 0)
    assert feats.grad.abs().sum() > 0
    protos.grad = None
    logits.sum().backward()  # L_seg's path (through the logits) is never cut
    assert protos.grad.abs().sum() > 0
