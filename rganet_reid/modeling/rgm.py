"""Region Generation Module (paper §III-C, Eq. 1–2) and the fixed-stripe alternative.

Both produce N region features from the feature map F ∈ R^{B×d×H×W} through soft masks and
masked average pooling, so the rest of the network does not care which one made them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

_EPS = 1e-6


def prototype_logits(
    feature_map: torch.Tensor, prototypes: torch.Tensor, gamma: float
) -> torch.Tensor:
    """γ·cos(F(x,y), p_k) for every position and prototype: ``(B, K, H, W)``.

    The logits of Eq. 1 (its softmax over k gives the masks S_k).
    """
    f = F.normalize(feature_map, dim=1)
    p = F.normalize(prototypes.to(f.dtype), dim=-1)
    return gamma * torch.einsum("bdhw,kd->bkhw", f, p)


def masked_average_pool(feature_map: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Eq. 2: F_j^r = Σ_xy S_j F / Σ_xy S_j.

    Args:
        feature_map: ``(B, d, H, W)``.
        masks: ``(B, N, H, W)`` non-negative weights (or ``(N, H, W)``, shared by the batch).
    Returns:
        ``(B, N, d)`` region features.
    """
    if masks.dim() == 3:
        masks = masks.unsqueeze(0).expand(feature_map.shape[0], -1, -1, -1)
    masks = masks.to(feature_map.dtype)
    pooled = torch.einsum("bnhw,bdhw->bnd", masks, feature_map)
    return pooled / (masks.sum(dim=(2, 3)).unsqueeze(-1) + _EPS)


def stripe_masks(
    height: int, width: int, num_stripes: int, device=None, dtype=torch.float32
) -> torch.Tensor:
    """``(N, H, W)`` one-hot masks of N horizontal stripes, top to bottom.

    Row r belongs to stripe ⌊r·N/H⌋, so stripes differ in height by at most one row when N
    does not divide H. Needs H ≥ N.
    """
    if height < num_stripes:
        raise ValueError(f"Cannot cut a feature map of height {height} into {num_stripes} stripes")
    rows = torch.arange(height, device=device) * num_stripes // height
    onehot = F.one_hot(rows, num_stripes).to(dtype)  # (H, N)
    return onehot.t().unsqueeze(-1).expand(num_stripes, height, width).contiguous()


def stripe_features(feature_map: torch.Tensor, num_stripes: int) -> torch.Tensor:
    """Average feature of each of N horizontal stripes: ``(B, d, H, W)`` → ``(B, N, d)``.

    The fixed-stripe regions (Table V "Fixed-stripe", PCB-like) and the features that
    initialise the memory bank (§III-D).
    """
    _, _, h, w = feature_map.shape
    masks = stripe_masks(h, w, num_stripes, feature_map.device, feature_map.dtype)
    return masked_average_pool(feature_map, masks)


class RegionGenerationModule(nn.Module):
    """Masks from text prototypes (Eq. 1) and region features from the masks (Eq. 2).

    Holds the learnable background prototype p_0; the part prototypes p_1..p_N come from the
    :class:`~rganet_reid.modeling.prompt.PromptLearner` at each call.

    Args:
        dim: d, the feature / prototype size.
        gamma: γ, the amplification factor of Eq. 1 (20 in the paper).
        detach_masks: pool region features (Eq. 2) with masks that pass no gradient back, so
            only L_seg shapes the masks (``rganet.detach_masks``; off in the paper).
    """

    def __init__(self, dim: int, gamma: float = 20.0, detach_masks: bool = False) -> None:
        super().__init__()
        self.gamma = float(gamma)
        self.detach_masks = bool(detach_masks)
        self.bg_prototype = nn.Parameter(torch.randn(dim) * dim**-0.5)

    def forward(
        self, feature_map: torch.Tensor, part_prototypes: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns ``(mask_logits (B, N+1, H, W), region_feats (B, N, d))``.

        ``mask_logits[:, k]`` = γ·cos(F, p_k) with k = 0 the background; softmax over dim 1 is
        Eq. 1's S. Region features pool with the part masks S_1..S_N only.
        """
        prototypes = torch.cat([self.bg_prototype.unsqueeze(0).to(part_prototypes.dtype),
                                part_prototypes], dim=0)
        logits = prototype_logits(feature_map, prototypes, self.gamma)
        masks = logits.softmax(dim=1)
        if self.detach_masks:  # the masks learn from L_seg only, not from the ReID losses
            masks = masks.detach()
        return logits, masked_average_pool(feature_map, masks[:, 1:])

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}, detach_masks={self.detach_masks}"
