"""Identity attributes of SynthOcc pedestrians: what stays the same across one person's images.

An :class:`Identity` fixes, per body part, the attributes a ReID model should learn to match:

* head (part 1): skin tone, hair colour and style, hat;
* upper body (part 2): shirt colour, second colour and pattern, sleeve length, bag;
* lower body (part 3): trousers / shorts / skirt, its colour, leg colour (skin or tights);
* feet (part 4): shoe colour;
* body shape: height, width and head size factors.

Colours are drawn from small named palettes plus a per-identity tint, so that two identities can
share a shirt colour (hard negatives) yet rarely share every attribute.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

RGB = tuple[int, int, int]

# Named clothing colours (sRGB). Several near neighbours on purpose: hard negatives.
CLOTHING: dict[str, RGB] = {
    "black": (28, 28, 32),
    "charcoal": (64, 64, 70),
    "grey": (128, 128, 128),
    "light grey": (188, 188, 184),
    "white": (232, 232, 226),
    "navy": (30, 40, 90),
    "blue": (40, 90, 180),
    "light blue": (120, 170, 220),
    "teal": (20, 120, 120),
    "green": (40, 130, 60),
    "olive": (110, 110, 50),
    "khaki": (190, 170, 120),
    "brown": (110, 70, 40),
    "maroon": (120, 30, 40),
    "red": (200, 40, 40),
    "orange": (230, 120, 30),
    "yellow": (230, 200, 50),
    "pink": (230, 140, 170),
    "purple": (110, 60, 140),
}
# Trousers are mostly dark / neutral in real footage; this list biases their draw.
LOWER_COMMON = ("black", "charcoal", "navy", "blue", "grey", "khaki", "brown", "light blue")
SKIN: tuple[RGB, ...] = (
    (250, 215, 185), (235, 190, 155), (215, 165, 125),
    (185, 130, 95), (150, 100, 70), (110, 75, 50),
)
# Hair colours by the name a caption uses for them.
HAIR_COLOURS: dict[str, RGB] = {
    "black": (20, 18, 18), "dark brown": (55, 35, 25), "brown": (95, 60, 35),
    "blond": (200, 165, 100), "grey": (150, 150, 150), "red": (140, 60, 30),
}
HAIR: tuple[RGB, ...] = tuple(HAIR_COLOURS.values())

HAIR_STYLES = ("short", "long", "shaved")
HATS = ("none", "cap", "beanie")
PATTERNS = ("plain", "hstripes", "vstripes", "checks", "logo", "two_tone")
SLEEVES = ("short", "long")
BAGS = ("none", "backpack", "shoulder", "handbag")
LOWER_KINDS = ("trousers", "shorts", "skirt_short", "skirt_long")


@dataclass(frozen=True)
class Identity:
    """Stable appearance of one person (all colours are sRGB 0-255 triples)."""

    skin: RGB
    hair_color: RGB
    hair_style: str
    hat: str
    hat_color: RGB
    shirt_color: RGB
    shirt_color2: RGB
    pattern: str
    sleeves: str
    bag: str
    bag_color: RGB
    bag_side: int  # +1 right, -1 left (before a horizontal flip)
    lower_kind: str
    lower_color: RGB
    leg_color: RGB
    shoe_color: RGB
    height: float  # body height factor (~0.92-1.06)
    width: float  # body width factor (~0.85-1.2)
    head_size: float
    # names of the drawn colours (palette keys before the identity's tint), for captions;
    # leg_name is "" when the legs show skin
    hair_name: str = ""
    hat_name: str = ""
    shirt_name: str = ""
    shirt2_name: str = ""
    bag_name: str = ""
    lower_name: str = ""
    leg_name: str = ""
    shoe_name: str = ""

    def to_dict(self) -> dict:
        """JSON-friendly view (used in the contact sheet and for debugging)."""
        return asdict(self)


def _tint(rng: np.random.Generator, rgb: RGB, spread: float = 10.0) -> RGB:
    """``rgb`` plus a small identity-specific offset, clipped to 0-255."""
    jitter = rng.normal(0.0, spread, size=3)
    return tuple(int(v) for v in np.clip(np.asarray(rgb) + jitter, 0, 255).round())


def _pick(rng: np.random.Generator, options, p=None):
    return options[int(rng.choice(len(options), p=p))]


def sample_identity(rng: np.random.Generator) -> Identity:
    """Draw one identity's attributes from ``rng`` (deterministic for a given stream)."""
    names = list(CLOTHING)
    shirt = _pick(rng, names)
    shirt2 = _pick(rng, [n for n in names if n != shirt])
    lower = _pick(rng, list(LOWER_COMMON)) if rng.random() < 0.75 else _pick(rng, names)
    lower_kind = _pick(rng, LOWER_KINDS, p=[0.6, 0.15, 0.12, 0.13])
    skin = _tint(rng, _pick(rng, SKIN), 6.0)
    leg_name = ""
    if lower_kind.startswith("skirt") and rng.random() < 0.4:
        leg_name = _pick(rng, ["black", "charcoal", "navy"])
        leg = _tint(rng, CLOTHING[leg_name], 6.0)  # tights
    else:
        leg = skin
    hat = _pick(rng, HATS, p=[0.75, 0.15, 0.10])
    # the draws below keep the order of the keyword arguments they replaced (same bytes)
    hair_name = _pick(rng, list(HAIR_COLOURS))
    hair_color = _tint(rng, HAIR_COLOURS[hair_name], 6.0)
    hair_style = _pick(rng, HAIR_STYLES, p=[0.6, 0.3, 0.1])
    hat_name = _pick(rng, names)
    hat_color = _tint(rng, CLOTHING[hat_name])
    shirt_color = _tint(rng, CLOTHING[shirt])
    shirt_color2 = _tint(rng, CLOTHING[shirt2])
    pattern = _pick(rng, PATTERNS, p=[0.45, 0.15, 0.08, 0.1, 0.12, 0.1])
    sleeves = _pick(rng, SLEEVES)
    bag = _pick(rng, BAGS, p=[0.45, 0.25, 0.18, 0.12])
    bag_name = _pick(rng, names)
    bag_color = _tint(rng, CLOTHING[bag_name])
    bag_side = 1 if rng.random() < 0.5 else -1
    lower_color = _tint(rng, CLOTHING[lower])
    shoe_name = _pick(rng, ["black", "white", "brown", "grey", "navy", "red", "charcoal"])
    return Identity(
        skin=skin, hair_color=hair_color, hair_style=hair_style, hat=hat, hat_color=hat_color,
        shirt_color=shirt_color, shirt_color2=shirt_color2, pattern=pattern, sleeves=sleeves,
        bag=bag, bag_color=bag_color, bag_side=bag_side, lower_kind=lower_kind,
        lower_color=lower_color, leg_color=leg, shoe_color=_tint(rng, CLOTHING[shoe_name]),
        height=float(rng.uniform(0.92, 1.06)),
        width=float(rng.uniform(0.85, 1.2)),
        head_size=float(rng.uniform(0.9, 1.1)),
        hair_name=hair_name, hat_name=hat_name, shirt_name=shirt, shirt2_name=shirt2,
        bag_name=bag_name, lower_name=lower, leg_name=leg_name, shoe_name=shoe_name,
    )
