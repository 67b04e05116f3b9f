"""Exact evaluation with the gallery sharded across processes (docs/retrieval.md §7).

Each process holds every query and one contiguous shard of the gallery. For each block of
query rows (the same blocks on every process: they are planned from the whole gallery's
width) a process computes the Eq. 10 distances to its shard only, contributes the distances
of the positives it holds, counts for every positive the items of its shard ranked before
it, and the counts are summed over processes (:class:`~.ranking.StreamingRanker` with
``gallery_shard`` and ``reduce_sum``). Ranking needs nothing else, so CMC, mAP and mINP are
those of one process over the whole gallery, on every process; no process ever holds more
than its shard and one block of ``rows × shard`` distances.

What crosses processes per row block: the positives' and removed items' distances and the
counts (a few numbers per query). Re-ranking and CUHK03's single-shot CMC need whole distance
rows; with those settings the shards are gathered and one process's evaluation runs on every
process (exact as well, without the memory saving).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rganet_reid.evaluation.blocks import iter_row_blocks, plan_blocks
from rganet_reid.evaluation.distance import DistanceKernel, embed, resolve_device
from rganet_reid.evaluation.feature_store import read_feature_ids, read_features
from rganet_reid.evaluation.features import FeatureSet, RetrievalResult, check_pair
from rganet_reid.evaluation.ranking import StreamingRanker
from rganet_reid.evaluation.retrieval import evaluate_retrieval
from rganet_reid.evaluation.settings import RetrievalSettings

__all__ = ["ShardComm", "evaluate_feature_dirs", "evaluate_sharded", "gather_feature_set"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShardComm:
    """The two collectives a sharded evaluation needs (every process calls them in the same
    order): ``sum`` of a numpy array over processes, and ``gather_rows``, the concatenation
    of every process's rows in process order (``None``: no rows here).
    :func:`rganet_reid.utils.distributed.all_reduce_sum` and ``all_gather_rows`` for
    torch.distributed (:meth:`torch_distributed`)."""

    sum: Callable[[np.ndarray], np.ndarray]
    gather_rows: Callable[[torch.Tensor | None], torch.Tensor | None]

    @classmethod
    def torch_distributed(cls) -> ShardComm:
        """The collectives of the running torch.distributed process group (identity
        functions for a single process)."""
        from rganet_reid.utils.distributed import all_gather_rows, all_reduce_sum

        return cls(sum=all_reduce_sum, gather_rows=all_gather_rows)


def gather_feature_set(part: FeatureSet | None, ids: tuple[np.ndarray, np.ndarray],
                       comm: ShardComm) -> FeatureSet:
    """The whole set from every process's contiguous part, in process order (e.g. query
    shards → every query on every process). ``part`` is ``None`` on a process without rows;
    ``ids`` are the whole set's ``(pids, camids)``, which every process knows."""
    def field(name: str) -> torch.Tensor | None:
        return comm.gather_rows(None if part is None else getattr(part, name))

    global_feats = field("global_feats")
    if global_feats is None or len(global_feats) != len(ids[0]):
        raise ValueError(f"The parts hold {0 if global_feats is None else len(global_feats)} "
                         f"rows in all; the set has {len(ids[0])} items.")
    return FeatureSet(global_feats, ids[0], ids[1], field("region_feats"),
                      field("region_weights"))


