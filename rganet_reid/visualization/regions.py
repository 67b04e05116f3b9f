"""Fig. 4 of the paper: an image, its N generated regions, and α, β, w per region (PNG).

Library functions, reused by other figures (e.g. rank lists):

* :func:`region_views` runs a region model on images (:func:`views_from_outputs` from outputs
  already computed, e.g. by the feature extractor) and returns one :class:`RegionView` each:
  the region masks S_1..S_N of Eq. 1 at image size, α (Eq. 4), β (Eq. 6), w, and the true
  visibility when known;
* :func:`most_occluded` picks the items whose parts are hidden most (ground truth);
* :func:`overlay_mask` draws one mask over an image on a matplotlib axis;
* :func:`draw_region_views` lays views out as Fig. 4 (one row per image) and writes a PNG.

``tools/draw_regions.py`` draws them for a run's test images (default: the most occluded
queries, ground-truth visibility beside w); ``rganet-search regions`` for any image files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from rganet_reid.utils.io import write_atomic

__all__ = ["DPI", "RegionView", "draw_region_views", "most_occluded", "overlay_mask",
           "region_figure_size", "region_views", "views_from_outputs"]

#: Resolution of the PNG (dots per inch of matplotlib's figure size).
DPI = 130
_COLORS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#46f0f0")


@dataclass
class RegionView:
    """Everything Fig. 4 shows for one image.

    Attributes:
        image: ``(H, W, 3)`` uint8.
        masks: ``(N, H, W)`` the region masks S_1..S_N (Eq. 1) at image size, in [0, 1].
        names: the N region names.
        alpha, beta, w: ``(N,)`` scores, or None when the model has no such indicator.
        visibility: ``(N,)`` true visibility of each region's part, or None.
        title: a caption (file name, identity ...).
    """

    image: np.ndarray
    masks: np.ndarray
    names: Sequence[str]
    alpha: np.ndarray | None = None
    beta: np.ndarray | None = None
    w: np.ndarray | None = None
    visibility: np.ndarray | None = None
    title: str = ""


def most_occluded(visibility: np.ndarray, count: int) -> list[int]:
    """Indices of the ``count`` items with the lowest mean part visibility (stable order)."""
    order = np.argsort(np.asarray(visibility, dtype=np.float64).mean(axis=1), kind="stable")
    return [int(i) for i in order[:count]]


@torch.no_grad()
def region_views(model: torch.nn.Module, inputs: torch.Tensor, images: Sequence[np.ndarray],
                 names: Sequence[str], visibility: np.ndarray | None = None,
                 titles: Sequence[str] = ()) -> list[RegionView]:
    """Run ``model`` (eval mode, RGANet's output dict) on ``inputs`` ``(B, 3, h, w)`` and
    return a view per image; ``images`` are the same pictures for display (uint8 H×W×3)."""
    was_training = model.training
    model.eval()
    try:
        out = model(inputs)
    finally:
        model.train(was_training)
    return views_from_outputs(out, images, names, visibility, titles)


def views_from_outputs(outputs: dict, images: Sequence[np.ndarray], names: Sequence[str],
                       visibility: np.ndarray | None = None,
                       titles: Sequence[str] = ()) -> list[RegionView]:
    """One :class:`RegionView` per image from a region model's outputs: ``mask_logits``
    ``(B, N+1, h, w)`` (Eq. 1 before the softmax over prototypes, k = 0 background) and the
    optional ``alpha``, ``beta``, ``confidence`` (w; else ``region_weights``) ``(B, N)`` — the
    model's output dict, or
    :meth:`rganet_reid.inference.FeatureExtractor.region_outputs`."""
    if outputs.get("mask_logits") is None:
        raise ValueError("Region figures need a model with generated regions (rganet.regions "
                         "rgm): it has no mask logits to draw")
    views = []
    for i, image in enumerate(images):
        logits = outputs["mask_logits"][i:i + 1].float()
        size = tuple(image.shape[:2])
        masks = F.interpolate(logits, size=size, mode="bilinear", align_corners=False)
        views.append(RegionView(
            image=np.asarray(image, dtype=np.uint8),
            masks=masks.softmax(dim=1)[0, 1:].cpu().numpy(),
            names=list(names),
            alpha=_row(outputs.get("alpha"), i), beta=_row(outputs.get("beta"), i),
            w=_row(_confidence(outputs), i),
            visibility=None if visibility is None else np.asarray(visibility[i]),
            title=titles[i] if i < len(titles) else ""))
    return views


def _confidence(outputs: dict):
    """w of Fig. 4: the model's ``confidence`` (``region_weights`` is c·w, Eq. 10's input)."""
    w = outputs.get("confidence")
    return outputs.get("region_weights") if w is None else w


def overlay_mask(ax, image: np.ndarray, mask: np.ndarray, color: str = _COLORS[0],
                 opacity: float = 0.65) -> None:
    """Draw ``image`` dimmed and ``mask`` (values in [0, 1]) over it in ``color``."""
    from matplotlib.colors import to_rgb

    tint = np.asarray(to_rgb(color), dtype=np.float32) * 255.0
    a = opacity * np.clip(mask, 0.0, 1.0)[..., None]
    blended = (1 - a) * 0.6 * image.astype(np.float32) + a * tint
    ax.imshow(blended.clip(0, 255).astype(np.uint8), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def draw_region_views(views: Sequence[RegionView], path: str | Path, title: str = "") -> Path:
    """Fig. 4 layout: per row the image and its N regions, each captioned with α, β, w and the
    true visibility ("GT") beside w. Writes ``path`` (PNG) and returns it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not views:
        raise ValueError("draw_region_views needs at least one view")
    n = max(len(v.names) for v in views)
    fig, axes = plt.subplots(len(views), n + 1, figsize=_figsize(len(views), n), squeeze=False)
    for row, view in zip(axes, views):
        row[0].imshow(view.image, interpolation="nearest")
        row[0].set_xticks([])
        row[0].set_yticks([])
        row[0].set_title(view.title, fontsize=7)
        for j, ax in enumerate(row[1:]):
            if j >= len(view.names):
                ax.axis("off")
                continue
            overlay_mask(ax, view.image, view.masks[j], _COLORS[j % len(_COLORS)])
            ax.set_title(f"Region {j + 1}\n{view.names[j]}", fontsize=7)
            ax.set_xlabel(_caption(view, j), fontsize=7, family="monospace")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    try:
        return write_atomic(path, lambda fh: fig.savefig(fh, dpi=DPI, format="png"))
    finally:
        plt.close(fig)


def region_figure_size(num_images: int, num_regions: int) -> tuple[int, int]:
    """``(width, height)`` in pixels of :func:`draw_region_views` for ``num_images`` rows of
    an image and ``num_regions`` regions."""
    w, h = _figsize(num_images, num_regions)
    return round(w * DPI), round(h * DPI)


def _figsize(num_images: int, num_regions: int) -> tuple[float, float]:
    return 1.45 * (num_regions + 1), 3.5 * num_images


def _caption(view: RegionView, j: int) -> str:
    lines = [f"{name} {_fmt(values, j)}"
             for name, values in (("α", view.alpha), ("β", view.beta))]
    w = f"w {_fmt(view.w, j)}"
    if view.visibility is not None:
        w += f" GT {_fmt(view.visibility, j)}"
    return "\n".join([*lines, w])


def _fmt(values: np.ndarray | None, j: int) -> str:
    return "  - " if values is None else f"{float(values[j]):.2f}"


def _row(t: torch.Tensor | None, i: int) -> np.ndarray | None:
    return None if t is None else t[i].float().cpu().numpy()
