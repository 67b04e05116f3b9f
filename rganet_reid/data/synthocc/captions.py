"""Captions of SynthOcc images: what a person wears, said only for the parts one can see.

A caption is built from the attributes the renderer drew for the identity
(:class:`~rganet_reid.data.synthocc.appearance.Identity`: hair, hat, shirt colour and pattern,
sleeves, bag, trousers / shorts / skirt and their colour, tights, shoes) and from the image's
ground-truth per-part visibility (:func:`~rganet_reid.data.synthocc.render.part_visibility`,
order head, upper body, lower body, feet). A part whose visible share is below
:data:`VISIBLE` is not described at all, so a caption never states what the image hides; the
occluder is named ("behind a car"), and a partial view (top of the crop only) says so.

Example: ``"a person with short black hair, in a blue long-sleeved shirt with white horizontal
stripes and a black backpack, in khaki trousers and white shoes, behind a car."``
"""

from __future__ import annotations

from collections.abc import Sequence

from rganet_reid.data.synthocc.appearance import Identity

#: A part is described when at least this share of its pixels is visible.
VISIBLE = 0.5

HEAD, UPPER, LOWER, FEET = range(4)  # indices into a visibility vector

_PATTERN = {
    "plain": "{c} {s} shirt",
    "hstripes": "{c} {s} shirt with {c2} horizontal stripes",
    "vstripes": "{c} {s} shirt with {c2} vertical stripes",
    "checks": "{c} and {c2} checked {s} shirt",
    "logo": "{c} {s} shirt with {a2} logo",
    "two_tone": "{c} and {c2} two-tone {s} shirt",
}
_LOWER = {"trousers": "trousers", "shorts": "shorts", "skirt_short": "short skirt",
          "skirt_long": "long skirt"}
_BAG = {"backpack": "backpack", "shoulder": "shoulder bag", "handbag": "handbag"}
#: What a caption calls each occluder (kind, or kind/style when the style tells more).
OCCLUDER_WORDS = {
    "vehicle/car": "a car", "vehicle/van": "a van", "board/sign": "a sign",
    "board/fence": "a fence", "board/barrier": "a barrier", "pole/metal": "a pole",
    "pole/tree": "a tree", "pedestrian": "another person",
}


def _article(phrase: str) -> str:
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


def describe_head(identity: Identity) -> str:
    """``"short black hair and a red cap"`` (hair style and colour, hat)."""
    if identity.hair_style == "shaved":
        hair = "a shaved head"
    else:
        hair = f"{identity.hair_style} {identity.hair_name} hair"
    if identity.hat == "none":
        return hair
    return f"{hair} and {_article(f'{identity.hat_name} {identity.hat}')}"


def describe_upper(identity: Identity) -> str:
    """``"a blue long-sleeved shirt with white horizontal stripes and a black backpack"``."""
    sleeves = f"{identity.sleeves}-sleeved"
    shirt = _PATTERN[identity.pattern].format(c=identity.shirt_name, c2=identity.shirt2_name,
                                              a2=_article(identity.shirt2_name), s=sleeves)
    text = _article(shirt)
    if identity.bag != "none":
        text += f" and {_article(f'{identity.bag_name} {_BAG[identity.bag]}')}"
    return text


def describe_lower(identity: Identity) -> str:
    """``"khaki trousers"``, ``"a navy short skirt with black tights"``."""
    garment = f"{identity.lower_name} {_LOWER[identity.lower_kind]}"
    text = _article(garment) if identity.lower_kind.startswith("skirt") else garment
    if identity.leg_name:
        text += f" with {identity.leg_name} tights"
    return text


def describe_feet(identity: Identity) -> str:
    """``"white shoes"``."""
    return f"{identity.shoe_name} shoes"


def occluder_phrase(kind: str | None, style: str | None = None) -> str:
    """``"behind a car"`` for an occluder's kind and style; ``""`` for none."""
    if not kind:
        return ""
    word = OCCLUDER_WORDS.get(f"{kind}/{style}") or OCCLUDER_WORDS.get(kind)
    if word is None:
        raise ValueError(f"No caption word for occluder kind {kind!r} style {style!r}; add it "
                         "to OCCLUDER_WORDS in rganet_reid/data/synthocc/captions.py")
    return f"behind {word}"


def visible_parts(visibility: Sequence[float], threshold: float = VISIBLE) -> list[bool]:
    """Which of head, upper body, lower body, feet a caption may describe."""
    if len(visibility) != 4:
        raise ValueError(f"visibility must hold 4 values (head, upper body, lower body, feet), "
                         f"got {list(visibility)}")
    return [float(v) >= threshold for v in visibility]


def caption(identity: Identity, visibility: Sequence[float], occluder: str | None = None,
            occluder_style: str | None = None, keep: float = 1.0,
            threshold: float = VISIBLE) -> str:
    """The caption of one image: the visible parts' attributes, the occluder, a partial view.

    Args:
        identity: the person's drawn attributes.
        visibility: per-part visible share (head, upper body, lower body, feet).
        occluder / occluder_style: the occluder's kind and style (None: unoccluded).
        keep: the kept top fraction of a partial view (1: the whole crop).
        threshold: the visible share from which a part is described.
    """
    head, upper, lower, feet = visible_parts(visibility, threshold)
    clauses = []
    if head:
        clauses.append(f"with {describe_head(identity)}")
    if upper:
        clauses.append(f"in {describe_upper(identity)}")
    wear = [describe_lower(identity)] if lower else []
    if feet:
        wear.append(describe_feet(identity))
    if wear:
        clauses.append("in " + " and ".join(wear))
    extra = []
    if keep < 1.0:
        extra.append("only the top of the person in view")
    phrase = occluder_phrase(occluder, occluder_style)
    if phrase:
        extra.append(phrase)
    parts = clauses + extra
    text = "a person" + "".join(
        (" " if i == 0 and c.startswith("with") else ", ") + c for i, c in enumerate(parts))
    return text + "."
