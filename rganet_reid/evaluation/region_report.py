"""Every region measurement of one test set, as flat metrics (results.json, log, TensorBoard).

:func:`region_report` takes the extracted query and gallery :class:`FeatureSet` (with the
model's per-image ``alpha`` / ``beta`` / ``mask_logits`` in ``extras`` when it has them) and
the part ground truth of both, and returns:

* ``miou`` and ``iou_<part>`` — region mask quality (:mod:`.region_quality`);
* ``auroc_alpha``, ``auroc_beta``, ``auroc_w`` (+ the pair counts) — occlusion awareness
  of the DAI (Eq. 4), the IAI (Eq. 6) and the confidence w over query and gallery; for
  reference ``auroc_mass``, the same for the share of the image each region's mask S_j covers
  (what the masks alone know about occlusion; not a quantity of the paper);
* ``w_mean``, ``w_std`` — the confidences' level and spread (std over images, averaged over
  regions), of w itself (the model's ``confidence``; Eq. 10 receives c·w, ``weight_scale``);
* Eq. 10 on the same features with other weights, against the learned c·w (the run's
  ``rank1`` / ``mAP``): ``eq10_global_*`` (the global feature alone), ``eq10_uniform_*``
  (every w_j = 1: the N+1 unit-normalised features concatenated at equal weight),
  ``eq10_uniform_scaled_*`` (every weight = c, only when c ≠ 1: uniform weights at the
  model's scale) and ``eq10_oracle_*`` (c × the true visibility of region j's part), each
  with ``_rank1`` and ``_mAP``, so a reader sees how much of the possible gain the learned
  confidences capture.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import torch

from rganet_reid.evaluation.features import FeatureSet, RetrievalResult
from rganet_reid.evaluation.region_quality import (
    PartIoU,
    region_labels,
    region_part_map,
    region_visibility,
    remap_part_labels,
    visibility_auroc,
)

__all__ = ["WEIGHTINGS", "region_report", "reweighted"]

logger = logging.getLogger(__name__)

#: The Eq. 10 weightings compared with the learned confidences.
WEIGHTINGS = ("global", "uniform", "uniform_scaled", "oracle")

_MASK_BATCH = 256  # images upsampled at a time for the IoU


def reweighted(fs: FeatureSet, weighting: str, visibility: np.ndarray | None = None,
               scale: float = 1.0) -> FeatureSet:
    """``fs`` with its region confidences replaced for Eq. 10.

    ``global``: no region features (the global distance alone); ``uniform``: every w_j = 1
    (the equal-weight concatenation); ``uniform_scaled``: every w_j = ``scale``; ``oracle``:
    w_j = ``scale`` × ``visibility`` ``(n, N)`` (the true visibility of each region's part).
    """
    if weighting == "global":
        return replace(fs, region_feats=None, region_weights=None, extras={})
    if not fs.has_regions:
        raise ValueError(f"weighting {weighting!r} needs region features")
    if weighting in ("uniform", "uniform_scaled"):
        value = 1.0 if weighting == "uniform" else float(scale)
        weights = torch.full(fs.region_feats.shape[:2], value)
    elif weighting == "oracle":
        if visibility is None or np.isnan(visibility).any():
            raise ValueError("the oracle weighting needs the visibility of every region")
        weights = float(scale) * torch.as_tensor(np.asarray(visibility), dtype=torch.float32)
    else:
        raise ValueError(f"Unknown weighting {weighting!r}; choose one of {WEIGHTINGS}")
    return replace(fs, region_weights=weights, extras={})


def region_report(
    query: FeatureSet,
    gallery: FeatureSet,
    query_truth,
    gallery_truth,
    evaluate: Callable[[FeatureSet, FeatureSet], RetrievalResult],
    label_map: Sequence[int] = (),
    weight_scale: float = 1.0,
) -> dict[str, float]:
    """Region metrics of one test set (see the module docstring); ``{}`` without regions.

    Args:
        query, gallery: extracted features (``extras`` may hold ``alpha``, ``beta``,
            ``mask_logits``).
        query_truth, gallery_truth: :class:`~rganet_reid.data.part_truth.PartTruth` of the
            same items, in the same order.
        evaluate: ranks a query set against a gallery with the run's retrieval settings.
        label_map: ``rganet.seg.label_map`` (true part label → region label; ``[]`` = identity).
        weight_scale: ``rganet.region_weight_scale`` c: the features' ``region_weights`` are
            c·w; the uniform-scaled and oracle weightings use the same scale.
    """
    if not query.has_regions:
        return {}
    num_regions = query.num_regions
    parts = region_part_map(num_regions, query_truth.num_parts, label_map)
    names = ["+".join(query_truth.part_names[p] for p in members) or f"region{r + 1}"
             for r, members in enumerate(parts)]
    metrics: dict[str, float] = {}
    if "mask_logits" in query.extras:
        iou = _mask_iou([query, gallery], [query_truth, gallery_truth], num_regions, label_map)
        for name, value in zip(names, iou):
            metrics[f"iou_{name}"] = float(value)
        metrics["miou"] = float(np.nanmean(iou)) if np.isfinite(iou).any() else float("nan")
    visibility = np.concatenate([region_visibility(query_truth.visibility, parts),
                                 region_visibility(gallery_truth.visibility, parts)])
    w = _cat(query, gallery, "confidence")
    if w is None:
        w = torch.cat([query.weights_or_ones(), gallery.weights_or_ones()]) / weight_scale
    scores = {"alpha": _cat(query, gallery, "alpha"), "beta": _cat(query, gallery, "beta"),
              "w": w}
    logits = _cat(query, gallery, "mask_logits")
    if logits is not None:  # reference: how much of the image each mask S_j covers
        scores["mass"] = logits.float().softmax(dim=1)[:, 1:].mean(dim=(2, 3))
    for name, score in scores.items():
        if score is not None:  # regions without a single true part (NaN) are left out
            value, n_vis, n_hid = visibility_auroc(score, visibility)
            metrics[f"auroc_{name}"] = value
            metrics["auroc_visible_pairs"], metrics["auroc_hidden_pairs"] = n_vis, n_hid
    w = scores["w"].double()
    metrics["w_mean"] = float(w.mean())
    metrics["w_std"] = float(w.std(dim=0).mean()) if w.shape[0] > 1 else 0.0
    q_vis = region_visibility(query_truth.visibility, parts)
    g_vis = region_visibility(gallery_truth.visibility, parts)
    for weighting in WEIGHTINGS:
        if weighting == "uniform_scaled" and weight_scale == 1.0:
            continue  # the same as uniform
        if weighting == "oracle" and (np.isnan(q_vis).any() or np.isnan(g_vis).any()):
            logger.info("Eq. 10 with oracle weights skipped: regions %s are not one true part "
                        "each", names)
            continue
        res = evaluate(reweighted(query, weighting, q_vis, weight_scale),
                       reweighted(gallery, weighting, g_vis, weight_scale))
        metrics[f"eq10_{weighting}_rank1"] = 100.0 * res.rank(1)
        metrics[f"eq10_{weighting}_mAP"] = 100.0 * res.mAP
    return metrics


def _cat(query: FeatureSet, gallery: FeatureSet, key: str) -> torch.Tensor | None:
    if key not in query.extras or key not in gallery.extras:
        return None
    return torch.cat([query.extras[key], gallery.extras[key]])


def _mask_iou(sets: Sequence[FeatureSet], truths: Sequence, num_regions: int,
              label_map: Sequence[int]) -> np.ndarray:
    """Per-region IoU over every image of ``sets`` against their truths' masks."""
    acc = PartIoU(num_regions)
    for fs, truth in zip(sets, truths):
        logits = fs.extras["mask_logits"]
        for start in range(0, len(fs), _MASK_BATCH):
            stop = min(len(fs), start + _MASK_BATCH)
            masks = [remap_part_labels(m, num_regions, label_map)
                     for m in truth.masks(range(start, stop))]
            if len({m.shape for m in masks}) == 1:  # one upsampling for the whole batch
                acc.update(region_labels(logits[start:stop], masks[0].shape), np.stack(masks))
                continue
            for i, mask in enumerate(masks):
                acc.update(region_labels(logits[start + i:start + i + 1], mask.shape), mask[None])
    return acc.iou()
