"""What the feature extractor accepts, turned into uint8 RGB ``(3, H, W)`` tensors.

One image is any of

* a path (``str`` or ``pathlib.Path``): read with :func:`rganet_reid.data.image_io.read_rgb`,
  the reader the datasets use (any mode; an unreadable file is an error naming it);
* a PIL image of any mode (:func:`~rganet_reid.data.image_io.to_rgb`);
* a numpy array, **channel-last RGB(A)** or grayscale: ``(H, W)``, ``(H, W, 1|3|4)``; uint8,
  uint16, bool or float in [0, 1] (:func:`~rganet_reid.data.image_io.array_to_rgb`);
* a uint8 tensor ``(C, H, W)`` with C = 1 (gray), 3 (RGB) or 4 (RGBA).

A batch is a list or tuple of those, a ``(B, H, W, C)`` numpy array or a ``(B, C, H, W)``
uint8 tensor. These are raw images of any size: the extractor resizes and normalises them.

A **float** tensor ``(C, H, W)`` / ``(B, C, H, W)`` is taken as already preprocessed model
input (resized to ``data.height × data.width`` and normalised), as torchreid's
``FeatureExtractor`` takes tensors.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Union

import numpy as np
import torch
from PIL import Image
from torchvision.transforms.v2 import functional as TF

from rganet_reid.data.image_io import array_to_rgb, read_rgb, to_rgb

__all__ = ["ImageInput", "as_preprocessed_batch", "is_preprocessed", "split_batch", "to_uint8_chw"]

ImageInput = Union[str, Path, Image.Image, np.ndarray, torch.Tensor]


def is_preprocessed(inputs) -> bool:
    """Whether ``inputs`` is a float tensor (preprocessed model input, torchreid's convention)."""
    return isinstance(inputs, torch.Tensor) and inputs.is_floating_point()


def split_batch(inputs) -> list[ImageInput]:
    """The single images of ``inputs`` (one image, a list/tuple, a 4-D array or uint8 tensor)."""
    if isinstance(inputs, (list, tuple)):
        items = list(inputs)
        for i, item in enumerate(items):
            if isinstance(item, (list, tuple)):
                raise TypeError(f"inputs[{i}] is a {type(item).__name__}; a batch is a flat list "
                                "of images.")
            if is_preprocessed(item):
                raise TypeError(f"inputs[{i}] is a float tensor (preprocessed input); pass "
                                "preprocessed images as one (B, C, H, W) tensor, not in a list.")
        return items
    if isinstance(inputs, np.ndarray) and inputs.ndim == 4:
        return list(inputs)
    if isinstance(inputs, torch.Tensor) and inputs.dim() == 4:
        return list(inputs)
    return [inputs]


def to_uint8_chw(item: ImageInput, where: str = "image") -> torch.Tensor:
    """One image as a uint8 RGB ``(3, H, W)`` tensor (rules in the module docstring)."""
    if isinstance(item, (str, Path)):
        return TF.pil_to_tensor(read_rgb(item))
    if isinstance(item, Image.Image):
        return TF.pil_to_tensor(to_rgb(item, source=where))
    if isinstance(item, np.ndarray):
        return TF.pil_to_tensor(array_to_rgb(item, source=where))
    if isinstance(item, torch.Tensor):
        return _tensor_to_uint8_chw(item, where)
    raise TypeError(
        f"{where}: unsupported input type {type(item).__name__}; pass a path, a PIL image, a "
        "numpy array (H, W, C) RGB or a uint8 tensor (C, H, W)."
    )


def _tensor_to_uint8_chw(t: torch.Tensor, where: str) -> torch.Tensor:
    if t.dtype != torch.uint8:
        raise TypeError(
            f"{where}: a {t.dtype} tensor inside a batch; raw image tensors are uint8 (C, H, W). "
            "Float tensors are taken as preprocessed model input only as a whole (B, C, H, W) "
            "batch."
        )
    if t.dim() != 3 or t.shape[0] not in (1, 3, 4) or min(t.shape[1:]) == 0:
        raise ValueError(f"{where}: expected a uint8 (C, H, W) tensor with C in 1, 3, 4; got "
                         f"shape {tuple(t.shape)}.")
    t = t.detach().cpu()
    if t.shape[0] == 1:
        return t.expand(3, -1, -1).contiguous()
    return t[:3].contiguous()


def as_preprocessed_batch(t: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """A float tensor of preprocessed input as a ``(B, 3, H, W)`` batch of the model's size."""
    batch = t.unsqueeze(0) if t.dim() == 3 else t
    if batch.dim() != 4 or batch.shape[1] != 3 or tuple(batch.shape[2:]) != tuple(size):
        raise ValueError(
            f"A float tensor is taken as preprocessed model input (torchreid's convention) and "
            f"must be (B, 3, {size[0]}, {size[1]}) or (3, {size[0]}, {size[1]}); got "
            f"{tuple(t.shape)}. Pass raw images as uint8 tensors, numpy arrays, PIL images or "
            "paths to have them resized and normalised."
        )
    return batch
