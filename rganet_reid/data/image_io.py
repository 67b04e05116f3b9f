"""Reading images with an error that names the file (torchreid's reader retries forever)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, UnidentifiedImageError


class ImageReadError(OSError):
    """An image file is missing, truncated or not an image."""


def read_rgb(path: str | Path) -> Image.Image:
    """Open ``path`` as an RGB PIL image, or raise :class:`ImageReadError` naming the file."""
    try:
        with Image.open(path) as img:
            img.load()
            return img.convert("RGB")
    except FileNotFoundError as err:
        raise ImageReadError(f"Image file not found: {path}") from err
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise ImageReadError(
            f"Cannot read image {path}: {err}. The file is corrupt or not an image; "
            "re-extract the dataset or run tools/verify_dataset.py to list every bad file."
        ) from err
