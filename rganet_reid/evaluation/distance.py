"""Region-weighted distance (paper Eq. 10) as matrix products, computed block by block.

With unit-normalised features the cosine distance of region ``j`` is ``d_j = 1 - q̂_j·ĝ_j``, so

    Σ_j w_j^q w_j^g d_j + d_g = (Σ_j w_j^q w_j^g + 1) - (Σ_j w_j^q w_j^g q̂_j·ĝ_j + q̂_g·ĝ_g)

and with the *embedding* ``e = [ĝ_g | w_1 ĝ_1 | … | w_N ĝ_N]`` (one row of width ``d + N·d_r``)
Eq. 10 becomes

    d(q, g) = 1 - (e_q · e_g) / (w^q · w^g + 1)

i.e. one wide GEMM over the embeddings, one GEMM of width N over the confidences and one
elementwise division. :class:`DistanceKernel` computes any ``(rows, cols)`` block of this matrix;
callers stream over blocks so the full query × gallery matrix never has to exist.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from rganet_reid.evaluation.features import FeatureSet, check_pair
from rganet_reid.utils.seed import resolve_device

__all__ = [
    "METRICS",
    "Embedding",
    "DistanceKernel",
    "embed",
    "region_weighted_distance",
    "region_weighted_distance_reference",
    "resolve_device",
]

logger = logging.getLogger(__name__)

METRICS = ("cosine", "euclidean")
_EMBED_ROWS = 4096  # rows embedded at a time (bounds the fp32 temporaries of embed())
_EPS = 1e-12  # as F.normalize


@dataclass
class Embedding:
    """One side (query or gallery) prepared for the fused GEMM.

    Attributes:
        vecs: ``(n, K)`` rows in the compute dtype: ``[ĝ | w_1 ĝ_1 | … | w_N ĝ_N]`` for Eq. 10,
            ``ĝ`` for global cosine, the raw global feature for euclidean.
        weights: ``(n, N)`` float32 confidences (Eq. 10 only).
        sqnorms: ``(n,)`` float32 squared norms (euclidean only).
    """

    vecs: torch.Tensor
    weights: torch.Tensor | None = None
    sqnorms: torch.Tensor | None = None

    def __len__(self) -> int:
        return int(self.vecs.shape[0])

    @property
    def nbytes(self) -> int:
        total = self.vecs.numel() * self.vecs.element_size()
        for t in (self.weights, self.sqnorms):
            if t is not None:
                total += t.numel() * t.element_size()
        return total


def embed(
    fs: FeatureSet,
    metric: str = "cosine",
    device: str | torch.device | None = "cpu",
    dtype: torch.dtype = torch.float32,
) -> Embedding:
    """Prepare ``fs`` for :class:`DistanceKernel` (normalise, weight, concatenate; Eq. 10).

    Row blocks are processed one at a time so the float32 temporaries stay small even for a
    gallery of millions.
    """
    if metric not in METRICS:
        raise ValueError(f"Unknown metric {metric!r}; choose one of {METRICS}.")
    if metric == "euclidean" and fs.has_regions:
        raise ValueError(
            "metric='euclidean' is for global-feature models only; region-weighted retrieval "
            "(Eq. 10) is defined with cosine region distances. Use metric='cosine'."
        )
    device = resolve_device(device)
    n, d = fs.global_feats.shape
    width = d + (fs.num_regions * fs.region_feats.shape[2] if fs.has_regions else 0)
    vecs = torch.empty((n, width), dtype=dtype, device=device)
    weights = (
        torch.empty((n, fs.num_regions), dtype=torch.float32, device=device)
        if fs.has_regions
        else None
    )
    sqnorms = torch.empty(n, dtype=torch.float32, device=device) if metric == "euclidean" else None
    for start in range(0, n, _EMBED_ROWS):
        sl = slice(start, min(n, start + _EMBED_ROWS))
        g = fs.global_feats[sl].to(device=device, dtype=torch.float32)
        norms = torch.linalg.vector_norm(g, dim=1)
        if not torch.isfinite(norms).all():  # a NaN/inf anywhere in a row makes its norm so
            raise ValueError(f"global_feats {_bad_rows(norms, start)} contain NaN or inf (or "
                             "overflow float32).")
        if metric == "euclidean":
            sqnorms[sl] = norms.square()
            vecs[sl] = g
            continue
        torch.mul(g, 1.0 / norms.clamp_min(_EPS).unsqueeze(1), out=vecs[sl, :d])
        if fs.has_regions:
            r = fs.region_feats[sl].to(device=device, dtype=torch.float32)
            w = fs.weights_or_ones()[sl].to(device=device, dtype=torch.float32)
            r_norms = torch.linalg.vector_norm(r, dim=2)
            finite = torch.isfinite(r_norms).all(1) & torch.isfinite(w).all(1)
            if not finite.all():
                raise ValueError(f"region_feats / region_weights {_bad_rows(finite, start)} "
                                 "contain NaN or inf.")
            if (w < 0).any():
                raise ValueError(
                    f"region_weights {_bad_rows(~(w < 0).any(1), start)} contain negative "
                    "values; Eq. 10 needs confidences >= 0 (RGANet's w_j are softmax outputs)."
                )
            scale = (w / r_norms.clamp_min(_EPS)).unsqueeze(2)  # w_j / |F_j|
            torch.mul(r, scale, out=vecs[sl, d:].view(r.shape))
            weights[sl] = w
    return Embedding(vecs=vecs, weights=weights, sqnorms=sqnorms)


def _bad_rows(ok: torch.Tensor, start: int, shown: int = 5) -> str:
    """``row 7`` / ``rows 7, 9 (2 of 512)``: the rows (offset by ``start``) where ``ok`` is
    False or not finite."""
    bad = (~torch.isfinite(ok) if ok.is_floating_point() else ~ok).nonzero().flatten() + start
    listed = ", ".join(str(int(i)) for i in bad[:shown])
    if len(bad) == 1:
        return f"row {listed}"
    return f"rows {listed}{', ...' if len(bad) > shown else ''} ({len(bad)} rows)"


class DistanceKernel:
    """Computes blocks of the query × gallery distance matrix from two :class:`Embedding`.

    ``block(q0, q1, g0, g1)`` returns the float32 ``(q1-q0, g1-g0)`` block of

    * Eq. 10 (embeddings with confidences): ``1 - (e_q·e_g) / (w^q·w^g + 1)``;
    * cosine: ``1 - q̂·ĝ``;
    * euclidean: torchreid's squared euclidean ``|q|² + |g|² - 2 q·g``.

    One code path for CPU and CUDA; the GEMM runs in the embeddings' dtype (bf16/fp16 are an
    option, see docs/retrieval.md for their accuracy effect), the finish in float32.
    """

    def __init__(self, query: Embedding, gallery: Embedding, metric: str = "cosine") -> None:
        if metric not in METRICS:
            raise ValueError(f"Unknown metric {metric!r}; choose one of {METRICS}.")
        if query.vecs.shape[1] != gallery.vecs.shape[1]:
            raise ValueError(
                f"Query embeddings are {query.vecs.shape[1]}-wide, gallery ones "
                f"{gallery.vecs.shape[1]}-wide."
            )
        if (query.weights is None) != (gallery.weights is None):
            raise ValueError("Query and gallery must both have region confidences or neither.")
        self.query, self.gallery, self.metric = query, gallery, metric
        self.device = query.vecs.device
        self._one = torch.ones((), dtype=torch.float32, device=self.device)
        # 1-element (not 0-dim) constants take part in type promotion: results are float32
        self._one_1d = torch.ones(1, dtype=torch.float32, device=self.device)
        self._minus_two = torch.full((1,), -2.0, dtype=torch.float32, device=self.device)

    @property
    def num_query(self) -> int:
        return len(self.query)

    @property
    def num_gallery(self) -> int:
        return len(self.gallery)

    @property
    def width(self) -> int:
        """Inner dimension of the main GEMM (FLOPs per distance = 2·width)."""
        return int(self.query.vecs.shape[1])

    def block(
        self,
        q0: int,
        q1: int,
        g0: int,
        g1: int,
        den_buffer: torch.Tensor | None = None,
        finish_cols: int | None = None,
    ) -> torch.Tensor:
        """The float32 distance block ``[q0:q1, g0:g1]``.

        The product is one GEMM over the whole block (GEMM libraries run best on wide
        operands); the Eq. 10 finish then runs ``finish_cols`` columns at a time, reusing
        ``den_buffer`` (float32, ``>= (q1-q0) * finish_cols`` elements) for the denominator.
        """
        q = self.query.vecs[q0:q1]
        g = self.gallery.vecs[g0:g1]
        prod = _mm(q, g.t())  # float32, or the low-precision dtype on CPU
        # the float32 result; a low-precision product is read once by the finish below
        out = prod if prod.dtype == torch.float32 else torch.empty_like(prod, dtype=torch.float32)
        if self.metric == "euclidean":
            qn, gn = self.query.sqnorms[q0:q1], self.gallery.sqnorms[g0:g1]
            torch.mul(prod, self._minus_two, out=out)
            return out.add_(qn.unsqueeze(1)).add_(gn.unsqueeze(0))
        if self.query.weights is None:
            return torch.sub(self._one_1d, prod, out=out)  # 1 - q̂·ĝ
        wq, wg = self.query.weights[q0:q1], self.gallery.weights[g0:g1]
        n_rows, n_cols = out.shape
        step = n_cols if finish_cols is None else max(1, min(finish_cols, n_cols))
        if den_buffer is None or den_buffer.numel() < n_rows * step:
            den_buffer = torch.empty(n_rows * step, dtype=torch.float32, device=self.device)
        for c0 in range(0, n_cols, step):
            c1 = min(n_cols, c0 + step)
            den = den_buffer[: n_rows * (c1 - c0)].view(n_rows, c1 - c0)
            torch.addmm(self._one, wq, wg[c0:c1].t(), out=den)  # w^q·w^g + 1
            # 1 - S / den, in float32
            torch.addcdiv(self._one, prod[:, c0:c1], den, value=-1, out=out[:, c0:c1])
        return out


def _mm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a @ b``: float32 for float32 inputs; for bf16/fp16 float32 output where the backend
    offers it (CUDA ``out_dtype``), else the low-precision product."""
    if a.dtype != torch.float32 and a.device.type == "cuda":
        try:
            return torch.mm(a, b, out_dtype=torch.float32)
        except (TypeError, RuntimeError):  # older torch: no out_dtype
            pass
    return torch.mm(a, b)


