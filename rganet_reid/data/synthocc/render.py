"""Drawing SynthOcc images: pedestrian, occluders, camera scene and photometry.

Everything is evaluated analytically on the pixel-centre grid, so the part-label mask is exact:
each pixel takes the colour *and* the label of the top-most primitive covering it.

Labels (:data:`PART_NAMES`): 0 background / occluder, 1 head (face, hair, hat, neck),
2 upper body (shirt, arms, hands, bag), 3 lower body (trousers / skirt, legs), 4 feet (shoes).
A body pixel hidden by an occluder is labelled 0.

Pipeline of one image (:func:`render_capture`):

1. pose (:func:`sample_pose`) and background crop of the camera's scene canvas;
2. :func:`compose`: background, then the person (:func:`render_person`), then occluders
   (:func:`draw_occluder`) on top - colours and labels together;
3. :func:`photometric`: camera illumination / colour cast / vertical light gradient,
   low resolution, Gaussian blur and noise (image only; the mask is unchanged).

A *partial* view (Partial-REID-style query) keeps the top ``keep`` fraction of the crop and
stretches it back to the full height; it is rendered directly on a stretched grid
(``Y = (y + 0.5) * keep``), so its mask is as exact as the full view's.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from rganet_reid.data.synthocc.appearance import RGB, Identity
from rganet_reid.data.synthocc.camera import (
    CameraStyle,
    Photometry,
    background_crop,
    photometric,
    sample_photometry,
)
from rganet_reid.data.synthocc.geometry import ellipse, pixel_grid, segment, shade, trapezoid

PART_NAMES = ("background", "head", "upper_body", "lower_body", "feet")
HEAD, UPPER, LOWER, FEET = 1, 2, 3, 4

OCCLUDER_KINDS = ("vehicle", "board", "pole", "pedestrian")
# Person height as a fraction of the crop height (before identity / pose factors).
BASE_HEIGHT = 0.86


class _Canvas:
    """Painter's-algorithm canvas holding colour and part label together."""

    def __init__(self, shape: tuple[int, int]):
        self.rgb = np.zeros((*shape, 3), dtype=np.float32)
        self.label = np.zeros(shape, dtype=np.uint8)

    def fill(self, m, color, label: int, shading=None, color_map=None) -> None:
        """Paint pixels ``m`` with ``color`` (or per-pixel ``color_map``) and ``label``."""
        if not m.any():
            return
        col = color_map[m] if color_map is not None else np.asarray(color, np.float32)
        if shading is not None:
            col = col * shading[m][:, None]
        self.rgb[m] = col
        self.label[m] = label


# --------------------------------------------------------------------------- pose
@dataclass(frozen=True)
class Pose:
    """Per-image jitter of a pedestrian (pixels for shifts, factors otherwise)."""

    dx: float = 0.0
    dy: float = 0.0
    scale: float = 1.0
    flip: bool = False
    phase: float = 0.0  # leg / arm phase in [-1, 1]; > 0 legs apart
    view: str = "front"  # front | back


def sample_pose(rng: np.random.Generator) -> Pose:
    """Draw a pose: shift (±3 px), scale, horizontal flip, walking phase and front/back view."""
    return Pose(
        dx=float(rng.uniform(-3.0, 3.0)),
        dy=float(rng.uniform(-2.5, 2.0)),
        scale=float(rng.uniform(0.93, 1.04)),
        flip=bool(rng.random() < 0.5),
        phase=float(rng.uniform(-1.0, 1.0)),
        view="front" if rng.random() < 0.55 else "back",
    )


