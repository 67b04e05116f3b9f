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


@LOSSES.register("region_triplet")
class RegionTripletLoss(HardTripletLoss):
    """Σ_j L_tri(F_j^r): the triplet loss on each region's features ``(B, N, d)`` (Eq. 8)."""

    def forward(self, region_feats: torch.Tensor, pids: torch.Tensor) -> torch.Tensor:
        return sum(super(RegionTripletLoss, self).forward(region_feats[:, j], pids)
                   for j in range(region_feats.shape[1]))
