"""Joint image + part-mask augmentation with ``torchvision.transforms.v2``.

Images are ``tv_tensors.Image`` and part masks ``tv_tensors.Mask``, so resizing uses nearest
neighbour on masks, flips/crops move both together and padding fills the mask with 0
(background). The paper's recipe (IV-B): resize to 256×128, random horizontal flip, pad 10 +
random crop, random erasing. Erased pixels are occluders, so :class:`JointRandomErasing` also
sets their mask label to 0.
"""

from __future__ import annotations

from typing import Any

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2
from yacs.config import CfgNode

KNOWN_TRAIN_TRANSFORMS = ("random_flip", "pad_crop", "random_erase", "color_jitter")


class JointRandomErasing(v2.RandomErasing):
    """``v2.RandomErasing`` that also labels the erased box 0 (occluder) in the part mask."""

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if isinstance(inpt, tv_tensors.Mask):
            if params["v"] is None:
                return inpt
            out = inpt.clone()
            i, j, h, w = params["i"], params["j"], params["h"], params["w"]
            out[..., i : i + h, j : j + w] = 0
            return out
        return super().transform(inpt, params)


def build_train_transform(cfg: CfgNode) -> v2.Compose:
    """Training transform from ``cfg.data`` (``transforms``, ``pad``, ``erase_prob``, size)."""
    unknown = [t for t in cfg.data.transforms if t not in KNOWN_TRAIN_TRANSFORMS]
    if unknown:
        raise ValueError(
            f"Unknown data.transforms {unknown}; valid names: {', '.join(KNOWN_TRAIN_TRANSFORMS)}"
        )
    size = (cfg.data.height, cfg.data.width)
    steps: list[Any] = [v2.Resize(size, antialias=True)]
    if "random_flip" in cfg.data.transforms:
        steps.append(v2.RandomHorizontalFlip(p=0.5))
    if "pad_crop" in cfg.data.transforms:
        steps += [v2.Pad(cfg.data.pad, fill=0), v2.RandomCrop(size)]
    if "color_jitter" in cfg.data.transforms:
        steps.append(v2.ColorJitter(brightness=0.2, contrast=0.15, saturation=0, hue=0))
    steps += build_input_normalize(cfg).transforms
    if "random_erase" in cfg.data.transforms:
        steps.append(JointRandomErasing(p=cfg.data.erase_prob, value=0))
    return v2.Compose(steps)


def build_test_transform(cfg: CfgNode) -> v2.Compose:
    """Evaluation transform: :func:`build_test_resize` then :func:`build_input_normalize`."""
    return v2.Compose([build_test_resize(cfg), *build_input_normalize(cfg).transforms])


def build_test_resize(cfg: CfgNode) -> v2.Resize:
    """The evaluation resize to ``data.height × data.width`` (uint8 in, uint8 out).

    The inference backends (PyTorch and ONNX) resize with it on the host, then normalise
    with :func:`build_input_normalize` (in the exported ONNX graph for the ONNX backend).
    """
    return v2.Resize((cfg.data.height, cfg.data.width), antialias=True)


def build_input_normalize(cfg: CfgNode) -> v2.Compose:
    """uint8 RGB → float32 in [0, 1] → ``(x − data.norm_mean) / data.norm_std``."""
    return v2.Compose([
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize(mean=cfg.data.norm_mean, std=cfg.data.norm_std),
    ])
