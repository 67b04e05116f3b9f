"""How well a region model's regions and confidences match the true body parts.

Two measurements against ground truth (SynthOcc's, :class:`~rganet_reid.data.part_truth.PartTruth`):

* **Region mask quality** — IoU of each predicted region with its true part mask. The
  prediction of a pixel is the argmax over k ∈ {0 (background), 1..N} of Eq. 1's S; the mask
  logits γ·cos(F, p_k) live on the feature grid (16×8 for a 128×64 input with 8-pixel patches)
  and are upsampled bilinearly to the ground-truth mask's size (the image size) before the
  argmax. IoU is taken at image resolution because that is where the truth is exact: the
  thin parts (feet: ~70 pixels of a 128×64 image, about one 8×8 cell) vanish when the truth
  is downsampled to the grid, so a grid-level IoU would hide the regions that fail. IoU is
  accumulated over all images (intersections and unions summed per part), the usual
  segmentation mIoU.
* **Occlusion awareness** — AUROC of a per-region score (α, β or w) for telling visible parts
  (visibility ≥ 0.5) from hidden ones (visibility ≤ 0.1) over all (image, part) pairs; pairs in
  between are left out. AUROC is the Mann–Whitney U statistic of the visible scores against
  the hidden ones divided by the number of pairs (ties count one half), computed by
  :func:`scipy.stats.mannwhitneyu` (scipy is a dependency already; scikit-learn is not).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import mannwhitneyu

__all__ = [
    "HIDDEN_MAX",
    "VISIBLE_MIN",
    "PartIoU",
    "auroc",
    "grid_ceiling_iou",
    "region_labels",
    "region_part_map",
    "region_visibility",
    "remap_part_labels",
    "visibility_auroc",
]

VISIBLE_MIN = 0.5  # a part counts as visible at this visibility or more
HIDDEN_MAX = 0.1  # and as hidden at this visibility or less


def auroc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve of ``scores`` for the boolean labels ``positive``.

    The probability that a random positive scores above a random negative (ties count ½):
    U / (n_pos · n_neg). NaN when either class is empty.
    """
    scores = np.asarray(scores, dtype=np.float64).ravel()
    positive = np.asarray(positive, dtype=bool).ravel()
    if scores.shape != positive.shape:
        raise ValueError(f"auroc: {scores.shape[0]} scores but {positive.shape[0]} labels")
    pos, neg = scores[positive], scores[~positive]
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    u = mannwhitneyu(pos, neg, alternative="two-sided", method="asymptotic").statistic
    return float(u) / (pos.size * neg.size)


def visibility_auroc(
    scores: np.ndarray | torch.Tensor,
    visibility: np.ndarray,
    visible_min: float = VISIBLE_MIN,
    hidden_max: float = HIDDEN_MAX,
) -> tuple[float, int, int]:
    """AUROC of per-(image, region) ``scores`` ``(n, R)`` for visible vs hidden parts.

    ``visibility`` ``(n, R)`` is the true visibility of each region's part (NaN = no part:
    left out). Returns ``(auroc, number of visible pairs, number of hidden pairs)``.
    """
    scores = _numpy(scores).astype(np.float64)
    visibility = np.asarray(visibility, dtype=np.float64)
    if scores.shape != visibility.shape:
        raise ValueError(f"visibility_auroc: scores {scores.shape} vs visibility "
                         f"{visibility.shape}")
    visible = visibility >= visible_min
    hidden = visibility <= hidden_max
    keep = visible | hidden
    return auroc(scores[keep], visible[keep]), int(visible.sum()), int(hidden.sum())


class PartIoU:
    """Streaming per-part IoU: intersections and unions summed over every image given.

    Labels ``0..num_parts`` (0 = background); IoU is reported for parts ``1..num_parts``.
    """

    def __init__(self, num_parts: int) -> None:
        if num_parts < 1:
            raise ValueError(f"PartIoU needs at least one part, got {num_parts}")
        self.num_parts = num_parts
        self.intersection = np.zeros(num_parts + 1, dtype=np.int64)
        self.union = np.zeros(num_parts + 1, dtype=np.int64)

    def update(self, pred: np.ndarray | torch.Tensor, truth: np.ndarray | torch.Tensor) -> None:
        """Add label maps ``pred`` and ``truth`` of the same shape (one image or a batch)."""
        pred, truth = _numpy(pred).astype(np.int64), _numpy(truth).astype(np.int64)
        if pred.shape != truth.shape:
            raise ValueError(f"PartIoU: prediction {pred.shape} and truth {truth.shape} differ")
        k = self.num_parts + 1
        for name, labels in (("prediction", pred), ("truth", truth)):
            if labels.size and (labels.min() < 0 or labels.max() >= k):
                raise ValueError(f"PartIoU: {name} labels must lie in 0..{k - 1}")
        confusion = np.bincount(truth.ravel() * k + pred.ravel(), minlength=k * k).reshape(k, k)
        inter = np.diag(confusion)
        self.intersection += inter
        self.union += confusion.sum(0) + confusion.sum(1) - inter

    def iou(self) -> np.ndarray:
        """``(num_parts,)`` IoU of parts 1..num_parts (NaN for a part absent from both)."""
        inter, union = self.intersection[1:], self.union[1:]
        return np.where(union > 0, inter / np.maximum(union, 1), np.nan)


