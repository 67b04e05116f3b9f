"""``evaluate_retrieval``: fused Eq. 10 distances streamed into the exact ranking metrics."""

from __future__ import annotations

import logging
from typing import Any

import torch

from rganet_reid.evaluation.blocks import iter_row_blocks, plan_blocks
from rganet_reid.evaluation.distance import DistanceKernel, embed, resolve_device
from rganet_reid.evaluation.features import FeatureSet, RetrievalResult, check_pair
from rganet_reid.evaluation.ranking import StreamingRanker
from rganet_reid.evaluation.rerank import rerank_evaluate
from rganet_reid.evaluation.settings import RetrievalSettings

__all__ = ["evaluate_retrieval"]

logger = logging.getLogger(__name__)


def evaluate_retrieval(
    query: FeatureSet,
    gallery: FeatureSet,
    settings: RetrievalSettings | None = None,
    **overrides: Any,
) -> RetrievalResult:
    """CMC, mAP and mINP of ``query`` against ``gallery``, exact, streamed.

    Distances: with region features, RGANet's region-weighted distance (paper Eq. 10) with
    cosine region distances; otherwise ``metric`` ("cosine" or torchreid's squared
    "euclidean") on the global features. Ranking: torchreid's market1501 protocol (or CUHK03
    single-shot with ``use_metric_cuhk03``), ties ordered by gallery index (docs/retrieval.md).
    With ``rerank``, k-reciprocal re-ranked distances (:mod:`.rerank`).

    Args:
        query, gallery: extracted features with pids and camids.
        settings: every evaluation choice (:class:`RetrievalSettings`, e.g.
            ``RetrievalSettings.from_config(cfg)``); ``None`` = the defaults.
        **overrides: :class:`RetrievalSettings` fields set for this call, on top of
            ``settings`` — the keyword API, e.g. ``evaluate_retrieval(q, g, metric="euclidean",
            max_rank=10, rerank=True)``.

    Raises:
        ValueError: empty sets, mismatched shapes, or no query with a valid match.
        TypeError: an override that is not a :class:`RetrievalSettings` field.
    """
    if settings is None:
        settings = RetrievalSettings(**overrides)
    elif overrides:
        settings = settings.replace(**overrides)
    check_pair(query, gallery)
    if settings.rerank:
        return rerank_evaluate(query, gallery, settings)
    device = resolve_device(settings.device)
    metric, dtype = settings.metric, settings.dtype
    ranker = StreamingRanker.for_sets(
        query, gallery, max_rank=settings.max_rank, use_metric_cuhk03=settings.use_metric_cuhk03
    )
    rows = ranker.valid_queries
    if len(rows) == 0:
        return ranker.result()  # raises the "no valid query" error
    kernel = DistanceKernel(
        embed(query.subset(rows), metric, device, dtype),
        embed(gallery, metric, device, dtype),
        metric,
    )
    plan = plan_blocks(len(rows), len(gallery), settings.memory_budget_mb, dtype != torch.float32)
    logger.info(
        "evaluate_retrieval: %d valid queries x %d gallery, width %d, blocks %d rows x %d cols "
        "on %s (%s)",
        len(rows),
        len(gallery),
        kernel.width,
        plan.rows,
        plan.cols,
        device,
        dtype,
    )
    for block_rows, chunks in iter_row_blocks(kernel, plan):
        ranker.add_rows(rows[block_rows], chunks)
        del chunks
    return ranker.result()
