"""Hard-mined triplet loss (torchreid's), on the global feature and on every region."""

from __future__ import annotations

import torch
from yacs.config import CfgNode

from rganet_reid.compat import torchreid_losses
from rganet_reid.losses.registry import LOSSES


@LOSSES.register("triplet")
class HardTripletLoss(torchreid_losses.TripletLoss):
    """torchreid's batch-hard triplet loss (Hermans et al.), computed in float32.

    Needs every identity in the batch to have a positive and a negative (PK sampling:
    ``sampler.train_sampler = RandomIdentitySampler``).
    """

    @classmethod
    def from_config(cls, cfg: CfgNode, num_classes: int = 0) -> HardTripletLoss:
        return cls(margin=cfg.loss.triplet.margin)

    def forward(self, feats: torch.Tensor, pids: torch.Tensor) -> torch.Tensor:
        return super().forward(feats.float(), pids)


def hard_triplet_per_anchor(feats: torch.Tensor, pids: torch.Tensor, margin: float
                            ) -> torch.Tensor:
    """``(B,)`` batch-hard triplet losses max(0, d(a, p⁺) − d(a, n⁻) + margin), one per anchor,
    with torchreid's euclidean distance (the terms its ``TripletLoss`` averages)."""
    feats = feats.float()
    dist = torch.cdist(feats, feats).clamp_min(1e-6)
    same = pids.unsqueeze(0) == pids.unsqueeze(1)
    hardest_pos = dist.masked_fill(~same, float("-inf")).amax(dim=1)
    hardest_neg = dist.masked_fill(same, float("inf")).amin(dim=1)
    return (hardest_pos - hardest_neg + margin).clamp_min(0.0)


@LOSSES.register("region_triplet")
class RegionTripletLoss(HardTripletLoss):
    """Σ_j L_tri(F_j^r): the triplet loss on each region's features ``(B, N, d)`` (Eq. 8).

    With ``weighted`` (``rganet.region_triplet_weighted``) each anchor's term of region j is
    weighted by its confidence w_j (detached; a weighted mean over anchors), so occluded
    regions shape the metric less — Eq. 8 leaves the region triplet unweighted.
    """

    def __init__(self, margin: float = 0.3, weighted: bool = False) -> None:
        super().__init__(margin=margin)
        self.weighted = bool(weighted)

    @classmethod
    def from_config(cls, cfg: CfgNode, num_classes: int = 0) -> RegionTripletLoss:
        return cls(cfg.loss.triplet.margin, bool(cfg.rganet.region_triplet_weighted))

    def forward(self, region_feats: torch.Tensor, pids: torch.Tensor,
                weights: torch.Tensor | None = None) -> torch.Tensor:
        if not self.weighted:
            return sum(super(RegionTripletLoss, self).forward(region_feats[:, j], pids)
                       for j in range(region_feats.shape[1]))
        if weights is None:
            raise ValueError("rganet.region_triplet_weighted needs the region confidences w")
        w = weights.detach().float()
        return sum((hard_triplet_per_anchor(region_feats[:, j], pids, self.margin) * w[:, j])
                   .sum() / w[:, j].sum().clamp_min(1e-12)
                   for j in range(region_feats.shape[1]))
