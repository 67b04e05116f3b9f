"""Turn a config into model, optimizer, scheduler, data manager and engine.

The one place where a config becomes a model: :func:`build_model` (used by ``tools/main.py``,
the benchmark runner and the tests) first resolves weights that are *trained* on first use
(:func:`resolve_model_weights`), so the model factories below it only ever load files.
The engine is chosen by the model family (:func:`engine_name`), ``loss.name`` chooses its
losses.
"""

from __future__ import annotations

import logging

import torch
from torch import nn
from yacs.config import CfgNode

from rganet_reid.compat import model_factory, torchreid_models, torchreid_root
from rganet_reid.config.clip_pretrain import LOCAL_TAG
from rganet_reid.engine.checkpoint import load_model_weights
from rganet_reid.engine.registry import ENGINES, RGANET_LOSS, TORCHREID_LOSSES

logger = logging.getLogger(__name__)


def rganet_model_names() -> list[str]:
    """``model.name`` values that build RGANet (the rest go to torchreid's factory)."""
    from rganet_reid.modeling import MODEL_CONSTRUCTORS

    return sorted(MODEL_CONSTRUCTORS)


def resolve_model_weights(cfg: CfgNode) -> CfgNode:
    """``cfg`` with ``model.pretrained`` as the model factories take it (a file, a tag to look
    up, ``""``); ``cfg`` itself when there is nothing to resolve.

    The local tag ``synthocc-parts`` names CLIP weights trained on first use:
    :func:`rganet_reid.pretrain.resolve_pretrained` builds them once (cached under
    ``<data.root>/pretrained/``, one process at a time, the run's RNG streams left as they
    were) and returns the file, which goes into a copy of ``cfg``. Every caller that builds a
    model from a config goes through here (via :func:`build_model`).
    """
    if cfg.model.pretrained != LOCAL_TAG:
        return cfg
    if cfg.model.name not in rganet_model_names():
        raise ValueError(
            f"model.pretrained={LOCAL_TAG} is CLIP weights for the RGANet models "
            f"({', '.join(rganet_model_names())}); torchreid's {cfg.model.name!r} takes '' "
            "(random init), 'imagenet' or a checkpoint file."
        )
    from rganet_reid.modeling.factory import resolve_arch
    from rganet_reid.pretrain import resolve_pretrained

    resolved = cfg.clone()
    resolved.defrost()
    resolved.model.pretrained = resolve_pretrained(cfg, resolve_arch(cfg))
    if cfg.is_frozen():
        resolved.freeze()
    return resolved


def build_model(cfg: CfgNode, num_classes: int) -> nn.Module:
    """RGANet variants from the full config; torchreid built-ins through its factory.

    Weights named by ``model.pretrained`` are resolved first (:func:`resolve_model_weights`).
    A torchreid model is built for its ``loss.name`` (:func:`torchreid_loss`).
    """
    cfg = resolve_model_weights(cfg)
    name = cfg.model.name
    if name in rganet_model_names():
        from rganet_reid.modeling import build_rganet

        return build_rganet(cfg, num_classes)
    factory = model_factory()
    if name not in factory:
        raise KeyError(f"Unknown model.name {name!r}. Valid names: {', '.join(sorted(factory))}")
    loss = torchreid_loss(cfg)
    imagenet = cfg.model.pretrained == "imagenet"
    model = torchreid_models.build_model(name, num_classes, loss=loss, pretrained=imagenet,
                                         use_gpu=False)
    if cfg.model.pretrained not in ("", "imagenet"):
        load_model_weights(model, cfg.model.pretrained, strict=False)
    return model


def torchreid_loss(cfg: CfgNode) -> str:
    """``loss.name`` of a torchreid model, its ``build_model(loss=...)``: softmax (train output:
    logits) or triplet (logits and features); anything else is an error naming the choices."""
    loss = cfg.loss.name
    if loss == RGANET_LOSS:
        raise ValueError(f"loss.name={loss} needs an RGANet model "
                         f"({', '.join(rganet_model_names())}); {cfg.model.name!r} is torchreid's.")
    if loss not in TORCHREID_LOSSES:
        raise ValueError(f"loss.name must be one of {', '.join((*TORCHREID_LOSSES, RGANET_LOSS))}, "
                         f"got {loss!r}.")
    return loss


def engine_name(cfg: CfgNode) -> str:
    """The engine that trains ``cfg.model.name``: ``rganet`` for RGANet models (with
    ``loss.name rganet``), ``softmax_triplet`` for torchreid's (``loss.name`` softmax or
    triplet chooses the losses). A pair no engine trains is an error naming the valid values.
    """
    name, loss = cfg.model.name, cfg.loss.name
    if name in rganet_model_names():
        if loss != RGANET_LOSS:
            raise ValueError(
                f"model.name={name!r} is an RGANet model: it trains with loss.name "
                f"{RGANET_LOSS} (Eq. 8), got loss.name={loss!r}."
            )
        return "rganet"
    torchreid_loss(cfg)
    return "softmax_triplet"


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
    """Model + optimizer + scheduler + the engine of the model's family (:func:`engine_name`)."""
    engine_cls = ENGINES.get(engine_name(cfg))  # an untrainable model/loss pair fails first
    model = build_model(cfg, datamanager.num_train_pids)
    if cfg.model.load_weights:
        load_model_weights(model, cfg.model.load_weights)
        logger.info("Loaded weights from %s", cfg.model.load_weights)
    model = model.to(device)
    optimizer = build_optimizer(cfg, model)
    scheduler = build_scheduler(cfg, optimizer)
    return engine_cls(cfg, datamanager, model, optimizer, scheduler, device=device)


def build_run(cfg: CfgNode):
    """Data, model and engine for ``cfg`` (seeded, run folder prepared with its
    ``config.yaml``) after the pre-flight checks (:mod:`rganet_reid.engine.preflight`: the
    config before anything is read, every image once the splits are parsed); returns the
    engine. ``tools/main.py`` and evaluation-only tools (:mod:`rganet_reid.engine.saved_run`)
    build runs through this. Started by torchrun, it joins the process group first (device
    ``cuda:LOCAL_RANK`` or the CPU)."""
    from pathlib import Path

    from rganet_reid.data.datamanager import ReIDDataManager
    from rganet_reid.engine.preflight import check_config, check_images, sampler_warnings
    from rganet_reid.utils import distributed as dist
    from rganet_reid.utils.seed import seed_everything

    check_config(cfg)
    device = dist.init_distributed(cfg.device, cfg.distributed.backend,
                                   cfg.distributed.timeout_s)  # torchrun; else resolve_device
    save_dir = Path(cfg.data.save_dir)
    save_dir.mkdir(parents=True, exist_ok=True)
    if dist.is_main_process():  # under torchrun rank 0 alone writes the run folder
        (save_dir / "config.yaml").write_text(cfg.dump(), encoding="utf-8")
    seed_everything(cfg.seed)  # the same on every rank: identical data and initial weights
    logger.info("Device: %s | model: %s | sources: %s | targets: %s", device, cfg.model.name,
                cfg.data.sources, cfg.data.targets)
    datamanager = ReIDDataManager(cfg, build_train=not cfg.test.evaluate, rank=dist.rank(),
                                  world_size=dist.world_size())
    check_images(datamanager.splits_to_read(), cfg)
    if datamanager.train_loader is not None:
        sampler_warnings(datamanager.train_set.items, cfg)
    engine = build_engine(cfg, datamanager, device)
    if dist.is_distributed():  # each rank its own augmentation / dropout streams
        seed_everything(cfg.seed + dist.rank())
    return engine
