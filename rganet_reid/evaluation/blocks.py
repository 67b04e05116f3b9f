"""Memory-budgeted streaming of a distance matrix: how to cut it into row blocks and column
chunks (:func:`plan_blocks`) and the loop that computes them (:func:`iter_row_blocks`).

Every streamed consumer (the ranking in :mod:`.retrieval`, the k-NN passes of :mod:`.knn` and
:mod:`.rerank`) plans and iterates through here, so the full query × gallery matrix never
exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch

from rganet_reid.evaluation.distance import DistanceKernel

__all__ = ["BlockPlan", "iter_row_blocks", "plan_blocks"]

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
