"""CUHK03 single-shot CMC (evaluation/cuhk03.py): row blocks and column chunks."""

from __future__ import annotations

import numpy as np
import torch

from rganet_reid.evaluation.cuhk03 import single_shot_cmc, single_shot_cmc_rows


def test_a_row_block_equals_its_queries_one_by_one_whatever_the_chunk_order():
    rng = np.random.default_rng(0)
    g_pids, g_camids = rng.integers(0, 6, 40), rng.integers(0, 3, 40)
    q_pids, q_camids = np.arange(6), np.array([0, 1, 2, 0, 1, 2])
    rows = np.array([4, 0, 2])  # block row i holds query rows[i]
    dist = torch.from_numpy(rng.random((3, 40)).astype(np.float32))
    chunks = [(25, dist[:, 25:]), (0, dist[:, :10]), (10, dist[:, 10:25])]  # any order
    got = single_shot_cmc_rows(rows, chunks, q_pids=q_pids, g_pids=g_pids, q_camids=q_camids,
                               g_camids=g_camids, max_rank=5)
    assert got.shape == (3, 5)
    for i, q in enumerate(rows):
        order = np.argsort(dist[i].numpy(), kind="stable")
        expected = single_shot_cmc(order, q_pid=q_pids[q], g_pids=g_pids, q_camid=q_camids[q],
                                   g_camids=g_camids, max_rank=5)
        np.testing.assert_array_equal(got[i], expected)
    assert not np.array_equal(got[0], got[1])  # the queries do differ
