"""The evaluation feature path, shared by the engine's evaluation and the feature extractor.

A batch of preprocessed images goes through the model in eval mode (under the run's autocast
setting); the global feature, the region features and their confidences w (paper Eq. 10) are
kept, cast to float32 on the host, the global feature is L2-normalised when
``test.normalize_feature`` is on and the region features always (Eq. 10 uses only their
direction). :meth:`rganet_reid.engine.base.ReIDEngine.extract` and
:class:`rganet_reid.inference.FeatureExtractor` both call these functions, so a model's
features are the same whichever of them computed them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["AMP_DTYPES", "EXTRA_KEYS", "FEATURE_KEYS", "amp_autocast", "eval_features",
           "finish_features", "unit_regions"]

#: The region-aware features of one image: F_g (d,), F^r (N, d) and w (N,).
FEATURE_KEYS = ("global_feat", "region_feats", "region_weights")
#: Further per-image outputs of a region model, kept for measuring it against ground truth:
#: α (Eq. 4), β (Eq. 6), region-to-centre cosines and the mask logits of Eq. 1.
EXTRA_KEYS = ("alpha", "beta", "confidence", "iai_similarity", "mask_logits")
#: ``train.amp`` names → autocast dtypes.
AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def amp_autocast(device: torch.device, amp_dtype: torch.dtype | None
                 ) -> contextlib.AbstractContextManager:
    """``torch.autocast`` for ``device`` in ``amp_dtype``, or a no-op for ``None``."""
    if amp_dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=amp_dtype)


@torch.no_grad()
def eval_features(model: nn.Module, images: torch.Tensor, extras: bool = False
                  ) -> dict[str, torch.Tensor | None]:
    """The features of one batch: ``FEATURE_KEYS`` (and ``EXTRA_KEYS`` with ``extras``) from
    an RGANet's output dict, or the tensor a torchreid model returns in eval mode as
    ``global_feat`` (no regions)."""
    out = model(images)
    if isinstance(out, dict):
        return {key: out.get(key) for key in FEATURE_KEYS + (EXTRA_KEYS if extras else ())}
    return {"global_feat": out, "region_feats": None, "region_weights": None}


def finish_features(batches: Sequence[dict[str, torch.Tensor | None]],
                    normalize_global: bool) -> dict[str, torch.Tensor | None]:
    """Concatenate per-batch features (``FEATURE_KEYS`` and any extra key the batches carry)
    as float32 on the CPU; L2-normalise the global feature when ``normalize_global``
    (``test.normalize_feature``) and the region features always (:func:`unit_regions`).
    Absent keys stay ``None``."""
    out: dict[str, torch.Tensor | None] = {}
    extra = [k for k in (batches[0] if batches else {}) if k not in FEATURE_KEYS]
    for key in FEATURE_KEYS + tuple(extra):
        parts = [b[key].float().cpu() for b in batches if b.get(key) is not None]
        out[key] = torch.cat(parts) if parts else None
    if out["global_feat"] is None:
        raise ValueError("The model returned no global feature (no batch, or no global_feat).")
    if normalize_global:
        out["global_feat"] = nn.functional.normalize(out["global_feat"], dim=-1)
    if out["region_feats"] is not None:
        out["region_feats"] = unit_regions(out["region_feats"])
    return out


def unit_regions(region_feats: torch.Tensor) -> torch.Tensor:
    """Region features F_j^r scaled to unit length along the feature axis.

    Eq. 10 compares region features by cosine distance only, so their length carries no
    information; storing them as unit vectors makes every consumer (evaluation, gallery files,
    the ONNX graph) agree on the same numbers, and an absolute tolerance on them meaningful
    (the raw BNNeck outputs have norms in the tens)."""
    return nn.functional.normalize(region_feats, dim=-1)