def region_labels(mask_logits: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Per-pixel region labels ``(B, H, W)`` from mask logits ``(B, N+1, h, w)`` (Eq. 1).

    The logits are upsampled bilinearly to ``size`` (the image) and the argmax taken over the
    N+1 classes (0 = background), as the argmax of S: the softmax does not change it.
    """
    logits = mask_logits.float()
    if tuple(logits.shape[-2:]) != tuple(size):
        logits = F.interpolate(logits, size=tuple(size), mode="bilinear", align_corners=False)
    return logits.argmax(dim=1)


def grid_ceiling_iou(truth: torch.Tensor, num_parts: int, grid: tuple[int, int],
                     class_prior: Sequence[float] | None = None, batch: int = 256
                     ) -> np.ndarray:
    """Per-part IoU of the best masks a model scoring classes on a feature ``grid`` can give.

    Each cell gets the true share of every class among its pixels (what a perfect grid
    prediction would hold); the shares, times ``class_prior`` (one factor per class,
    background first; ``None`` = all 1, the plain argmax), are upsampled bilinearly and
    argmaxed exactly as :func:`region_labels` treats the mask logits, and scored against
    ``truth`` ``(B, H, W)`` (labels ``0..num_parts``). It bounds the region IoU reachable at
    that grid: parts thinner than a cell are lost however good the features.
    """
    truth = torch.as_tensor(truth, dtype=torch.int64)
    k = num_parts + 1
    prior = (torch.ones(k) if class_prior is None
             else torch.as_tensor(class_prior, dtype=torch.float32))
    if prior.shape != (k,):
        raise ValueError(f"class_prior needs {k} values (background first), got "
                         f"{tuple(prior.shape)}")
    acc = PartIoU(num_parts)
    for start in range(0, truth.shape[0], batch):
        labels = truth[start:start + batch]
        onehot = F.one_hot(labels, k).permute(0, 3, 1, 2).float()
        shares = F.adaptive_avg_pool2d(onehot, tuple(grid)) * prior.view(1, k, 1, 1)
        acc.update(region_labels(shares, tuple(labels.shape[-2:])), labels)
    return acc.iou()


def region_part_map(num_regions: int, num_parts: int, label_map: Sequence[int] = ()
                    ) -> list[tuple[int, ...]]:
    """The true parts (0-based) each region (0-based) stands for.

    ``label_map`` is ``rganet.seg.label_map`` (mask label → region label, ``[]`` = identity):
    with ``[0, 1, 1, 2, 2]`` region 0 is parts 0 and 1 (head, upper body). A region with no
    part (e.g. the fifth region "bags") maps to ``()``.
    """
    regions: list[list[int]] = [[] for _ in range(num_regions)]
    for part in range(num_parts):
        label = label_map[part + 1] if label_map else part + 1
        if 1 <= label <= num_regions:
            regions[label - 1].append(part)
    return [tuple(r) for r in regions]


def remap_part_labels(labels: np.ndarray, num_regions: int, label_map: Sequence[int] = ()
                      ) -> np.ndarray:
    """True part labels → region labels (0 = background), through ``label_map``.

    Labels the map sends nowhere (or past ``num_regions``, identity map) become background.
    """
    labels = np.asarray(labels).astype(np.int64)
    top = int(labels.max()) if labels.size else 0
    lut = np.array([(label_map[i] if i < len(label_map) else 0) if label_map else i
                    for i in range(top + 1)], dtype=np.int64)
    lut[(lut < 0) | (lut > num_regions)] = 0
    return lut[labels]


def region_visibility(visibility: np.ndarray, parts: Sequence[tuple[int, ...]]) -> np.ndarray:
    """``(n, R)`` true visibility of each region: its part's visibility when the region is
    exactly one part, NaN otherwise (the visibility of merged parts is not recorded)."""
    visibility = np.asarray(visibility, dtype=np.float32)
    out = np.full((visibility.shape[0], len(parts)), np.nan, dtype=np.float32)
    for r, members in enumerate(parts):
        if len(members) == 1:
            out[:, r] = visibility[:, members[0]]
    return out


def _numpy(x: np.ndarray | torch.Tensor) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)
