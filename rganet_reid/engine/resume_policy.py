"""What ``model.resume`` accepts: the config a checkpoint was trained with against this run's.

Policy: a resumed run continues the *same* training. Every key that shapes the training
trajectory (model, data, sampler, optimizer, schedule, losses, RGANet, seed) must equal the
checkpoint's; differences are listed and **refused** — not applied — because the optimizer,
scheduler and RNG states restored from the checkpoint belong to the old values (a new
``train.optim`` does not fit the saved optimizer state, a new ``train.lr`` would be overwritten
by the saved scheduler, a new batch size breaks the bit-identical resume), so "applying" them
would silently be half-applied. To train with other values, start a new run from the weights
(``model.load_weights``).

Keys that do not change what is learned may differ: evaluation (``test.*``,
``retrieval.*``), where things are (``data.root``, ``data.mask_root``, ``data.save_dir``,
``model.resume``, ``model.load_weights``, ``device``, ``data.workers``, ``data.targets``) and
logging/checkpoint cadence. ``train.max_epoch`` may grow, to continue a finished run, except
with the cosine schedule, whose period the saved scheduler keeps.
"""

from __future__ import annotations

import logging
from pathlib import Path

from yacs.config import CfgNode

from rganet_reid.config.dump import config_from_dump
from rganet_reid.config.keys import get_key, valid_keys
from rganet_reid.engine.checkpoint import CheckpointError

logger = logging.getLogger(__name__)

__all__ = ["NOT_TRAINING", "check_resume_config", "training_differences"]

#: Keys (exact, or a section ending in ".") that may differ between a checkpoint and its resume.
NOT_TRAINING: tuple[str, ...] = (
    "test.", "retrieval.", "device", "model.resume", "model.load_weights", "data.root",
    "data.mask_root", "data.save_dir", "data.targets", "data.workers", "train.print_freq",
    "train.checkpoint_freq", "train.max_time",
)


def _exempt(key: str, cfg: CfgNode) -> bool:
    if key == "train.max_epoch":
        return cfg.train.lr_scheduler != "cosine"
    return any(key == k or (k.endswith(".") and key.startswith(k)) for k in NOT_TRAINING)


def training_differences(saved: CfgNode, current: CfgNode) -> list[tuple[str, object, object]]:
    """``(key, saved value, current value)`` for every training key that differs."""
    diffs = []
    for key in valid_keys(current):
        value = get_key(current, key)
        if isinstance(value, CfgNode) or _exempt(key, current):
            continue
        old = get_key(saved, key)
        if old != value:
            diffs.append((key, old, value))
    return diffs


def check_resume_config(saved_dump: str | None, cfg: CfgNode, path: str | Path) -> None:
    """Refuse to resume ``path`` when this run's training keys differ from the checkpoint's
    (policy in the module docstring): :class:`CheckpointError` listing every difference."""
    if not saved_dump:
        logger.warning("%s stores no config; cannot check that this run trains with the same "
                       "keys as the checkpoint.", path)
        return
    saved = config_from_dump(saved_dump, f"{path} (its stored config)")
    diffs = training_differences(saved, cfg)
    if not diffs:
        return
    listed = "; ".join(f"{k}: checkpoint {old!r}, now {new!r}" for k, old, new in diffs)
    raise CheckpointError(
        f"model.resume {path}: this run changes {len(diffs)} training key(s) of the checkpoint "
        f"({listed}). A resumed run continues the same training, so these are refused, not "
        "applied: drop the changes to continue it, or start a new run from its weights with "
        f"model.load_weights {path}.")
