"""The image encoder: CLIP's ViT tower turned into a dense feature map in the text space.

RGANet compares every spatial feature with text prototypes (Eq. 1), so the patch tokens must
live where CLIP's text embeddings live. CLIP projects only its class token (``ln_post`` then
``proj``); here the same ``ln_post`` + ``proj`` are applied to every patch token, giving
F ∈ R^{d×H×W} with d = the CLIP embedding size (512 for ViT-B/16).
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from open_clip.transformer import VisionTransformer
from torch import nn

logger = logging.getLogger(__name__)


def resample_pos_embed(
    pos_embed: torch.Tensor, old_grid: tuple[int, int], new_grid: tuple[int, int]
) -> torch.Tensor:
    """Bicubically resample a ``(1 + gh*gw, C)`` ViT position embedding to ``new_grid``.

    The class-token row is kept; the patch rows are treated as a ``gh×gw`` image.
    """
    cls_pos, grid_pos = pos_embed[:1], pos_embed[1:]
    if grid_pos.shape[0] != old_grid[0] * old_grid[1]:
        raise ValueError(
            f"Position embedding has {grid_pos.shape[0]} patch rows, "
            f"not {old_grid[0]}x{old_grid[1]}"
        )
    grid = grid_pos.reshape(1, old_grid[0], old_grid[1], -1).permute(0, 3, 1, 2)
    grid = F.interpolate(grid.float(), size=new_grid, mode="bicubic", align_corners=False)
    grid = grid.to(pos_embed.dtype).permute(0, 2, 3, 1).reshape(new_grid[0] * new_grid[1], -1)
    return torch.cat([cls_pos, grid], dim=0)


class CLIPImageEncoder(nn.Module):
    """CLIP ViT → feature map ``(B, d, H, W)``.

    Args:
        visual: open_clip's ``VisionTransformer`` (built for the ReID input size, weights
            already loaded).
        patch_stride: patch-embedding stride; 0 or the patch size = non-overlapping patches.
            A smaller stride gives TransReID-style overlapping patches: the convolution keeps
            its weights, the position embedding is resampled to the larger grid.
    """

    def __init__(self, visual: VisionTransformer, patch_stride: int = 0) -> None:
        super().__init__()
        self.visual = visual
        self.image_size: tuple[int, int] = tuple(visual.image_size)
        self.patch_size: tuple[int, int] = tuple(visual.patch_size)
        self.stride: tuple[int, int] = self.patch_size
        if patch_stride and patch_stride != self.patch_size[0]:
            self._set_stride(int(patch_stride))
        self.out_dim: int = int(visual.proj.shape[1])

    @property
    def grid_size(self) -> tuple[int, int]:
        """(H, W) of the feature map."""
        return tuple(self.visual.grid_size)

    def _set_stride(self, stride: int) -> None:
        if not 0 < stride <= min(self.patch_size):
            raise ValueError(
                f"rganet.patch_stride={stride} must be in 1..{min(self.patch_size)} (patch size)"
            )
        (h, w), (ph, pw) = self.image_size, self.patch_size
        new_grid = ((h - ph) // stride + 1, (w - pw) // stride + 1)
        old_grid = tuple(self.visual.grid_size)
        self.visual.conv1.stride = (stride, stride)
        pos = self.visual.positional_embedding
        self.visual.positional_embedding = nn.Parameter(
            resample_pos_embed(pos.data, old_grid, new_grid), requires_grad=pos.requires_grad
        )
        self.visual.grid_size = new_grid
        self.stride = (stride, stride)
        logger.info("Overlapping patches: stride %d, grid %s → %s", stride, old_grid, new_grid)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H_img, W_img)`` → ``(B, d, H, W)`` projected patch features."""
        if tuple(images.shape[-2:]) != self.image_size:
            raise ValueError(
                f"The image encoder was built for {self.image_size[0]}x{self.image_size[1]} "
                f"inputs (data.height x data.width) but got {images.shape[-2]}x{images.shape[-1]}."
            )
        v = self.visual
        x = v.conv1(images)  # (B, width, H, W)
        b, _, h, w = x.shape
        x = x.flatten(2).transpose(1, 2)
        cls = v.class_embedding.to(x.dtype).view(1, 1, -1).expand(b, -1, -1)
        x = torch.cat([cls, x], dim=1) + v.positional_embedding.to(x.dtype)
        x = v.patch_dropout(x)
        x = v.ln_pre(x)
        x = v.transformer(x)
        x = v.ln_post(x[:, 1:]) @ v.proj  # every patch token into the text embedding space
        return x.transpose(1, 2).reshape(b, -1, h, w)
