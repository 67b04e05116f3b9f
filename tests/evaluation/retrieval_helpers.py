"""Shared helpers for the retrieval tests: torchreid's reference evaluation and feature
builders."""

from __future__ import annotations

import numpy as np
import torch

from rganet_reid.compat import torchreid_metrics
from rganet_reid.evaluation import FeatureSet


def torchreid_evaluate(distmat, q_pids, g_pids, q_camids, g_camids, max_rank=50, cuhk03=False):
    """torchreid's pure-Python ``evaluate_rank`` (the reference implementation)."""
    return torchreid_metrics.evaluate_rank(
        np.asarray(distmat, dtype=np.float64),
        q_pids,
        g_pids,
        q_camids,
        g_camids,
        max_rank=max_rank,
        use_metric_cuhk03=cuhk03,
        use_cython=False,
    )


def stable_rank_matrix(distmat) -> np.ndarray:
    """Each row replaced by its positions under a stable sort: a tie-free matrix with the
    same order as our ``(distance, gallery index)`` rule, so torchreid's unstable argsort
    ranks it exactly as we do."""
    d = np.asarray(distmat)
    order = np.argsort(d, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(d.shape[1])[None, :].repeat(len(d), 0), axis=1)
    return ranks.astype(np.float64)


def random_featureset(rng, n, num_ids, num_cams, dim=16, regions=4, id_noise=None):
    """A FeatureSet with random ids/cameras; with ``id_noise`` features cluster by identity."""
    pids = rng.integers(0, num_ids, n)
    camids = rng.integers(0, num_cams, n)
    if id_noise is None:
        g = rng.standard_normal((n, dim))
        r = rng.standard_normal((n, regions, dim))
    else:
        centers = np.random.default_rng(12345).standard_normal((num_ids, regions + 1, dim))
        g = centers[pids, 0] + id_noise * rng.standard_normal((n, dim))
        r = centers[pids, 1:] + id_noise * rng.standard_normal((n, regions, dim))
    w = rng.random((n, regions))
    return FeatureSet(
        torch.from_numpy(g).float(),
        pids,
        camids,
        torch.from_numpy(r).float() if regions else None,
        torch.from_numpy(w).float() if regions else None,
    )
