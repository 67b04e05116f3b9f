"""CSR index arithmetic against plain Python loops."""

from __future__ import annotations

import numpy as np

from rganet_reid.evaluation.csr import build_csr, concat_ranges, gather_csr


def test_concat_ranges_equals_the_loop_including_empty_ranges():
    starts = np.array([5, 0, 9, 2, 7], dtype=np.int32)  # int32, as scipy's indptr
    counts = np.array([3, 0, 1, 4, 0], dtype=np.int32)
    expected = [p for s, c in zip(starts, counts, strict=True) for p in range(s, s + c)]
    out = concat_ranges(starts, counts)
    assert out.dtype == np.int64 and out.tolist() == expected == [5, 6, 7, 9, 2, 3, 4, 5]
    assert concat_ranges(starts[:0], counts[:0]).tolist() == []


def test_built_csr_rows_gather_back_to_their_entries():
    rows = np.array([0, 0, 2, 2, 2, 4])
    cols = np.array([7, 9, 1, 3, 8, 5])
    ptr, idx = build_csr(rows, cols, 5)
    assert ptr.tolist() == [0, 2, 2, 5, 5, 6]
    pos, entries = gather_csr(ptr, idx, np.array([4, 1, 2, 0]))
    assert pos.tolist() == [0, 2, 2, 2, 3, 3]  # position of the row in the request
    assert entries.tolist() == [5, 1, 3, 8, 7, 9]
