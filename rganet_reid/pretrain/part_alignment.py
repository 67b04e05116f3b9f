"""Part-aligned CLIP pre-training on SynthOcc: the offline stand-in for CLIP weights.

RGANet starts from CLIP (paper §IV-B): its patch features already live in the text space, so
prototypes of "head", "upper body", … find body parts, and stage 1 only tunes the prompt
context. No CLIP weights can be downloaded on an offline machine, and from random weights the
prototypes of a random text tower mean nothing to a random image tower (measured: the masks
collapse to background and all region features coincide, cosine 0.997–1.0).

This module gives a CLIP-architecture model that property on data the project owns. The text
tower stays at its (seeded) random initialisation and is frozen; the image tower learns to map
each patch of a SynthOcc *training* image onto the text feature of the part it shows — the
prototypes of a hand-crafted prompt ("a [CLASS] part of a person.") and a learnable background
vector — with the pixel cross-entropy of Eq. 1/Eq. 3 against SynthOcc's part masks. No
identity label is used. The result is saved as an ordinary open_clip state dict (text tower
included), loadable through ``model.pretrained`` by every model that uses the same
architecture, so the ViT baseline and RGANet start from the same weights, as both start from
CLIP in the paper.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import open_clip
import torch
from torch import nn
from tqdm import tqdm
from yacs.config import CfgNode

from rganet_reid.losses.seg_loss import SegmentationLoss
from rganet_reid.modeling.clip_backbone import create_clip
from rganet_reid.modeling.image_encoder import CLIPImageEncoder
from rganet_reid.modeling.prompt import PART_NAMES, PromptLearner, TextEncoder
from rganet_reid.modeling.rgm import RegionGenerationModule

logger = logging.getLogger(__name__)


class PartAlignmentModel(nn.Module):
    """A CLIP model whose image tower is trained to segment parts against its text tower.

    Args:
        clip: the open_clip ``CLIP`` (random weights; its text tower stays frozen).
        tokenizer: the architecture's tokenizer.
        part_names: the N part names.
        template: hand-crafted prompt with ``[CLASS]`` (Table VI).
        gamma: γ of Eq. 1.
    """

    def __init__(
        self,
        clip: open_clip.CLIP,
        tokenizer,
        part_names: list[str],
        template: str,
        gamma: float,
    ) -> None:
        super().__init__()
        self.clip = clip
        self.encoder = CLIPImageEncoder(clip.visual)
        prompt = PromptLearner(TextEncoder(clip), tokenizer, part_names, mode="template",
                               template=template)
        with torch.no_grad():
            prototypes = prompt.encode()
        self.register_buffer("prototypes", prototypes)
        self.rgm = RegionGenerationModule(prototypes.shape[1], gamma)
        for p in self.clip.parameters():
            p.requires_grad_(False)
        for p in self.encoder.parameters():
            p.requires_grad_(True)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Mask logits ``(B, N+1, H, W)`` (γ·cos against p_0..p_N, Eq. 1)."""
        logits, _ = self.rgm(self.encoder(images), self.prototypes)
        return logits

    def clip_state_dict(self) -> dict[str, torch.Tensor]:
        """The full open_clip state dict (trained image tower, untouched text tower)."""
        return {k: v.detach().cpu().contiguous() for k, v in self.clip.state_dict().items()}


def build_part_alignment_model(cfg: CfgNode, arch: str) -> PartAlignmentModel:
    """The model of :func:`pretrain_part_alignment`: the paper's 4 parts, ``cfg``'s input size."""
    image_size = (int(cfg.data.height), int(cfg.data.width))
    clip = create_clip(arch, image_size, quick_gelu=bool(cfg.rganet.quick_gelu))
    return PartAlignmentModel(clip, open_clip.get_tokenizer(arch), list(PART_NAMES[4]),
                              cfg.clip_pretrain.template, float(cfg.clip_pretrain.gamma))


def pretrain_part_alignment(
    cfg: CfgNode, arch: str, output: str | Path, device: torch.device | str = "cpu"
) -> dict[str, float]:
    """Train the image tower of ``arch`` with L_seg on ``cfg``'s training set; save the CLIP.

    ``cfg.clip_pretrain`` holds epochs, learning rate, weight decay and template; data, input
    size, augmentation and seed come from the usual sections. Writes ``output`` atomically (a
    ``torch.save``'d open_clip state dict) and returns a summary (final loss, pixel accuracy
    on the last epoch, wall time).
    """
    from rganet_reid.data.datamanager import ReIDDataManager
    from rganet_reid.utils.io import save_torch_atomic
    from rganet_reid.utils.seed import seed_everything

    p = cfg.clip_pretrain
    seed_everything(int(p.seed))
    if not cfg.data.load_masks:
        raise ValueError("CLIP part-alignment pre-training needs part masks: set "
                         "data.load_masks True (SynthOcc ships them).")
    data = ReIDDataManager(cfg, build_train=True)
    model = build_part_alignment_model(cfg, arch).to(device)
    criterion = SegmentationLoss(num_parts=4, ignore_index=int(cfg.rganet.seg.ignore_index),
                                 downsample=cfg.rganet.seg.downsample).to(device)
    params = [q for q in model.parameters() if q.requires_grad]
    optimizer = torch.optim.Adam(params, lr=float(p.lr), weight_decay=float(p.weight_decay))
    epochs = int(p.max_epoch)
    steps = max(epochs * len(data.train_loader), 1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    model.train()
    t0 = time.monotonic()
    summary: dict[str, float] = {}
    for epoch in range(epochs):
        loss_sum, correct, labelled, n = 0.0, 0, 0, 0
        bar = tqdm(data.train_loader, desc=f"clip pretrain {epoch + 1}/{epochs}", leave=False,
                   mininterval=2.0, dynamic_ncols=True)
        for batch in bar:
            images = batch["img"].to(device, non_blocking=True)
            masks = batch["mask"].to(device, non_blocking=True)
            logits = model(images)
            target = criterion.target(logits, masks)  # once, for the loss and the accuracy
            loss = criterion.from_target(logits, target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            with torch.no_grad():
                valid = target != criterion.ignore_index
                correct += int((logits.argmax(1) == target)[valid].sum())
                labelled += int(valid.sum())
            loss_sum += loss.item()
            n += 1
        summary = {"epoch": epoch + 1, "loss_seg": loss_sum / max(n, 1),
                   "pixel_acc": correct / max(labelled, 1)}
        logger.info("clip pretrain epoch %d/%d  loss_seg %.4f  pixel acc %.3f", epoch + 1,
                    epochs, summary["loss_seg"], summary["pixel_acc"])
    summary["time_s"] = time.monotonic() - t0
    save_torch_atomic(output, model.clip_state_dict())
    logger.info("Saved part-aligned CLIP weights (%s) to %s", arch, output)
    return summary
