"""Identity (ID) loss: cross-entropy with label smoothing (torchreid's formula).

torchreid's ``CrossEntropyLoss`` builds its targets on the CPU and moves them with ``.cuda()``
(a ``use_gpu`` flag instead of a device) and only returns the batch mean; this is the same
smoothed cross-entropy, (1 − ε)·y + ε/C, through ``F.cross_entropy`` — device-agnostic and
with a per-sample option for the confidence-weighted region loss (Eq. 7).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from yacs.config import CfgNode

from rganet_reid.losses.registry import LOSSES

LABEL_SMOOTH_EPS = 0.1  # torchreid's default ε when loss.softmax.label_smooth is on


def label_smoothing_eps(cfg: CfgNode) -> float:
    """ε from ``loss.softmax.label_smooth`` (torchreid: on → 0.1)."""
    return LABEL_SMOOTH_EPS if cfg.loss.softmax.label_smooth else 0.0


def smoothed_cross_entropy(
    logits: torch.Tensor, targets: torch.Tensor, eps: float = 0.0, reduction: str = "mean"
) -> torch.Tensor:
    """Cross-entropy of ``(B, C)`` logits with targets smoothed to (1 − ε)·onehot + ε/C."""
    return F.cross_entropy(logits.float(), targets, label_smoothing=eps, reduction=reduction)


@LOSSES.register("id")
class IDLoss(nn.Module):
    """L_id: label-smoothed cross-entropy on the global logits (Eq. 8)."""

    def __init__(self, eps: float = LABEL_SMOOTH_EPS) -> None:
        super().__init__()
        self.eps = eps

    @classmethod
    def from_config(cls, cfg: CfgNode, num_classes: int = 0) -> IDLoss:
        return cls(label_smoothing_eps(cfg))

    def forward(
        self, logits: torch.Tensor | list[torch.Tensor] | tuple[torch.Tensor, ...],
        pids: torch.Tensor,
    ) -> torch.Tensor:
        """The loss of ``(B, C)`` logits; for a list (part classifiers, e.g. PCB) the mean of
        the parts' losses, as torchreid's ``DeepSupervision``."""
        if isinstance(logits, (list, tuple)):
            return sum(self(x, pids) for x in logits) / len(logits)
        return smoothed_cross_entropy(logits, pids, self.eps)
