"""Config → RGANet, and torchreid-style constructors (``MODEL_CONSTRUCTORS``).

``build_rganet(cfg, num_classes)`` reads ``cfg.rganet`` (architecture, regions, prompts, RAM),
``cfg.data.height/width`` (input size) and ``cfg.model.pretrained`` (CLIP weights). The
constructors in ``MODEL_CONSTRUCTORS`` have torchreid's signature so they can sit in
torchreid's model factory; they build from the default config.

Building a model loads weights, it never trains them: ``model.pretrained`` must be a
checkpoint file, an open_clip tag or ``""``. The local tag ``synthocc-parts`` names weights
trained on first use; ``rganet_reid.engine.builder.resolve_model_weights`` turns it into its
file before a model is built, and passing it here is an error that says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import open_clip
from torch import nn
from yacs.config import CfgNode

from rganet_reid.config.clip_pretrain import LOCAL_TAG
from rganet_reid.modeling.clip_backbone import (
    PretrainedWeightsError,
    create_clip,
    load_clip_weights,
    register_model_configs,
    tag_quick_gelu,
)
from rganet_reid.modeling.image_encoder import CLIPImageEncoder
from rganet_reid.modeling.prompt import PromptLearner, TextEncoder, resolve_part_names
from rganet_reid.modeling.rganet import REGION_MODES, RGANet

logger = logging.getLogger(__name__)

#: open_clip architecture of each model-name preset (used when rganet.clip_arch is "").
PRESET_ARCHS: dict[str, str] = {
    "rganet": "ViT-B-16",
    "rganet_vit_b16": "ViT-B-16",
    "rganet_tiny": "RGANet-Tiny-ViT",
}


def resolve_arch(cfg: CfgNode) -> str:
    """``rganet.clip_arch`` if set, else the preset of ``model.name`` (ViT-B-16 otherwise)."""
    return cfg.rganet.clip_arch or PRESET_ARCHS.get(cfg.model.name, "ViT-B-16")


def clip_weights_source(cfg: CfgNode) -> str:
    """``cfg.model.pretrained`` as the factory loads it: a file, an open_clip tag or ``""``.

    Raises :class:`PretrainedWeightsError` for the local tag ``synthocc-parts``, whose weights
    are trained on first use: building a model does not train.
    """
    source = cfg.model.pretrained
    if source == LOCAL_TAG:
        raise PretrainedWeightsError(
            f"model.pretrained={LOCAL_TAG!r} names CLIP weights that are trained on first use "
            "(part-aligned pre-training on the run's data), and building a model never trains. "
            "Resolve the tag first: `cfg = rganet_reid.engine.builder.resolve_model_weights(cfg)` "
            "builds or finds the cached file and puts its path in model.pretrained "
            "(rganet_reid.engine.builder.build_model, tools/main.py and the benchmark runner do "
            f"this), or pass that file (<data.root>/pretrained/<arch>-{LOCAL_TAG}-<key>.pt) as "
            "model.pretrained / pretrained_path."
        )
    return source


def build_rganet(cfg: CfgNode, num_classes: int) -> RGANet:
    """Build RGANet from the config, with CLIP weights from ``cfg.model.pretrained``
    (a checkpoint file, an open_clip tag or ``""``; see :func:`clip_weights_source`)."""
    r = cfg.rganet
    if r.regions not in REGION_MODES:
        raise ValueError(f"rganet.regions must be one of {REGION_MODES}, got {r.regions!r}")
    arch = resolve_arch(cfg)
    image_size = (int(cfg.data.height), int(cfg.data.width))
    quick_gelu = bool(r.quick_gelu)
    pretrained = clip_weights_source(cfg)
    tag_gelu = tag_quick_gelu(arch, pretrained)
    if tag_gelu is not None and tag_gelu != quick_gelu:
        logger.info("Using quick_gelu=%s, the setting of open_clip tag %s/%s",
                    tag_gelu, arch, pretrained)
        quick_gelu = tag_gelu
    clip = create_clip(arch, image_size, quick_gelu=quick_gelu)
    load_clip_weights(clip, arch, pretrained)
    image_encoder = CLIPImageEncoder(clip.visual, patch_stride=int(r.patch_stride))
    if not pretrained and r.regions == "rgm":
        logger.warning(
            "Random CLIP weights with regions=rgm: the text prototypes carry no meaning for "
            "untrained image features (measured on SynthOcc: the masks collapse to background "
            "and every region feature equals the global one). Load CLIP weights, or offline "
            "use model.pretrained synthocc-clip (the shipped tiny CLIP pre-trained on SynthOcc)."
        )

    prompt = None
    if r.regions == "rgm":
        part_names = resolve_part_names(int(r.num_regions), list(r.part_names))
        prompt = PromptLearner(
            TextEncoder(clip),
            open_clip.get_tokenizer(arch),
            part_names,
            mode=r.prompt.mode,
            template=r.prompt.template,
            n_ctx=int(r.prompt.n_ctx),
            ctx_init=r.prompt.ctx_init,
        )
    del clip  # the text tower lives on in the prompt learner only when RGM needs it

    model = RGANet(
        image_encoder,
        num_classes,
        regions=r.regions,
        num_regions=int(r.num_regions),
        prompt=prompt,
        gamma=float(r.gamma),
        dai=bool(r.dai),
        dai_per_region=bool(r.dai_per_region),
        iai=bool(r.iai),
        confidence=r.confidence,
        iai_mode=r.iai_mode,
        iai_temperature=float(r.iai_temperature),
        memory_momentum=float(r.memory.momentum),
        alpha_threshold=float(r.memory.alpha_threshold),
        neck_feat=r.neck_feat,
        region_weight_scale=float(r.region_weight_scale),
        stage1_train_background=bool(r.stage1.train_background),
        detach_masks=bool(r.detach_masks),
    )
    if prompt is not None and prompt.mode == "template":
        model.freeze_prototypes()  # hand-crafted prompts need no training
    logger.info(
        "Built RGANet (%s, input %dx%d, grid %s, regions=%s, N=%d, prompt=%s, dai=%s, iai=%s)",
        arch, *image_size, image_encoder.grid_size, r.regions, model.num_regions,
        r.prompt.mode if prompt is not None else "-", r.dai, r.iai,
    )
    return model


def _constructor(name: str) -> Callable[..., nn.Module]:
    def construct(
        num_classes: int,
        loss: str = "rganet",
        pretrained: bool | str = True,
        use_gpu: bool = True,
        **kwargs,
    ) -> nn.Module:
        """torchreid-style constructor (``torchreid.models.build_model`` calls it).

        ``pretrained=True`` never touches the network: it loads ``kwargs['pretrained_path']``
        (or ``cfg.model.pretrained`` of a ``kwargs['cfg']``) if given, else random CLIP
        weights with a warning. A string is taken as the checkpoint path or open_clip tag
        (the trained-on-first-use tag ``synthocc-parts`` is refused: resolve it first with
        ``rganet_reid.engine.builder.resolve_model_weights``).
        ``kwargs['cfg']`` (a full config) overrides every other setting; ``height`` / ``width``
        set the input size. ``use_gpu`` is ignored (move the model with ``.to(device)``).
        """
        if loss != "rganet":
            raise ValueError(
                f"{name} trains with loss='rganet' (its train-mode output is a dict consumed by "
                f"rganet_reid.losses.build_loss / the RGANet engine), got loss={loss!r}."
            )
        from rganet_reid.config.defaults import get_default_config

        cfg = kwargs.pop("cfg", None)
        cfg = cfg.clone() if cfg is not None else get_default_config()
        cfg.defrost()
        cfg.model.name = name
        if isinstance(pretrained, str):
            cfg.model.pretrained = pretrained
        elif "pretrained_path" in kwargs:
            cfg.model.pretrained = kwargs.pop("pretrained_path") if pretrained else ""
        elif not pretrained:
            cfg.model.pretrained = ""
        elif not cfg.model.pretrained:
            logger.warning(
                "%s: pretrained=True but no CLIP checkpoint path was given (pass "
                "pretrained_path=... or use rganet_reid's config model.pretrained); the CLIP "
                "encoders start from random weights.", name,
            )
        for key in ("height", "width"):
            if key in kwargs:
                setattr(cfg.data, key, int(kwargs.pop(key)))
        if kwargs:
            raise TypeError(f"{name}: unexpected arguments {sorted(kwargs)}")
        return build_rganet(cfg, num_classes)

    construct.__name__ = construct.__qualname__ = name
    construct.__module__ = __name__
    return construct


#: torchreid-factory-compatible constructors: name → ``(num_classes, loss, pretrained,
#: use_gpu, **kwargs) -> nn.Module``.
MODEL_CONSTRUCTORS: dict[str, Callable[..., nn.Module]] = {
    name: _constructor(name) for name in PRESET_ARCHS
}

register_model_configs()
