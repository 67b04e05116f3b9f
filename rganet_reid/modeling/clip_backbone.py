"""CLIP models from open_clip: architecture by name, weights loaded separately (open_clip habit).

* :func:`register_model_configs` adds this package's JSON model configs (``model_configs/``,
  e.g. ``RGANet-Tiny-ViT``) to open_clip's registry, so every open_clip name and ours build
  through the same factory.
* :func:`create_clip` builds an architecture with random weights at the ReID input size
  (``force_image_size=(H, W)``: the ViT position embedding has the H/p × W/p grid).
* :func:`load_clip_weights` fills it from a local checkpoint — an OpenAI TorchScript ``.pt``,
  a ``torch.save``'d state dict (``.pt``/``.pth``/``.bin``) or ``.safetensors`` — or from an
  open_clip pretrained tag (``openai``, ``laion2b_s34b_b88k`` …) when the hub is reachable.
  The position embedding is resized from the checkpoint's (square) grid with open_clip's
  ``resize_pos_embed``. A shipped tag (``synthocc-clip``,
  :mod:`~rganet_reid.modeling.pretrained_weights`) loads the sha256-checked file inside the
  package.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import warnings
import zipfile
from pathlib import Path

import open_clip
import torch
from open_clip.model import resize_pos_embed, resize_text_pos_embed
from open_clip.transformer import VisionTransformer

from rganet_reid.modeling.pretrained_weights import (
    SHIPPED,
    PretrainedWeightsError,
    load_shipped,
)

logger = logging.getLogger(__name__)

MODEL_CONFIG_DIR = Path(__file__).parent / "model_configs"

# Entries of TorchScript archives (OpenAI's, or a traced CLIP) that are not weights.
_TORCHSCRIPT_EXTRA_KEYS = ("input_resolution", "context_length", "vocab_size", "attn_mask")


def register_model_configs() -> None:
    """Add ``model_configs/*.json`` to open_clip's model registry (idempotent)."""
    ours = {p.stem for p in MODEL_CONFIG_DIR.glob("*.json")}
    if not ours.issubset(open_clip.list_models()):
        open_clip.add_model_config(MODEL_CONFIG_DIR)


def create_clip(
    arch: str, image_size: tuple[int, int], quick_gelu: bool = False
) -> open_clip.CLIP:
    """Build open_clip architecture ``arch`` with random weights for ``image_size`` = (H, W).

    Only CLIP models with a plain ViT image tower (class token, no attentional pooler) and
    open_clip's own text transformer are supported: RGANet needs the patch tokens and a text
    tower it can feed prompt embeddings to.
    """
    register_model_configs()
    if arch not in open_clip.list_models():
        raise KeyError(
            f"Unknown open_clip architecture {arch!r} (rganet.clip_arch). "
            f"Valid names include: {', '.join(n for n in open_clip.list_models() if 'ViT' in n)}"
        )
    with _quiet_random_init_warning():
        model = open_clip.create_model(
            arch,
            pretrained=None,
            force_image_size=tuple(image_size),
            force_quick_gelu=quick_gelu,
        )
    visual = model.visual
    if (
        not isinstance(model, open_clip.CLIP)
        or not isinstance(visual, VisionTransformer)
        or visual.attn_pool is not None
        or visual.proj is None
    ):
        raise ValueError(
            f"open_clip architecture {arch!r} is not a CLIP model with a plain ViT image tower "
            "and open_clip's text transformer; RGANet supports ViT-B-16-like architectures."
        )
    return model


@contextlib.contextmanager
def _quiet_random_init_warning():
    """Silence open_clip's "initialized randomly" warning: weights are loaded afterwards."""

    def drop(record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("No pretrained weights loaded")

    root = logging.getLogger()
    root.addFilter(drop)
    try:
        yield
    finally:
        root.removeFilter(drop)


def read_clip_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a CLIP checkpoint file into a flat ``name → tensor`` state dict (on CPU).

    Formats: ``.safetensors``; OpenAI's TorchScript archives (read with ``torch.jit.load``,
    which runs no pickled Python); ``torch.save``'d state dicts, optionally wrapped in
    ``{"state_dict": ...}`` and/or with DataParallel ``module.`` prefixes (read with
    ``torch.load(weights_only=True)``).
    """
    path = Path(path)
    if path.suffix == ".safetensors":
        try:
            from safetensors.torch import load_file
        except ImportError as err:  # pragma: no cover - safetensors is a dependency
            raise PretrainedWeightsError(
                f"{path} is a .safetensors file; install `safetensors` to read it."
            ) from err
        state_dict = load_file(str(path), device="cpu")
    elif _is_torchscript_archive(path):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*torch.jit.load.*deprecated")
            archive = torch.jit.load(str(path), map_location="cpu")
        state_dict = dict(archive.state_dict())
        for key in _TORCHSCRIPT_EXTRA_KEYS:
            state_dict.pop(key, None)
    else:
        try:
            obj = torch.load(str(path), map_location="cpu", weights_only=True)
        except Exception as err:
            raise PretrainedWeightsError(
                f"Could not read {path} as a CLIP checkpoint (expected a .safetensors file, an "
                f"OpenAI TorchScript .pt, or a torch.save'd state dict): {err}"
            ) from err
        state_dict = obj.get("state_dict", obj) if isinstance(obj, dict) else obj
    if not isinstance(state_dict, dict) or not all(
        isinstance(v, torch.Tensor) for v in state_dict.values()
    ):
        raise PretrainedWeightsError(f"{path} does not hold a state dict of tensors.")
    if state_dict and all(k.startswith("module.") for k in state_dict):
        state_dict = {k[len("module.") :]: v for k, v in state_dict.items()}
    return state_dict


def _is_torchscript_archive(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        return any(name.endswith("constants.pkl") for name in zf.namelist())


def load_clip_state_dict(
    model: open_clip.CLIP, state_dict: dict[str, torch.Tensor], origin: str = "state dict"
) -> None:
    """Load a full CLIP ``state_dict`` into ``model`` (strict), resizing position embeddings.

    The image position embedding is resampled (bicubic, open_clip's ``resize_pos_embed``) from
    the checkpoint's square grid to ``model.visual.grid_size`` (e.g. 14×14 → 16×8 for ViT-B/16
    at 256×128); the text one is resized if the context length differs.
    """
    state_dict = dict(state_dict)
    scale = state_dict.get("logit_scale")
    if scale is not None and scale.ndim != model.logit_scale.ndim:
        state_dict["logit_scale"] = scale.reshape(model.logit_scale.shape)
    if model.logit_bias is not None and "logit_bias" not in state_dict:
        state_dict["logit_bias"] = torch.zeros_like(model.logit_bias)
    pos = state_dict.get("visual.positional_embedding")
    if pos is not None and pos.shape[0] != model.visual.positional_embedding.shape[0]:
        side = math.isqrt(pos.shape[0] - 1)
        if side * side != pos.shape[0] - 1:
            raise PretrainedWeightsError(
                f"{origin}: its image position embedding has {pos.shape[0] - 1} patch positions, "
                "not a square grid, and differs from the model's grid "
                f"{tuple(model.visual.grid_size)}; only square-grid checkpoints can be resized."
            )
        logger.info(
            "Resizing the position embedding from %dx%d to %s", side, side,
            tuple(model.visual.grid_size),
        )
    resize_pos_embed(state_dict, model)
    resize_text_pos_embed(state_dict, model)
    try:
        missing, unexpected = model.load_state_dict(state_dict, strict=False)
    except RuntimeError as err:  # shape mismatches
        raise PretrainedWeightsError(
            f"{origin} does not fit the CLIP architecture being built: {err}. Check that "
            "rganet.clip_arch names the architecture the checkpoint was trained with."
        ) from err
    if missing or unexpected:
        raise PretrainedWeightsError(
            f"{origin} does not match the CLIP architecture being built "
            f"(missing {len(missing)} keys, e.g. {missing[:5]}; unexpected {len(unexpected)}, "
            f"e.g. {unexpected[:5]}). Check rganet.clip_arch."
        )


def load_clip_weights(model: open_clip.CLIP, arch: str, source: str) -> str:
    """Fill ``model`` from ``source``: a checkpoint path or an open_clip tag for ``arch``.

    Returns the file the weights came from. ``""`` leaves the random initialisation (with a
    warning). A tag is fetched through open_clip's download helpers (Hugging Face cache first);
    when that fails — typically offline — the error says how to get the file and where to
    point ``model.pretrained``.
    """
    if not source:
        logger.warning(
            "model.pretrained is empty: the CLIP encoders of %s start from random weights. "
            "RGANet expects CLIP weights; set model.pretrained to a checkpoint file.", arch
        )
        return ""
    if source in SHIPPED:  # a file inside the package, sha256-checked
        state, _, file = load_shipped(source, arch, model.token_embedding.num_embeddings)
        load_clip_state_dict(model, state, origin=f"{source} ({file})")
        logger.info("Loaded the shipped CLIP weights %s/%s from %s", arch, source, file)
        return str(file)
    path = Path(source).expanduser()
    if path.is_file():
        load_clip_state_dict(model, read_clip_checkpoint(path), origin=str(path))
        logger.info("Loaded CLIP weights for %s from %s", arch, path)
        return str(path)
    tag_cfg = open_clip.get_pretrained_cfg(arch, source)
    if not tag_cfg:
        tags = open_clip.list_pretrained_tags_by_model(arch)
        raise PretrainedWeightsError(
            f"model.pretrained={source!r} is neither an existing file, nor an open_clip "
            f"pretrained tag for {arch}, nor a shipped tag ({', '.join(SHIPPED)}) (nor, before "
            "the model is built, the local tag 'synthocc-parts')"
            + (f" (tags: {', '.join(tags)})." if tags else " (it has no published weights).")
        )
    try:
        file = open_clip.download_pretrained(tag_cfg)
    except Exception as err:
        raise PretrainedWeightsError(offline_tag_message(arch, source, tag_cfg, err)) from err
    if not file:
        raise PretrainedWeightsError(offline_tag_message(arch, source, tag_cfg, None))
    load_clip_state_dict(model, read_clip_checkpoint(file), origin=f"{arch}/{source} ({file})")
    logger.info("Loaded CLIP weights %s/%s from %s", arch, source, file)
    return str(file)


def tag_quick_gelu(arch: str, source: str) -> bool | None:
    """QuickGELU setting the open_clip or shipped tag ``source`` was trained with; None if
    not a tag."""
    if source in SHIPPED:
        return SHIPPED[source].quick_gelu
    if not source or Path(source).expanduser().is_file():
        return None
    cfg = open_clip.get_pretrained_cfg(arch, source)
    return bool(cfg.get("quick_gelu", False)) if cfg else None


def offline_tag_message(arch: str, tag: str, tag_cfg: dict, err: Exception | None) -> str:
    """The actionable error for an open_clip tag whose weights cannot be fetched."""
    offline = os.environ.get("HF_HUB_OFFLINE", "0") not in ("", "0")
    where = []
    if tag_cfg.get("hf_hub"):
        where.append(f"the Hugging Face repo {tag_cfg['hf_hub'].rstrip('/')}")
    if tag_cfg.get("url"):
        where.append(tag_cfg["url"])
    return (
        f"Cannot fetch the open_clip weights {arch} / pretrained={tag!r}"
        + (" (HF_HUB_OFFLINE is set)" if offline else "")
        + (f": {err}" if err else "")
        + ". On a machine with internet access run "
        f"`python -c \"import open_clip; open_clip.create_model('{arch}', pretrained='{tag}')\"` "
        "(the file lands in ~/.cache/huggingface/hub)"
        + (f" or download it from {' or '.join(where)}" if where else "")
        + ", copy the .pt / .bin / .safetensors file here and set model.pretrained to its "
        "path, e.g. `model.pretrained /path/to/ViT-B-16.pt` on the command line or in the "
        "YAML file."
    )
