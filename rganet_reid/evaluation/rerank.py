"""k-reciprocal re-ranking (Zhong et al., CVPR 2017), as torchreid's ``re_ranking``."""

from __future__ import annotations

import torch

from rganet_reid.compat import torchreid_root
from rganet_reid.evaluation.distance import DistanceKernel, embed
from rganet_reid.evaluation.features import FeatureSet, RetrievalResult
from rganet_reid.evaluation.ranking import evaluate_distmat

__all__ = ["rerank_evaluate"]


def rerank_evaluate(
    query: FeatureSet,
    gallery: FeatureSet,
    *,
    metric: str,
    max_rank: int,
    use_metric_cuhk03: bool,
    device: torch.device,
    memory_budget_mb: int,
    dtype: torch.dtype,
    k1: int = 20,
    k2: int = 6,
    lambda_value: float = 0.3,
) -> RetrievalResult:
    """Evaluate with k-reciprocal re-ranked distances."""
    eq, eg = embed(query, metric, device, dtype), embed(gallery, metric, device, dtype)
    qg = DistanceKernel(eq, eg, metric).block(0, len(eq), 0, len(eg)).cpu().numpy()
    qq = DistanceKernel(eq, eq, metric).block(0, len(eq), 0, len(eq)).cpu().numpy()
    gg = DistanceKernel(eg, eg, metric).block(0, len(eg), 0, len(eg)).cpu().numpy()
    final = torchreid_root.utils.re_ranking(qg, qq, gg, k1=k1, k2=k2, lambda_value=lambda_value)
    return evaluate_distmat(
        final, query.pids, gallery.pids, query.camids, gallery.camids, max_rank, use_metric_cuhk03
    )