# --------------------------------------------------------------------------- pedestrian
def render_person(identity: Identity, pose: Pose, X: np.ndarray, Y: np.ndarray,
                  height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw one pedestrian; returns ``(rgb float32 HxWx3, label uint8 HxW)`` (label 0 = empty).

    Body proportions are fractions of the person height ``u``; ``t`` below is the vertical
    position from the top of the head (0) to the soles (1).
    """
    idn, w = identity, identity.width
    u = BASE_HEIGHT * height * idn.height * pose.scale
    cx = width / 2.0 + pose.dx
    top = height * 0.975 + pose.dy - u

    def ty(t: float) -> float:
        return top + t * u

    Xf = (2.0 * cx - X) if pose.flip else X  # mirror about the body axis
    dxa = Xf - cx
    back = pose.view == "back"
    cv = _Canvas(X.shape)
    ph = pose.phase

    # ---- lower body (3) and feet (4)
    hip_y, ankle_y = ty(0.53), ty(0.925)
    r_leg0, r_leg1 = 0.045 * u * w, 0.03 * u * w
    knee_t = (0.69 - 0.53) / (0.925 - 0.53)
    legs = []
    for side in (-1, 1):
        hip = (side * 0.05 * u * w, hip_y)
        ankle = (side * (0.05 * u * w + 0.03 * u * ph), ankle_y)
        legs.append((side, hip, ankle))
    for _side, hip, ankle in legs:
        m, t, d = segment(dxa, Y, hip, ankle, r_leg0, r_leg1)
        if idn.lower_kind == "trousers":
            cv.fill(m, idn.lower_color, LOWER, shade(d, 0.3))
        elif idn.lower_kind == "shorts":
            cv.fill(m & (t <= knee_t), idn.lower_color, LOWER, shade(d, 0.3))
            cv.fill(m & (t > knee_t), idn.leg_color, LOWER, shade(d, 0.25))
        else:
            cv.fill(m, idn.leg_color, LOWER, shade(d, 0.25))
    hips = trapezoid(dxa, Y, 0.0, ty(0.455), ty(0.56), 0.105 * u * w, 0.1 * u * w)
    cv.fill(hips, idn.lower_color, LOWER, shade(np.abs(dxa) / (0.11 * u * w), 0.3))
    if idn.lower_kind.startswith("skirt"):
        hem = 0.67 if idn.lower_kind == "skirt_short" else 0.8
        skirt = trapezoid(dxa, Y, 0.0, ty(0.455), ty(hem), 0.105 * u * w,
                           (0.13 + 0.1 * (hem - 0.6)) * u * w)
        cv.fill(skirt, idn.lower_color, LOWER, shade(np.abs(dxa) / (0.16 * u * w), 0.3))
    for side, _hip, ankle in legs:
        shoe = ellipse(dxa, Y, ankle[0] + side * 0.012 * u, ty(0.957), 0.042 * u, 0.024 * u)
        cv.fill(shoe, idn.shoe_color, FEET, shade(np.abs(Y - ty(0.945)) / (0.04 * u), 0.35))

    # ---- upper body (2) and neck (1)
    hw_s, hw_w = 0.125 * u * w, 0.105 * u * w
    head_cy = ty(0.068)
    ry, rx = 0.06 * u * idn.head_size, 0.05 * u * idn.head_size
    neck = (np.abs(dxa) <= 0.024 * u) & (Y >= head_cy + 0.6 * ry) & (Y <= ty(0.2))
    cv.fill(neck, idn.skin, HEAD, shade(np.abs(dxa) / (0.03 * u), 0.3))
    cap_y = ty(0.185)
    torso = (ellipse(dxa, Y, 0.0, cap_y, hw_s, 0.045 * u) & (Y <= cap_y)) | trapezoid(
        dxa, Y, 0.0, cap_y, ty(0.47), hw_s, hw_w)
    y0 = ty(0.15)
    if idn.pattern == "hstripes":
        second = (np.floor((Y - y0) / (0.045 * u)) % 2) == 1
    elif idn.pattern == "vstripes":
        second = (np.floor((dxa + hw_s) / (0.045 * u)) % 2) == 1
    elif idn.pattern == "checks":
        second = ((np.floor((Y - y0) / (0.06 * u)) + np.floor((dxa + hw_s) / (0.06 * u))) % 2) == 1
    elif idn.pattern == "logo":
        second = ((np.abs(dxa) <= 0.05 * u) & (Y >= ty(0.23)) & (Y <= ty(0.31))
                  if not back else np.zeros_like(torso))
    elif idn.pattern == "two_tone":
        second = Y >= ty(0.34)
    else:
        second = np.zeros_like(torso)
    shirt_map = np.where(second[..., None], np.asarray(idn.shirt_color2, np.float32),
                         np.asarray(idn.shirt_color, np.float32))
    cv.fill(torso, None, UPPER, shade(np.abs(dxa) / hw_s, 0.3), color_map=shirt_map)

    # ---- long hair behind the head (1): over the shoulders in back view
    long_hair = (idn.hair_style == "long" and idn.hat != "beanie")
    if long_hair:
        panel = (np.abs(dxa) <= 1.12 * rx) & (Y >= head_cy - 0.2 * ry) & (Y <= ty(0.21 if back
                                                                                  else 0.17))
        cv.fill(panel, idn.hair_color, HEAD)

    # ---- arms (2): sleeve then skin, hands
    r_arm0, r_arm1 = 0.034 * u * w, 0.026 * u * w
    sleeve_t = 0.92 if idn.sleeves == "long" else 0.38
    hands = {}
    for side in (-1, 1):
        shoulder = (side * (hw_s - 0.6 * r_arm0), ty(0.19))
        hand = (side * (hw_s + 0.012 * u) - side * 0.028 * u * ph, ty(0.455))
        hands[side] = hand
        m, t, d = segment(dxa, Y, shoulder, hand, r_arm0, r_arm1)
        cv.fill(m & (t <= sleeve_t), idn.shirt_color, UPPER, shade(d, 0.3))
        cv.fill(m & (t > sleeve_t), idn.skin, UPPER, shade(d, 0.25))
        cv.fill(ellipse(dxa, Y, hand[0], hand[1] + 0.012 * u, 0.026 * u, 0.03 * u),
                idn.skin, UPPER)

    # ---- bag (2)
    bs = idn.bag_side
    if idn.bag == "backpack":
        if back:
            pack = ((np.abs(dxa) <= 0.09 * u * w) & (Y >= ty(0.19)) & (Y <= ty(0.43)))
            cv.fill(pack, idn.bag_color, UPPER, shade(np.abs(dxa) / (0.1 * u * w), 0.35))
            pocket = (np.abs(dxa) <= 0.06 * u * w) & (Y >= ty(0.33)) & (Y <= ty(0.41))
            cv.fill(pocket, idn.bag_color, UPPER, np.full(X.shape, 0.8, np.float32))
        else:
            for side in (-1, 1):
                strap = (np.abs(dxa - side * 0.065 * u * w) <= max(0.012 * u, 0.7)) & (
                    Y >= ty(0.15)) & (Y <= ty(0.36))
                cv.fill(strap, idn.bag_color, UPPER)
    elif idn.bag == "shoulder":
        strap, _, _ = segment(dxa, Y, (-bs * 0.08 * u * w, ty(0.16)),
                               (bs * 0.09 * u * w, ty(0.42)), 0.011 * u, 0.011 * u)
        cv.fill(strap, idn.bag_color, UPPER)
        x_in = bs * 0.75 * hw_w
        body = (np.abs(dxa - (x_in + bs * 0.05 * u)) <= 0.05 * u) & (Y >= ty(0.4)) & (
            Y <= ty(0.53))
        cv.fill(body, idn.bag_color, UPPER, shade(np.abs(Y - ty(0.4)) / (0.13 * u), 0.3))
    elif idn.bag == "handbag":
        hx, hy = hands[bs]
        bag = (np.abs(dxa - hx) <= 0.045 * u) & (Y >= hy + 0.025 * u) & (Y <= hy + 0.12 * u)
        cv.fill(bag, idn.bag_color, UPPER, shade(np.abs(dxa - hx) / (0.05 * u), 0.3))

    # ---- head (1): face or back of the head, hair, hat
    head = ellipse(dxa, Y, 0.0, head_cy, rx, ry)
    head_shade = shade(np.abs(dxa) / rx, 0.25)
    if back and idn.hair_style != "shaved":
        cv.fill(head, idn.hair_color, HEAD, head_shade)
    else:
        cv.fill(head, idn.skin, HEAD, head_shade)
        cut = {"short": -0.3, "long": -0.3, "shaved": -0.65}[idn.hair_style]
        hair = ellipse(dxa, Y, 0.0, head_cy - 0.1 * ry, 1.08 * rx, 1.02 * ry) & (
            Y <= head_cy + cut * ry)
        if idn.hair_style != "shaved":
            side_h = 0.6 if idn.hair_style == "long" else 0.05
            hair |= head & (np.abs(dxa) >= 0.78 * rx) & (Y <= head_cy + side_h * ry)
        cv.fill(hair, idn.hair_color, HEAD, head_shade)
    if idn.hat == "cap":
        crown = ellipse(dxa, Y, 0.0, head_cy - 0.1 * ry, 1.1 * rx, ry) & (Y <= head_cy - 0.32 * ry)
        cv.fill(crown, idn.hat_color, HEAD, head_shade)
        if not back:
            brim = (np.abs(dxa) <= 1.05 * rx) & (np.abs(Y - (head_cy - 0.36 * ry)) <= 0.1 * ry)
            cv.fill(brim, idn.hat_color, HEAD, np.full(X.shape, 0.75, np.float32))
    elif idn.hat == "beanie":
        crown = ellipse(dxa, Y, 0.0, head_cy - 0.08 * ry, 1.1 * rx, 1.04 * ry) & (
            Y <= head_cy - 0.12 * ry)
        cv.fill(crown, idn.hat_color, HEAD, head_shade)
        fold = crown & (Y >= head_cy - 0.32 * ry)
        cv.fill(fold, idn.hat_color, HEAD, head_shade * 0.8)
    return cv.rgb, cv.label


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


# --------------------------------------------------------------------------- composition
def compose(identity: Identity, pose: Pose, background: np.ndarray,
            occluders: list[Occluder] = (), keep: float = 1.0
            ) -> tuple[np.ndarray, np.ndarray, int]:
    """Paint background, person and occluders; returns ``(rgb float32, mask uint8, body_px)``.

    ``mask`` is the part-label map of the visible person (0 where background or occluder);
    ``body_px`` counts the person's pixels before occlusion.
    """
    height, width = background.shape[:2]
    X, Y = pixel_grid(height, width, keep)
    prgb, label = render_person(identity, pose, X, Y, height, width)
    body = label > 0
    rgb = background.astype(np.float32, copy=True)
    rgb[body] = prgb[body]
    mask = label.copy()
    for occ in occluders:
        orgb, cover = draw_occluder(occ, X, Y, height, width)
        rgb[cover] = orgb[cover]
        mask[cover] = 0
    return rgb, mask, int(body.sum())


@dataclass
class Rendered:
    """One finished image with its part mask and occlusion statistics."""

    image: np.ndarray  # uint8 HxWx3
    mask: np.ndarray  # uint8 HxW, labels 0..4
    body_px: int  # person pixels before occlusion
    occluder: Occluder | None

    @property
    def visible_px(self) -> int:
        return int((self.mask > 0).sum())

    @property
    def visible_frac(self) -> float:
        return self.visible_px / max(self.body_px, 1)


@dataclass(frozen=True)
class Capture:
    """What stays fixed when one capture is rendered in several protocol variants."""

    pose: Pose
    bg_offset: tuple[float, float]
    photometry: Photometry


def sample_capture(rng: np.random.Generator) -> Capture:
    """Draw the pose, background offset and imaging of one capture (fixed draw order)."""
    pose = sample_pose(rng)
    fy, fx = (float(v) for v in rng.random(2))
    return Capture(pose=pose, bg_offset=(fy, fx), photometry=sample_photometry(rng))


def render_capture(identity: Identity, capture: Capture, style: CameraStyle,
                   canvas: np.ndarray, height: int, width: int, *,
                   occluder_rng: np.random.Generator | None = None,
                   hidden_range: tuple[float, float] = (0.2, 0.6),
                   others: list[Identity] = (), occluder_kind: str | None = None,
                   template: Occluder | None = None, template_target: float = 0.4,
                   keep: float = 1.0) -> Rendered:
    """Render one image of ``identity`` seen by camera ``style``.

    Without ``occluder_rng`` and ``template`` the person is unoccluded. With ``template`` (a
    from-below occluder) that object is re-fitted to hide ``template_target`` of the body (the
    consistent-occluder case); otherwise an occluder is sampled by :func:`sample_occluder`.
    """
    bg = background_crop(canvas, *capture.bg_offset, height, width, keep)
    occ = None
    if template is not None or occluder_rng is not None:
        X, Y = pixel_grid(height, width, keep)
        body = render_person(identity, capture.pose, X, Y, height, width)[1] > 0
        if template is not None:
            occ = fit_occluder(template, template_target, body, X, Y, height, width)
        else:
            occ = sample_occluder(occluder_rng, body, X, Y, height, width, hidden_range,
                                  list(others), occluder_kind)
    rgb, mask, body_px = compose(identity, capture.pose, bg, [occ] if occ else [], keep)
    image = photometric(rgb, style, capture.photometry)
    return Rendered(image=image, mask=mask, body_px=body_px, occluder=occ)
