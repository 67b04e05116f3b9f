"""The global batch split across ranks (GlobalBatchSplitSampler) and the test-set shards."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest
import torch

from rganet_reid.compat import torchreid_sampler
from rganet_reid.data.distributed import GlobalBatchSplitSampler, shard_bounds

K = 4


def items(num_ids: int = 24, per_id: int = 8) -> list[tuple]:
    """Every identity with a multiple of K images: the identity sampler never repeats one."""
    return [(f"{pid}_{i}.jpg", pid, i % 3) for pid in range(num_ids) for i in range(per_id)]


def split_samplers(world: int, global_batch: int = 32, seed: int = 7, data=None):
    data = data or items()
    return data, [
        GlobalBatchSplitSampler(
            torchreid_sampler.build_train_sampler(data, "RandomIdentitySampler",
                                                  batch_size=global_batch, num_instances=K),
            global_batch, rank, world, seed, unit=K)
        for rank in range(world)
    ]


@pytest.mark.parametrize("world", [2, 4])
def test_each_rank_gets_whole_identities_and_no_image_twice(world):
    data, samplers = split_samplers(world)
    per_rank = [list(s) for s in samplers]
    assert len({len(p) for p in per_rank}) == 1 and len(per_rank[0]) == len(samplers[0])
    seen = Counter(i for p in per_rank for i in p)
    assert max(seen.values()) == 1  # no image on two ranks (nor twice on one)
    b = samplers[0].per_rank
    for p in per_rank:
        for start in range(0, len(p), b):
            pids = [data[i][1] for i in p[start : start + b]]
            counts = Counter(pids)
            assert len(counts) == b // K and set(counts.values()) == {K}  # P ids x K images
            for j in range(0, b, K):  # each identity's K images side by side
                assert len(set(pids[j : j + K])) == 1


def test_ranks_together_draw_the_global_batches_of_one_seeded_sampler():
    data, samplers = split_samplers(2)
    whole = samplers[0].global_indices(0)
    per_rank = [list(s) for s in samplers]
    b = samplers[0].per_rank
    rebuilt = [i for start in range(0, len(per_rank[0]), b) for p in per_rank
               for i in p[start : start + b]]
    assert rebuilt == whole
    counts = Counter(data[i][1] for i in whole)
    assert set(counts.values()) <= {K, 2 * K}  # identities in whole chunks of K images
    assert len(whole) >= len(data) // 2


def test_every_pass_draws_a_new_split_and_all_identities_take_part():
    data, samplers = split_samplers(2)
    first, second = [list(samplers[0]) for _ in range(2)]
    assert first != second and samplers[0].passes == 2
    pids = {data[i][1] for _ in range(3) for s in samplers for i in s}
    assert pids == {it[1] for it in data}


def test_the_process_random_streams_are_left_alone():
    _, samplers = split_samplers(2)
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    list(samplers[0])
    after = (random.random(), np.random.rand(), torch.rand(1).item())
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    assert after == (random.random(), np.random.rand(), torch.rand(1).item())


def test_the_pass_counter_resumes_the_same_batches():
    _, samplers = split_samplers(2)
    list(samplers[1])
    state = samplers[1].state_dict()
    expected = list(samplers[1])
    _, fresh = split_samplers(2)
    fresh[1].load_state_dict(state)
    assert list(fresh[1]) == expected


def test_a_global_batch_that_splits_identities_is_refused():
    with pytest.raises(ValueError, match="multiple of world_size x 4"):
        split_samplers(2, global_batch=20)  # 10 images per rank: 2.5 identities


@pytest.mark.parametrize("n,batch,world", [(39, 8, 2), (39, 8, 3), (16, 8, 4), (0, 8, 2),
                                           (1000, 128, 8), (7, 32, 2)])
def test_shards_are_whole_batches_tiling_the_set_once(n, batch, world):
    bounds = [shard_bounds(n, batch, r, world) for r in range(world)]
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    for (a, b), (c, _) in zip(bounds, bounds[1:]):
        assert b == c and a <= b
    for a, b in bounds:
        assert a % batch == 0 and (b % batch == 0 or b == n)
    sizes = [b - a for a, b in bounds]
    assert max(sizes) - min(sizes) <= batch  # as even as whole batches allow
