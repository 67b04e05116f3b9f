"""Reading images, for training and inference alike, with an error that names the file.

One conversion rule for every source (a file, a PIL image, a numpy array), so a model sees the
same pixels whether an image reaches it through a dataset, the feature extractor or a check
(:func:`check_image`: ``tools/verify_dataset.py`` and the pre-flight scan of a run):

* 8-bit modes (``1``, ``L``, ``P``, ``LA``, ``PA``, ``RGBA``, ``CMYK``, ``YCbCr``, ``LAB``,
  ``HSV`` …) go through PIL's ``convert("RGB")`` (alpha is dropped, the colour under it kept,
  as torchreid does);
* 16-bit images (``I;16*`` modes, and 32-bit ``I`` images, taken as 16-bit data) are scaled to
  8 bits by ``round(v / 257)`` — PIL's own conversion clips every value above 255 to white;
* floating-point images (``F`` mode, float arrays) are taken as ``[0, 1]`` and scaled by 255;
* a file's EXIF orientation is applied (the image as a viewer shows it); a multi-frame file
  (GIF, TIFF stack) gives its first frame.

A mode PIL cannot convert (e.g. ``La``), a 32-bit value outside ``0..65535`` or a float outside
``[0, 1]`` is refused by name (:class:`ImageReadError`), never guessed.

Numpy arrays are **RGB(A), channel-last** (``H×W``, ``H×W×1``, ``H×W×3`` or ``H×W×4``), of
dtype uint8, uint16 (16-bit), bool or float in ``[0, 1]``. OpenCV's ``imread`` gives BGR:
convert with ``img[..., ::-1]`` first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["ImageReadError", "array_to_rgb", "check_image", "read_rgb", "to_rgb"]

_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
_EXIF_ORIENTATION = 0x0112
_TRANSPOSED = (5, 6, 7, 8)  # EXIF orientations that swap height and width
#: JPEG draft decoding for :func:`check_image`: at most this many pixels on the long side.
_CHECK_DRAFT_SIDE = 32


class ImageReadError(OSError):
    """An image file is missing, truncated or not an image, or an image cannot become RGB."""


@contextmanager
def _opened(path: str | Path) -> Iterator[Image.Image]:
    """``Image.open(path)`` whose every failure is an :class:`ImageReadError` naming the file."""
    try:
        with Image.open(path) as img:
            yield img
    except FileNotFoundError as err:
        raise ImageReadError(f"Image file not found: {path}") from err
    except ImageReadError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
            Image.DecompressionBombError) as err:
        raise ImageReadError(
            f"Cannot read image {path}: {err}. The file is corrupt or not an image; "
            "re-extract the dataset or run tools/verify_dataset.py to list every bad file."
        ) from err


def read_rgb(path: str | Path) -> Image.Image:
    """Open ``path`` as an 8-bit RGB PIL image (rules in the module docstring), or raise
    :class:`ImageReadError` naming the file."""
    with _opened(path) as img:
        img.load()
        if img.getexif().get(_EXIF_ORIENTATION, 1) != 1:
            img = ImageOps.exif_transpose(img)
        return to_rgb(img, source=str(path))


def check_image(path: str | Path) -> tuple[int, int]:
    """Decode ``path`` as :func:`read_rgb` would, fast (a JPEG at a fraction of its size), and
    return the ``(height, width)`` :func:`read_rgb` gives; :class:`ImageReadError` otherwise.

    Every byte of the compressed data is still decoded, so a truncated or corrupt file fails
    here as it would in training, and the mode goes through the same conversion rule.
    """
    with _opened(path) as img:
        width, height = img.size
        orientation = img.getexif().get(_EXIF_ORIENTATION, 1)
        if img.format == "JPEG":
            scale = max(1, max(width, height) // _CHECK_DRAFT_SIDE)
            img.draft(img.mode, (max(1, width // scale), max(1, height // scale)))
        img.load()
        to_rgb(img, source=str(path))
    return (width, height) if orientation in _TRANSPOSED else (height, width)


def to_rgb(img: Image.Image, source: str = "image") -> Image.Image:
    """``img`` as an 8-bit RGB PIL image: 16-bit and float images are scaled, every other mode
    goes through ``convert("RGB")``. ``source`` names the image in errors."""
    if img.mode == "RGB":
        return img.copy()
    if img.mode in _SIXTEEN_BIT_MODES or img.mode == "F":
        try:
            return array_to_rgb(np.asarray(img), source=f"{source} (mode {img.mode})")
        except ValueError as err:
            raise ImageReadError(str(err)) from err
    try:
        return img.convert("RGB")
    except ValueError as err:
        raise ImageReadError(f"{source}: PIL cannot convert mode {img.mode!r} to RGB ({err}); "
                             "save the image as 8-bit RGB or grayscale.") from err


def array_to_rgb(array: np.ndarray, source: str = "array") -> Image.Image:
    """A channel-last RGB(A) or grayscale numpy image as an 8-bit RGB PIL image.

    Accepted: ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` (RGB), ``(H, W, 4)`` (RGBA, alpha
    dropped); dtype uint8, uint16 / 32-bit int (16-bit data, ``round(v / 257)``), bool, or
    float in ``[0, 1]`` (× 255). Anything else is a ``ValueError`` saying what was expected.
    """
    arr = np.asarray(array)
    if arr.ndim == 3 and arr.shape[0] in (1, 3, 4) and arr.shape[2] not in (1, 3, 4):
        raise ValueError(
            f"{source}: shape {arr.shape} looks channel-first; numpy images are channel-last "
            "(H, W, C) RGB — pass array.transpose(1, 2, 0)."
        )
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ValueError(
            f"{source}: expected an (H, W), (H, W, 1), (H, W, 3) RGB or (H, W, 4) RGBA image, "
            f"got shape {arr.shape}."
        )
    if min(arr.shape[:2]) == 0:
        raise ValueError(f"{source}: the image is empty (shape {arr.shape}).")
    arr = _to_uint8(arr, source)
    if arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[..., :3]
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    return Image.fromarray(np.ascontiguousarray(arr))


def _to_uint8(arr: np.ndarray, source: str) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255
    if arr.dtype.kind in "iu":
        if arr.min() < 0 or arr.max() > 65535:
            raise ValueError(
                f"{source}: integer pixel values must lie in 0..65535 (16-bit); got "
                f"{arr.min()}..{arr.max()}."
            )
        return np.rint(arr.astype(np.float64) / 257.0).astype(np.uint8)
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise ValueError(f"{source}: the image holds NaN or inf values.")
        lo, hi = float(arr.min()), float(arr.max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(
                f"{source}: float images must lie in [0, 1]; got {lo:g}..{hi:g}. Pass uint8 "
                "for 0..255 data."
            )
        return np.rint(arr.astype(np.float64) * 255.0).astype(np.uint8)
    raise ValueError(f"{source}: unsupported pixel dtype {arr.dtype}; use uint8.")
