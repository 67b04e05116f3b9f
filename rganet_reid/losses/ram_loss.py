"""Confidence-weighted region ID loss (Eq. 7, summed over regions as in Eq. 8)."""

from __future__ import annotations

import torch
from torch import nn
from yacs.config import CfgNode

from rganet_reid.losses.id_loss import label_smoothing_eps, smoothed_cross_entropy
from rganet_reid.losses.registry import LOSSES


@LOSSES.register("ram")
class RegionAssessmentLoss(nn.Module):
    """Σ_j L_ram(F_j^r) with L_ram = −w_j · log softmax(W_b^j F_j^r)[y] (Eq. 7).

    Averaged over the batch; the cross-entropy is label-smoothed like the global ID loss.

    Args:
        eps: label-smoothing ε.
        detach_weights: stop the gradient through w. Off by default: L_ram is the only loss
            that trains the DAI layer (α enters no other term) and lets the network lower the
            confidence of regions it cannot classify (the paper: "when the quality of the given
            feature is not satisfactory, the network will produce a small w_j").
    """

    def __init__(self, eps: float = 0.1, detach_weights: bool = False) -> None:
        super().__init__()
        self.eps = eps
        self.detach_weights = detach_weights

    @classmethod
    def from_config(cls, cfg: CfgNode, num_classes: int = 0) -> RegionAssessmentLoss:
        return cls(label_smoothing_eps(cfg), bool(cfg.rganet.detach_weights))

    def forward(
        self, region_logits: torch.Tensor, pids: torch.Tensor, weights: torch.Tensor
    ) -> torch.Tensor:
        """``region_logits`` (B, N, C), ``pids`` (B,), ``weights`` w (B, N) → scalar."""
        b, n, c = region_logits.shape
        ce = smoothed_cross_entropy(
            region_logits.reshape(b * n, c), pids.repeat_interleave(n), self.eps, reduction="none"
        ).reshape(b, n)
        w = weights.detach() if self.detach_weights else weights
        return (w.float() * ce).sum(dim=1).mean()
