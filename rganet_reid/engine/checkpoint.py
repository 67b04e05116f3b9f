"""Atomic, exactly-resumable checkpoints loaded with ``torch.load(..., weights_only=True)``.

A checkpoint holds the model, optimizer and scheduler states, the epoch, every RNG state
(Python, NumPy, torch CPU and CUDA) and the config it was trained with, so a run resumed from
epoch k continues bit-for-bit like the uninterrupted run. Files are written to a temporary
file in the same folder and renamed into place (:func:`rganet_reid.utils.io.write_atomic`), so
an interrupted save never leaves a broken checkpoint behind. The RNG states come from
:mod:`rganet_reid.utils.rng`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from torch import nn

from rganet_reid.utils.io import save_torch_atomic

logger = logging.getLogger(__name__)

FORMAT = "rganet-reid-checkpoint"
FORMAT_VERSION = 1

#: Tensors whose size is the number of training identities, for models that do not say
#: (torchreid names its identity classifiers ``classifier``). A model names its own with a
#: ``classifier_keys`` attribute (substrings of state-dict keys), e.g. RGANet's region heads.
CLASSIFIER_KEYS: tuple[str, ...] = ("classifier",)


class CheckpointError(RuntimeError):
    """A checkpoint is unreadable or does not belong to the model being built."""


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` to ``path`` atomically (temp file + ``os.replace``)."""
    return save_torch_atomic(path, {"format": FORMAT, "format_version": FORMAT_VERSION, **state})


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint (ours, or a bare state dict) with ``weights_only=True``."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"Checkpoint not found: {path}")
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises several types for corrupt / unsafe files
        raise CheckpointError(
            f"Cannot load {path} with torch.load(weights_only=True): {err}. The file is corrupt, "
            "truncated, or contains pickled Python objects (only tensors/containers are loaded)."
        ) from err
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path}: expected a dict checkpoint, got {type(obj).__name__}")
    return obj


def extract_state_dict(ckpt: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The model weights of a checkpoint: ours, torchreid's (``state_dict``) or a bare dict."""
    sd = ckpt.get("model", ckpt.get("state_dict", ckpt))
    # strip the DataParallel prefix torchreid checkpoints often carry
    return {(k[7:] if k.startswith("module.") else k): v for k, v in sd.items()
            if isinstance(v, torch.Tensor)}


def load_model_weights(
    model: nn.Module,
    path: str | Path,
    strict: bool = True,
    tolerate: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Load weights from ``path`` into ``model``; mismatching architecture is a clear error.

    ``strict=True``: every tensor must match by name and shape, except tensors whose name
    contains one of ``tolerate`` (identity classifiers, whose size is the number of training
    identities; default: the model's ``classifier_keys``, else :data:`CLASSIFIER_KEYS`).
    ``strict=False``: tensors matching by name and shape are loaded and the rest
    reported (torchreid's ``load_pretrained_weights`` behaviour). Returns the checkpoint dict.
    """
    if tolerate is None:
        tolerate = tuple(getattr(model, "classifier_keys", CLASSIFIER_KEYS))
    ckpt = load_checkpoint(path)
    state = extract_state_dict(ckpt)
    adapt = getattr(model, "adapt_to_state_dict", None)
    if adapt is not None:  # e.g. RGANet drops its text encoder once prototypes are cached
        adapt(state)
    own = model.state_dict()

    def counted(key: str) -> bool:
        return not any(t in key for t in tolerate)

    missing = [k for k in own if k not in state and counted(k)]
    unexpected = [k for k in state if k not in own and counted(k)]
    mismatched = [f"{k}: checkpoint {list(state[k].shape)} vs model {list(own[k].shape)}"
                  for k in own if k in state and state[k].shape != own[k].shape and counted(k)]
    if strict and (missing or unexpected or mismatched):
        trained = ckpt.get("model_name", "unknown architecture")
        raise CheckpointError(
            f"{path} was saved from {trained!r} and does not fit the model being built "
            f"({type(model).__name__}): {len(missing)} missing keys (e.g. {missing[:3]}), "
            f"{len(unexpected)} unexpected keys (e.g. {unexpected[:3]}), "
            f"{len(mismatched)} shape mismatches (e.g. {mismatched[:3]}). Check model.name and "
            "the rganet.* settings against the run that produced the checkpoint."
        )
    loadable = {k: v for k, v in state.items() if k in own and v.shape == own[k].shape}
    if not loadable:
        raise CheckpointError(f"{path}: no parameter matches the model by name and shape.")
    model.load_state_dict(loadable, strict=False)
    if not strict and (missing or mismatched):
        logger.warning("Loaded %d/%d tensors from %s; skipped %d missing and %d mismatched "
                       "(e.g. %s)", len(loadable), len(own), path, len(missing), len(mismatched),
                       (missing + mismatched)[:3])
    return ckpt
