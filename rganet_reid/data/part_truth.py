"""Ground truth of the body parts of test images: per-part visibility and part-label masks.

SynthOcc knows, for every image, how much of each part (head, upper body, lower body, feet)
is visible and where each part lies (its exact mask). Evaluating the region model against it
(:mod:`rganet_reid.evaluation.region_quality`) needs both for the query and gallery items of a
test set, in item order; :class:`PartTruth` carries them from the dataset to the evaluation.
Datasets that know their parts expose ``part_truth(items) -> PartTruth``; the data manager
attaches the result to each :class:`~rganet_reid.data.datamanager.TestSplit`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rganet_reid.data.masks import read_mask


@dataclass(frozen=True)
class PartTruth:
    """Per-image part ground truth of a list of test items (same order as the items).

    Attributes:
        visibility: ``(n, P)`` float32 in [0, 1]: visible pixels of each part divided by the
            pixels it would cover without occluders or cropping.
        mask_paths: one part-label map per image (0 background / occluder, ``1..P`` the parts
            in ``part_names`` order), the format of :mod:`rganet_reid.data.masks`.
        part_names: the P part names, in label order.
    """

    visibility: np.ndarray
    mask_paths: tuple[Path, ...]
    part_names: tuple[str, ...]

    def __post_init__(self) -> None:
        vis = np.asarray(self.visibility, dtype=np.float32)
        if vis.ndim != 2 or vis.shape[1] != len(self.part_names):
            raise ValueError(f"PartTruth.visibility must be (n, {len(self.part_names)}) for parts "
                             f"{self.part_names}; got shape {vis.shape}")
        if len(self.mask_paths) != vis.shape[0]:
            raise ValueError(f"PartTruth has {vis.shape[0]} visibility rows but "
                             f"{len(self.mask_paths)} mask paths")
        if vis.size and (np.isnan(vis).any() or vis.min() < 0 or vis.max() > 1):
            raise ValueError("PartTruth.visibility must lie in [0, 1]")
        object.__setattr__(self, "visibility", vis)

    def __len__(self) -> int:
        return int(self.visibility.shape[0])

    @property
    def num_parts(self) -> int:
        return len(self.part_names)

    def mask(self, index: int) -> np.ndarray:
        """The ``(H, W)`` uint8 part-label map of item ``index`` (labels checked)."""
        return read_mask(self.mask_paths[index], num_labels=self.num_parts + 1)

    def masks(self, indices: Sequence[int] | None = None) -> list[np.ndarray]:
        """Part-label maps of ``indices`` (all items when ``None``)."""
        indices = range(len(self)) if indices is None else indices
        return [self.mask(i) for i in indices]
