"""Region Assessment Module (paper §III-D): α (Eq. 4), memory bank (Eq. 5), β (Eq. 6), w.

The confidence w_j of each region weights its ID loss (Eq. 7) and its distance at retrieval
(Eq. 10).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

logger = logging.getLogger(__name__)

CONFIDENCE_MODES = ("softmax_sum", "mean")
#: How β_j is read from the cosines of region features to the class centres (Eq. 6):
#: ``regions`` softmax over the regions j of cos(F_j^r, C_j) (the text), ``centres`` softmax
#: over the centres k of cos(F_j^r, C_k)/τ taken at k = j (Fig. 4: β does not sum to 1).
IAI_MODES = ("regions", "centres")


class DiscriminationIndicator(nn.Module):
    """Eq. 4: α_j = σ(W_a^T F_j^r), one FC layer (d → 1, with bias) shared by all regions.

    ``num_regions`` > 0 gives every region its own FC instead (W_a^j, b^j; ``rganet.
    dai_per_region``, not in the paper): whether a region is hidden shows in different
    directions of the feature for a head and for the feet, which one shared layer cannot
    separate as well (measured in projects/RGANet/README.md).
    """

    def __init__(self, dim: int, num_regions: int = 0) -> None:
        super().__init__()
        self.num_regions = int(num_regions)
        if self.num_regions > 0:
            self.weight = nn.Parameter(torch.empty(self.num_regions, dim).uniform_(
                -dim**-0.5, dim**-0.5))
            self.bias = nn.Parameter(torch.zeros(self.num_regions))
        else:
            self.fc = nn.Linear(dim, 1)

    def forward(self, region_feats: torch.Tensor) -> torch.Tensor:
        """``(B, N, d)`` → α ``(B, N)`` in (0, 1)."""
        if self.num_regions > 0:
            return torch.sigmoid((region_feats * self.weight).sum(-1) + self.bias)
        return torch.sigmoid(self.fc(region_feats)).squeeze(-1)


class MemoryBank(nn.Module):
    """Class centres C_1..C_N of the N region categories (buffers, saved in the state dict).

    Args:
        num_regions: N.
        dim: d.
        momentum: m_u in Eq. 5 (0.3 in the paper).
        alpha_threshold: only region features with α_j above this update C_j (0.85).
    """

    def __init__(
        self, num_regions: int, dim: int, momentum: float = 0.3, alpha_threshold: float = 0.85
    ) -> None:
        super().__init__()
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"rganet.memory.momentum must be in [0, 1], got {momentum}")
        self.momentum = float(momentum)
        self.alpha_threshold = float(alpha_threshold)
        self.register_buffer("centers", torch.zeros(num_regions, dim))
        self.register_buffer("initialized", torch.tensor(False))

    @property
    def is_initialized(self) -> bool:
        return bool(self.initialized)

    @torch.no_grad()
    def initialize(self, features: torch.Tensor) -> None:
        """Set the centres: ``features`` is ``(N, d)`` or ``(M, N, d)`` (averaged over M)."""
        if features.dim() == 3:
            features = features.mean(dim=0)
        if features.shape != self.centers.shape:
            raise ValueError(
                f"Memory bank expects ({self.centers.shape[0]}, {self.centers.shape[1]}) "
                f"centres, got {tuple(features.shape)}"
            )
        self.centers.copy_(features.to(self.centers))
        self.initialized.fill_(True)

    @torch.no_grad()
    def update(self, region_feats: torch.Tensor, alpha: torch.Tensor | None = None,
               reduce: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
        """Eq. 5: C_j ← m_u C_j + (1 − m_u) · mean of the batch's F_j^r with α_j > threshold.

        ``alpha=None`` (DAI off) uses every region. A region with no feature above the
        threshold keeps its centre. Before :meth:`initialize`, the first update sets the
        centres to the batch means. ``reduce`` (e.g. a sum over data-parallel processes) is
        applied to the batch statistics (:meth:`batch_statistics`) before they are applied, so
        the mean is over every process's regions. Returns the ``(N,)`` boolean mask of updated
        centres.
        """
        sums, counts = self.batch_statistics(region_feats, alpha)
        if reduce is not None:
            sums, counts = reduce(sums), reduce(counts)
        return self.apply_statistics(sums, counts)

    @torch.no_grad()
    def passes(self, alpha: torch.Tensor) -> torch.Tensor:
        """Eq. 5's filter: which region features (α above the threshold) enter the mean."""
        return alpha.detach() > self.alpha_threshold

    @torch.no_grad()
    def batch_statistics(self, region_feats: torch.Tensor, alpha: torch.Tensor | None = None
                         ) -> tuple[torch.Tensor, torch.Tensor]:
        """Eq. 5's batch terms: per region the sum ``(N, d)`` and the count ``(N,)`` of the
        features whose α is above the threshold (all of them when ``alpha`` is ``None``)."""
        feats = region_feats.detach().to(self.centers.dtype)
        if alpha is None:
            keep = torch.ones(feats.shape[:2], dtype=torch.bool, device=feats.device)
        else:
            keep = self.passes(alpha)
        counts = keep.sum(dim=0)  # (N,)
        sums = torch.einsum("bn,bnd->nd", keep.to(feats.dtype), feats)
        return sums, counts

    @torch.no_grad()
    def apply_statistics(self, sums: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
        """Eq. 5's update from :meth:`batch_statistics` (possibly summed over processes);
        returns the ``(N,)`` mask of centres that moved (count > 0)."""
        means = sums / counts.clamp(min=1).unsqueeze(-1).to(sums.dtype)
        updated = counts > 0
        m = self.momentum if self.is_initialized else 0.0
        new = m * self.centers + (1.0 - m) * means
        self.centers.copy_(torch.where(updated.unsqueeze(-1), new, self.centers))
        if not self.is_initialized and bool(updated.all()):
            self.initialized.fill_(True)
        return updated

    def similarity(self, region_feats: torch.Tensor) -> torch.Tensor:
        """cos(F_j^r, C_k) for every region j and centre k: ``(B, N, d)`` → ``(B, N, N)``.

        Uninitialised (all-zero) centres give cos = 0.
        """
        feats = F.normalize(region_feats.float(), dim=-1, eps=1e-8)
        centres = F.normalize(self.centers.float(), dim=-1, eps=1e-8)
        return torch.einsum("bjd,kd->bjk", feats, centres).to(region_feats.dtype)

    def invariance(self, region_feats: torch.Tensor, mode: str = "regions",
                   temperature: float = 1.0) -> torch.Tensor:
        """Eq. 6: β ``(B, N)`` from region features ``(B, N, d)``; see
        :func:`invariance_from_similarity` for ``mode`` and ``temperature``."""
        return invariance_from_similarity(self.similarity(region_feats), mode, temperature)

    def extra_repr(self) -> str:
        n, d = self.centers.shape
        return f"regions={n}, dim={d}, momentum={self.momentum}, threshold={self.alpha_threshold}"


def invariance_from_similarity(similarity: torch.Tensor, mode: str = "regions",
                               temperature: float = 1.0) -> torch.Tensor:
    """β ``(B, N)`` from the region-to-centre cosines ``(B, N, N)`` (:meth:`MemoryBank.similarity`).

    ``regions`` (Eq. 6 as written): β_j = softmax over j of cos(F_j^r, C_j)/τ — the regions of
    one image compete, β sums to 1. ``centres`` (the reading Fig. 4's numbers fit): β_j =
    softmax over k of cos(F_j^r, C_k)/τ at k = j — how much region j looks like its own class
    centre rather than another region's; each β_j lies in (0, 1) on its own. τ = 1 with
    ``regions`` is the text literally.
    """
    if mode not in IAI_MODES:
        raise ValueError(f"rganet.iai_mode must be one of {IAI_MODES}, got {mode!r}")
    if temperature <= 0:
        raise ValueError(f"rganet.iai_temperature must be > 0, got {temperature}")
    scaled = similarity / temperature
    if mode == "regions":
        return torch.diagonal(scaled, dim1=-2, dim2=-1).softmax(dim=-1)
    return torch.diagonal(scaled.softmax(dim=-1), dim1=-2, dim2=-1)


def combine_confidence(
    alpha: torch.Tensor | None, beta: torch.Tensor | None, mode: str, num_regions: int,
    reference: torch.Tensor | None = None,
) -> torch.Tensor:
    """The confidence w ``(B, N)`` from α and β (either may be ``None`` when switched off).

    ``softmax_sum``: w = softmax_j(α_j + β_j) (the text; sums to 1 over regions).
    ``mean``: w = (α_j + β_j) / 2 (Fig. 4; not normalised).
    With one indicator off only the other enters (softmax_j of it, or itself); with both off
    every region gets the same weight on the mode's scale: 1/N (``softmax_sum``) or 1
    (``mean``). ``reference`` supplies batch size, device and dtype when both are ``None``.
    """
    if mode not in CONFIDENCE_MODES:
        raise ValueError(f"rganet.confidence must be one of {CONFIDENCE_MODES}, got {mode!r}")
    terms = [t for t in (alpha, beta) if t is not None]
    if not terms:
        if reference is None:
            raise ValueError("combine_confidence needs a reference tensor when α and β are off")
        value = 1.0 / num_regions if mode == "softmax_sum" else 1.0
        return reference.new_full((reference.shape[0], num_regions), value)
    if mode == "softmax_sum":
        return torch.stack(terms).sum(dim=0).softmax(dim=-1)
    return torch.stack(terms).mean(dim=0)
