"""CUHK03 single-gallery-shot CMC: the exact expectation of torchreid's sampled estimate.

torchreid's ``eval_cuhk03`` keeps one random gallery image per identity, ten times, and averages
the CMC of the draws; :func:`single_shot_cmc` computes the expectation of that estimate in
closed form. Unlike the rest of :mod:`~rganet_reid.evaluation.ranking`, which counts closer
negatives without sorting, this protocol sorts each distance row (CUHK03 galleries are small).
mAP and mINP do not depend on the draw and come from the streaming ranker as usual.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

__all__ = ["single_shot_cmc", "single_shot_cmc_rows"]


def single_shot_cmc_rows(
    rows: np.ndarray,
    chunks: Iterable[tuple[int, torch.Tensor]],
    *,
    q_pids: np.ndarray,
    g_pids: np.ndarray,
    q_camids: np.ndarray,
    g_camids: np.ndarray,
    max_rank: int,
) -> np.ndarray:
    """``(len(rows), max_rank)`` single-shot CMC of queries ``rows`` from their distance rows.

    ``chunks`` are ``(g0, block)`` column chunks covering the gallery once (as in
    :meth:`~rganet_reid.evaluation.ranking.StreamingRanker.add_rows`); ties are ordered by
    gallery index. The ids are keyword-only, in torchreid's ``evaluate_rank`` order.
    """
    dist = torch.cat([c for _, c in sorted(chunks, key=lambda x: x[0])], dim=1).cpu()
    order = torch.sort(dist, dim=1, stable=True).indices.numpy()
    return np.stack([
        single_shot_cmc(order[i], q_pid=q_pids[q], g_pids=g_pids, q_camid=q_camids[q],
                        g_camids=g_camids, max_rank=max_rank)
        for i, q in enumerate(rows)
    ])


def single_shot_cmc(
    order: np.ndarray,
    *,
    q_pid: int,
    g_pids: np.ndarray,
    q_camid: int,
    g_camids: np.ndarray,
    max_rank: int,
) -> np.ndarray:
    """Expected CUHK03 single-shot CMC of one query (exact, no sampling), ``(max_rank,)``.

    ``order``: the gallery indices sorted by distance to the query (stable).

    torchreid keeps one random image per gallery identity. If the kept positive is at
    position ``s`` of the filtered ranking, every other identity ``u`` (``n_u`` images,
    ``c_u(s)`` of them before ``s``) lands before it with probability ``c_u(s)/n_u``,
    independently; the positive's rank is a Poisson-binomial variable. Averaged over the
    positive drawn (uniform).
    """
    keep = ~((g_pids[order] == q_pid) & (g_camids[order] == q_camid))
    kept_pids = g_pids[order][keep]
    is_pos = kept_pids == q_pid
    pos_positions = np.flatnonzero(is_pos)
    others = kept_pids[~is_pos]
    other_pos = np.flatnonzero(~is_pos)
    uniq, group = np.unique(others, return_inverse=True)
    n_u = np.bincount(group, minlength=len(uniq)).astype(np.float64)
    cmc = np.zeros(max_rank)
    for s in pos_positions:
        before = group[other_pos < s]
        pi = np.bincount(before, minlength=len(uniq)) / n_u
        pi = pi[pi > 0]
        pmf = np.zeros(max_rank)  # P(rank == m), truncated at max_rank
        pmf[0] = 1.0
        for p in pi:
            pmf[1:] = pmf[1:] * (1 - p) + pmf[:-1] * p
            pmf[0] *= 1 - p
        cmc += np.cumsum(pmf)
    return cmc / len(pos_positions)
