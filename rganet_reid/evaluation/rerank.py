"""k-reciprocal re-ranking (Zhong et al., CVPR 2017) without any N × N matrix.

torchreid's ``re_ranking`` builds the full ``(Q+G) × (Q+G)`` distance matrix and argsorts every
row. Everything it computes depends only on

* each point's ``k1+1`` nearest neighbours (its first ``initial_rank`` columns),
* each point's largest squared distance (the row normalisation of ``original_dist``),
* a few extra pairwise distances (for the expansion sets' weights),

so here those come from a streamed exact k-NN pass (``neighbours="exact"``: memory-bounded,
time of one ``(Q+G)²`` GEMM) or from a FAISS :class:`~rganet_reid.evaluation.index.GalleryIndex`
(``neighbours="index"``: approximate neighbours and row maxima, for MSMT17 scale and beyond).
The sparse k-reciprocal vectors ``V`` are built vectorised, the Jaccard term is accumulated
for query rows only, and the final distance

    final = (1 - λ) · jaccard + λ · d² / max_k d²

is fed block by block into the exact streaming ranking. With exact neighbours the result
equals torchreid's ``re_ranking`` on the same distances (up to float32 summation order, and
up to torchreid's unstable tie order among equal distances).
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
import torch

from rganet_reid.evaluation.blocks import iter_row_blocks, plan_blocks
from rganet_reid.evaluation.csr import concat_ranges
from rganet_reid.evaluation.distance import DistanceKernel, Embedding, embed
from rganet_reid.evaluation.features import FeatureSet, RetrievalResult, check_pair
from rganet_reid.evaluation.index import GalleryIndex, split_index_options
from rganet_reid.evaluation.knn import chunks_topk
from rganet_reid.evaluation.ranking import StreamingRanker
from rganet_reid.evaluation.settings import RetrievalSettings

__all__ = ["rerank_evaluate", "rerank_distance", "Neighbours"]

logger = logging.getLogger(__name__)

_EXTRA = 8  # neighbours kept beyond k1+1, so ties at the cut can be re-ordered exactly
_ROWS = 1024  # points per vectorised k-reciprocal step
_FAR = 16  # farthest-point candidates per point for the row maxima in index mode
_PAIR_BATCH = 8192  # explicit pair distances computed at once
_PAIRS = 1 << 22  # Jaccard pairs expanded at once (bounds its temporaries to ~150 MB)
# index mode defaults: an IVF index over global features, candidates re-scored with Eq. 10
_INDEX_DEFAULTS = {"index_type": "ivf", "search_vectors": "global", "candidates": 64, "nprobe": 32}


class Neighbours:
    """Each point's nearest neighbours in ``original_dist`` order, and its row maximum.

    Attributes:
        idx: ``(N, k)`` int64 neighbour indices, ascending by ``(original_dist, index)``.
        orig: ``(N, k)`` float32 ``original_dist`` values ``d² / row_max``.
        row_max: ``(N,)`` float32 ``max_j d(i, j)²``.
    """

    def __init__(self, idx: torch.Tensor, dist: torch.Tensor, row_max: torch.Tensor) -> None:
        orig = dist.square() / row_max.unsqueeze(1)
        # order by (original_dist, index): equal distances keep index order
        o = torch.argsort(idx, dim=1, stable=True)
        idx, orig = idx.gather(1, o), orig.gather(1, o)
        o = torch.argsort(orig, dim=1, stable=True)
        self.idx, self.orig, self.row_max = idx.gather(1, o), orig.gather(1, o), row_max


def exact_neighbours(kernel: DistanceKernel, k: int, memory_budget_mb: int) -> Neighbours:
    """Streamed exact ``k`` nearest neighbours and squared-distance row maxima."""
    k = min(k, kernel.num_gallery)
    n = kernel.num_query
    idx = torch.empty((n, k), dtype=torch.int64)
    dist = torch.empty((n, k), dtype=torch.float32)
    row_max = torch.empty(n, dtype=torch.float32)
    low = kernel.query.vecs.dtype != torch.float32
    plan = plan_blocks(n, kernel.num_gallery, memory_budget_mb, low)
    for rows, chunks in iter_row_blocks(kernel, plan):
        best_d, best_i = chunks_topk(chunks, k)
        hi = torch.stack([block.amax(dim=1) for _, block in chunks]).amax(dim=0)
        lo = torch.stack([block.amin(dim=1) for _, block in chunks]).amin(dim=0)
        idx[rows], dist[rows] = best_i.cpu(), best_d.cpu()
        row_max[rows] = torch.maximum(hi.square(), lo.square()).cpu()
    return Neighbours(idx, dist, row_max)


def index_neighbours(points: FeatureSet, k: int, index_options: dict | None = None) -> Neighbours:
    """Approximate neighbours from a FAISS :class:`GalleryIndex` over all points (candidates
    re-scored exactly); row maxima from a farthest-point search (negated queries)."""
    opts, search_opts = split_index_options({**_INDEX_DEFAULTS, **(index_options or {})})
    index = GalleryIndex.build(points, **opts)
    near = index.search(points, k, **search_opts)
    far_opts = {**search_opts, "candidates": _FAR}
    far = index.search(_negated(points), _FAR, **far_opts)
    # the farthest candidates by inner product, re-scored against the real (not negated) point
    far_idx = torch.from_numpy(far.indices)
    emb = embed(points, "cosine", "cpu")
    far_d = _pair_distances(
        emb, torch.arange(len(points)).unsqueeze(1).expand_as(far_idx), far_idx.clamp(min=0)
    )
    far_d[far_idx < 0] = 0.0
    row_max = far_d.square().amax(dim=1)
    near_d = torch.from_numpy(near.distances)
    row_max = torch.maximum(row_max, near_d.square().amax(dim=1))
    return Neighbours(torch.from_numpy(near.indices), near_d, row_max)


def _negated(points: FeatureSet) -> FeatureSet:
    """The points with every feature negated: inner-product search then finds the farthest."""
    return FeatureSet(
        -points.global_feats,
        points.pids,
        points.camids,
        None if points.region_feats is None else -points.region_feats,
        points.region_weights,
    )


def _pair_distances(emb: Embedding, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """Eq. 10 / cosine / euclidean distance for explicit (row, col) pairs of one embedding,
    ``_PAIR_BATCH`` pairs at a time (each gathers two rows of width K)."""
    shape = rows.shape
    rows, cols = rows.reshape(-1), cols.reshape(-1)
    out = torch.empty(len(rows), dtype=torch.float32)
    for s in range(0, len(rows), _PAIR_BATCH):
        r, c = rows[s : s + _PAIR_BATCH], cols[s : s + _PAIR_BATCH]
        dot = (emb.vecs[r].float() * emb.vecs[c].float()).sum(-1)
        if emb.sqnorms is not None:  # euclidean (squared, as torchreid)
            d = emb.sqnorms[r] + emb.sqnorms[c] - 2 * dot
        elif emb.weights is None:
            d = 1 - dot
        else:
            d = 1 - dot / ((emb.weights[r] * emb.weights[c]).sum(-1) + 1)
        out[s : s + len(r)] = d.cpu()
    return out.view(shape)


def k_reciprocal_vectors(nb: Neighbours, emb: Embedding, k1: int, k2: int) -> sp.csr_matrix:
    """The (query-expanded) k-reciprocal encoding ``V`` of every point, as torchreid computes
    it, in sparse form (``N × N``, float32)."""
    n = nb.idx.shape[0]
    r1 = nb.idx[:, : k1 + 1]
    kh = int(np.around(k1 / 2.0))
    rh = nb.idx[:, : kh + 1]
    rec1 = _reciprocal(r1)
    rech = _reciprocal(rh)
    rows_out, cols_out = [], []
    for s in range(0, n, _ROWS):
        rows = torch.arange(s, min(n, s + _ROWS))
        f1, m1 = r1[rows], rec1[rows]  # forward neighbours, reciprocal mask
        c = rh[f1]  # (b, k1+1, kh+1): each candidate's half-size neighbour list
        cm = rech[f1] & m1.unsqueeze(2)  # its reciprocal set, only for reciprocal candidates
        inside = ((c.unsqueeze(3) == f1[:, None, None, :]) & m1[:, None, None, :]).any(3)
        inter = (inside & cm).sum(2)
        accept = m1 & (inter.double() > 2.0 / 3.0 * cm.sum(2).double())
        take = cm & accept.unsqueeze(2)
        rr = torch.cat(
            [rows.unsqueeze(1).expand_as(f1)[m1], rows[:, None, None].expand_as(c)[take]]
        )
        cc = torch.cat([f1[m1], c[take]])
        rows_out.append(rr)
        cols_out.append(cc)
    rr, cc = torch.cat(rows_out), torch.cat(cols_out)
    key = torch.unique(rr * n + cc)  # sorted: rows, then columns ascending
    rr, cc = key // n, key % n
    orig = _lookup_orig(nb, emb, rr, cc)
    w = torch.exp(-orig)
    w = w / torch.zeros(n, dtype=w.dtype).index_add_(0, rr, w)[rr]
    v = sp.csr_matrix((w.numpy(), (rr.numpy(), cc.numpy())), shape=(n, n), dtype=np.float32)
    if k2 == 1:
        return v
    a_rows = np.repeat(np.arange(n), k2)
    a = sp.csr_matrix(
        (np.ones(n * k2, np.float32), (a_rows, nb.idx[:, :k2].reshape(-1).numpy())), shape=(n, n)
    )
    return (a @ v / np.float32(k2)).astype(np.float32).tocsr()


def _reciprocal(r: torch.Tensor) -> torch.Tensor:
    """``rec[i, p]``: is ``i`` among the neighbours (same list length) of ``r[i, p]``?"""
    out = torch.empty(r.shape, dtype=torch.bool)
    for s in range(0, r.shape[0], _ROWS):
        rows = torch.arange(s, min(r.shape[0], s + _ROWS))
        out[rows] = (r[r[rows]] == rows[:, None, None]).any(2)
    return out


def _lookup_orig(nb: Neighbours, emb: Embedding, rr: torch.Tensor, cc: torch.Tensor):
    """``original_dist[rr, cc]``: from the neighbour lists where present, else computed."""
    hit = nb.idx[rr] == cc.unsqueeze(1)
    found = hit.any(1)
    orig = torch.empty(len(rr), dtype=torch.float32)
    orig[found] = nb.orig[rr[found]].gather(1, hit[found].float().argmax(1, keepdim=True))[:, 0]
    miss = ~found
    if miss.any():
        d = _pair_distances(emb, rr[miss], cc[miss])
        orig[miss] = d.square() / nb.row_max[rr[miss]]
    return orig


def _jaccard_block(v_rows: sp.csr_matrix, v_gallery_csc: sp.csc_matrix) -> torch.Tensor:
    """``1 - m / (2 - m)`` with ``m[i, j] = Σ_k min(V[i,k], V[j,k])`` for the given query rows
    against all gallery rows (dense ``(b, G)``, float32). Shared columns are expanded at most
    ``_PAIRS`` (query entry, gallery entry) pairs at a time."""
    b, g = v_rows.shape[0], v_gallery_csc.shape[0]
    acc = torch.zeros(b * g, dtype=torch.float32)
    coo = v_rows.tocoo()
    order = np.lexsort((coo.col, coo.row))  # per query row, columns ascending (as torchreid)
    qi, qk, qv = coo.row[order], coo.col[order], coo.data[order]
    ptr, gidx, gval = v_gallery_csc.indptr, v_gallery_csc.indices, v_gallery_csc.data
    n_each = ptr[qk + 1] - ptr[qk]
    ends = np.cumsum(n_each)
    start = 0
    while start < len(qk):  # whole query entries per step, about _PAIRS expanded pairs each
        stop = max(start + 1, int(np.searchsorted(ends, ends[start] - n_each[start] + _PAIRS)))
        sl = slice(start, stop)
        ne = n_each[sl]
        pos = concat_ranges(ptr[qk[sl]], ne)
        m = np.minimum(np.repeat(qv[sl], ne), gval[pos])
        key = np.repeat(qi[sl].astype(np.int64) * g, ne) + gidx[pos]
        acc.index_add_(0, torch.from_numpy(key), torch.from_numpy(m))
        start = stop
    t = acc.view(b, g)
    return 1 - t / (2.0 - t)


def _concat(query: FeatureSet, gallery: FeatureSet) -> FeatureSet:
    def cat(a, b):
        return None if a is None else torch.cat([a, b])

    return FeatureSet(
        torch.cat([query.global_feats, gallery.global_feats]),
        np.concatenate([query.pids, gallery.pids]),
        np.concatenate([query.camids, gallery.camids]),
        cat(query.region_feats, gallery.region_feats),
        cat(query.weights_or_ones(), gallery.weights_or_ones()) if query.has_regions else None,
    )


def _prepare(
    query, gallery, metric, device, dtype, k1, k2, memory_budget_mb, neighbours, index_options
):
    check_pair(query, gallery)
    if k2 < 1 or k1 < 1:
        raise ValueError(f"k1 and k2 must be >= 1; got k1={k1}, k2={k2}.")
    points = _concat(query, gallery)
    emb = embed(points, metric, device, dtype)
    k = k1 + 1 + _EXTRA
    if neighbours == "exact":
        nb = exact_neighbours(DistanceKernel(emb, emb, metric), k, memory_budget_mb)
    elif neighbours == "index":
        if metric != "cosine":
            raise ValueError("neighbours='index' supports cosine / Eq. 10 distances only.")
        nb = index_neighbours(points, k, index_options)
    else:
        raise ValueError(f"neighbours must be 'exact' or 'index'; got {neighbours!r}.")
    if k2 > nb.idx.shape[1]:
        raise ValueError(f"k2={k2} exceeds the number of points {nb.idx.shape[1]}.")
    v = k_reciprocal_vectors(nb, _cpu(emb), k1, k2)
    nq = len(query)
    return emb, nb, v[:nq], v[nq:].tocsc(), nq


def _final_block(d, rows, nb, v_query, v_gallery, lambda_value):
    orig = d.square() / nb.row_max[rows].to(d.device).unsqueeze(1)
    jac = torch.as_tensor(_jaccard_block(v_query[rows], v_gallery)).to(d.device)
    return jac * (1 - lambda_value) + orig * lambda_value


def rerank_distance(
    query: FeatureSet,
    gallery: FeatureSet,
    *,
    metric: str = "cosine",
    k1: int = 20,
    k2: int = 6,
    lambda_value: float = 0.3,
    device: str | torch.device | None = "cpu",
    dtype: torch.dtype = torch.float32,
    memory_budget_mb: int = 512,
    neighbours: str = "exact",
    index_options: dict | None = None,
) -> torch.Tensor:
    """The full re-ranked ``(Q, G)`` distance matrix (small cases: tests, visualisation)."""
    emb, nb, vq, vg, nq = _prepare(
        query, gallery, metric, device, dtype, k1, k2, memory_budget_mb, neighbours, index_options
    )
    d = DistanceKernel(emb, emb, metric).block(0, nq, nq, len(emb))
    return _final_block(d, np.arange(nq), nb, vq, vg, lambda_value)


def rerank_evaluate(
    query: FeatureSet, gallery: FeatureSet, settings: RetrievalSettings
) -> RetrievalResult:
    """:func:`evaluate_retrieval` on k-reciprocal re-ranked distances, streamed (``settings``:
    metric, device, dtype, memory budget, ranking protocol and the ``rerank_*`` fields)."""
    metric, dtype, budget = settings.metric, settings.dtype, settings.memory_budget_mb
    emb, nb, vq, vg, nq = _prepare(
        query,
        gallery,
        metric,
        settings.device,
        dtype,
        settings.rerank_k1,
        settings.rerank_k2,
        budget,
        settings.rerank_neighbours,
        settings.rerank_index_options,
    )
    ranker = StreamingRanker.for_sets(
        query, gallery, max_rank=settings.max_rank, use_metric_cuhk03=settings.use_metric_cuhk03
    )
    valid = ranker.valid_queries
    if len(valid) == 0:
        return ranker.result()
    kernel = DistanceKernel(
        _rows(emb, torch.from_numpy(valid)), _rows(emb, slice(nq, None)), metric
    )
    # the Jaccard block is a dense (rows x G) float32 too: budget for two row blocks
    plan = plan_blocks(len(valid), len(gallery), max(1, budget // 2), dtype != torch.float32)
    lam = settings.rerank_lambda
    for rows, chunks in iter_row_blocks(kernel, plan):
        d = torch.cat([c for _, c in chunks], dim=1)
        q_rows = valid[rows]
        ranker.add_rows(q_rows, [(0, _final_block(d, q_rows, nb, vq, vg, lam))])
    return ranker.result()


def _rows(emb: Embedding, index) -> Embedding:
    return Embedding(
        emb.vecs[index],
        None if emb.weights is None else emb.weights[index],
        None if emb.sqnorms is None else emb.sqnorms[index],
    )


def _cpu(emb: Embedding) -> Embedding:
    return _rows(
        Embedding(
            emb.vecs.cpu(),
            None if emb.weights is None else emb.weights.cpu(),
            None if emb.sqnorms is None else emb.sqnorms.cpu(),
        ),
        slice(None),
    )