def evaluate_sharded(
    query: FeatureSet,
    gallery_shard: FeatureSet,
    *,
    shard_start: int,
    gallery_pids: np.ndarray,
    gallery_camids: np.ndarray,
    settings: RetrievalSettings | None = None,
    comm: ShardComm | None = None,
    **overrides: Any,
) -> RetrievalResult:
    """CMC, mAP and mINP of ``query`` against a gallery held in shards by several processes;
    every process calls this with its shard and gets the whole gallery's result.

    Args:
        query: every query (the same on every process).
        gallery_shard: this process's gallery items ``shard_start .. shard_start + n - 1``
            (may be empty: a process past the last shard).
        gallery_pids, gallery_camids: ids of the *whole* gallery (for positives and removed
            items: the protocol of :func:`~.retrieval.evaluate_retrieval`).
        settings, overrides: as :func:`~.retrieval.evaluate_retrieval`.
        comm: the collectives (default: torch.distributed's).

    The shards of all processes must tile the gallery in order, without gaps or overlaps.
    """
    if settings is None:
        settings = RetrievalSettings(**overrides)
    elif overrides:
        settings = settings.replace(**overrides)
    comm = comm or ShardComm.torch_distributed()
    num_gallery = len(gallery_pids)
    stop = shard_start + len(gallery_shard)
    covered = comm.sum(np.asarray([len(gallery_shard)], dtype=np.int64))[0]
    if covered != num_gallery or not 0 <= shard_start <= stop <= num_gallery:
        raise ValueError(
            f"Gallery shards hold {covered} items in all (this one {shard_start}..{stop - 1}); "
            f"the gallery has {num_gallery}: shards must tile it once."
        )
    if len(gallery_shard) and not (
        np.array_equal(gallery_shard.pids, gallery_pids[shard_start:stop])
        and np.array_equal(gallery_shard.camids, gallery_camids[shard_start:stop])
    ):
        raise ValueError(f"The ids of gallery shard {shard_start}..{stop - 1} differ from "
                         "gallery_pids / gallery_camids at those positions.")
    if settings.rerank or settings.use_metric_cuhk03:
        gallery = gather_feature_set(gallery_shard if len(gallery_shard) else None,
                                     (np.asarray(gallery_pids), np.asarray(gallery_camids)),
                                     comm)
        logger.info("evaluate_sharded: %s needs whole distance rows; evaluating the gathered "
                    "gallery of %d items", "re-ranking" if settings.rerank else "CUHK03 CMC",
                    len(gallery))
        return evaluate_retrieval(query, gallery, settings)
    if len(gallery_shard):
        check_pair(query, gallery_shard)
    device = resolve_device(settings.device)
    ranker = StreamingRanker(
        q_pids=query.pids, g_pids=np.asarray(gallery_pids), q_camids=query.camids,
        g_camids=np.asarray(gallery_camids), max_rank=settings.max_rank,
        gallery_shard=(shard_start, stop), reduce_sum=comm.sum,
    )
    rows = ranker.valid_queries
    if len(rows) == 0:
        return ranker.result()  # raises the "no valid query" error
    kernel = DistanceKernel(
        embed(query.subset(rows), settings.metric, device, settings.dtype),
        embed(gallery_shard, settings.metric, device, settings.dtype),
        settings.metric,
    )
    # row blocks from the whole gallery's width: the same blocks on every process (and as
    # one process would use), each block rows x this shard
    plan = plan_blocks(len(rows), num_gallery, settings.memory_budget_mb,
                       settings.dtype != torch.float32)
    logger.info("evaluate_sharded: %d valid queries x gallery shard %d..%d of %d, blocks of "
                "%d rows on %s", len(rows), shard_start, stop - 1, num_gallery, plan.rows, device)
    for block_rows, chunks in iter_row_blocks(kernel, plan):
        ranker.add_rows(rows[block_rows], [(shard_start + g0, c) for g0, c in chunks])
        del chunks
    return ranker.result()


def evaluate_feature_dirs(
    query_dir: str | Path,
    gallery_dir: str | Path,
    settings: RetrievalSettings | None = None,
    *,
    rank: int | None = None,
    world_size: int | None = None,
    comm: ShardComm | None = None,
) -> tuple[RetrievalResult, int, int]:
    """:func:`evaluate_sharded` of saved features (:mod:`.feature_store` directories): this
    process reads every query but only its even share of the gallery rows (rank and world size
    default to torch.distributed's). Returns the result and the number of queries and gallery
    items."""
    from rganet_reid.utils import distributed as dist

    rank = dist.rank() if rank is None else rank
    world_size = dist.world_size() if world_size is None else world_size
    query = read_features(query_dir)
    g_pids, g_camids = read_feature_ids(gallery_dir)
    start, stop = rank * len(g_pids) // world_size, (rank + 1) * len(g_pids) // world_size
    shard = read_features(gallery_dir, slice(start, stop))
    if not len(shard):
        shard = query.subset(slice(0, 0))
    res = evaluate_sharded(query, shard, shard_start=start, gallery_pids=g_pids,
                           gallery_camids=g_camids, settings=settings, comm=comm)
    return res, len(query), len(g_pids)
