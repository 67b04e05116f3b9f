"""Index arithmetic on CSR (compressed sparse row) layouts: row ``r`` of a CSR list owns the
entries ``idx[ptr[r]:ptr[r+1]]``. Used by the ranking protocol (positives / junk per query) and
by re-ranking's sparse Jaccard term."""

from __future__ import annotations

import numpy as np

__all__ = ["build_csr", "concat_ranges", "gather_csr"]


def concat_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``[starts[0] .. starts[0]+counts[0]-1, starts[1] .. , ...]`` as one int64 array,
    without a Python loop (the positions of several CSR rows' entries, concatenated)."""
    counts = np.asarray(counts, dtype=np.int64)
    offsets = np.cumsum(counts) - counts  # where each range starts in the output
    within = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(offsets, counts)
    return np.repeat(np.asarray(starts, dtype=np.int64), counts) + within


def build_csr(rows: np.ndarray, cols: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(ptr, idx)`` of ``n`` rows from entries ``(rows[i], cols[i])`` that are already grouped
    by row in ascending row order."""
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=ptr[1:])
    return ptr, cols.astype(np.int64, copy=False)


def gather_csr(ptr: np.ndarray, idx: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(position in rows, entry)`` of every entry of CSR rows ``rows``, row by row."""
    counts = ptr[rows + 1] - ptr[rows]
    return np.repeat(np.arange(len(rows)), counts), idx[concat_ranges(ptr[rows], counts)]
