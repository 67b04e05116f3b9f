"""Memory-budgeted block planning and the streamed block loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from retrieval_helpers import random_featureset

from rganet_reid.evaluation import DistanceKernel, embed, region_weighted_distance_reference
from rganet_reid.evaluation.blocks import BlockPlan, iter_row_blocks, plan_blocks


def test_budget_too_small_for_one_row_names_the_minimum():
    with pytest.raises(ValueError, match="raise it to at least"):
        plan_blocks(10, 10_000_000, 1)


def test_streamed_blocks_tile_the_per_region_reference():
    rng = np.random.default_rng(6)
    q = random_featureset(rng, 37, 10, 3, dim=16)
    g = random_featureset(rng, 301, 10, 3, dim=16)
    kernel = DistanceKernel(embed(q), embed(g))
    full = torch.empty(37, 301)
    for rows, chunks in iter_row_blocks(kernel, BlockPlan(rows=8, cols=50)):
        for g0, chunk in chunks:
            full[rows, g0 : g0 + chunk.shape[1]] = chunk
    ref = region_weighted_distance_reference(q, g)
    torch.testing.assert_close(full.double(), ref, atol=2e-6, rtol=0)
