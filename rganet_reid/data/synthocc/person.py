"""The procedural pedestrian: pose sampling and exact, part-labelled rendering.

Labels (:data:`LABEL_NAMES`): 0 background / occluder, 1 head (face, hair, hat, neck),
2 upper body (shirt, arms, hands, bag), 3 lower body (trousers / skirt, legs), 4 feet (shoes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rganet_reid.data.synthocc.appearance import Identity
from rganet_reid.data.synthocc.geometry import ellipse, segment, shade, trapezoid

LABEL_NAMES = ("background", "head", "upper_body", "lower_body", "feet")
HEAD, UPPER, LOWER, FEET = 1, 2, 3, 4

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
