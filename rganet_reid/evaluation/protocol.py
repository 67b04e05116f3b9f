"""Which gallery items count for a query: torchreid's ``eval_market1501`` protocol.

Gallery items with the query's pid *and* camera are removed ("junk"); items with the query's pid
from other cameras are positives; no other junk rule (pid ``-1`` / ``0`` are ordinary ids).
Queries without positives are skipped by the ranking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rganet_reid.evaluation.csr import build_csr, concat_ranges, gather_csr

__all__ = ["RankingProtocol"]


@dataclass(eq=False, kw_only=True)
class RankingProtocol:
    """Which gallery items are positives and which are removed, per query (CSR layout).

    Built from the ids, keyword-only in torchreid's ``evaluate_rank`` order (``q_pids``,
    ``g_pids``, ``q_camids``, ``g_camids``; kept as int64 arrays).

    Attributes:
        pos_ptr, pos_idx: positives of query ``q`` are ``pos_idx[pos_ptr[q]:pos_ptr[q+1]]``
            (gallery indices, ascending).
        junk_ptr, junk_idx: same-pid-same-camera gallery items of query ``q``.
        valid: ``(Q,)`` bool, queries with at least one positive.
    """

    q_pids: np.ndarray
    g_pids: np.ndarray
    q_camids: np.ndarray
    g_camids: np.ndarray

    def __post_init__(self) -> None:
        q_pids = self.q_pids = np.asarray(self.q_pids, np.int64)
        g_pids = self.g_pids = np.asarray(self.g_pids, np.int64)
        q_camids = self.q_camids = np.asarray(self.q_camids, np.int64)
        g_camids = self.g_camids = np.asarray(self.g_camids, np.int64)
        if q_pids.shape != q_camids.shape or q_pids.ndim != 1:
            raise ValueError(
                f"q_pids and q_camids must be 1-D of equal length; got {q_pids.shape} and "
                f"{q_camids.shape}."
            )
        if g_pids.shape != g_camids.shape or g_pids.ndim != 1:
            raise ValueError(
                f"g_pids and g_camids must be 1-D of equal length; got {g_pids.shape} and "
                f"{g_camids.shape}."
            )
        self.num_query, self.num_gallery = len(q_pids), len(g_pids)
        order = np.argsort(g_pids, kind="stable")  # gallery grouped by pid, index ascending
        sorted_pids = g_pids[order]
        lo = np.searchsorted(sorted_pids, q_pids, side="left")
        hi = np.searchsorted(sorted_pids, q_pids, side="right")
        counts = hi - lo
        rows = np.repeat(np.arange(self.num_query), counts)
        cols = order[concat_ranges(lo, counts)]
        same_cam = g_camids[cols] == q_camids[rows]
        self.pos_ptr, self.pos_idx = build_csr(rows[~same_cam], cols[~same_cam], self.num_query)
        self.junk_ptr, self.junk_idx = build_csr(rows[same_cam], cols[same_cam], self.num_query)
        self.valid = np.diff(self.pos_ptr) > 0

    def positives(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(row position in rows, gallery index)`` of the positives of queries ``rows``."""
        return gather_csr(self.pos_ptr, self.pos_idx, rows)

    def junk(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(row position in rows, gallery index)`` of the removed items of queries ``rows``."""
        return gather_csr(self.junk_ptr, self.junk_idx, rows)
