"""Pixel grid and analytic shape primitives shared by the SynthOcc drawing modules.

Shapes are boolean masks evaluated at pixel centres, so a pixel is either fully inside a shape
or not: the colour image and the part-label mask are built from the very same masks.
"""

from __future__ import annotations

import numpy as np


def pixel_grid(height: int, width: int, keep: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates ``(X, Y)`` (float32, shape ``(height, width)``).

    ``keep < 1`` maps the output rows onto the top ``keep`` fraction of the crop (a partial
    view stretched back to ``height`` rows).
    """
    ys = (np.arange(height, dtype=np.float32) + 0.5) * np.float32(keep)
    xs = np.arange(width, dtype=np.float32) + 0.5
    X, Y = np.meshgrid(xs, ys)
    return X, Y


def ellipse(X, Y, cx, cy, rx, ry):
    return ((X - cx) / rx) ** 2 + ((Y - cy) / ry) ** 2 <= 1.0


def trapezoid(X, Y, cx, y0, y1, hw0, hw1):
    """Vertical trapezoid centred on ``cx``: half-width ``hw0`` at ``y0`` to ``hw1`` at ``y1``."""
    t = (Y - y0) / (y1 - y0)
    return (t >= 0) & (t <= 1) & (np.abs(X - cx) <= hw0 + (hw1 - hw0) * t)


def segment(X, Y, p0, p1, r0, r1):
    """Tapered capsule from ``p0`` (radius ``r0``) to ``p1`` (radius ``r1``).

    Returns ``(inside, t, d)``: the mask, the position along the segment (0..1) and the
    distance to the axis (for shading).
    """
    vx, vy = p1[0] - p0[0], p1[1] - p0[1]
    t = np.clip(((X - p0[0]) * vx + (Y - p0[1]) * vy) / (vx * vx + vy * vy), 0.0, 1.0)
    d = np.hypot(X - (p0[0] + t * vx), Y - (p0[1] + t * vy))
    r = r0 + (r1 - r0) * t
    return d <= r, t, d / r


def shade(frac, strength):
    """Cylinder-like shading factor from a normalised distance to the axis (0 centre, 1 edge)."""
    return 1.0 - strength * np.clip(frac, 0.0, 1.0) ** 2
