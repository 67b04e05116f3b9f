"""The memory bank (Eq. 5) under data parallelism: statistics summed over processes give the
update one process would make from all their regions (the reduce hook the engine fills with
an all-reduce)."""

from __future__ import annotations

import torch

from rganet_reid.modeling import build_rganet
from rganet_reid.modeling.ram import MemoryBank
from rganet_reid.modeling.rgm import stripe_features


def two_rank_reduce(other_stats: list[torch.Tensor]):
    """A reduce for rank 0 of two: adds rank 1's statistics, in the order they are reduced."""
    queue = list(other_stats)

    def reduce(t: torch.Tensor) -> torch.Tensor:
        return t + queue.pop(0)

    return reduce


def test_reduced_update_equals_one_update_over_both_ranks_regions():
    g = torch.Generator().manual_seed(0)
    feats = [torch.randn(6, 4, 8, generator=g), torch.randn(10, 4, 8, generator=g)]
    alphas = [torch.rand(6, 4, generator=g), torch.rand(10, 4, generator=g)]
    alphas[1][:, 3] = 0.0  # region 3: only rank 0's features pass
    alphas[0][:, 2] = 0.0
    alphas[1][:, 2] = 0.0  # region 2: nobody's: its centre stays
    start = torch.randn(4, 8, generator=g)
    ref, bank = MemoryBank(4, 8, momentum=0.3, alpha_threshold=0.5), MemoryBank(4, 8, 0.3, 0.5)
    ref.initialize(start), bank.initialize(start)
    expected = ref.update(torch.cat(feats), torch.cat(alphas))
    sums, counts = bank.batch_statistics(feats[1], alphas[1])
    updated = bank.update(feats[0], alphas[0], reduce=two_rank_reduce([sums, counts]))
    assert torch.equal(updated, expected) and updated.tolist() == [True, True, False, True]
    assert torch.allclose(bank.centers, ref.centers, atol=1e-6)
    assert torch.equal(bank.centers[2], start[2])


def test_without_reduce_the_bank_follows_only_its_own_regions():
    g = torch.Generator().manual_seed(1)
    feats = [torch.randn(4, 2, 8, generator=g), torch.randn(4, 2, 8, generator=g)]
    alone, ref = MemoryBank(2, 8, momentum=0.0), MemoryBank(2, 8, momentum=0.0)
    alone.update(feats[0])
    ref.update(torch.cat(feats))
    assert not torch.allclose(alone.centers, ref.centers)


def test_reduced_initialisation_averages_every_rank_s_images(make_cfg):
    torch.manual_seed(0)
    model = build_rganet(make_cfg(), 5)
    imgs = torch.randn(7, 3, 64, 32, generator=torch.Generator().manual_seed(2))
    model.eval()
    with torch.no_grad():
        mine, theirs = imgs[:3], imgs[3:]
        their_sum = stripe_features(model.image_encoder(theirs), 4).double().sum(dim=0)
        expected = stripe_features(model.image_encoder(imgs), 4).mean(dim=0)
    seen = model.init_memory_bank([{"img": mine}], "cpu",
                                  reduce=two_rank_reduce([their_sum, torch.tensor(4)]))
    assert seen == 7
    assert torch.allclose(model.memory.centers, expected, atol=1e-5)
