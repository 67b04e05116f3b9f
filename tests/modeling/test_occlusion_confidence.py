"""An occluder over the lower half lowers the confidence w of the lower regions (constructed
model: RGM + RAM of the real RGANet on top of an image encoder that sees part colours).

The stand-in encoder plays the part of a part-aware CLIP: each 8×8 cell's feature says which
part colour covers most of the cell (anything else — background, an occluder — reads as
background) plus the cell's mean colour (the person's detail). Everything after it is the real
model: prototypes and Eq. 1 masks, Eq. 2 pooling, the memory bank initialised from
fixed-stripe features and moved by Eq. 5, β (Eq. 6) and w.
"""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from rganet_reid.modeling import build_rganet

H, W, CELL, DIM = 128, 64, 8, 128
# background, head, upper body, lower body, feet
PALETTE = torch.tensor([[0.1, 0.5, 0.1], [0.9, 0.7, 0.6], [0.8, 0.1, 0.1],
                        [0.1, 0.1, 0.8], [0.2, 0.2, 0.2]])
OCCLUDER = torch.tensor([0.6, 0.6, 0.6])  # a grey board: no part colour


class PartColourEncoder(nn.Module):
    """(B, 3, H, W) in [0, 1] → (B, DIM, H/8, W/8): part one-hot share + mean colour."""

    out_dim = DIM

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        dist = torch.cdist(images.permute(0, 2, 3, 1).reshape(-1, 3), PALETTE)
        near = dist.min(dim=1)
        labels = torch.where(near.values < 0.15, near.indices, 0).view(images.shape[0], H, W)
        onehot = F.one_hot(labels, 5).permute(0, 3, 1, 2).float()
        cells = F.avg_pool2d(torch.cat([onehot, 0.3 * images], dim=1), CELL)
        return F.pad(cells, (0, 0, 0, 0, 0, DIM - cells.shape[1]))


def _person(seed: int) -> torch.Tensor:
    """A person whose parts have the palette colours (slightly varied), on background."""
    g = torch.Generator().manual_seed(seed)
    img = PALETTE[0].view(3, 1, 1).expand(3, H, W).clone()
    rows = {1: (8, 24), 2: (24, 68), 3: (68, 112), 4: (112, 124)}
    for part, (top, bottom) in rows.items():
        left, right = (24, 40) if part == 1 else (16, 48)
        jitter = 0.04 * (torch.rand(3, generator=g) - 0.5)
        img[:, top:bottom, left:right] = (PALETTE[part] + jitter).view(3, 1, 1)
    return img


@pytest.fixture
def model(make_cfg):
    cfg = make_cfg(H, W, **{"prompt.mode": "template", "confidence": "mean",
                            "iai_mode": "centres", "iai_temperature": 0.1})
    model = build_rganet(cfg, num_classes=3)
    model.image_encoder = PartColourEncoder()
    model.set_stage(2)
    with torch.no_grad():
        model.prompt.cached.copy_(torch.eye(5, DIM)[1:])  # p_1..p_4 = the part one-hots
        model.rgm.bg_prototype.copy_(torch.eye(5, DIM)[0])
        model.dai.fc.weight.zero_()
        model.dai.fc.bias.fill_(3.0)  # α = 0.95: every region may update the memory (Eq. 5)
    train = [torch.stack([_person(10 * b + i) for i in range(4)]) for b in range(3)]
    model.init_memory_bank(train)  # the paper's fixed-stripe initialisation
    model.train()
    for _ in range(4):
        for batch in train:
            with torch.no_grad():
                model.update_memory(model(batch))
    return model.eval()


def test_lower_half_occluder_lowers_w_of_the_lower_regions_only(model):
    clean = torch.stack([_person(100 + i) for i in range(3)])
    occluded = clean.clone()
    occluded[:, :, H // 2 + 8:, :] = OCCLUDER.view(3, 1, 1)  # hides lower body (mostly) + feet
    with torch.no_grad():
        w_clean = model(clean)["region_weights"]
        w_occ = model(occluded)["region_weights"]
    assert (w_clean > 0.8).all()
    lower, upper = slice(2, 4), slice(0, 2)
    assert (w_occ[:, lower] < w_clean[:, lower] - 0.2).all(), (w_clean, w_occ)
    assert torch.allclose(w_occ[:, upper], w_clean[:, upper], atol=0.05)
