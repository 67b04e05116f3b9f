"""Classification heads: BNNeck + bias-free linear classifier (BoT / TransReID habit).

The paper does not say how its classifiers are attached; the BNNeck is the standard choice for
CLIP/ViT ReID (TransReID, CLIP-ReID): the triplet loss sees the raw feature, the ID loss sees the
batch-normalised one, whose BN shift is frozen at 0. The same holds per region: region j has its
own BN and its own classifier W_b^j (Eq. 7).
"""

from __future__ import annotations

import torch
from torch import nn


def _bn_neck(num_features: int) -> nn.BatchNorm1d:
    bn = nn.BatchNorm1d(num_features)
    nn.init.ones_(bn.weight)
    nn.init.zeros_(bn.bias)
    bn.bias.requires_grad_(False)  # re-applied by RGANet.apply_trainability
    return bn


class GlobalHead(nn.Module):
    """BNNeck + classifier for the global feature F_g: returns ``(bn_feat, logits)``."""

    def __init__(self, dim: int, num_classes: int) -> None:
        super().__init__()
        self.bottleneck = _bn_neck(dim)
        self.classifier = nn.Linear(dim, num_classes, bias=False)
        nn.init.normal_(self.classifier.weight, std=0.001)

    def forward(self, feat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        bn = self.bottleneck(feat)
        return bn, self.classifier(bn)


class RegionHeads(nn.Module):
    """One BNNeck and one classifier W_b^j per region, computed for all regions at once.

    ``(B, N, d)`` → ``(bn_feats (B, N, d), logits (B, N, C))``. The N per-region BatchNorms are
    one ``BatchNorm1d(N·d)`` (identical statistics per channel); the N classifiers are one
    ``(N, C, d)`` weight.
    """

    def __init__(self, num_regions: int, dim: int, num_classes: int) -> None:
        super().__init__()
        self.num_regions = num_regions
        self.bottleneck = _bn_neck(num_regions * dim)
        self.weight = nn.Parameter(torch.empty(num_regions, num_classes, dim))
        nn.init.normal_(self.weight, std=0.001)

    def forward(self, feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, n, d = feats.shape
        bn = self.bottleneck(feats.reshape(b, n * d)).reshape(b, n, d)
        return bn, torch.einsum("bnd,ncd->bnc", bn, self.weight.to(bn.dtype))
