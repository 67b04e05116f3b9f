"""Where an inference model comes from: its config, its weights, and a fingerprint of both.

A trained model is named by any of

* a **run folder** (``data.save_dir`` of a training run): ``config.yaml`` + ``model.pth``
  (or ``checkpoints/last.pth``);
* a **weights file** written by the engine: it embeds the config it was trained with;
* a weights file plus a **config** (a YAML path or a ``CfgNode``), e.g. torchreid weights;
* a **model name** alone (torchreid's ``FeatureExtractor(model_name=...)``): default config;
* an **ONNX file** written by :mod:`rganet_reid.export` (config in its metadata).

The config is read strictly (unknown keys are errors) except for configs saved by a run,
which may come from an older version of the project: their unknown keys are dropped with a
warning naming them. The **fingerprint** hashes every weight and every setting that changes
the features (input size, normalisation, the ``rganet`` section, ``test.normalize_feature``),
so a gallery index can refuse queries from another model.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from yacs.config import CfgNode

from rganet_reid.config import ConfigError, get_default_config, load_config, merge_opts
from rganet_reid.config.dump import config_from_dump
from rganet_reid.engine.checkpoint import CheckpointError, load_checkpoint

__all__ = [
    "ModelSource",
    "build_inference_model",
    "feature_settings",
    "model_fingerprint",
    "resolve_model_source",
]

logger = logging.getLogger(__name__)

RUN_WEIGHTS = ("model.pth", "checkpoints/last.pth")


@dataclass(frozen=True)
class ModelSource:
    """A resolved model: its config, its weights (``None`` = built untrained) or ONNX file.

    Attributes:
        cfg: the frozen config the model is built and preprocessed with.
        weights: a PyTorch weights/checkpoint file, or ``None``.
        onnx: an ONNX file (then ``weights`` is ``None``).
        num_classes: training identities stored in the checkpoint (1 if unknown).
        origin: where the config came from, for messages.
    """

    cfg: CfgNode
    weights: Path | None = None
    onnx: Path | None = None
    num_classes: int = 1
    origin: str = "defaults"


def _run_weights(run_dir: Path) -> Path:
    for rel in RUN_WEIGHTS:
        if (run_dir / rel).is_file():
            return run_dir / rel
    raise FileNotFoundError(
        f"Run folder {run_dir} holds no weights ({' or '.join(RUN_WEIGHTS)}); pass the weights "
        "file as model_path."
    )


def resolve_model_source(
    model_path: str | Path = "",
    *,
    config: CfgNode | str | Path | None = None,
    run_dir: str | Path | None = None,
    model_name: str = "",
    image_size: Sequence[int] | None = None,
    pixel_mean: Sequence[float] | None = None,
    pixel_std: Sequence[float] | None = None,
    pixel_norm: bool = True,
    opts: Sequence[str] = (),
) -> ModelSource:
    """Resolve config and weights (precedence: ``config`` > ``run_dir/config.yaml`` > the
    config embedded in the weights file > defaults with ``model.name = model_name``), then
    apply torchreid-style overrides (``image_size`` = (H, W), ``pixel_mean`` / ``pixel_std``,
    ``pixel_norm=False`` = no normalisation) and ``opts`` (``KEY VALUE`` pairs).
    """
    weights = Path(model_path).expanduser() if str(model_path) else None
    cfg: CfgNode | None = None
    origin = "defaults"
    if run_dir is not None:
        run_dir = Path(run_dir).expanduser()
        if not run_dir.is_dir():
            raise FileNotFoundError(f"Run folder not found: {run_dir}")
        if weights is None:
            weights = _run_weights(run_dir)
        if config is None and (run_dir / "config.yaml").is_file():
            origin = str(run_dir / "config.yaml")
            cfg = config_from_dump(Path(origin).read_text(encoding="utf-8"), origin)
    if weights is not None and not weights.is_file():
        raise FileNotFoundError(f"Weights file not found: {weights}")
    onnx = weights if weights is not None and weights.suffix.lower() == ".onnx" else None
    if onnx is not None:
        weights = None
        if config is None and cfg is None:
            from rganet_reid.inference.backends import onnx_config

            cfg, origin = onnx_config(onnx), f"{onnx} (metadata)"
    num_classes = 1
    if weights is not None:
        ckpt = load_checkpoint(weights)
        num_classes = int(ckpt.get("num_classes", 1) or 1)
        if config is None and cfg is None and isinstance(ckpt.get("config"), str):
            origin = f"{weights} (embedded config)"
            cfg = config_from_dump(ckpt["config"], origin)
        del ckpt
    if isinstance(config, CfgNode):
        cfg, origin = config.clone(), "the given config"
    elif config is not None:
        cfg, origin = load_config(config, freeze=False), str(config)
    if cfg is None:
        if not model_name:
            raise ConfigError(
                "No model given: pass model_name (a torchreid or rganet-reid model), a run "
                "folder, a weights file written by rganet-reid (it embeds its config), or a "
                "config."
            )
        cfg = get_default_config()
        cfg.model.name = model_name
        origin = f"defaults for model.name={model_name}"
    cfg.defrost()
    if model_name and model_name != cfg.model.name:
        raise ConfigError(f"model_name={model_name!r} but {origin} builds "
                          f"model.name={cfg.model.name!r}; pass one of them.")
    if image_size is not None:
        cfg.data.height, cfg.data.width = (int(v) for v in image_size)
    if pixel_mean is not None:
        cfg.data.norm_mean = [float(v) for v in pixel_mean]
    if pixel_std is not None:
        cfg.data.norm_std = [float(v) for v in pixel_std]
    if not pixel_norm:
        cfg.data.norm_mean, cfg.data.norm_std = [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]
    merge_opts(cfg, list(opts))
    cfg.freeze()
    return ModelSource(cfg=cfg, weights=weights, onnx=onnx, num_classes=num_classes,
                       origin=origin)


@contextlib.contextmanager
def _quiet(logger_name: str):
    """Hide a logger's warnings (e.g. "random CLIP weights") while trained weights are
    about to replace the initial ones."""
    log = logging.getLogger(logger_name)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def build_inference_model(source: ModelSource) -> nn.Module:
    """The eval-mode PyTorch model of ``source`` (on the CPU) with its weights loaded.

    With weights, the CLIP initialisation named by ``model.pretrained`` is skipped (every
    weight is replaced by the file's), so no pre-training or download happens.
    """
    from rganet_reid.engine.builder import build_model
    from rganet_reid.engine.checkpoint import load_model_weights

    if source.onnx is not None:
        raise ValueError(f"{source.onnx} is an ONNX file; it runs on the ONNX backend.")
    cfg = source.cfg
    if source.weights is None:
        logger.warning("No weights given: %s is built with its initial weights (model.pretrained"
                       "=%r); features of an untrained model mean little.", cfg.model.name,
                       cfg.model.pretrained)
        model = build_model(cfg, source.num_classes)
    else:
        cfg = cfg.clone()
        cfg.defrost()
        cfg.model.pretrained = ""
        with _quiet("rganet_reid.modeling"):
            model = build_model(cfg, source.num_classes)
        try:
            load_model_weights(model, source.weights)
        except CheckpointError as err:
            raise CheckpointError(f"{err} (config: {source.origin})") from err
    return model.eval()


def feature_settings(cfg: CfgNode) -> dict:
    """The settings besides the weights that change a model's features."""
    d = cfg.data
    return {
        "model": cfg.model.name,
        "input": [int(d.height), int(d.width)],
        "norm": [list(map(float, d.norm_mean)), list(map(float, d.norm_std))],
        "normalize_feature": bool(cfg.test.normalize_feature),
        "rganet": json.loads(json.dumps(_plain(cfg.rganet))),
    }


def _plain(node):
    if isinstance(node, CfgNode):
        return {k: _plain(v) for k, v in sorted(node.items())}
    return list(node) if isinstance(node, tuple) else node


def model_fingerprint(model: nn.Module, cfg: CfgNode) -> str:
    """SHA-256 (first 16 hex digits) of :func:`feature_settings` and every tensor of the
    model's state dict (names, dtypes, shapes, bytes)."""
    h = hashlib.sha256(json.dumps(feature_settings(cfg), sort_keys=True).encode())
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().cpu().contiguous().reshape(-1)
        h.update(f"{name}|{t.dtype}|{tuple(tensor.shape)}|".encode())
        h.update(t.view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]
