"""Exact CMC / mAP / mINP from distance blocks, without sorting the gallery.

For one query, only the *positions of its positives* in the ranked, filtered gallery matter:

* ``r_k`` = number of kept gallery items ranked before the ``k``-th positive;
* CMC: the query counts as a hit at rank ``m`` when ``r_0 < m``;
* AP = ``mean_k (k+1) / (r_k+1)`` (torchreid's formula, written per positive);
* INP = ``P / (r_{P-1}+1)`` (hardest positive).

``r_k`` is a *count*: all gallery items that precede the positive minus the removed
(same-id-same-camera, "junk") items that precede it. Counting only needs the positives'
distances, so each block of distance rows is scanned once against those thresholds; the gallery
is never sorted and the full query × gallery matrix never exists.

Which items are positives and which are removed: :mod:`.protocol` (torchreid's
``eval_market1501``). Queries without positives are skipped. CUHK03's single-gallery-shot CMC
(``use_metric_cuhk03``) sorts rows: :mod:`.cuhk03`.

Tie rule: items are ordered by ``(distance, gallery index)`` ascending — the order of a *stable*
sort of each distance row. ``-0.0`` equals ``0.0``. torchreid uses ``np.argsort``'s default
kind, which is not stable (with numpy >= 1.25 on AVX-512 CPUs it is x86-simd-sort, unstable
even for 8 elements), so on rows with tied distances torchreid's order is
implementation-defined; see docs/retrieval.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch

from rganet_reid.evaluation.csr import concat_ranges
from rganet_reid.evaluation.cuhk03 import single_shot_cmc_rows
from rganet_reid.evaluation.features import FeatureSet, RetrievalResult, check_not_empty
from rganet_reid.evaluation.protocol import RankingProtocol

__all__ = ["StreamingRanker", "evaluate_distmat", "orderable_key"]

logger = logging.getLogger(__name__)

# Sort keys pack (row, distance bits, column): rows of a block < 2**15, columns of a chunk
# part < 2**16. Larger blocks and chunks are split.
_MAX_ROWS = (1 << 15) - 1
_MAX_COLS = (1 << 16) - 1


def orderable_key_np(values: np.ndarray) -> np.ndarray:
    """numpy twin of :func:`orderable_key`."""
    bits = (np.asarray(values, dtype=np.float32) + np.float32(0.0)).view(np.int32)
    bits = bits ^ ((bits >> 31) & np.int32(0x7FFFFFFF))
    return bits.astype(np.int64) + (1 << 31)


def orderable_key(values: torch.Tensor) -> torch.Tensor:
    """int64 keys with the same order as the float32 ``values`` (``-0.0`` == ``0.0``).

    The IEEE bit pattern, with the magnitude bits flipped for negatives, shifted to be
    non-negative: ``key(a) < key(b)`` iff ``a < b``. NaN is not allowed.
    """
    bits = (values.float() + 0.0).view(torch.int32)  # + 0.0 turns -0.0 into +0.0
    bits = bits ^ ((bits >> 31) & 0x7FFFFFFF)
    return bits.long() + (1 << 31)


class StreamingRanker:
    """Accumulates exact ranking metrics from row blocks of the distance matrix.

    Usage: for each block of query rows (any order, each query once), call
    :meth:`add_rows` with the distance chunks covering all gallery columns of those rows;
    then :meth:`result`.

    The ids are keyword-only, named in torchreid's ``evaluate_rank`` order (``q_pids, g_pids,
    q_camids, g_camids``; see :func:`evaluate_distmat`), so they cannot be swapped silently;
    :meth:`for_sets` takes them from a query and a gallery :class:`FeatureSet`.
    """

    def __init__(
        self,
        *,
        q_pids: np.ndarray,
        g_pids: np.ndarray,
        q_camids: np.ndarray,
        g_camids: np.ndarray,
        max_rank: int = 50,
        use_metric_cuhk03: bool = False,
    ) -> None:
        if max_rank < 1:
            raise ValueError(f"max_rank must be >= 1; got {max_rank}.")
        self.protocol = RankingProtocol(
            q_pids=q_pids, g_pids=g_pids, q_camids=q_camids, g_camids=g_camids
        )
        check_not_empty(self.protocol.num_query, self.protocol.num_gallery)
        # torchreid cuts max_rank to the gallery size
        self.max_rank = min(max_rank, self.protocol.num_gallery)
        self.use_metric_cuhk03 = use_metric_cuhk03
        nq = self.protocol.num_query
        self.first = np.full(nq, -1, dtype=np.int64)  # r_0 per query (-1: not evaluated)
        self.ap = np.full(nq, np.nan)
        self.inp = np.full(nq, np.nan)
        self.cuhk03_cmc = np.full((nq, self.max_rank), np.nan) if use_metric_cuhk03 else None
        self.done = np.zeros(nq, dtype=bool)

    @classmethod
    def for_sets(
        cls,
        query: FeatureSet,
        gallery: FeatureSet,
        *,
        max_rank: int = 50,
        use_metric_cuhk03: bool = False,
    ) -> StreamingRanker:
        """A ranker for ``query`` against ``gallery`` (their pids and camids)."""
        return cls(
            q_pids=query.pids,
            g_pids=gallery.pids,
            q_camids=query.camids,
            g_camids=gallery.camids,
            max_rank=max_rank,
            use_metric_cuhk03=use_metric_cuhk03,
        )

    @property
    def valid_queries(self) -> np.ndarray:
        """Indices of queries with at least one positive (the only ones worth computing)."""
        return np.flatnonzero(self.protocol.valid)

    def add_rows(self, rows: np.ndarray, chunks: Iterable[tuple[int, torch.Tensor]]) -> None:
        """Rank queries ``rows`` given their distance rows.

        Args:
            rows: query indices of this block (valid queries; see :attr:`valid_queries`).
            chunks: ``(g0, block)`` pairs, ``block`` of shape ``(len(rows), gc)`` holding the
                distances to gallery items ``g0 .. g0+gc-1``; together they must cover the
                gallery once. Chunks are only read.
        """
        rows = np.asarray(rows, dtype=np.int64)
        if not self.protocol.valid[rows].all():
            raise ValueError("add_rows() got queries without positives; pass valid queries only.")
        if self.done[rows].any():
            raise ValueError("add_rows() got queries that were already ranked.")
        chunks = list(chunks)
        if len(rows) > _MAX_ROWS:  # row index must fit the sort key: split the block
            for s in range(0, len(rows), _MAX_ROWS):
                self.add_rows(
                    rows[s : s + _MAX_ROWS], [(g0, c[s : s + _MAX_ROWS]) for g0, c in chunks]
                )
            return
        covered = sum(int(c.shape[1]) for _, c in chunks)
        if covered != self.protocol.num_gallery:
            raise ValueError(
                f"Distance chunks cover {covered} gallery columns; expected "
                f"{self.protocol.num_gallery}."
            )
        # Bookkeeping of positives / junk is small (a few per query): numpy on the host. The
        # big per-chunk work stays in torch on the chunks' device.
        pr, pc = self.protocol.positives(rows)
        jr, jc = self.protocol.junk(rows)
        t = _gather(chunks, pr, pc)
        tj = _gather(chunks, jr, jc)
        o = np.lexsort((pc, t, pr))  # per row by (distance, gallery index); -0.0 == 0.0
        pr, pc, t = pr[o], pc[o], t[o]
        n_rows = len(rows)
        row_start = np.searchsorted(pr, np.arange(n_rows))
        row_end = np.searchsorted(pr, np.arange(n_rows), side="right")
        device = chunks[0][1].device
        t_max = torch.from_numpy(t[row_end - 1]).to(device)  # each row's largest threshold
        width = min(_MAX_COLS, max(int(c.shape[1]) for _, c in chunks))
        mask = torch.empty(n_rows * width, dtype=torch.bool, device=device)  # reused per chunk
        ctx = _Thresholds(t, orderable_key_np(t), pr << 48, pc, t_max, mask)
        count = np.zeros(len(t), dtype=np.int64)
        for g0, block in chunks:
            count += _chunk_counts(block, g0, ctx)
        if len(tj):  # the removed (junk) items were counted like any other: take them out
            count -= _pair_counts(tj, jr, jc, t, pc, row_start, row_end)
        self._finish(rows, pr, count, row_start, row_end)
        if self.use_metric_cuhk03:
            p = self.protocol
            self.cuhk03_cmc[rows] = single_shot_cmc_rows(
                rows, chunks, q_pids=p.q_pids, g_pids=p.g_pids, q_camids=p.q_camids,
                g_camids=p.g_camids, max_rank=self.max_rank,
            )
        self.done[rows] = True

    def _finish(self, rows, pr, r, start, end) -> None:
        k = np.arange(len(r)) - start[pr]  # index of the positive within its row
        if len(r) and np.any(np.diff(r)[np.diff(pr) == 0] <= 0):
            raise RuntimeError("internal error: positive ranks are not increasing")
        n_pos = end - start
        ap_sum = np.bincount(pr, weights=(k + 1) / (r + 1.0), minlength=len(rows))
        self.ap[rows] = ap_sum / n_pos
        self.first[rows] = r[start]
        self.inp[rows] = n_pos / (r[end - 1] + 1.0)

    def result(self) -> RetrievalResult:
        """Metrics over the valid queries ranked so far (all valid queries must be ranked)."""
        valid = self.protocol.valid
        missing = valid & ~self.done
        if missing.any():
            raise RuntimeError(f"{int(missing.sum())} valid queries were never ranked.")
        n_valid = int(valid.sum())
        if n_valid == 0:
            raise ValueError(
                "No query has a valid match in the gallery (every query's identity is absent "
                "from the gallery or only seen by the query's own camera); metrics are undefined."
            )
        if self.use_metric_cuhk03:
            cmc = self.cuhk03_cmc[valid].mean(axis=0)
        else:
            first = self.first[valid]
            hits = np.bincount(np.minimum(first, self.max_rank), minlength=self.max_rank + 1)
            cmc = np.cumsum(hits[: self.max_rank]) / n_valid
        return RetrievalResult(
            cmc=cmc.astype(np.float32),
            mAP=float(np.mean(self.ap[valid])),
            mINP=float(np.mean(self.inp[valid])),
            num_valid_queries=n_valid,
        )


@dataclass
class _Thresholds:
    """The positives of one row block, sorted by (row, distance, gallery index)."""

    t: np.ndarray  # float32 distances
    tbits: np.ndarray  # int64 orderable bits of t (< 2**32)
    row_key: np.ndarray  # int64 row << 48: the smallest key of each positive's row
    pc: np.ndarray  # gallery indices
    t_max: torch.Tensor  # (rows,) largest threshold per row, on the chunks' device
    mask: torch.Tensor  # flat bool buffer for the candidate mask of one chunk part


def _gather(chunks, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """float32 values at ``(rows, cols)`` (global gallery columns) from the column chunks."""
    out = np.empty(len(rows), dtype=np.float32)
    for g0, block in chunks:
        m = (cols >= g0) & (cols < g0 + block.shape[1])
        if m.any():
            r = torch.from_numpy(rows[m]).to(block.device)
            c = torch.from_numpy(cols[m] - g0).to(block.device)
            out[m] = block[r, c].float().cpu().numpy()
    return out


def _chunk_counts(block: torch.Tensor, g0: int, th: _Thresholds) -> np.ndarray:
    """For each positive ``k``: how many items of this chunk precede it, i.e.
    ``(d, g) < (t_k, pc_k)`` (distance, then gallery index).

    Only items with ``d <= t_max`` of their row can precede a positive ("candidates"). Each
    candidate becomes one int64 key ``row << 48 | bits(d) << 16 | column`` whose order *is*
    the ranking order, ties included; the keys are sorted once and each positive's count is
    a binary search for its own key. No per-item search, no per-row sort of the gallery.
    """
    count = np.zeros(len(th.t), dtype=np.int64)
    for c0 in range(0, block.shape[1], _MAX_COLS):
        part = block[:, c0 : c0 + _MAX_COLS]
        mask = th.mask[: part.numel()].view(part.shape)
        torch.le(part, th.t_max.unsqueeze(1), out=mask)
        cr, cc = mask.nonzero(as_tuple=True)
        if len(cr) == 0:
            continue
        keys = _sort_int64((cr << 48) | (orderable_key(part[cr, cc]) << 16) | cc)
        # a positive's column relative to this part, clipped: before the part -> 0 (equal
        # distances here come after it), after the part -> 2**16 (they all come before it)
        col = np.clip(th.pc - (g0 + c0), 0, 1 << 16)
        count += _search(keys, th.row_key + (th.tbits << 16) + col) - _search(keys, th.row_key)
    return count


def _pair_counts(v, vr, vc, t, pc, row_start, row_end) -> np.ndarray:
    """For each positive ``k``: how many of the few items ``(row vr, distance v, index vc)``
    precede it (all item × same-row positive pairs are compared)."""
    n_each = row_end[vr] - row_start[vr]
    k = concat_ranges(row_start[vr], n_each)
    iv, ic = np.repeat(v, n_each), np.repeat(vc, n_each)
    before = (iv < t[k]) | ((iv == t[k]) & (ic < pc[k]))
    return np.bincount(k[before], minlength=len(t))


def _sort_int64(keys: torch.Tensor) -> torch.Tensor:
    """Ascending sort of int64 keys (numpy's vectorised sort on CPU: ~10x torch's there)."""
    if keys.device.type == "cpu":
        return torch.from_numpy(np.sort(keys.numpy()))
    return torch.sort(keys).values


def _search(sorted_keys: torch.Tensor, needles: np.ndarray) -> np.ndarray:
    """How many ``sorted_keys`` are strictly below each host needle, as a host array."""
    if sorted_keys.device.type == "cpu":
        return np.searchsorted(sorted_keys.numpy(), needles, side="left")
    n = torch.from_numpy(needles).to(sorted_keys.device)
    return torch.searchsorted(sorted_keys, n).cpu().numpy()


def evaluate_distmat(
    distmat: torch.Tensor | np.ndarray,
    q_pids: np.ndarray,
    g_pids: np.ndarray,
    q_camids: np.ndarray,
    g_camids: np.ndarray,
    max_rank: int = 50,
    use_metric_cuhk03: bool = False,
    *,
    rows_per_block: int = 256,
) -> RetrievalResult:
    """Exact metrics from a given distance matrix (drop-in for torchreid's ``evaluate_rank``).

    Same protocol and argument order as ``torchreid.metrics.evaluate_rank``
    (``distmat, q_pids, g_pids, q_camids, g_camids``); ties follow the
    ``(distance, gallery index)`` rule (see module docstring). ``rows_per_block`` (query
    rows ranked at a time) is keyword-only, so torchreid's positional ``use_cython`` cannot
    land in it.
    """
    dist = torch.as_tensor(distmat)
    if dist.dim() != 2:
        raise ValueError(f"distmat must be 2-D (num_query, num_gallery); got {tuple(dist.shape)}.")
    if dist.shape != (len(q_pids), len(g_pids)):
        raise ValueError(
            f"distmat has shape {tuple(dist.shape)} but there are {len(q_pids)} query and "
            f"{len(g_pids)} gallery ids."
        )
    if torch.isnan(dist).any():
        raise ValueError("distmat contains NaN.")
    dist = dist.float()
    ranker = StreamingRanker(
        q_pids=q_pids,
        g_pids=g_pids,
        q_camids=q_camids,
        g_camids=g_camids,
        max_rank=max_rank,
        use_metric_cuhk03=use_metric_cuhk03,
    )
    valid = ranker.valid_queries
    for start in range(0, len(valid), rows_per_block):
        rows = valid[start : start + rows_per_block]
        ranker.add_rows(rows, [(0, dist[torch.from_numpy(rows)])])
    return ranker.result()
