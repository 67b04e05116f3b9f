"""Containers for extracted features and retrieval results, with input validation."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

__all__ = ["FeatureSet", "RetrievalResult", "check_not_empty", "check_pair"]


@dataclass
class FeatureSet:
    """Per-image features of a query or gallery set.

    Attributes:
        global_feats: ``(n, d)`` global features ``F_g``.
        pids: ``(n,)`` int64 person ids (torchreid convention: ``-1`` / ``0`` are ordinary ids
            to the ranking code; only the same-id-same-camera rule removes gallery items).
        camids: ``(n,)`` int64 camera ids.
        region_feats: ``(n, N, d_r)`` region features ``F_j^r`` (paper Eq. 2), or ``None`` for a
            global-feature model.
        region_weights: ``(n, N)`` region confidences ``w_j``. ``None`` with ``region_feats``
            given means every confidence is 1 (plain average of the region distances).
        extras: further per-image model outputs (first dimension n) kept for diagnostics, e.g.
            RGANet's ``alpha``, ``beta``, ``mask_logits``; the distance never reads them.
    """

    global_feats: torch.Tensor
    pids: np.ndarray
    camids: np.ndarray
    region_feats: torch.Tensor | None = None
    region_weights: torch.Tensor | None = None
    extras: dict[str, torch.Tensor] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.global_feats = _as_tensor(self.global_feats, "global_feats")
        self.pids = _as_ids(self.pids, "pids")
        self.camids = _as_ids(self.camids, "camids")
        if self.global_feats.dim() != 2:
            raise ValueError(
                f"FeatureSet.global_feats must be 2-D (n, d); got shape "
                f"{tuple(self.global_feats.shape)}."
            )
        n = self.global_feats.shape[0]
        for name in ("pids", "camids"):
            arr = getattr(self, name)
            if arr.shape != (n,):
                raise ValueError(
                    f"FeatureSet.{name} must have shape ({n},) to match global_feats; "
                    f"got {arr.shape}."
                )
        if self.region_feats is not None:
            self.region_feats = _as_tensor(self.region_feats, "region_feats")
            if self.region_feats.dim() != 3 or self.region_feats.shape[0] != n:
                raise ValueError(
                    f"FeatureSet.region_feats must have shape ({n}, N, d_r); got "
                    f"{tuple(self.region_feats.shape)}."
                )
        if self.region_weights is not None:
            if self.region_feats is None:
                raise ValueError("FeatureSet.region_weights given without region_feats.")
            self.region_weights = _as_tensor(self.region_weights, "region_weights")
            expected = tuple(self.region_feats.shape[:2])
            if tuple(self.region_weights.shape) != expected:
                raise ValueError(
                    f"FeatureSet.region_weights must have shape {expected} (n, N); got "
                    f"{tuple(self.region_weights.shape)}."
                )
        for key, value in self.extras.items():
            if not isinstance(value, torch.Tensor) or value.dim() == 0 or value.shape[0] != n:
                raise ValueError(f"FeatureSet.extras[{key!r}] must be a tensor with {n} rows; "
                                 f"got {getattr(value, 'shape', type(value))}.")

    def __len__(self) -> int:
        return int(self.global_feats.shape[0])

    @property
    def has_regions(self) -> bool:
        return self.region_feats is not None

    @property
    def num_regions(self) -> int:
        return 0 if self.region_feats is None else int(self.region_feats.shape[1])

    def weights_or_ones(self) -> torch.Tensor:
        """``region_weights``, or ones when the set has regions but no confidences."""
        if self.region_feats is None:
            raise ValueError("This FeatureSet has no region features.")
        if self.region_weights is not None:
            return self.region_weights
        return torch.ones(self.region_feats.shape[:2], dtype=self.region_feats.dtype)

    def subset(self, index: np.ndarray | torch.Tensor | slice) -> FeatureSet:
        """The rows ``index`` of this set, as a new FeatureSet (features are not copied for
        slices)."""
        t_index = torch.as_tensor(index) if not isinstance(index, slice) else index
        n_index = np.asarray(index) if not isinstance(index, slice) else index
        return FeatureSet(
            global_feats=self.global_feats[t_index],
            pids=self.pids[n_index],
            camids=self.camids[n_index],
            region_feats=None if self.region_feats is None else self.region_feats[t_index],
            region_weights=None if self.region_weights is None else self.region_weights[t_index],
            extras={k: v[t_index] for k, v in self.extras.items()},
        )


@dataclass
class RetrievalResult:
    """Ranking metrics of one query set against one gallery.

    Attributes:
        cmc: ``(max_rank,)`` cumulative match characteristic, fractions in ``[0, 1]``
            (``max_rank`` is cut to the gallery size when the gallery is smaller, as torchreid
            does).
        mAP: mean average precision over the valid queries.
        mINP: mean inverse negative penalty (Ye et al., AGW): mean of
            ``num_positives / (rank of the hardest positive)``.
        num_valid_queries: queries with at least one valid match (the others are skipped, as
            in torchreid).
    """

    cmc: np.ndarray
    mAP: float
    mINP: float
    num_valid_queries: int

    def rank(self, k: int) -> float:
        """Rank-``k`` accuracy, i.e. ``cmc[k-1]``."""
        if not 1 <= k <= len(self.cmc):
            raise ValueError(f"rank k must be in [1, {len(self.cmc)}] (the CMC length); got {k}.")
        return float(self.cmc[k - 1])


def check_not_empty(num_query: int, num_gallery: int) -> None:
    """Raise when the query or the gallery set is empty (metrics would be undefined)."""
    if num_query == 0:
        raise ValueError("The query set is empty: nothing to evaluate.")
    if num_gallery == 0:
        raise ValueError("The gallery set is empty: nothing to rank against.")


def check_pair(query: FeatureSet, gallery: FeatureSet) -> None:
    """Raise a clear error when ``query`` and ``gallery`` cannot be compared."""
    check_not_empty(len(query), len(gallery))
    dq, dg = query.global_feats.shape[1], gallery.global_feats.shape[1]
    if dq != dg:
        raise ValueError(f"Query global features are {dq}-d but gallery ones are {dg}-d.")
    if query.has_regions != gallery.has_regions:
        raise ValueError(
            "Either both query and gallery have region features or neither does; got "
            f"query.region_feats={'set' if query.has_regions else 'None'}, "
            f"gallery.region_feats={'set' if gallery.has_regions else 'None'}."
        )
    if query.has_regions:
        sq, sg = tuple(query.region_feats.shape[1:]), tuple(gallery.region_feats.shape[1:])
        if sq != sg:
            raise ValueError(
                f"Query region features have (N, d_r) = {sq} but gallery ones have {sg}."
            )


def _as_tensor(x, name: str) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"FeatureSet.{name} must be a torch.Tensor or numpy array; got {type(x)}.")
    if not x.is_floating_point():
        raise TypeError(f"FeatureSet.{name} must be floating point; got {x.dtype}.")
    return x


def _as_ids(x, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.cpu().numpy()
    arr = np.asarray(x)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"FeatureSet.{name} must hold integers; got dtype {arr.dtype}.")
    return arr.astype(np.int64, copy=False)
