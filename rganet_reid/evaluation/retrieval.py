"""``evaluate_retrieval``: fused Eq. 10 distances streamed into the exact ranking metrics."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from rganet_reid.evaluation.distance import DistanceKernel, embed, resolve_device
from rganet_reid.evaluation.features import FeatureSet, RetrievalResult, check_pair
from rganet_reid.evaluation.ranking import StreamingRanker

__all__ = ["evaluate_retrieval", "plan_blocks", "BlockPlan", "iter_row_blocks", "resolve_dtype"]

logger = logging.getLogger(__name__)

# Bytes of working memory per distance entry: the stored float32 row block (4) and, per
# gallery chunk, the denominator, candidate mask and dense-search temporaries (~36).
_ROW_BYTES = 4
_CHUNK_BYTES = 36


@dataclass(frozen=True)
class BlockPlan:
    """How a ``num_rows × num_cols`` distance matrix is cut: ``rows`` query rows at a time
    (their whole gallery row is held), computed ``cols`` gallery columns at a time."""

    rows: int
    cols: int


def plan_blocks(
    num_rows: int, num_cols: int, memory_budget_mb: int, low_precision: bool = False
) -> BlockPlan:
    """Largest blocks whose working memory fits ``memory_budget_mb`` (half for the held row
    block, half for one chunk's temporaries). A bf16/fp16 GEMM on CPU also holds its 2-byte
    product next to the float32 block."""
    if memory_budget_mb <= 0:
        raise ValueError(f"memory_budget_mb must be positive; got {memory_budget_mb}.")
    budget = memory_budget_mb * 2**20
    row_bytes = _ROW_BYTES + (2 if low_precision else 0)
    rows = budget // 2 // (num_cols * row_bytes)
    if rows < 1:
        raise ValueError(
            f"memory_budget_mb={memory_budget_mb} cannot hold one distance row of "
            f"{num_cols} gallery items; raise it to at least "
            f"{-(-2 * num_cols * row_bytes // 2**20)} MB, or search a GalleryIndex instead."
        )
    rows = int(min(rows, max(num_rows, 1)))
    n_blocks = -(-max(num_rows, 1) // rows)
    rows = -(-max(num_rows, 1) // n_blocks)  # balance the blocks
    cols = int(min(num_cols, max(1024, budget // 2 // (rows * _CHUNK_BYTES))))
    return BlockPlan(rows=rows, cols=cols)


def iter_row_blocks(
    kernel: DistanceKernel, plan: BlockPlan
) -> Iterator[tuple[slice, list[tuple[int, torch.Tensor]]]]:
    """Yield ``(query slice, [(g0, distance chunk), ...])`` covering all queries × the gallery:
    one GEMM per ``plan.rows`` queries, finished and handed out ``plan.cols`` columns at a
    time (the chunks are views of the row block)."""
    n_q, n_g = kernel.num_query, kernel.num_gallery
    den = None
    if kernel.query.weights is not None:
        den = torch.empty(plan.rows * plan.cols, dtype=torch.float32, device=kernel.device)
    for q0 in range(0, n_q, plan.rows):
        q1 = min(n_q, q0 + plan.rows)
        block = kernel.block(q0, q1, 0, n_g, den_buffer=den, finish_cols=plan.cols)
        yield (
            slice(q0, q1),
            [(g0, block[:, g0 : g0 + plan.cols]) for g0 in range(0, n_g, plan.cols)],
        )
        del block


_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_dtype(dtype: torch.dtype | str) -> torch.dtype:
    """A GEMM dtype from a torch dtype or one of the names "float32", "bfloat16", "float16"."""
    if isinstance(dtype, str):
        if dtype not in _DTYPES:
            raise ValueError(f"Unknown dtype {dtype!r}; choose one of {sorted(_DTYPES)}.")
        return _DTYPES[dtype]
    if dtype not in _DTYPES.values():
        raise ValueError(f"dtype must be float32, bfloat16 or float16; got {dtype}.")
    return dtype


def evaluate_retrieval(
    query: FeatureSet,
    gallery: FeatureSet,
    *,
    metric: str = "cosine",
    max_rank: int = 50,
    use_metric_cuhk03: bool = False,
    device: str | torch.device | None = None,
    memory_budget_mb: int = 512,
    dtype: torch.dtype | str = torch.float32,
    rerank: bool = False,
    rerank_k1: int = 20,
    rerank_k2: int = 6,
    rerank_lambda: float = 0.3,
    rerank_neighbours: str = "exact",
    rerank_index_options: Mapping[str, Any] | None = None,
) -> RetrievalResult:
    """CMC, mAP and mINP of ``query`` against ``gallery``, exact, streamed.

    Distances: with region features, RGANet's region-weighted distance (paper Eq. 10) with
    cosine region distances; otherwise ``metric`` ("cosine" or torchreid's squared
    "euclidean") on the global features. Ranking: torchreid's market1501 protocol (or CUHK03
    single-shot with ``use_metric_cuhk03``), ties ordered by gallery index (docs/retrieval.md).

    Args:
        query, gallery: extracted features with pids and camids.
        metric: "cosine" | "euclidean" (global-only).
        max_rank: CMC length (cut to the gallery size, as torchreid does).
        use_metric_cuhk03: CUHK03 single-gallery-shot CMC (exact expectation of torchreid's
            10-draw estimate); mAP is unchanged.
        device: where the GEMMs run; ``None`` = CUDA when available, else CPU.
        memory_budget_mb: working memory for distance blocks (the embedded gallery, ``G × K``
            in ``dtype``, comes on top).
        dtype: GEMM input dtype: float32 (default, exact to float32 rounding), bfloat16 or
            float16 (faster on hardware with such units; distances lose precision, see docs);
            a torch dtype or its name (``cfg.retrieval.dtype``).
        rerank: k-reciprocal re-ranking (Zhong et al. 2017, torchreid's ``re_ranking``) with
            ``rerank_k1``, ``rerank_k2``, ``rerank_lambda``; neighbour lists from a streamed
            exact k-NN pass (``rerank_neighbours="exact"``, equals torchreid) or from a FAISS
            index (``"index"``, approximate, for very large sets; built and searched with
            ``rerank_index_options``, see :func:`.index.index_options_from_config`); see
            :mod:`.rerank`.

    Raises:
        ValueError: empty sets, mismatched shapes, or no query with a valid match.
    """
    check_pair(query, gallery)
    device = resolve_device(device)
    dtype = resolve_dtype(dtype)
    if rerank:
        from rganet_reid.evaluation.rerank import rerank_evaluate

        return rerank_evaluate(
            query,
            gallery,
            metric=metric,
            max_rank=max_rank,
            use_metric_cuhk03=use_metric_cuhk03,
            device=device,
            memory_budget_mb=memory_budget_mb,
            dtype=dtype,
            k1=rerank_k1,
            k2=rerank_k2,
            lambda_value=rerank_lambda,
            neighbours=rerank_neighbours,
            index_options=rerank_index_options,
        )
    ranker = StreamingRanker(
        query.pids, query.camids, gallery.pids, gallery.camids, max_rank, use_metric_cuhk03
    )
    rows = ranker.valid_queries
    if len(rows) == 0:
        return ranker.result()  # raises the "no valid query" error
    kernel = DistanceKernel(
        embed(query.subset(rows), metric, device, dtype),
        embed(gallery, metric, device, dtype),
        metric,
    )
    plan = plan_blocks(len(rows), len(gallery), memory_budget_mb, dtype != torch.float32)
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
