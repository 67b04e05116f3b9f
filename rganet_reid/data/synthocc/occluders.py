"""Occluders of SynthOcc: vehicles and boards from below, poles from the side, another
pedestrian in front; drawn with exact coverage and fitted to a target hidden-body fraction."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from rganet_reid.data.synthocc.appearance import RGB, Identity
from rganet_reid.data.synthocc.person import (
    Pose,
    render_person,
)

OCCLUDER_KINDS = ("vehicle", "board", "pole", "pedestrian")


# --------------------------------------------------------------------------- occluders
@dataclass(frozen=True)
class Occluder:
    """One occluding object in crop pixel coordinates.

    * ``vehicle`` (style car | van) and ``board`` (style sign | fence | barrier) rise from the
      bottom: rows ``y >= top`` within ``[x0, x1]``;
    * ``pole`` (style metal | tree): the vertical band ``|x - xc| <= half_width``;
    * ``pedestrian``: another identity ``other`` drawn with pose ``other_pose`` in front.
    """

    kind: str
    style: str = ""
    color: RGB = (128, 128, 128)
    color2: RGB = (60, 60, 60)
    top: float = 0.0
    x0: float = -1e3
    x1: float = 1e3
    xc: float = 0.0
    half_width: float = 0.0
    wheel_x: float = -1e3
    tex_seed: int = 0
    other: Identity | None = field(default=None, compare=False)
    other_pose: Pose | None = None

    def describe(self) -> dict:
        """Small JSON-friendly summary (kind, style, colour) for the manifest."""
        return {"kind": self.kind, "style": self.style, "color": list(self.color)}


def _occluder_cover(occ: Occluder, X: np.ndarray, Y: np.ndarray, height: int,
                    width: int) -> np.ndarray:
    """Boolean mask of the pixels ``occ`` hides."""
    if occ.kind == "pole":
        return np.abs(X - occ.xc) <= occ.half_width
    if occ.kind == "pedestrian":
        return render_person(occ.other, occ.other_pose, X, Y, height, width)[1] > 0
    region = (Y >= occ.top) & (X >= occ.x0) & (X <= occ.x1)
    if occ.kind == "vehicle":
        r = min(12.0, 0.3 * (height - occ.top))  # rounded corners at the vehicle's ends
        for end, sign in ((occ.x0, 1.0), (occ.x1, -1.0)):
            ccx, ccy = end + sign * r, occ.top + r
            corner = ((X - end) * sign < r) & (Y < ccy)
            region &= ~corner | (((X - ccx) ** 2 + (Y - ccy) ** 2) <= r * r)
        return region
    if occ.style == "fence":
        period = 7.0
        slats = np.mod(X - occ.x0, period) < 4.5
        mid_rail = occ.top + 0.6 * (height - occ.top)
        rails = (np.abs(Y - (occ.top + 4)) <= 1.5) | (np.abs(Y - mid_rail) <= 1.5)
        return region & (slats | rails)
    return region


def draw_occluder(occ: Occluder, X: np.ndarray, Y: np.ndarray, height: int,
                  width: int) -> tuple[np.ndarray, np.ndarray]:
    """Colour and cover of one occluder: ``(rgb float32 HxWx3, cover bool HxW)``."""
    if occ.kind == "pedestrian":
        rgb, label = render_person(occ.other, occ.other_pose, X, Y, height, width)
        return rgb, label > 0
    cover = _occluder_cover(occ, X, Y, height, width)
    c1 = np.asarray(occ.color, np.float32)
    c2 = np.asarray(occ.color2, np.float32)
    rgb = np.broadcast_to(c1, (*X.shape, 3)).copy()
    tex = np.random.default_rng(occ.tex_seed)
    if occ.kind == "pole":
        f = np.clip(np.abs(X - occ.xc) / max(occ.half_width, 1e-3), 0, 1)
        light = 1.05 - 0.45 * f**2 + 0.25 * np.exp(-((X - occ.xc + 0.35 * occ.half_width)
                                                     / (0.2 * occ.half_width + 0.5)) ** 2)
        if occ.style == "tree":
            bark = tex.uniform(0.75, 1.1, size=width + 2).astype(np.float32)
            light = light * bark[np.clip(np.floor(X).astype(int), 0, width + 1)]
        rgb *= light[..., None]
    elif occ.kind == "vehicle":
        h = height - occ.top
        v = np.clip((Y - occ.top) / max(h, 1.0), 0, 1)
        light = 1.15 - 0.45 * v
        rgb *= light[..., None]
        if occ.style == "car":  # glass band with reflections above the body
            glass = v < 0.3
            refl = 1.0 + 0.35 * ((np.floor((X + 1.5 * Y) / 9.0) % 3) == 0)
            rgb[glass] = (np.asarray((55, 68, 82), np.float32) * refl[..., None])[glass]
            pillar = glass & (np.abs(X - (occ.wheel_x + 0.5 * h)) <= 2.0)
            rgb[pillar] = c1 * 0.7
        else:  # van: a stripe in the second colour
            rgb[np.abs(v - 0.35) < 0.06] = c2
        door = np.abs(v - 0.62) < 0.5 / max(h, 1.0) * 2
        rgb[door] *= 0.55
        wr = 0.42 * h
        wheel = (X - occ.wheel_x) ** 2 + (Y - (height + 0.12 * h)) ** 2
        rgb[wheel <= wr * wr] = (25, 25, 28)
        rgb[wheel <= (0.5 * wr) ** 2] = (150, 150, 155)
    elif occ.kind == "board":
        if occ.style == "barrier":
            stripes = (np.floor((X + Y) / 6.0) % 2) == 1
            rgb[stripes] = c2
        elif occ.style == "fence":
            rgb *= (1.0 - 0.25 * (np.mod(X - occ.x0, 7.0) / 4.5))[..., None]
        else:  # sign: border and rows of "text" glyphs
            border = (Y - occ.top < 2) | (X - occ.x0 < 2) | (occ.x1 - X < 2)
            rgb[border] = c2
            for row in range(4):
                gy = occ.top + 6 + row * 7
                for _ in range(int(tex.integers(2, 6))):
                    gx = float(tex.uniform(0, width))
                    gw = float(tex.uniform(3, 10))
                    glyph = (np.abs(Y - gy) <= 1.5) & (X >= gx) & (X <= gx + gw)
                    rgb[glyph] = c2
    return rgb, cover


def _hidden(cover: np.ndarray, body: np.ndarray, body_px: int) -> float:
    return float((cover & body).sum()) / max(body_px, 1)


def _fit_top(occ: Occluder, target: float, body, body_px, X, Y, height, width) -> Occluder:
    """Lowest ``top`` (largest y) whose occluder still hides at least ``target`` of the body."""
    lo, hi = 0, height  # hidden(top=lo) >= hidden(top=hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _hidden(_occluder_cover(replace(occ, top=float(mid)), X, Y, height, width),
                   body, body_px) >= target:
            lo = mid
        else:
            hi = mid
    return replace(occ, top=float(lo))


def fit_occluder(occ: Occluder, target: float, body: np.ndarray, X, Y, height: int,
                 width: int) -> Occluder:
    """Move a from-below occluder's top edge so it hides about ``target`` of the body pixels.

    Used to keep a *consistent* occluder (same object, colour and side) across images of one
    identity while the person's pose changes.
    """
    return _fit_top(occ, target, body, int(body.sum()), X, Y, height, width)


def sample_occluder(rng: np.random.Generator, body: np.ndarray, X: np.ndarray, Y: np.ndarray,
                    height: int, width: int, hidden_range: tuple[float, float],
                    others: list[Identity], kind: str | None = None) -> Occluder:
    """Draw an occluder hiding a fraction of ``body`` inside ``hidden_range``.

    ``kind`` forces the kind; otherwise vehicle 30 %, board 30 %, pole 15 %, pedestrian 25 %.
    Placement is fitted to the person's silhouette (top edge / pole position), so every
    occluded image is occluded for real; a pedestrian that does not land in range after a few
    tries falls back to a board.
    """
    lo, hi = hidden_range
    body_px = int(body.sum())
    target = float(rng.uniform(lo, hi))
    if kind is None:
        kind = OCCLUDER_KINDS[int(rng.choice(4, p=[0.3, 0.3, 0.15, 0.25]))]
    tex_seed = int(rng.integers(2**31))
    if kind == "pedestrian" and others:
        other = others[int(rng.integers(len(others)))]
        for _ in range(8):
            side = 1 if rng.random() < 0.5 else -1
            pose = Pose(dx=float(side * rng.uniform(0.3, 0.75) * width),
                        dy=float(rng.uniform(2.0, 14.0)), scale=float(rng.uniform(1.05, 1.25)),
                        flip=bool(rng.random() < 0.5), phase=float(rng.uniform(-1, 1)),
                        view="front" if rng.random() < 0.5 else "back")
            occ = Occluder(kind="pedestrian", other=other, other_pose=pose, tex_seed=tex_seed)
            h = _hidden(_occluder_cover(occ, X, Y, height, width), body, body_px)
            if lo <= h <= hi:
                return occ
        kind = "board"
    if kind == "pole":
        cols = body.sum(axis=0).astype(np.float64)
        style = "tree" if rng.random() < 0.4 else "metal"
        color = (110, 80, 55) if style == "tree" else tuple(int(c) for c in rng.integers(90, 200,
                                                                                         3))
        hw = float(rng.uniform(3.0, 7.0))
        for _ in range(4):
            centres = np.arange(0.5, width, 0.5)
            xs = np.arange(width) + 0.5
            covered = np.abs(xs[None, :] - centres[:, None]) <= hw
            hidden = covered.astype(np.float64) @ cols / max(body_px, 1)
            ok = np.flatnonzero((hidden >= lo) & (hidden <= hi))
            if ok.size:
                near = ok[np.abs(hidden[ok] - target) <= 0.08]
                pick = near if near.size else ok
                xc = float(centres[pick[int(rng.integers(pick.size))]])
                return Occluder(kind="pole", style=style, color=color, xc=xc, half_width=hw,
                                tex_seed=tex_seed)
            hw *= 1.5
        kind = "board"
    color = tuple(int(c) for c in rng.integers(30, 235, 3))
    color2 = tuple(int(c) for c in rng.integers(0, 255, 3))
    if kind == "vehicle":
        style = "car" if rng.random() < 0.7 else "van"
        left = rng.random() < 0.5
        end = float(rng.uniform(-20, width + 20))
        x0, x1 = (end, 1e3) if left else (-1e3, end)
        # a vehicle ending inside the crop must still cover the body: keep it wide.
        if left:
            x0 = min(x0, width * 0.35)
        else:
            x1 = max(x1, width * 0.65)
        occ = Occluder(kind="vehicle", style=style, color=color, color2=color2, x0=x0, x1=x1,
                       wheel_x=float(rng.uniform(-10, width + 10)), tex_seed=tex_seed)
    else:
        style = ("sign", "fence", "barrier")[int(rng.integers(3))]
        if style == "barrier":
            color, color2 = ((220, 60, 40), (235, 235, 230)) if rng.random() < 0.5 else (
                (230, 200, 40), (30, 30, 30))
        elif style == "fence":
            color = tuple(int(c) for c in rng.integers(80, 170, 3))
        if rng.random() < 0.5:
            x0, x1 = -1e3, 1e3
        elif rng.random() < 0.5:
            x0, x1 = float(rng.uniform(0, width * 0.3)), 1e3
        else:
            x0, x1 = -1e3, float(rng.uniform(width * 0.7, width))
        occ = Occluder(kind="board", style=style, color=color, color2=color2, x0=x0, x1=x1,
                       tex_seed=tex_seed)
    occ = _fit_top(occ, target, body, body_px, X, Y, height, width)
    if occ.style == "fence" and occ.top < 0.4 * height:
        # a fence tall enough to reach the chest looks wrong: make it a solid sign instead
        occ = _fit_top(replace(occ, style="sign"), target, body, body_px, X, Y, height, width)
    if _hidden(_occluder_cover(occ, X, Y, height, width), body, body_px) < lo:
        occ = _fit_top(replace(occ, x0=-1e3, x1=1e3), target, body, body_px, X, Y, height, width)
    return occ
