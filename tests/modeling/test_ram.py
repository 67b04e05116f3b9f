"""RAM: DAI (Eq. 4), memory bank (Eq. 5), IAI (Eq. 6) and the confidence w."""

import math

import pytest
import torch

from rganet_reid.modeling.ram import (
    DiscriminationIndicator,
    MemoryBank,
    combine_confidence,
    invariance_from_similarity,
)


def test_dai_is_one_sigmoid_fc_shared_by_all_regions():
    torch.manual_seed(0)
    dai = DiscriminationIndicator(dim=6)
    x = torch.randn(3, 4, 6)
    alpha = dai(x)
    expected = torch.sigmoid(x @ dai.fc.weight[0] + dai.fc.bias[0])
    assert alpha.shape == (3, 4)
    assert torch.allclose(alpha, expected, atol=1e-6)
    assert sum(p.numel() for p in dai.parameters()) == 7  # one W_a (d) + bias


def test_per_region_dai_gives_each_region_its_own_fc():
    torch.manual_seed(0)
    dai = DiscriminationIndicator(dim=6, num_regions=4)
    with torch.no_grad():
        dai.bias.copy_(torch.tensor([0.5, -1.0, 2.0, 0.0]))
    x = torch.randn(3, 4, 6)
    alpha = dai(x)
    for j in range(4):
        expected = torch.sigmoid(x[:, j] @ dai.weight[j] + dai.bias[j])
        assert torch.allclose(alpha[:, j], expected, atol=1e-6)
    assert sum(p.numel() for p in dai.parameters()) == 4 * 7
    # the same feature in two regions gets two different scores
    same = x[:1, :1].expand(1, 4, 6)
    assert dai(same).unique().numel() == 4


def test_memory_update_follows_eq5_and_skips_regions_with_low_alpha():
    bank = MemoryBank(num_regions=3, dim=2, momentum=0.3, alpha_threshold=0.85)
    initial = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]])
    bank.initialize(initial)
    feats = torch.tensor([
        [[3.0, 1.0], [5.0, 5.0], [9.0, 9.0]],
        [[5.0, 3.0], [7.0, 7.0], [8.0, 8.0]],
        [[100.0, 100.0], [1.0, 1.0], [7.0, 7.0]],
    ])
    alpha = torch.tensor([
        [0.90, 0.50, 0.85],  # 0.85 is not > 0.85
        [0.95, 0.10, 0.20],
        [0.20, 0.86, 0.30],
    ])
    updated = bank.update(feats, alpha)
    assert updated.tolist() == [True, True, False]
    c0 = 0.3 * initial[0] + 0.7 * torch.tensor([4.0, 2.0])  # mean of samples 0 and 1
    c1 = 0.3 * initial[1] + 0.7 * torch.tensor([1.0, 1.0])  # sample 2 only
    assert torch.allclose(bank.centers[0], c0)
    assert torch.allclose(bank.centers[1], c1)
    assert torch.equal(bank.centers[2], initial[2])  # no confident region: unchanged


def test_memory_update_without_alpha_uses_every_region():
    bank = MemoryBank(2, 2, momentum=0.5)
    bank.initialize(torch.zeros(2, 2))
    bank.update(torch.tensor([[[2.0, 0.0], [0.0, 2.0]], [[4.0, 0.0], [0.0, 4.0]]]), None)
    assert torch.allclose(bank.centers, torch.tensor([[1.5, 0.0], [0.0, 1.5]]))


def test_memory_before_initialisation_takes_the_batch_mean():
    bank = MemoryBank(2, 2, momentum=0.3)
    assert not bank.is_initialized
    bank.update(torch.tensor([[[2.0, 0.0], [0.0, 2.0]], [[4.0, 0.0], [0.0, 4.0]]]))
    assert bank.is_initialized
    assert torch.allclose(bank.centers, torch.tensor([[3.0, 0.0], [0.0, 3.0]]))


