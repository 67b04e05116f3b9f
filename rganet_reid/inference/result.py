"""The feature extractor's result: global features, region features and confidences."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from rganet_reid.evaluation import FeatureSet, region_weighted_distance

__all__ = ["ExtractedFeatures"]


@dataclass
class ExtractedFeatures:
    """Features of ``B`` images, row ``i`` belonging to the ``i``-th input image.

    Attributes:
        global_feats: ``(B, d)`` float32 global features F_g (L2-normalised when the model's
            ``test.normalize_feature`` is on — torchreid's ``FeatureExtractor`` returns this).
        region_feats: ``(B, N, d)`` region features F_j^r (paper Eq. 2), L2-normalised (Eq. 10
            compares them by cosine), ``None`` for models without regions (every torchreid
            built-in).
        region_weights: ``(B, N)`` region confidences w_j, ``None`` without regions.
        metric: the global-feature distance of models without regions (``test.dist_metric``:
            ``"cosine"`` or ``"euclidean"``); region models always use Eq. 10.
    """

    global_feats: torch.Tensor
    region_feats: torch.Tensor | None = None
    region_weights: torch.Tensor | None = None
    metric: str = "cosine"

    def __len__(self) -> int:
        return int(self.global_feats.shape[0])

    def __getitem__(self, index) -> ExtractedFeatures:
        """Rows ``index`` (an int keeps a batch axis of 1)."""
        if isinstance(index, int):
            index = slice(index, index + 1 if index != -1 else None)

        def take(t):
            return None if t is None else t[index]

        return ExtractedFeatures(take(self.global_feats), take(self.region_feats),
                                 take(self.region_weights), self.metric)

    @property
    def has_regions(self) -> bool:
        return self.region_feats is not None

    def to_feature_set(self, pids: Sequence[int] | np.ndarray | None = None,
                       camids: Sequence[int] | np.ndarray | None = None) -> FeatureSet:
        """A :class:`~rganet_reid.evaluation.FeatureSet` (ids default to 0) for
        ``evaluate_retrieval`` or a ``GalleryIndex``."""
        n = len(self)
        return FeatureSet(
            self.global_feats,
            np.zeros(n, np.int64) if pids is None else np.asarray(pids, dtype=np.int64),
            np.zeros(n, np.int64) if camids is None else np.asarray(camids, dtype=np.int64),
            self.region_feats,
            self.region_weights,
        )

    def distance(self, other: ExtractedFeatures) -> torch.Tensor:
        """``(len(self), len(other))`` distances: paper Eq. 10 with regions,
        d = (Σ_j w_j^q w_j^g d_j + d_g) / (Σ_j w_j^q w_j^g + 1) with cosine d_j and d_g,
        else ``metric`` on the global features (computed by
        :func:`rganet_reid.evaluation.region_weighted_distance`)."""
        if self.has_regions != other.has_regions or self.metric != other.metric:
            raise ValueError("Both feature sets must come from the same kind of model (regions "
                             f"{self.has_regions} vs {other.has_regions}, metric {self.metric!r} "
                             f"vs {other.metric!r}).")
        return region_weighted_distance(self.to_feature_set(), other.to_feature_set(),
                                        metric=self.metric)

    @staticmethod
    def cat(parts: Sequence[ExtractedFeatures]) -> ExtractedFeatures:
        """Rows of ``parts`` one after the other."""
        if not parts:
            raise ValueError("Nothing to concatenate.")

        def cat(name):
            values = [getattr(p, name) for p in parts]
            return None if values[0] is None else torch.cat(values)

        return ExtractedFeatures(cat("global_feats"), cat("region_feats"),
                                 cat("region_weights"), parts[0].metric)
