"""Exact streamed k-NN: the chunk merge and the whole pass over many column chunks."""

from __future__ import annotations

import itertools

import numpy as np
import torch
from retrieval_helpers import random_featureset

from rganet_reid.evaluation import exact_topk, region_weighted_distance
from rganet_reid.evaluation.blocks import plan_blocks
from rganet_reid.evaluation.knn import chunks_topk


def test_chunks_topk_merges_uneven_chunks_like_one_topk_of_the_row():
    g = torch.Generator().manual_seed(0)
    block = torch.stack([torch.randperm(100, generator=g) for _ in range(5)]).float()
    bounds = [0, 3, 40, 41, 100]  # a first chunk narrower than k, a one-column chunk
    chunks = [(a, block[:, a:b]) for a, b in itertools.pairwise(bounds)]
    d, i = chunks_topk(chunks, 10)
    ref_d, ref_i = torch.topk(block, 10, dim=1, largest=False)  # distinct values: one answer
    torch.testing.assert_close(d, ref_d, rtol=0, atol=0)
    torch.testing.assert_close(i, ref_i, rtol=0, atol=0)


def test_exact_topk_over_many_column_chunks_finds_the_k_smallest_distances():
    rng = np.random.default_rng(0)
    q = random_featureset(rng, 50, 30, 3, dim=16, id_noise=1.0)
    g = random_featureset(rng, 3000, 30, 3, dim=16, id_noise=1.0)
    plan = plan_blocks(len(q), len(g), 1)
    assert plan.cols < len(g) and plan.rows < len(q)  # several row blocks and column chunks
    d, i = exact_topk(q, g, 15, device="cpu", memory_budget_mb=1)
    dense = region_weighted_distance(q, g)
    ref_d = torch.sort(dense, dim=1).values[:, :15]
    # the GEMM of a row block may round in the last ulp unlike the dense one: compare values
    torch.testing.assert_close(d, ref_d, rtol=0, atol=1e-6)
    torch.testing.assert_close(dense.gather(1, i), d, rtol=0, atol=1e-6)  # indices point at them
    assert all(len(set(row.tolist())) == 15 for row in i)
