"""Camera scenes and imaging: what differs between SynthOcc cameras and between images.

Each camera (:class:`CameraStyle`) has its own scene - wall colour and texture, ground, clutter -
rendered once as a canvas larger than a crop (:func:`camera_canvas`); every image takes a
random crop of it (:func:`background_crop`). Imaging (:func:`photometric`) applies the
camera's gain, colour cast and vertical light gradient, optional low resolution, Gaussian blur
and noise, each jittered per image (:class:`Photometry`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from rganet_reid.data.synthocc.appearance import RGB
from rganet_reid.data.synthocc.geometry import pixel_grid


@dataclass(frozen=True)
class CameraStyle:
    """Scene and imaging characteristics of one camera."""

    cam: int
    wall: RGB
    ground: RGB
    accent: RGB
    horizon: float  # fraction of the canvas height
    texture: str  # bricks | windows | plain | foliage | glass
    gain: float
    cast: tuple[float, float, float]
    gradient: float  # vertical illumination gradient
    blur: float  # base Gaussian blur sigma (px)
    noise: float  # noise std (0-255 scale)
    lowres: float  # down-scaling factor before re-upscaling (1 = none)
    tex_seed: int


TEXTURES = ("bricks", "windows", "plain", "foliage", "glass")


def sample_camera(rng: np.random.Generator, cam: int) -> CameraStyle:
    """Draw camera ``cam``'s scene (background colours, texture) and imaging parameters."""
    return CameraStyle(
        cam=cam,
        wall=tuple(int(c) for c in rng.integers(60, 200, 3)),
        ground=tuple(int(c) for c in rng.integers(70, 170, 1).repeat(3) + rng.integers(-12, 12,
                                                                                       3)),
        accent=tuple(int(c) for c in rng.integers(20, 235, 3)),
        horizon=float(rng.uniform(0.55, 0.8)),
        texture=TEXTURES[(cam - 1 + int(rng.integers(len(TEXTURES)))) % len(TEXTURES)],
        gain=float(rng.uniform(0.75, 1.2)),
        cast=tuple(float(c) for c in rng.uniform(0.88, 1.12, 3)),
        gradient=float(rng.uniform(-0.3, 0.3)),
        blur=float(rng.uniform(0.0, 0.9)),
        noise=float(rng.uniform(2.0, 7.0)),
        lowres=float(rng.choice([1.0, 0.8, 0.65])),
        tex_seed=int(rng.integers(2**31)),
    )


def camera_canvas(style: CameraStyle, height: int, width: int) -> np.ndarray:
    """The camera's scene, larger than a crop (``1.3 height × 2 width``); float32 RGB."""
    ch, cw = int(round(1.3 * height)), 2 * width
    tex = np.random.default_rng(style.tex_seed)
    X, Y = pixel_grid(ch, cw)
    wall = np.asarray(style.wall, np.float32)
    img = np.broadcast_to(wall, (ch, cw, 3)).copy()
    hy = style.horizon * ch
    if style.texture == "bricks":
        row = np.floor(Y / 6.0)
        bx = np.floor((X + 6.0 * (row % 2)) / 13.0)
        jitter = tex.uniform(0.85, 1.1, size=(int(row.max()) + 2, int(bx.max()) + 2))
        img *= jitter[row.astype(int), bx.astype(int)][..., None]
        mortar = (np.mod(Y, 6.0) < 1.0) | (np.mod(X + 6.0 * (row % 2), 13.0) < 1.0)
        img[mortar] = wall * 1.25
    elif style.texture == "windows":
        win = (np.mod(X, 24.0) > 5) & (np.mod(X, 24.0) < 19) & (np.mod(Y, 30.0) > 6) & (
            np.mod(Y, 30.0) < 24)
        img[win] = np.asarray((50, 60, 75), np.float32) + 25 * (np.mod(X + Y, 11) < 2)[win][:,
                                                                                          None]
    elif style.texture == "foliage":
        for _ in range(40):
            bx, by, r = tex.uniform(0, cw), tex.uniform(0, hy), tex.uniform(5, 14)
            leaf = ((X - bx) ** 2 + (Y - by) ** 2) <= r * r
            img[leaf] = np.asarray((40, 110, 45), np.float32) * tex.uniform(0.6, 1.2)
    elif style.texture == "glass":
        pane = np.mod(X, 20.0) > 2
        img[pane] = (np.asarray((150, 170, 180), np.float32)
                     * (0.85 + 0.15 * (np.mod(X + 2 * Y, 17.0) < 4)[pane][:, None]))
    else:
        img *= (0.9 + 0.2 * Y / ch)[..., None]
    # clutter on the wall: doors / posters / bins near the horizon
    for _ in range(3):
        x0, w_ = tex.uniform(0, cw), tex.uniform(6, 20)
        h_ = tex.uniform(10, 35)
        box = (X >= x0) & (X <= x0 + w_) & (Y >= hy - h_) & (Y <= hy)
        img[box] = np.asarray(style.accent, np.float32) * tex.uniform(0.6, 1.1)
    ground = Y >= hy
    g = np.asarray(style.ground, np.float32)
    depth = np.clip((Y - hy) / max(ch - hy, 1.0), 0, 1)
    img[ground] = (g * (0.85 + 0.3 * depth[..., None]))[ground]
    lines = ground & (np.mod(np.sqrt(np.maximum(Y - hy, 0)) * 4.0, 3.0) < 0.35)
    img[lines] *= 0.8
    img[np.abs(Y - hy) < 1.0] = g * 0.6  # kerb
    return img


