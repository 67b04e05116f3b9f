"""Exact k-nearest gallery items by streaming the distance kernel (no full matrix)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from rganet_reid.evaluation.blocks import iter_row_blocks, plan_blocks
from rganet_reid.evaluation.distance import DistanceKernel, embed, resolve_device
from rganet_reid.evaluation.features import FeatureSet, check_pair

__all__ = ["chunks_topk", "exact_topk", "kernel_topk", "recall_at_k"]


def chunks_topk(
    chunks: Sequence[tuple[int, torch.Tensor]], k: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(distances, gallery indices)`` of the ``k`` smallest entries of each row of one row
    block given as ``(g0, chunk)`` column chunks (as :func:`iter_row_blocks` yields them),
    ascending; ``k`` must not exceed the chunks' total width. Each chunk's top-``k`` is merged
    into the running best, so no row is ever sorted whole."""
    best_d = best_i = None
    for g0, block in chunks:
        d, i = torch.topk(block, min(k, block.shape[1]), dim=1, largest=False)
        i += g0
        if best_d is not None:
            d, j = torch.topk(torch.cat([best_d, d], 1), k, dim=1, largest=False)
            i = torch.cat([best_i, i], 1).gather(1, j)
        best_d, best_i = d, i
    return best_d, best_i


def kernel_topk(
    kernel: DistanceKernel, k: int, memory_budget_mb: int = 512
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(distances, indices)`` of the ``k`` nearest gallery items of every kernel query,
    ascending; both ``(Q, k)``. Equal distances may come in any order."""
    k = min(k, kernel.num_gallery)
    low = kernel.query.vecs.dtype != torch.float32
    plan = plan_blocks(kernel.num_query, kernel.num_gallery, memory_budget_mb, low)
    out_d = torch.empty((kernel.num_query, k), dtype=torch.float32, device=kernel.device)
    out_i = torch.empty((kernel.num_query, k), dtype=torch.int64, device=kernel.device)
    for rows, chunks in iter_row_blocks(kernel, plan):
        out_d[rows], out_i[rows] = chunks_topk(chunks, k)
    return out_d, out_i


def exact_topk(
    query: FeatureSet,
    gallery: FeatureSet,
    k: int,
    *,
    metric: str = "cosine",
    device: str | torch.device | None = None,
    memory_budget_mb: int = 512,
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact top-``k`` (Eq. 10 with region features) of each query over the whole gallery."""
    check_pair(query, gallery)
    device = resolve_device(device)
    kernel = DistanceKernel(
        embed(query, metric, device, dtype), embed(gallery, metric, device, dtype), metric
    )
    return kernel_topk(kernel, k, memory_budget_mb)


def recall_at_k(found: torch.Tensor, truth: torch.Tensor, k: int) -> float:
    """Mean over queries of ``|found[:, :k] ∩ truth[:, :k]| / k``."""
    f, t = found[:, :k].cpu(), truth[:, :k].cpu()
    if f.shape[0] != t.shape[0]:
        raise ValueError(f"found has {f.shape[0]} rows but truth has {t.shape[0]}.")
    hits = (f.unsqueeze(2) == t.unsqueeze(1)).any(dim=2).sum()
    return float(hits) / (t.shape[0] * t.shape[1])
