"""Segmentation loss L_seg (Eq. 3): pixel cross-entropy of the masks S against part masks.

The pseudo part masks are label maps at image size (0 = background / occluder, 1..N = the
parts in the order of ``rganet.part_names``, ``ignore_index`` = unknown). Either they are
brought to the feature grid H×W of the mask logits by majority vote (the most frequent label of
the pixels each cell covers) or nearest-neighbour sampling (``resolution="grid"``), or the
logits are upsampled bilinearly to the mask's size and every pixel counts
(``resolution="image"``, as semantic segmentation networks train): parts smaller than a grid
cell — the feet of a 128×64 person cover about one 8×8 cell — are never the majority of a
cell, so on the grid they vanish from the target and the masks never learn them.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from yacs.config import CfgNode

from rganet_reid.losses.registry import LOSSES

DOWNSAMPLE_MODES = ("majority", "nearest")
RESOLUTIONS = ("grid", "image")


def downsample_mask(
    masks: torch.Tensor,
    size: tuple[int, int],
    num_classes: int,
    mode: str = "majority",
    ignore_index: int = 255,
) -> torch.Tensor:
    """Label maps ``(B, H_img, W_img)`` → ``(B, h, w)`` on the feature grid.

    ``majority``: each cell takes the most frequent label among the pixels it covers (adaptive
    average pooling of one-hot maps; ties go to the smaller label, the cell is unknown only
    when unknown pixels are strictly the most frequent). ``nearest``: the label at each cell's
    centre. Labels must lie in ``[0, num_classes)`` or equal ``ignore_index``.
    """
    if mode not in DOWNSAMPLE_MODES:
        raise ValueError(f"rganet.seg.downsample must be one of {DOWNSAMPLE_MODES}, got {mode!r}")
    masks = masks.long()
    if tuple(masks.shape[-2:]) == tuple(size):
        return masks
    if mode == "nearest":
        out = F.interpolate(masks.unsqueeze(1).float(), size=size, mode="nearest-exact")
        return out.squeeze(1).long()
    labels = torch.where(masks == ignore_index, torch.full_like(masks, num_classes), masks)
    onehot = F.one_hot(labels, num_classes + 1).permute(0, 3, 1, 2).float()
    votes = F.adaptive_avg_pool2d(onehot, size)
    winner = votes.argmax(dim=1)
    return torch.where(winner == num_classes, torch.full_like(winner, ignore_index), winner)


@LOSSES.register("seg")
class SegmentationLoss(nn.Module):
    """L_seg: cross-entropy of the N+1-class mask logits against downsampled part masks.

    Args:
        num_parts: N (the logits have N+1 channels, 0 = background).
        ignore_index: mask label excluded from the loss.
        downsample: ``"majority"`` or ``"nearest"``.
        include_background: also supervise background pixels (class 0). False is Eq. 3
            literally (only pixels labelled 1..N enter the sum).
        label_map: ``label_map[i]`` = region index of dataset label ``i`` ([] = identity).
        resolution: ``"grid"`` (target downsampled to the logits) or ``"image"`` (logits
            upsampled to the target).
        class_weights: N+1 weights of the classes (background first) in the cross-entropy, so
            small parts (head, feet) are not outweighed by the large ones; ``()`` = all 1.
    """

    def __init__(
        self,
        num_parts: int,
        ignore_index: int = 255,
        downsample: str = "majority",
        include_background: bool = True,
        label_map: Sequence[int] = (),
        resolution: str = "grid",
        class_weights: Sequence[float] = (),
    ) -> None:
        super().__init__()
        if downsample not in DOWNSAMPLE_MODES:
            raise ValueError(
                f"rganet.seg.downsample must be one of {DOWNSAMPLE_MODES}, got {downsample!r}"
            )
        if resolution not in RESOLUTIONS:
            raise ValueError(
                f"rganet.seg.resolution must be one of {RESOLUTIONS}, got {resolution!r}")
        self.resolution = resolution
        if class_weights and (len(class_weights) != num_parts + 1
                              or any(w < 0 for w in class_weights)):
            raise ValueError(f"rganet.seg.class_weights must hold N+1 = {num_parts + 1} weights "
                             f">= 0 (background first), got {list(class_weights)}")
        weights = torch.tensor(list(class_weights), dtype=torch.float32) if class_weights else None
        self.register_buffer("class_weights", weights, persistent=False)
        self.num_parts = num_parts
        self.ignore_index = ignore_index
        self.downsample = downsample
        self.include_background = include_background
        if label_map and any(not (0 <= t <= num_parts or t == ignore_index) for t in label_map):
            raise ValueError(
                f"rganet.seg.label_map {list(label_map)} maps to labels outside 0..{num_parts}"
            )
        lut = torch.tensor(list(label_map), dtype=torch.long) if label_map else None
        self.register_buffer("label_map", lut, persistent=False)

    @classmethod
    def from_config(cls, cfg: CfgNode, num_classes: int = 0) -> SegmentationLoss:
        s = cfg.rganet.seg
        return cls(int(cfg.rganet.num_regions), int(s.ignore_index), s.downsample,
                   bool(s.include_background), list(s.label_map), s.resolution,
                   list(s.class_weights))

    def remap(self, masks: torch.Tensor) -> torch.Tensor:
        """Apply ``label_map`` and check the labels (clear error on a mismatch)."""
        masks = masks.long()
        valid_max = self.num_parts
        if self.label_map is not None:
            known = (masks >= 0) & (masks < len(self.label_map))
            bad = ~known & (masks != self.ignore_index)
            if bool(bad.any()):
                raise ValueError(
                    f"Part masks hold labels {sorted(masks[bad].unique().tolist())} that "
                    f"rganet.seg.label_map (length {len(self.label_map)}) does not cover."
                )
            lut = self.label_map.to(masks.device)
            masks = torch.where(known, lut[masks.clamp(0, len(lut) - 1)], masks)
        bad = ((masks < 0) | (masks > valid_max)) & (masks != self.ignore_index)
        if bool(bad.any()):
            raise ValueError(
                f"Part masks hold labels {sorted(masks[bad].unique().tolist())} but the model has "
                f"N={self.num_parts} regions (labels 0..{self.num_parts}, {self.ignore_index} = "
                "unknown). Map the dataset's labels with rganet.seg.label_map, e.g. "
                "[0, 1, 1, 2, 2] for 4-part masks and N=2."
            )
        return masks

    def target(self, mask_logits: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        """The labels L_seg compares ``mask_logits`` with: per cell ``(B, h, w)`` (grid) or per
        pixel ``(B, H_img, W_img)`` (image)."""
        if mask_logits.shape[1] != self.num_parts + 1:
            raise ValueError(
                f"mask_logits have {mask_logits.shape[1]} channels; expected N+1 = "
                f"{self.num_parts + 1}"
            )
        size = mask_logits.shape[-2:] if self.resolution == "grid" else masks.shape[-2:]
        target = downsample_mask(self.remap(masks.to(mask_logits.device)), tuple(size),
                                 self.num_parts + 1, self.downsample, self.ignore_index)
        if not self.include_background:
            target = torch.where(target == 0, torch.full_like(target, self.ignore_index), target)
        return target

    def forward(self, mask_logits: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        """``mask_logits`` (B, N+1, h, w), ``masks`` (B, H_img, W_img) → scalar."""
        return self.from_target(mask_logits, self.target(mask_logits, masks))

    def from_target(self, mask_logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """L_seg against labels from :meth:`target` (logits upsampled bilinearly to a larger
        target)."""
        if not bool((target != self.ignore_index).any()):
            return mask_logits.sum() * 0.0  # nothing labelled in this batch
        logits = mask_logits.float()
        if tuple(logits.shape[-2:]) != tuple(target.shape[-2:]):
            logits = F.interpolate(logits, size=tuple(target.shape[-2:]), mode="bilinear",
                                   align_corners=False)
        return F.cross_entropy(logits, target, weight=self.class_weights,
                               ignore_index=self.ignore_index)