def background_crop(canvas: np.ndarray, fy: float, fx: float, height: int, width: int,
                    keep: float = 1.0) -> np.ndarray:
    """Crop at relative offset ``(fy, fx)`` in [0, 1); a partial view stretches the top part."""
    ch, cw = canvas.shape[:2]
    oy = int(fy * (ch - height + 1))
    ox = int(fx * (cw - width + 1))
    crop = canvas[oy:oy + height, ox:ox + width]
    if keep < 1.0:
        hk = max(1, int(round(height * keep)))
        crop = cv2.resize(np.ascontiguousarray(crop[:hk]), (width, height),
                          interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(crop, dtype=np.float32)



@dataclass(frozen=True)
class Photometry:
    """Per-image imaging draws (combined with the camera's :class:`CameraStyle`)."""

    gain: float
    cast: tuple[float, float, float]
    blur: float
    noise_scale: float
    noise_seed: int


def sample_photometry(rng: np.random.Generator) -> Photometry:
    return Photometry(
        gain=float(rng.uniform(0.85, 1.15)),
        cast=tuple(float(c) for c in 1.0 + rng.normal(0.0, 0.025, 3)),
        blur=float(rng.uniform(0.0, 0.5)),
        noise_scale=float(rng.uniform(0.7, 1.3)),
        noise_seed=int(rng.integers(2**31)),
    )


def photometric(rgb: np.ndarray, style: CameraStyle, ph: Photometry) -> np.ndarray:
    """Camera illumination, colour cast, light gradient, low resolution, blur and noise."""
    height, width = rgb.shape[:2]
    grad = 1.0 + style.gradient * ((np.arange(height, dtype=np.float32) + 0.5) / height - 0.5)
    gain = np.asarray(style.cast, np.float32) * np.asarray(ph.cast, np.float32) * (
        style.gain * ph.gain)
    img = rgb * gain[None, None, :] * grad[:, None, None]
    if style.lowres < 1.0:
        small = (max(1, int(round(width * style.lowres))), max(1, int(round(height
                                                                             * style.lowres))))
        img = cv2.resize(cv2.resize(img, small, interpolation=cv2.INTER_AREA), (width, height),
                         interpolation=cv2.INTER_LINEAR)
    sigma = style.blur + ph.blur
    if sigma >= 0.35:
        img = cv2.GaussianBlur(img, (0, 0), sigmaX=sigma, sigmaY=sigma)
    noise = np.random.default_rng(ph.noise_seed).normal(0.0, style.noise * ph.noise_scale,
                                                        img.shape)
    return np.clip(np.rint(img + noise), 0, 255).astype(np.uint8)
