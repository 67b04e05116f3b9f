"""The ``clip_pretrain`` section: part-aligned CLIP pre-training on SynthOcc.

Used when ``model.pretrained`` is the local tag ``synthocc-parts`` (:data:`LOCAL_TAG`, built
by :mod:`rganet_reid.pretrain.local_weights`): the offline stand-in for CLIP weights. The image
tower of the CLIP architecture learns, from SynthOcc's training images and part masks only
(no identity labels), to map each patch onto the frozen text tower's feature of the part it
shows (Eq. 1 masks, Eq. 3 loss). Always with the paper's four parts; the weights are cached
under ``<data.root>/pretrained/`` and shared by every model and seed with the same settings.
"""

from __future__ import annotations

from yacs.config import CfgNode as CN

#: ``model.pretrained`` value that names these weights. Unlike a file or an open_clip tag it
#: is *trained* on first use, so it is resolved before a model is built (by
#: ``rganet_reid.engine.builder.resolve_model_weights``), never by the model factory.
LOCAL_TAG = "synthocc-parts"


def add_clip_pretrain_config(cfg: CN) -> None:
    """Add the ``clip_pretrain`` section to ``cfg``."""
    cfg.clip_pretrain = CN()
    cfg.clip_pretrain.max_epoch = 20
    cfg.clip_pretrain.lr = 1e-3  # Adam, cosine decay to 0 over the run
    cfg.clip_pretrain.weight_decay = 5e-4
    cfg.clip_pretrain.gamma = 20.0  # γ of Eq. 1 during pre-training
    cfg.clip_pretrain.template = "a [CLASS] part of a person."  # Table VI's best template
    cfg.clip_pretrain.seed = 0  # fixed: every training seed starts from the same weights
