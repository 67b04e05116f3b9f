"""Run folders of a tiny RGANet and a tiny torchreid OSNet on SynthOcc tiny, with the features
the engine's evaluation extracted from them (made once per test session; the fixtures are
registered by tests/conftest.py for the inference, export and cli tests)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from rganet_reid.evaluation import FeatureSet


@dataclass
class TinyRun:
    """A run folder (``config.yaml`` + ``model.pth``) and the engine's evaluation features."""

    run_dir: Path
    weights: Path
    cfg: object
    query_paths: list[str]
    gallery_paths: list[str]
    query: FeatureSet
    gallery: FeatureSet


def tiny_cfg(root: Path, save_dir: Path, model: str):
    from rganet_reid.config.defaults import get_default_config

    cfg = get_default_config()
    cfg.data.root, cfg.data.save_dir = str(root), str(save_dir)
    cfg.data.synthocc.size = "tiny"
    cfg.data.sources = cfg.data.targets = ["synthocc_occluded"]
    cfg.data.height, cfg.data.width, cfg.data.workers = 64, 32, 0
    cfg.test.batch_size = 8  # several batches per split
    cfg.test.evaluate = True
    cfg.model.name = model
    if model == "rganet_tiny":
        cfg.loss.name = "rganet"
        cfg.data.norm_mean = [0.48145466, 0.4578275, 0.40821073]
        cfg.data.norm_std = [0.26862954, 0.26130258, 0.27577711]
    else:
        cfg.loss.name = "softmax"
    cfg.freeze()
    return cfg


def make_run(root: Path, save_dir: Path, model: str) -> TinyRun:
    """Build the engine as ``tools/main.py`` does, extract the test split, save the weights."""
    from rganet_reid.cli.main import build
    from rganet_reid.engine.checkpoint import save_checkpoint

    cfg = tiny_cfg(root, save_dir, model)
    engine = build(cfg)
    if model == "rganet_tiny":  # a trained RGANet has cached prototypes and a memory bank
        engine.model.set_stage(2)
        engine.model.init_memory_bank(engine.datamanager.test_splits["synthocc_occluded"]
                                      .gallery_loader, "cpu")
    split = engine.datamanager.test_splits["synthocc_occluded"]
    query = engine.extract(split.query_loader, split.query)
    gallery = engine.extract(split.gallery_loader, split.gallery)
    weights = save_checkpoint(save_dir / "model.pth", engine.checkpoint_state(0))
    return TinyRun(save_dir, weights, cfg, [it[0] for it in split.query],
                   [it[0] for it in split.gallery], query, gallery)


@pytest.fixture(scope="session")
def rganet_run(synthocc_root, tmp_path_factory) -> TinyRun:
    torch.manual_seed(0)
    return make_run(synthocc_root, tmp_path_factory.mktemp("rganet_run"), "rganet_tiny")


@pytest.fixture(scope="session")
def osnet_run(synthocc_root, tmp_path_factory) -> TinyRun:
    return make_run(synthocc_root, tmp_path_factory.mktemp("osnet_run"), "osnet_x0_25")
