"""Pseudo part masks on disk: where they live, how they are read and validated.

RGANet's prompt-learning stage trains the learnable context with L_seg (Eq. 3), a pixel
cross-entropy of the region masks S (Eq. 1) against *pseudo part masks*. On a real dataset
those come from an external parser and are stored as:

* **one PNG label map per image**, single channel (8-bit grayscale ``L``, palette ``P`` whose
  indices are the labels, or 16-bit ``I;16`` / ``I``), lossless;
* at the **same relative path** as its image below the dataset folder, under a separate mask
  root, with the suffix replaced by ``.png``: the mask of
  ``<dataset_dir>/bounding_box_train/0002_c1s1_000451_03.jpg`` is
  ``<mask_root>/bounding_box_train/0002_c1s1_000451_03.png`` (``dataset_dir`` is the
  folder holding the split folders, ``dataset.dataset_dir``);
* **labels** ``0..N``: 0 = background / occluder, ``1..N`` the parts in the prototype order
  (``head, upper body, lower body, foot`` for N = 4), so ``num_labels = N + 1``;
* the **same height × width** as its image (the joint transforms resize both together).

:func:`mask_relpath` is the one place this path rule is written (the data manager, SynthOcc's
writer and dataset, and the mask checker all go through it); :mod:`rganet_reid.data.mask_check`
(``tools/check_masks.py``) checks a whole mask folder against a dataset.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePath, PurePosixPath

import numpy as np
from PIL import Image, UnidentifiedImageError

MASK_SUFFIX = ".png"
_LABEL_MODES = ("L", "P", "I;16", "I;16L", "I;16B", "I")


class MaskError(ValueError):
    """A part mask is missing or does not satisfy the documented format.

    ``category`` names the kind of problem in reports (:mod:`rganet_reid.data.mask_check`).
    """

    category = "invalid"


class MaskNotFoundError(MaskError, FileNotFoundError):
    """No mask file at the path the image maps to."""

    category = "missing"


class MaskFormatError(MaskError):
    """The file is not a readable single-channel PNG label map."""

    category = "unreadable"


class MaskSizeError(MaskError):
    """The mask's height × width differs from its image's."""

    category = "mis-sized"


class MaskLabelError(MaskError):
    """The mask holds a label outside ``0..num_labels-1``."""

    category = "out-of-range"


def mask_relpath(image_relpath: str | PurePath) -> PurePosixPath:
    """The mask of an image, relative to the mask root: the image's path relative to the
    dataset folder with the suffix replaced by ``.png`` (``query/0001_c1.jpg`` →
    ``query/0001_c1.png``)."""
    return PurePosixPath(image_relpath).with_suffix(MASK_SUFFIX)


def mask_path_for(
    img_path: str | os.PathLike, dataset_dir: str | os.PathLike, mask_root: str | os.PathLike
) -> Path:
    """The mask path of ``img_path``: :func:`mask_relpath` of its path relative to
    ``dataset_dir``, under ``mask_root``.

    Raises:
        ValueError: ``img_path`` does not lie below ``dataset_dir``.
    """
    img = Path(os.path.abspath(img_path))
    base = Path(os.path.abspath(dataset_dir))
    try:
        rel = img.relative_to(base)
    except ValueError:
        raise ValueError(
            f"Image {img} is not inside the dataset folder {base}; masks mirror the tree "
            "below dataset_dir, so its mask path is undefined."
        ) from None
    return Path(mask_root) / mask_relpath(rel)


def image_hw(path: str | os.PathLike) -> tuple[int, int]:
    """``(height, width)`` of an image, read from its header only."""
    with Image.open(path) as img:
        return img.height, img.width


def read_mask(
    path: str | os.PathLike,
    expected_hw: tuple[int, int] | None = None,
    num_labels: int | None = None,
    ignore_label: int | None = None,
) -> np.ndarray:
    """Read a part-label mask as an ``(H, W)`` ``uint8`` array and validate it.

    Args:
        path: the PNG label map (see the module docstring for the format).
        expected_hw: ``(height, width)`` of the mask's image; checked when given.
        num_labels: number of labels incl. background (N parts + 1); every value must be in
            ``0..num_labels-1`` (or equal ``ignore_label``). Not checked when ``None``.
        ignore_label: a value allowed in addition (e.g. 255 for "unlabelled" pixels that the
            loss ignores via ``ignore_index``).

    Raises:
        MaskNotFoundError: no file at ``path``.
        MaskFormatError: unreadable, not single-channel, or labels above 255.
        MaskSizeError: the size differs from ``expected_hw``.
        MaskLabelError: a label outside the allowed range.
    """
    path = Path(path)
    if not path.is_file():
        raise MaskNotFoundError(f"Part mask not found: {path}")
    try:
        with Image.open(path) as img:
            mode = img.mode
            if mode not in _LABEL_MODES:
                raise MaskFormatError(
                    f"Part mask {path} has mode {mode!r}; expected a single-channel label map "
                    "(PNG mode L, P or I;16 holding label values, not colours)."
                )
            labels = np.array(img)  # a writable copy (torch.from_numpy needs one)
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise MaskFormatError(f"Cannot read part mask {path}: {err}") from err
    if labels.ndim != 2:
        raise MaskFormatError(f"Part mask {path} has shape {labels.shape}; expected (H, W).")
    if expected_hw is not None and tuple(labels.shape) != tuple(expected_hw):
        h, w = labels.shape
        raise MaskSizeError(
            f"Part mask {path} is {h}x{w} (HxW) but its image is "
            f"{expected_hw[0]}x{expected_hw[1]}; masks must have their image's size."
        )
    low, top = (int(labels.min()), int(labels.max())) if labels.size else (0, 0)
    if low < 0 or top > 255:
        raise MaskFormatError(
            f"Part mask {path} holds label {low if low < 0 else top}; labels must be 0..255."
        )
    labels = labels.astype(np.uint8, copy=False)
    if num_labels is not None:
        bad = labels >= num_labels
        if ignore_label is not None:
            bad &= labels != ignore_label
        if bad.any():
            found = sorted(int(v) for v in np.unique(labels[bad]))
            allowed = f"0..{num_labels - 1}" + (
                f" or {ignore_label}" if ignore_label is not None else "")
            raise MaskLabelError(
                f"Part mask {path} holds label(s) {found[:10]}; expected {allowed} "
                f"(num_labels={num_labels}: background + {num_labels - 1} parts)."
            )
    return labels


def write_mask(path: str | os.PathLike, labels: np.ndarray) -> Path:
    """Write an ``(H, W)`` integer label array as an 8-bit PNG label map (parents created)."""
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"labels must be (H, W), got shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() > 255):
        raise ValueError("labels must lie in 0..255 for an 8-bit PNG label map")
    path = Path(path)
    if path.suffix.lower() != MASK_SUFFIX:
        raise ValueError(f"mask files are PNG; got {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(labels.astype(np.uint8)).save(path)
    return path
