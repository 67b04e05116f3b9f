"""RGANet's losses, found by name in :data:`LOSSES` (each class has ``from_config``).

* ``rganet`` — Eq. 8 (stage 2): :class:`RGANetLoss`;
* ``rganet_stage1`` — L_seg for prompt learning (stage 1): :class:`PromptStageLoss`;
* components: ``id`` (label-smoothed CE), ``triplet`` / ``region_triplet`` (torchreid's
  hard-mined triplet), ``ram`` (Eq. 7), ``seg`` (Eq. 3).
"""

from __future__ import annotations

from torch import nn
from yacs.config import CfgNode

from rganet_reid.losses.id_loss import IDLoss, smoothed_cross_entropy
from rganet_reid.losses.ram_loss import RegionAssessmentLoss
from rganet_reid.losses.registry import LOSSES
from rganet_reid.losses.rganet_loss import PromptStageLoss, RGANetLoss
from rganet_reid.losses.seg_loss import SegmentationLoss, downsample_mask
from rganet_reid.losses.triplet import HardTripletLoss, RegionTripletLoss


def build_loss(cfg: CfgNode, num_classes: int, name: str = "rganet") -> nn.Module:
    """The loss registered as ``name`` (default: RGANet's Eq. 8), configured from ``cfg``.

    ``rganet`` / ``rganet_stage1`` are called as ``loss(outputs, pids, masks)`` and return
    ``(total, {term: float})``.
    """
    return LOSSES.get(name).from_config(cfg, num_classes)


def build_stage1_loss(cfg: CfgNode) -> PromptStageLoss:
    """The prompt-learning loss (L_seg, Eq. 3)."""
    return build_loss(cfg, 0, "rganet_stage1")


#: Exposed as attributes of torchreid's ``losses`` module by :mod:`rganet_reid.registration`.
PUBLIC_LOSSES: dict[str, type] = {
    "RGANetLoss": RGANetLoss,
    "PromptStageLoss": PromptStageLoss,
    "RegionAssessmentLoss": RegionAssessmentLoss,
    "SegmentationLoss": SegmentationLoss,
}

__all__ = [
    "LOSSES",
    "PUBLIC_LOSSES",
    "HardTripletLoss",
    "IDLoss",
    "PromptStageLoss",
    "RGANetLoss",
    "RegionAssessmentLoss",
    "RegionTripletLoss",
    "SegmentationLoss",
    "build_loss",
    "build_stage1_loss",
    "downsample_mask",
    "smoothed_cross_entropy",
]