def region_weighted_distance(
    query: FeatureSet,
    gallery: FeatureSet,
    metric: str = "cosine",
    device: str | torch.device | None = "cpu",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """The full ``(Q, G)`` distance matrix (Eq. 10 with region features, else ``metric``).

    For small cases (tests, visualisation). Large evaluations use
    :func:`rganet_reid.evaluation.evaluate_retrieval`, which streams the same kernel.
    """
    check_pair(query, gallery)
    kernel = DistanceKernel(
        embed(query, metric, device, dtype), embed(gallery, metric, device, dtype), metric
    )
    return kernel.block(0, len(query), 0, len(gallery))


def region_weighted_distance_reference(query: FeatureSet, gallery: FeatureSet) -> torch.Tensor:
    """Eq. 10 the slow, literal way: one cosine distance matrix per region, then combine.

    ``d = (Σ_j w_j^q w_j^g d_j + d_g) / (Σ_j w_j^q w_j^g + 1)`` in float64. The test oracle for
    :func:`region_weighted_distance`.
    """
    check_pair(query, gallery)

    def cos(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return 1 - F.normalize(a.double(), dim=1) @ F.normalize(b.double(), dim=1).t()

    num = cos(query.global_feats, gallery.global_feats)
    if not query.has_regions:
        return num
    den = torch.ones_like(num)
    wq, wg = query.weights_or_ones().double(), gallery.weights_or_ones().double()
    for j in range(query.num_regions):
        ww = wq[:, j : j + 1] * wg[:, j].unsqueeze(0)
        num = num + ww * cos(query.region_feats[:, j], gallery.region_feats[:, j])
        den = den + ww
    return num / den
