"""Rebuild the engine of a finished run folder for evaluation-only work (re-scoring, figures)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def load_saved_run(run_dir: str | Path, data_root: str | None = None,
                   weights: str | Path | None = None, save_subdir: str = "analysis",
                   overrides: Sequence[str] = ()):
    """The engine of ``run_dir`` (its ``config.yaml``) with its trained weights loaded.

    ``weights`` defaults to ``run_dir/model.pth``; ``data_root`` replaces the run's
    ``data.root``; ``overrides`` are ``KEY VALUE`` pairs merged into the run's config (e.g.
    ``data.synthocc.seed 1``: another SynthOcc world, identities the run never saw). Nothing
    is trained: the config is switched to ``test.evaluate`` and its outputs go to
    ``run_dir/save_subdir``. The prototypes are frozen as after training.
    """
    from rganet_reid.config import load_config
    from rganet_reid.engine.builder import build_run

    run_dir = Path(run_dir)
    config = run_dir / "config.yaml"
    if not config.is_file():
        raise FileNotFoundError(f"{config} is missing: {run_dir} is not a run folder written by "
                                "tools/main.py or the benchmark")
    weights = Path(weights) if weights else run_dir / "model.pth"
    if not weights.is_file():
        raise FileNotFoundError(f"No trained weights at {weights}; pass the weights file")
    cfg = load_config(str(config), list(overrides), freeze=False)
    cfg.test.evaluate = True
    cfg.model.load_weights = str(weights)
    cfg.model.resume = ""
    if data_root:
        cfg.data.root = str(data_root)
    cfg.data.save_dir = str(run_dir / save_subdir)
    cfg.freeze()
    engine = build_run(cfg)
    freeze = getattr(engine.model, "freeze_prototypes", None)
    if callable(freeze):
        freeze()
    return engine
