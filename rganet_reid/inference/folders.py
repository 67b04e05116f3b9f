"""Folders of person crops: listing their images, and identities from Market-style names."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path

from rganet_reid.data.datasets.layout import IMAGE_SUFFIXES, QUIET_SKIP_NAMES, is_image

__all__ = ["NoImagesError", "identity_of", "list_images"]

logger = logging.getLogger(__name__)

#: ``<pid>_c<camera>…`` — Market-1501 (``0002_c1s1_000451_03.jpg``, junk ``-1_…``),
#: DukeMTMC / Occluded-Duke (``0001_c2_f0046182.jpg``) and SynthOcc names.
MARKET_STYLE = re.compile(r"^(-1|\d+)_c(\d+)")


class NoImagesError(ValueError):
    """A folder (tree) holds no image file."""


def identity_of(path: str | Path) -> tuple[int, int] | None:
    """``(pid, camid)`` of a Market-style file name (camid 0-based, like torchreid's), or
    ``None`` when the name carries no identity."""
    m = MARKET_STYLE.match(Path(path).name)
    return (int(m.group(1)), int(m.group(2)) - 1) if m else None


def list_images(*folders: str | Path, recursive: bool = True) -> list[Path]:
    """Image files under ``folders`` (suffixes ``IMAGE_SUFFIXES``), sorted, each folder's
    tree in turn. Other files are skipped and counted in the log; a folder that does not
    exist or holds no image is a :class:`NoImagesError` naming it."""
    images: list[Path] = []
    for folder in folders:
        folder = Path(folder).expanduser()
        if not folder.is_dir():
            raise NoImagesError(f"Image folder not found: {folder}")
        found, others = _scan(folder, recursive)
        if not found:
            shown = ", ".join(p.name for p in others[:5]) + (" ..." if len(others) > 5 else "")
            raise NoImagesError(
                f"{folder} holds no image ({'searched recursively; ' if recursive else ''}"
                f"image suffixes: {', '.join(sorted(IMAGE_SUFFIXES))})"
                + (f"; it has {len(others)} other file(s): {shown}" if others else
                   "; it is empty") + "."
            )
        loud = [p for p in others if p.name.lower() not in QUIET_SKIP_NAMES]
        if loud:
            logger.info("%s: skipped %d non-image file(s), e.g. %s", folder, len(loud),
                        ", ".join(p.name for p in loud[:3]))
        images.extend(found)
    return images


def _scan(folder: Path, recursive: bool) -> tuple[list[Path], list[Path]]:
    found: list[Path] = []
    others: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        if not recursive:
            dirnames.clear()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            (found if is_image(path) else others).append(path)
    return found, others


def unique_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Absolute paths in first-seen order, without repeats."""
    seen: dict[Path, None] = {}
    for p in paths:
        seen.setdefault(Path(p).expanduser().resolve(), None)
    return list(seen)
