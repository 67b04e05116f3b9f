"""Rank-list figures in the paper's Fig. 5 form: each query beside its top-k gallery images,
green frame = same identity (correct), red = another identity (wrong), gray = unknown; the
distance under each image. Several models on the same queries stack their rows (the paper's
baseline-vs-RGANet comparison).

Images are placed pixel-exactly (``Figure.figimage``), so a figure of ``R`` rows and top-``k``
is exactly :func:`ranklist_figure_size` pixels and each frame has its exact colour. PNG files
are written atomically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image

from rganet_reid.data.image_io import array_to_rgb, read_rgb
from rganet_reid.evaluation import FeatureSet, region_weighted_distance
from rganet_reid.utils.io import write_atomic

__all__ = [
    "COLORS",
    "RankRow",
    "RankedImage",
    "draw_ranklists",
    "interleave_models",
    "pick_queries",
    "ranklist_figure_size",
    "ranklists_from_features",
]

ImageLike = Union[str, Path, np.ndarray, Image.Image]

#: Frame colours (RGB): correct match, wrong match, unknown identity, the query.
COLORS = {True: (0, 170, 0), False: (220, 0, 0), None: (150, 150, 150),
          "query": (40, 40, 40)}
FRAME = 4  # frame width, pixels
MARGIN, QUERY_GAP, SPACING = 8, 24, 6  # pixels
LABEL_H, CAPTION_H, TITLE_H = 18, 28, 26  # pixels
DPI = 100


@dataclass
class RankedImage:
    """One gallery result: its image, distance, and whether it is the query's identity."""

    image: ImageLike
    distance: float | None = None
    correct: bool | None = None
    caption: str = ""


@dataclass
class RankRow:
    """One row: a query and its ranked results; ``label`` is written above the row."""

    query: ImageLike
    results: list[RankedImage] = field(default_factory=list)
    label: str = ""
    query_caption: str = "query"


def ranklist_figure_size(num_rows: int, topk: int, cell: tuple[int, int] = (64, 128),
                         title: bool = False) -> tuple[int, int]:
    """``(width, height)`` in pixels of a figure of ``num_rows`` rows of top-``topk``."""
    cw, ch = cell
    width = 2 * MARGIN + cw + QUERY_GAP + topk * cw + max(topk - 1, 0) * SPACING
    height = 2 * MARGIN + num_rows * (LABEL_H + ch + CAPTION_H) + (TITLE_H if title else 0)
    return width, height


def _thumbnail(image: ImageLike, cell: tuple[int, int], color: tuple[int, int, int]
               ) -> np.ndarray:
    """The image fitted (aspect kept, white padding) inside a ``color`` frame of the cell."""
    if isinstance(image, (str, Path)):
        pil = read_rgb(image)
    elif isinstance(image, Image.Image):
        pil = image.convert("RGB")
    else:
        pil = array_to_rgb(np.asarray(image))
    cw, ch = cell
    inner = (cw - 2 * FRAME, ch - 2 * FRAME)
    scale = min(inner[0] / pil.width, inner[1] / pil.height)
    size = (max(1, round(pil.width * scale)), max(1, round(pil.height * scale)))
    canvas = np.full((ch, cw, 3), color, dtype=np.uint8)
    canvas[FRAME:ch - FRAME, FRAME:cw - FRAME] = 255
    x0 = FRAME + (inner[0] - size[0]) // 2
    y0 = FRAME + (inner[1] - size[1]) // 2
    canvas[y0:y0 + size[1], x0:x0 + size[0]] = np.asarray(pil.resize(size, Image.BILINEAR))
    return canvas