def test_memory_initialize_averages_stacked_features_and_checks_shape():
    bank = MemoryBank(2, 3)
    bank.initialize(torch.stack([torch.ones(2, 3), 3 * torch.ones(2, 3)]))
    assert torch.allclose(bank.centers, 2 * torch.ones(2, 3))
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        bank.initialize(torch.ones(3, 3))
    assert "centers" in bank.state_dict() and "initialized" in bank.state_dict()


def test_iai_is_softmax_over_regions_of_cosine_to_the_centres():
    bank = MemoryBank(2, 2)
    bank.initialize(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    feats = torch.tensor([[[2.0, 0.0], [1.0, 1.0]]])  # cos = 1 and 1/sqrt(2)
    beta = bank.invariance(feats)
    e1, e2 = math.exp(1.0), math.exp(1 / math.sqrt(2))
    assert torch.allclose(beta, torch.tensor([[e1 / (e1 + e2), e2 / (e1 + e2)]]), atol=1e-6)


def test_confidence_softmax_sum_sums_to_one_over_regions():
    torch.manual_seed(0)
    alpha, beta = torch.rand(5, 4), torch.rand(5, 4).softmax(-1)
    w = combine_confidence(alpha, beta, "softmax_sum", 4)
    assert torch.allclose(w.sum(-1), torch.ones(5), atol=1e-6)
    assert torch.allclose(w, (alpha + beta).softmax(-1))


def test_confidence_variants_for_mean_and_switched_off_indicators():
    alpha, beta = torch.tensor([[0.9, 0.3]]), torch.tensor([[0.7, 0.3]])
    assert torch.allclose(combine_confidence(alpha, beta, "mean", 2), torch.tensor([[0.8, 0.3]]))
    assert torch.allclose(combine_confidence(alpha, None, "softmax_sum", 2), alpha.softmax(-1))
    assert torch.allclose(combine_confidence(None, beta, "mean", 2), beta)
    ref = torch.zeros(3, 2, 8)
    assert torch.equal(combine_confidence(None, None, "softmax_sum", 2, reference=ref),
                       torch.full((3, 2), 0.5))
    # no indicator: the same weight for every region, on each mode's own scale
    assert torch.equal(combine_confidence(None, None, "mean", 2, reference=ref),
                       torch.ones(3, 2))
    with pytest.raises(ValueError, match="softmax_sum"):
        combine_confidence(alpha, beta, "max", 2)


def test_memory_similarity_is_the_cosine_of_every_region_to_every_centre():
    bank = MemoryBank(2, 2)
    bank.initialize(torch.tensor([[1.0, 0.0], [0.0, 3.0]]))
    sim = bank.similarity(torch.tensor([[[2.0, 0.0], [1.0, 1.0]]]))
    r = 1 / math.sqrt(2)
    assert torch.allclose(sim, torch.tensor([[[1.0, 0.0], [r, r]]]), atol=1e-6)


def test_iai_over_centres_scores_each_region_against_the_other_centres_with_a_temperature():
    # region 0 looks like its own centre (cos 0.9 vs 0.1); region 1 like centre 0 (0.8 vs 0.2)
    sim = torch.tensor([[[0.9, 0.1], [0.8, 0.2]]])
    tau = 0.1
    beta = invariance_from_similarity(sim, "centres", tau)
    own0 = math.exp(9) / (math.exp(9) + math.exp(1))
    own1 = math.exp(2) / (math.exp(8) + math.exp(2))
    assert torch.allclose(beta, torch.tensor([[own0, own1]]), atol=1e-6)
    assert beta[0, 0] > 0.99 and beta[0, 1] < 0.01  # not normalised over the regions
    # the text's reading: the regions compete, β sums to 1 (τ = 1: Eq. 6 as written)
    literal = invariance_from_similarity(sim, "regions", 1.0)
    assert torch.allclose(literal, torch.tensor([[0.9, 0.2]]).softmax(-1))
    with pytest.raises(ValueError, match="iai_mode"):
        invariance_from_similarity(sim, "both", 1.0)
    with pytest.raises(ValueError, match="temperature"):
        invariance_from_similarity(sim, "centres", 0.0)
