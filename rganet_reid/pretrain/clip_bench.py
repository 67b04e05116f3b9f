"""What pre-trained tiny-CLIP weights know, measured without any fine-tuning.

* :func:`caption_retrieval` — zero-shot caption → image retrieval on the corpus's held-out
  identities (never seen in pre-training; one image each, so each caption has exactly one
  correct image): Recall@1/5/10 over the held-out gallery. Embeddings are those of
  :class:`~rganet_reid.pretrain.contrastive.ContrastivePartCLIP` (image: GAP of the projected
  patch features; text: the caption's end-of-text token).
* :func:`prototype_miou` — Eq. 1 masks of the raw prototypes (text tower's "a [CLASS] part of a
  person." for the four parts, plus the background prototype p_0 stored with the weights)
  against SynthOcc's exact part masks on benchmark *test* images: per-class IoU of the
  per-pixel argmax (logits upsampled to the image) and their mean over the 5 classes.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import open_clip
import torch
from torch.utils.data import DataLoader

from rganet_reid.evaluation.region_quality import region_labels
from rganet_reid.modeling.clip_backbone import create_clip, load_clip_state_dict
from rganet_reid.modeling.pretrained_weights import (
    SHIPPED,
    read_shipped,
    read_shipped_metadata,
    verified_path,
)
from rganet_reid.pretrain.contrastive import (
    ContrastivePartCLIP,
    ContrastiveSettings,
    corpus_transform,
)

RECALL_KS = (1, 5, 10)


def weights_file(weights: str | Path, arch: str | None = None) -> Path:
    """The file of a shipped tag (sha256- and ``arch``-checked) or the shipped-format file
    ``weights`` itself."""
    if str(weights) in SHIPPED:
        return verified_path(SHIPPED[str(weights)], arch or ContrastiveSettings().arch)
    return Path(weights)


def stored_settings(path: str | Path) -> ContrastiveSettings:
    """The settings a shipped-format file was built with (its metadata; a setting the file
    predates, or a file without settings, gets the default)."""
    built = read_shipped_metadata(path).get("settings", {})
    known = {f.name for f in fields(ContrastiveSettings)}
    return ContrastiveSettings(**{k: v for k, v in built.items() if k in known})


def load_contrastive_model(weights: str | Path, settings: ContrastiveSettings | None = None
                           ) -> ContrastivePartCLIP:
    """A :class:`ContrastivePartCLIP` from a shipped tag (sha256-checked) or a shipped-format
    file, background prototype included, in eval mode; ``settings`` default to those the
    file was built with."""
    weights = weights_file(weights, settings.arch if settings else None)
    settings = settings or stored_settings(weights)
    clip = create_clip(settings.arch, (settings.ship_height, settings.ship_width),
                       quick_gelu=settings.quick_gelu)
    state, extras, _ = read_shipped(weights, clip.token_embedding.num_embeddings)
    load_clip_state_dict(clip, state, origin=str(weights))
    model = ContrastivePartCLIP(clip, open_clip.get_tokenizer(settings.arch), settings.template,
                                settings.gamma)
    if "bg_prototype" in extras:
        model.rgm.bg_prototype.data.copy_(extras["bg_prototype"])
    return model.eval()


def _ship_transform(model: ContrastivePartCLIP):
    """Test transform at the input size ``model`` was built for."""
    return corpus_transform(ContrastiveSettings(), train=False, size=model.encoder.image_size)


@torch.no_grad()
def caption_retrieval(model: ContrastivePartCLIP, corpus_dir, split: str = "heldout",
                      pooling: str = "gap", batch_size: int = 256) -> dict[str, float]:
    """Caption → image Recall@K (%) over ``split`` (image i is caption i's only match).

    ``pooling``: ``"gap"`` embeds each image with the mean of all its patch features (what
    RGANet's global feature sees); ``"person"`` with the mean over the ground-truth person
    pixels (as in pre-training).
    """
    from rganet_reid.data.caption_dataset import CaptionDataset

    if pooling not in ("gap", "person"):
        raise ValueError(f"pooling must be 'gap' or 'person', got {pooling!r}")
    data = CaptionDataset(corpus_dir, split, _ship_transform(model))
    images, texts = [], []
    for start in range(0, len(data), batch_size):
        batch = [data[i] for i in range(start, min(start + batch_size, len(data)))]
        person = torch.stack([b["mask"] for b in batch]) > 0 if pooling == "person" else None
        images.append(model.encode_image(torch.stack([b["img"] for b in batch]), person)[0])
        texts.append(model.encode_text([b["caption"] for b in batch]))
    sims = torch.cat(texts) @ torch.cat(images).t()
    own = sims.diagonal().unsqueeze(1)
    rank = (sims > own).sum(dim=1)  # images scored above the correct one
    out = {f"R@{k}": 100.0 * float((rank < k).float().mean()) for k in RECALL_KS}
    out["n"] = len(data)
    return out


@torch.no_grad()
def prototype_miou(model: ContrastivePartCLIP, dataset_dir, folders: tuple[str, ...] = (
        "occluded/query", "occluded/bounding_box_test"), batch_size: int = 256
                   ) -> dict[str, float]:
    """mIoU (%) of the raw prototypes' Eq. 1 masks against SynthOcc's part masks.

    ``dataset_dir``: a generated SynthOcc dataset; ``folders``: its image folders to score
    (default: the occluded protocol's query and gallery, i.e. test identities only).
    """
    from rganet_reid.data.sample_dataset import ReIDSampleDataset
    from rganet_reid.data.synthocc.protocols import mask_file

    dataset_dir = Path(dataset_dir)
    paths = sorted(p for f in folders for p in (dataset_dir / f).glob("*.jpg"))
    if not paths:
        raise FileNotFoundError(f"No test images under {dataset_dir} in {folders}")
    masks = [mask_file(dataset_dir, p.relative_to(dataset_dir).as_posix()) for p in paths]
    data = ReIDSampleDataset([(p, 0, 0, 0) for p in paths],
                             _ship_transform(model), masks)
    prototypes = model.prompt.encode()
    inter = torch.zeros(5)
    union = torch.zeros(5)
    loader = DataLoader(data, batch_size=batch_size, shuffle=False, num_workers=0)
    for batch in loader:
        images, target = batch["img"], batch["mask"]
        logits, _ = model.rgm(model.encode_image(images)[1], prototypes)
        pred = region_labels(logits, tuple(target.shape[-2:]))
        for c in range(5):
            p, t = pred == c, target == c
            inter[c] += (p & t).sum()
            union[c] += (p | t).sum()
    iou = 100.0 * inter / union.clamp(min=1)
    names = ("background", "head", "upper body", "lower body", "feet")
    return {"mIoU": float(iou.mean()), **{f"IoU {n}": float(v) for n, v in zip(names, iou)},
            "n": len(data)}


def bench_weights(weights: str | Path, root: str | Path,
                  settings: ContrastiveSettings | None = None) -> dict:
    """Everything this module measures for ``weights`` (a shipped tag or file), on the corpus
    and the SynthOcc demo dataset under ``root`` (generated if missing)."""
    from rganet_reid.data.synthocc import ensure_synthocc
    from rganet_reid.data.synthocc.corpus import ensure_corpus

    weights = weights_file(weights, settings.arch if settings else None)
    settings = settings or stored_settings(weights)  # corpus, template ... it was built with
    model = load_contrastive_model(weights, settings)
    corpus = ensure_corpus(root, settings.corpus_size, settings.corpus_seed)
    return {"retrieval": {pool: caption_retrieval(model, corpus, pooling=pool)
                          for pool in ("gap", "person")},
            "prototype_miou": prototype_miou(model, ensure_synthocc(root, "demo", 0))}


def format_report(report: dict) -> list[str]:
    """Human-readable lines of :func:`bench_weights`' result."""
    lines = [f"Held-out caption -> image ({pool} pooling): R@1 {r['R@1']:.1f}  R@5 "
             f"{r['R@5']:.1f}  R@10 {r['R@10']:.1f}  ({r['n']} images)"
             for pool, r in report["retrieval"].items()]
    miou = report["prototype_miou"]
    parts = ", ".join(f"{k[4:]} {v:.1f}" for k, v in miou.items() if k.startswith("IoU "))
    lines.append(f"Raw prototypes on SynthOcc test images: mIoU {miou['mIoU']:.1f}  ({parts})")
    return lines
