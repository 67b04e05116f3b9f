"""Joint image + part-mask augmentation with ``torchvision.transforms.v2``.

Images are ``tv_tensors.Image`` and part masks ``tv_tensors.Mask``, so resizing uses nearest
neighbour on masks, flips/crops move both together and padding fills the mask with 0
(background). The paper's recipe (IV-B): resize to 256×128, random horizontal flip, pad 10 +
random crop, random erasing. Erased pixels are occluders, so :class:`JointRandomErasing` also
sets their mask label to 0; :class:`JointRandomOcclusion` (``random_occlude``, not in the
paper) pastes a textured occluder and labels it 0 the same way.
"""

from __future__ import annotations

from typing import Any

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2
from yacs.config import CfgNode

KNOWN_TRAIN_TRANSFORMS = ("random_flip", "pad_crop", "random_erase", "color_jitter",
                          "random_occlude")


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


class JointRandomOcclusion(v2.Transform):
    """Paste a textured occluder over the image and label it 0 (occluder) in the part mask.

    Random erasing's flat grey boxes are trivially told from a body; real occluders (a parked
    car, a board, a pole) are textured objects that rise from the bottom edge or stand in
    front as a vertical band, where the body's lower parts or one side would be. With
    probability ``p`` one such object is drawn: a block rising from the bottom that covers a
    ``extent`` fraction of the height and 60–100 % of the width, or (one time in four) a
    full-height band of 20–40 % of the width at a random column. Its texture: a random base
    colour, a second colour in horizontal bands of random period, and per-pixel noise; no
    drawing of SynthOcc's own occluder renderer is used. The part mask under it becomes 0,
    so L_seg (Eq. 3) learns that such pixels belong to no body part.

    Args:
        p: probability of occluding an image.
        extent: (min, max) fraction of the image height a bottom block covers.
    """

    def __init__(self, p: float = 0.5, extent: tuple[float, float] = (0.2, 0.5)) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"data.occlude_prob must be in [0, 1], got {p}")
        lo, hi = (float(v) for v in extent)
        if not 0.0 < lo <= hi <= 1.0:
            raise ValueError(f"data.occlude_extent must be [min, max] with 0 < min <= max <= 1, "
                             f"got {list(extent)}")
        self.p, self.extent = float(p), (lo, hi)

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        if torch.rand(()) >= self.p:
            return {"box": None}
        height, width = v2.query_size(flat_inputs)

        def uniform(lo: float, hi: float) -> float:
            return lo + (hi - lo) * float(torch.rand(()))

        if torch.rand(()) < 0.25:  # a pole / tree / pedestrian-like vertical band
            w = max(1, round(width * uniform(0.2, 0.4)))
            top, h = 0, height
            left = int(torch.randint(0, width - w + 1, ()))
        else:  # a vehicle / board rising from the bottom edge
            h = max(1, round(height * uniform(*self.extent)))
            w = max(1, round(width * uniform(0.6, 1.0)))
            top, left = height - h, int(torch.randint(0, width - w + 1, ()))
        base, stripe = torch.rand(3, 1, 1), torch.rand(3, 1, 1)
        period = int(torch.randint(2, 9, ()))
        bands = ((torch.arange(h) // period) % 2 == 1).view(1, h, 1)
        texture = torch.where(bands, stripe, base).expand(3, h, w)
        texture = (texture + 0.08 * torch.randn(3, h, w)).clamp(0.0, 1.0)
        return {"box": (top, left, h, w), "texture": texture}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if params["box"] is None:
            return inpt
        if not isinstance(inpt, (tv_tensors.Mask, tv_tensors.Image)):
            return inpt
        top, left, h, w = params["box"]
        out = inpt.clone()
        if isinstance(inpt, tv_tensors.Mask):
            out[..., top:top + h, left:left + w] = 0
            return out
        texture = params["texture"]
        if not inpt.is_floating_point():  # uint8 before ToDtype
            texture = (texture * 255).round()
        out[..., top:top + h, left:left + w] = texture.to(inpt.dtype)
        return out


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
    if "random_occlude" in cfg.data.transforms:
        steps.append(JointRandomOcclusion(cfg.data.occlude_prob, tuple(cfg.data.occlude_extent)))
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
