"""Turn a config into model, optimizer, scheduler, data manager and engine."""

from __future__ import annotations

import logging

import torch
from torch import nn
from yacs.config import CfgNode

from rganet_reid.compat import model_factory, torchreid_models, torchreid_root
from rganet_reid.engine.checkpoint import load_model_weights
from rganet_reid.engine.registry import ENGINES

logger = logging.getLogger(__name__)


def rganet_model_names() -> list[str]:
    from rganet_reid.modeling import MODEL_CONSTRUCTORS

    return sorted(MODEL_CONSTRUCTORS)


def build_model(cfg: CfgNode, num_classes: int) -> nn.Module:
    """RGANet variants from the full config; torchreid built-ins through its factory."""
    name = cfg.model.name
    if name in rganet_model_names():
        from rganet_reid.modeling import build_rganet

        return build_rganet(cfg, num_classes)
    factory = model_factory()
    if name not in factory:
        raise KeyError(f"Unknown model.name {name!r}. Valid names: {', '.join(sorted(factory))}")
    if cfg.loss.name == "rganet":
        raise ValueError(f"loss.name=rganet needs an RGANet model, got torchreid's {name!r}")
    loss = "triplet" if cfg.loss.name == "triplet" else "softmax"
    imagenet = cfg.model.pretrained == "imagenet"
    model = torchreid_models.build_model(name, num_classes, loss=loss, pretrained=imagenet,
                                         use_gpu=False)
    if cfg.model.pretrained not in ("", "imagenet"):
        load_model_weights(model, cfg.model.pretrained, strict=False)
    return model


def build_optimizer(cfg: CfgNode, model: nn.Module) -> torch.optim.Optimizer:
    """torchreid's ``build_optimizer`` with the ``train``/``sgd``/``adam``/``rmsprop`` keys."""
    return torchreid_root.optim.build_optimizer(
        model,
        optim=cfg.train.optim,
        lr=cfg.train.lr,
        weight_decay=cfg.train.weight_decay,
        momentum=cfg.sgd.momentum,
        sgd_dampening=cfg.sgd.dampening,
        sgd_nesterov=cfg.sgd.nesterov,
        rmsprop_alpha=cfg.rmsprop.alpha,
        adam_beta1=cfg.adam.beta1,
        adam_beta2=cfg.adam.beta2,
        staged_lr=cfg.train.staged_lr,
        new_layers=cfg.train.new_layers,
        base_lr_mult=cfg.train.base_lr_mult,
    )


def build_scheduler(cfg: CfgNode, optimizer: torch.optim.Optimizer):
    """torchreid's ``build_lr_scheduler`` (multi_step | single_step | cosine), stepped per epoch."""
    stepsize = list(cfg.train.stepsize)
    if cfg.train.lr_scheduler == "single_step":
        stepsize = stepsize[-1]
    return torchreid_root.optim.build_lr_scheduler(
        optimizer, lr_scheduler=cfg.train.lr_scheduler, stepsize=stepsize,
        gamma=cfg.train.gamma, max_epoch=cfg.train.max_epoch,
    )


def build_engine(cfg: CfgNode, datamanager, device: torch.device):
    """Model + optimizer + scheduler + the engine registered for ``loss.name``."""
    model = build_model(cfg, datamanager.num_train_pids)
    if cfg.model.load_weights:
        load_model_weights(model, cfg.model.load_weights)
        logger.info("Loaded weights from %s", cfg.model.load_weights)
    model = model.to(device)
    optimizer = build_optimizer(cfg, model)
    scheduler = build_scheduler(cfg, optimizer)
    engine_cls = ENGINES.get(cfg.loss.name)
    return engine_cls(cfg, datamanager, model, optimizer, scheduler, device=device)
