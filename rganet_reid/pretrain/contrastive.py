"""Contrastive pre-training of the tiny CLIP on the SynthOcc captioned corpus (both towers).

The offline stand-in for CLIP weights that know what people wear. Two terms, one step:

* **image–text contrast** — open_clip's :class:`~open_clip.loss.ClipLoss` (symmetric InfoNCE
  with CLIP's learnable temperature) between each image and its caption
  (:mod:`rganet_reid.data.synthocc.captions`: hair, hat, shirt colour and pattern, sleeves,
  bag, lower garment and colour, shoes, for the visible parts only). The image embedding
  averages the projected patch features F over the person's visible pixels (ground-truth
  mask, Eq. 2's pooling) — the features RGANet's regions and global feature pool — so
  contrast shapes the patch features fine-tuning starts from. Plain GAP over all patches
  (half of them background) left the loss at chance, ln B, for the first 17–45 steps
  measured, with or without the dense term; person pooling started to drop within ~20;
* **dense part alignment** — Eq. 1 masks of every patch against the text tower's prototypes of
  "a [CLASS] part of a person." for the paper's four parts plus a learnable background
  prototype, with Eq. 3's pixel cross-entropy against the corpus's exact part masks (as in
  :mod:`rganet_reid.pretrain.part_alignment`, but the text tower trains too, so the
  prototypes are those of a text tower that has learnt what the words mean).

The result is an ordinary open_clip state dict (plus the background prototype), packed into
the shipped file of the ``synthocc-clip`` tag by ``tools/build_synthocc_clip.py``.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass

import open_clip
import torch
import torch.nn.functional as F
from open_clip.loss import ClipLoss
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from rganet_reid.evaluation.region_quality import region_labels
from rganet_reid.losses.seg_loss import SegmentationLoss
from rganet_reid.modeling.clip_backbone import create_clip
from rganet_reid.modeling.image_encoder import CLIPImageEncoder, resample_pos_embed
from rganet_reid.modeling.prompt import PART_NAMES, PromptLearner, TextEncoder
from rganet_reid.modeling.rgm import RegionGenerationModule

logger = logging.getLogger(__name__)

#: CLIP's image normalisation (every SynthOcc config uses it too).
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class ContrastiveSettings:
    """Everything the shipped weights depend on (stored in the file's metadata)."""

    arch: str = "RGANet-Tiny-ViT"
    corpus_size: str = "default"
    corpus_seed: int = 0
    seed: int = 0
    epochs: int = 3  # sized to a shared, loaded 2-core CPU; more epochs give better weights
    batch_size: int = 64
    lr: float = 5e-4  # AdamW, linear warm-up then cosine decay to 0 (1e-3 collapsed: chance)
    warmup_steps: int = 30
    weight_decay: float = 0.05
    seg_weight: float = 1.0  # weight of the dense part-alignment term (Eq. 3)
    # where that term compares masks and truth (SegmentationLoss's `resolution`): "grid" (the
    # shipped file: truth brought to the 8x4 grid by majority vote, so head and feet, smaller
    # than a cell, are never a target) or "image" (logits upsampled to the image)
    seg_resolution: str = "grid"
    # its class weights, background first, comma-separated ("" = all 1), e.g. "0.5,2,1,1,3"
    seg_class_weights: str = ""
    gamma: float = 20.0  # γ of Eq. 1
    template: str = "a [CLASS] part of a person."
    quick_gelu: bool = False  # GELU (registered with the shipped tag; RGANet follows it)
    # pre-training input size: half the ReID size, 4x fewer patch tokens, ~4x cheaper per
    # image on a CPU; the position embedding is resampled to the shipped size when exported
    height: int = 64
    width: int = 32
    pad: int = 3
    ship_height: int = 128  # the input size the shipped weights are for (RGANet-Tiny-ViT)
    ship_width: int = 64
    workers: int = 1

    def to_dict(self) -> dict:
        return asdict(self)


#: The settings (beyond the defaults) each shipped tag was built with: ``python
#: tools/build_synthocc_clip.py --tag TAG`` rebuilds that tag's file from scratch.
TAG_RECIPES: dict[str, dict] = {
    "synthocc-clip": {},
    # 10 epochs at the ReID input size, part alignment at image resolution with class weights
    # (head and feet are smaller than a cell of the 16x8 grid): held-out caption -> image R@1
    # 15.2 -> 60.6, raw-prototype mIoU 33.5 -> 60.3 (projects/RGANet/README.md)
    "synthocc-clip-v2": {"epochs": 10, "height": 128, "width": 64, "pad": 5,
                         "seg_resolution": "image", "seg_class_weights": "0.5,2,1,1,3"},
}


def tag_settings(tag: str, **overrides) -> ContrastiveSettings:
    """The settings of shipped ``tag``'s recipe, with ``overrides`` on top."""
    if tag not in TAG_RECIPES:
        raise ValueError(f"No pre-training recipe for {tag!r}; known: {', '.join(TAG_RECIPES)}")
    return ContrastiveSettings(**{**TAG_RECIPES[tag], **overrides})


class ContrastivePartCLIP(nn.Module):
    """The tiny CLIP with both training heads: GAP image embedding and Eq. 1 part masks.

    Args:
        clip: the open_clip ``CLIP`` (all of it trains).
        tokenizer: the architecture's tokenizer.
        template: the hand-crafted part prompt (``[CLASS]`` → each of the paper's 4 parts).
        gamma: γ of Eq. 1.
    """

    def __init__(self, clip: open_clip.CLIP, tokenizer, template: str, gamma: float) -> None:
        super().__init__()
        self.clip = clip
        self.tokenizer = tokenizer
        self.encoder = CLIPImageEncoder(clip.visual)
        self.prompt = PromptLearner(TextEncoder(clip), tokenizer, list(PART_NAMES[4]),
                                    mode="template", template=template)
        self.rgm = RegionGenerationModule(self.encoder.out_dim, gamma)
        for p in self.parameters():  # TextEncoder froze the text tower: here it trains
            p.requires_grad_(True)

    def encode_image(self, images: torch.Tensor, person: torch.Tensor | None = None
                     ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(unit image embeddings (B, d), feature map (B, d, H, W))``.

        The embedding averages the patch features (Eq. 2's pooling) over the person: with
        ``person`` (``(B, H_img, W_img)`` bool, the ground-truth mask's visible body pixels) each
        patch weighs the share of it that shows the person, else every patch weighs the same
        (GAP, as at test time).
        """
        fmap = self.encoder(images)
        if person is None:
            return F.normalize(fmap.mean(dim=(2, 3)), dim=-1), fmap
        weights = F.adaptive_avg_pool2d(person.unsqueeze(1).float(), fmap.shape[-2:])
        weights = weights + 1e-3  # an image with no visible body pixel falls back to GAP
        pooled = (fmap * weights).sum(dim=(2, 3)) / weights.sum(dim=(2, 3))
        return F.normalize(pooled, dim=-1), fmap

    def encode_text(self, captions: list[str]) -> torch.Tensor:
        """Unit text embeddings ``(B, d)`` of ``captions``."""
        tokens = self.tokenizer(captions).to(self.clip.logit_scale.device)
        return self.clip.encode_text(tokens, normalize=True)

    def forward(self, images: torch.Tensor, captions: list[str],
                person: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(image embeddings, caption embeddings, Eq. 1 mask logits (B, 5, H, W))``."""
        image_emb, fmap = self.encode_image(images, person)
        mask_logits, _ = self.rgm(fmap, self.prompt.encode())
        return image_emb, self.encode_text(captions), mask_logits

    def export_state_dict(self, image_size: tuple[int, int] | None = None
                          ) -> dict[str, torch.Tensor]:
        """The open_clip state dict (both towers) plus ``rganet.bg_prototype`` (p_0).

        ``image_size`` (H, W): resample the image position embedding (bicubic) to that input
        size's patch grid, e.g. from the 64x32 pre-training grid to the 128x64 ReID one.
        """
        state = {k: v.detach().cpu().contiguous() for k, v in self.clip.state_dict().items()}
        if image_size is not None:
            patch = self.encoder.patch_size
            grid = (image_size[0] // patch[0], image_size[1] // patch[1])
            key = "visual.positional_embedding"
            state[key] = resample_pos_embed(state[key], self.encoder.grid_size, grid)
        state["rganet.bg_prototype"] = self.rgm.bg_prototype.detach().cpu().clone()
        return state


def build_contrastive_model(settings: ContrastiveSettings) -> ContrastivePartCLIP:
    """A fresh (seeded by the caller) tiny CLIP wrapped for contrastive pre-training."""
    clip = create_clip(settings.arch, (settings.height, settings.width),
                       quick_gelu=settings.quick_gelu)
    return ContrastivePartCLIP(clip, open_clip.get_tokenizer(settings.arch), settings.template,
                               settings.gamma)


def corpus_transform(settings: ContrastiveSettings, train: bool,
                     size: tuple[int, int] | None = None):
    """Joint image + mask transform to ``size`` (default: the pre-training size): flip and
    pad-crop when training (no erasing: an erased box would hide what the caption says), CLIP
    normalisation."""
    from rganet_reid.config.defaults import get_default_config
    from rganet_reid.data.transforms import build_test_transform, build_train_transform

    cfg = get_default_config()
    cfg.defrost()
    cfg.data.height, cfg.data.width = size or (settings.height, settings.width)
    cfg.data.pad = settings.pad
    cfg.data.transforms = ["random_flip", "pad_crop"]
    cfg.data.norm_mean, cfg.data.norm_std = list(CLIP_MEAN), list(CLIP_STD)
    return build_train_transform(cfg) if train else build_test_transform(cfg)


def _collate(batch: list[dict]) -> dict:
    return {"img": torch.stack([b["img"] for b in batch]),
            "mask": torch.stack([b["mask"] for b in batch]),
            "caption": [b["caption"] for b in batch]}


def contrastive_step(model: ContrastivePartCLIP, batch: dict, clip_loss: ClipLoss,
                     seg_loss: SegmentationLoss, seg_weight: float) -> dict[str, torch.Tensor]:
    """Losses of one batch: ``total`` = ClipLoss + seg_weight · L_seg (Eq. 3), plus parts."""
    device = model.clip.logit_scale.device
    images = batch["img"].to(device, non_blocking=True)
    masks = batch["mask"].to(device, non_blocking=True)
    image_emb, text_emb, mask_logits = model(images, batch["caption"], masks > 0)
    contrast = clip_loss(image_emb, text_emb, model.clip.logit_scale.exp())
    target = seg_loss.target(mask_logits, masks)
    seg = seg_loss.from_target(mask_logits, target)
    with torch.no_grad():
        valid = target != seg_loss.ignore_index
        pred = region_labels(mask_logits, tuple(target.shape[-2:]))  # grid or image target
        pixel_acc = (pred == target)[valid].float().mean()
        sims = image_emb @ text_emb.t()
        i2t = (sims.argmax(1) == torch.arange(len(sims), device=device)).float().mean()
    return {"total": contrast + seg_weight * seg, "clip": contrast, "seg": seg,
            "pixel_acc": pixel_acc, "batch_i2t": i2t}


def parse_weights(text: str) -> list[float]:
    """``"0.5,2,1"`` → ``[0.5, 2.0, 1.0]`` (``""`` → ``[]``); a clear error on anything else."""
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise ValueError(f"seg_class_weights must be comma-separated numbers, got {text!r}"
                         ) from exc


def part_alignment_loss(settings: ContrastiveSettings) -> SegmentationLoss:
    """The dense part-alignment term (Eq. 3 on the 4 parts) as ``settings`` ask for it."""
    return SegmentationLoss(num_parts=4, resolution=settings.seg_resolution,
                            class_weights=parse_weights(settings.seg_class_weights))


def pretrain_contrastive(settings: ContrastiveSettings, corpus_dir,
                         device: torch.device | str = "cpu"
                         ) -> tuple[ContrastivePartCLIP, dict]:
    """Train the tiny CLIP on the corpus's ``train`` split; returns the model and a summary
    (final epoch's mean losses, pixel accuracy, wall time)."""
    from rganet_reid.data.caption_dataset import CaptionDataset
    from rganet_reid.utils.seed import seed_everything

    seed_everything(settings.seed)
    data = CaptionDataset(corpus_dir, "train", corpus_transform(settings, train=True))
    loader = DataLoader(data, batch_size=settings.batch_size, shuffle=True, drop_last=True,
                        num_workers=settings.workers, collate_fn=_collate,
                        persistent_workers=settings.workers > 0)
    model = build_contrastive_model(settings).to(device)
    clip_loss = ClipLoss()
    seg_loss = part_alignment_loss(settings).to(device)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embedding" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim >= 2
                                                              and "embedding" not in n)]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": settings.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=settings.lr)
    total = max(settings.epochs * len(loader), 1)
    warm = min(settings.warmup_steps, total // 2)

    def schedule(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(total - warm, 1)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    model.train()
    t0 = time.monotonic()
    summary: dict = {}
    for epoch in range(settings.epochs):
        sums: dict[str, float] = {}
        bar = tqdm(loader, desc=f"synthocc-clip {epoch + 1}/{settings.epochs}", leave=False,
                   mininterval=5.0, dynamic_ncols=True)
        for batch in bar:
            out = contrastive_step(model, batch, clip_loss, seg_loss, settings.seg_weight)
            optimizer.zero_grad(set_to_none=True)
            out["total"].backward()
            optimizer.step()
            scheduler.step()
            with torch.no_grad():  # CLIP's clamp: temperature at most 100
                model.clip.logit_scale.clamp_(0, math.log(100))
            for k, v in out.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach())
            bar.set_postfix(clip=f"{float(out['clip'].detach()):.3f}",
                            seg=f"{float(out['seg'].detach()):.3f}")
        n = max(len(loader), 1)
        summary = {"epoch": epoch + 1, **{k: v / n for k, v in sums.items()},
                   "logit_scale": float(model.clip.logit_scale.exp()),
                   "time_s": time.monotonic() - t0}
        logger.info("synthocc-clip epoch %d/%d  clip %.4f  seg %.4f  pixel acc %.3f  batch "
                    "i2t %.3f  scale %.1f  (%.0f s)", epoch + 1, settings.epochs,
                    summary["clip"], summary["seg"], summary["pixel_acc"], summary["batch_i2t"],
                    summary["logit_scale"], summary["time_s"])
    model.eval()
    return model, summary
