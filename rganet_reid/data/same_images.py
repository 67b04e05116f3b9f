"""Whether two lists of dataset items hold the same images, file for file.

Two evaluation protocols of one benchmark may share a gallery under different paths (SynthOcc's
partial and holistic protocols write the same 1172 gallery images into two folders); an
engine that knows this extracts the gallery's features once. Items are torchreid tuples
``(path, pid, camid, ...)``; two lists match when they have the same length and, position by
position, the same pid, the same camid and byte-identical files. File sizes are compared first,
so lists that differ are told apart without reading images.
"""

from __future__ import annotations

import filecmp
import os
from collections.abc import Sequence

__all__ = ["same_images"]


def same_images(a: Sequence[tuple], b: Sequence[tuple]) -> bool:
    """True when ``a`` and ``b`` hold, position by position, the same identity, camera and
    image bytes (the paths may differ)."""
    if len(a) != len(b):
        return False
    if any(x[1] != y[1] or x[2] != y[2] for x, y in zip(a, b)):
        return False
    try:
        if any(os.path.getsize(x[0]) != os.path.getsize(y[0]) for x, y in zip(a, b)):
            return False
        return all(x[0] == y[0] or filecmp.cmp(x[0], y[0], shallow=False)
                   for x, y in zip(a, b))
    except OSError:  # a file vanished: not provably the same; extraction reports the error
        return False