def draw_ranklists(rows: Sequence[RankRow], out: str | Path, *, title: str = "",
                   cell: tuple[int, int] = (64, 128)) -> Path:
    """Write the rank-list figure of ``rows`` (Fig. 5 form) to the PNG ``out``; returns it.

    Every row shows its query (dark frame) then its results left to right, framed green
    (correct), red (wrong) or gray (unknown), with ``d=<distance>`` and the caption below.
    """
    if not rows:
        raise ValueError("draw_ranklists needs at least one row.")
    topk = max(len(r.results) for r in rows)
    width, height = ranklist_figure_size(len(rows), max(topk, 1), cell, bool(title))
    cw, ch = cell
    # a bare Figure (no pyplot): no global backend switch, nothing left open
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")
    top = MARGIN
    if title:
        fig.text(0.5, 1 - (top + TITLE_H / 2) / height, title, ha="center", va="center",
                 fontsize=11, weight="bold")
        top += TITLE_H
    for row in rows:
        if row.label:
            fig.text(MARGIN / width, 1 - (top + LABEL_H / 2) / height, row.label,
                     ha="left", va="center", fontsize=9)
        top += LABEL_H
        x = MARGIN
        cells = [(row.query, COLORS["query"], row.query_caption, None)]
        cells += [(r.image, COLORS[r.correct], r.caption, r.distance) for r in row.results]
        for i, (image, color, caption, distance) in enumerate(cells):
            fig.figimage(_thumbnail(image, cell, color), xo=x, yo=height - top - ch,
                         origin="upper")
            lines = [f"d={distance:.3f}"] if distance is not None else []
            lines += [caption] if caption else []
            if lines:
                fig.text((x + cw / 2) / width, 1 - (top + ch + 2) / height, "\n".join(lines),
                         ha="center", va="top", fontsize=7, linespacing=1.1)
            x += cw + (QUERY_GAP if i == 0 else SPACING)
        top += ch + CAPTION_H
    return _save_png(fig, Path(out))


def _save_png(fig, path: Path) -> Path:
    """``fig`` as PNG at ``path``, written to a temporary file and renamed into place."""
    return write_atomic(path, lambda fh: fig.savefig(fh, dpi=DPI, format="png"))


def interleave_models(rows_by_model: Mapping[str, Sequence[RankRow]]) -> list[RankRow]:
    """Rows of several models on the same queries, grouped by query (the paper's Fig. 5 shows
    the baseline's row above RGANet's); each row is labelled with its model."""
    models = list(rows_by_model)
    counts = {len(rows_by_model[m]) for m in models}
    if len(counts) != 1:
        raise ValueError(f"Every model needs a row per query; got row counts {sorted(counts)}.")
    out = []
    for i in range(counts.pop()):
        for m in models:
            row = rows_by_model[m][i]
            label = f"{row.label} · {m}" if row.label else m
            out.append(RankRow(row.query, list(row.results), label, row.query_caption))
    return out


def pick_queries(query: FeatureSet, gallery: FeatureSet, num: int, seed: int = 0
                 ) -> np.ndarray:
    """``num`` query indices drawn at random (own generator, ``seed``) among the queries that
    have a correct match in the gallery under the market1501 protocol; sorted."""
    valid = [i for i in range(len(query))
             if ((gallery.pids == query.pids[i]) & (gallery.camids != query.camids[i])).any()]
    if not valid:
        raise ValueError("No query has a correct match in the gallery.")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(valid, size=min(num, len(valid)), replace=False))


def ranklists_from_features(
    query: FeatureSet,
    gallery: FeatureSet,
    query_images: Sequence[ImageLike],
    gallery_images: Sequence[ImageLike],
    query_indices: Sequence[int],
    topk: int = 10,
    *,
    metric: str = "cosine",
    exclude_same_camera: bool = True,
    label: str = "",
) -> list[RankRow]:
    """The top-``topk`` of the chosen queries, ranked as the evaluation ranks: Eq. 10 (or
    ``metric``) distances, ties by gallery index, gallery items of the query's identity *and*
    camera left out (torchreid's market1501 protocol) when ``exclude_same_camera``."""
    idx = np.asarray(query_indices, dtype=np.int64)
    dist = region_weighted_distance(query.subset(idx), gallery, metric=metric)
    order = torch.sort(dist, dim=1, stable=True).indices.numpy()
    rows = []
    for r, qi in enumerate(idx):
        qpid, qcam = query.pids[qi], query.camids[qi]
        ranked = order[r]
        if exclude_same_camera:
            ranked = ranked[~((gallery.pids[ranked] == qpid) & (gallery.camids[ranked] == qcam))]
        results = [RankedImage(gallery_images[g], float(dist[r, g]),
                               bool(gallery.pids[g] == qpid), f"id {gallery.pids[g]}")
                   for g in ranked[:topk]]
        rows.append(RankRow(query_images[qi], results,
                            label or f"query {qi}", f"query · id {qpid}"))
    return rows
