"""Captions of SynthOcc images say what the person wears, for the visible parts only."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from rganet_reid.data.synthocc.appearance import CLOTHING, HAIR_COLOURS, sample_identity
from rganet_reid.data.synthocc.captions import (
    OCCLUDER_WORDS,
    VISIBLE,
    caption,
    describe_feet,
    describe_head,
    describe_lower,
    describe_upper,
)
from rganet_reid.data.synthocc.occluders import OCCLUDER_KINDS

# every part wears words no other part uses, so a word's presence tells which part was said
PERSON = replace(
    sample_identity(np.random.default_rng(0)),
    hair_style="long", hair_name="blond", hat="cap", hat_name="yellow",
    shirt_name="red", shirt2_name="white", pattern="hstripes", sleeves="short",
    bag="backpack", bag_name="purple", lower_kind="trousers", lower_name="khaki", leg_name="",
    shoe_name="brown",
)
WORDS = {  # part index → words only that part's description uses
    0: ("blond", "hair", "yellow", "cap"),
    1: ("red", "white", "stripes", "short-sleeved", "shirt", "purple", "backpack"),
    2: ("khaki", "trousers"),
    3: ("brown", "shoes"),
}


def _said(text: str) -> dict[int, bool]:
    """Which parts' words occur in ``text`` (all of them, or none: never a mix)."""
    out = {}
    for part, words in WORDS.items():
        present = [w in text for w in words]
        assert all(present) or not any(present), (part, text)
        out[part] = all(present)
    return out


def test_a_fully_visible_person_is_described_head_to_feet():
    text = caption(PERSON, [1.0, 1.0, 1.0, 1.0])
    assert _said(text) == {0: True, 1: True, 2: True, 3: True}
    assert text == ("a person with long blond hair and a yellow cap, in a red short-sleeved "
                    "shirt with white horizontal stripes and a purple backpack, in khaki "
                    "trousers and brown shoes.")


@pytest.mark.parametrize("visibility", [
    [0.0, 1.0, 1.0, 1.0], [1.0, 0.2, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 1.0, 0.49],
    [0.1, 0.3, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.6, 0.0, 0.9, 0.0],
])
def test_hidden_parts_are_never_described(visibility):
    said = _said(caption(PERSON, visibility, "vehicle", "car"))
    assert said == {p: v >= VISIBLE for p, v in enumerate(visibility)}


def test_the_visibility_threshold_is_inclusive():
    assert _said(caption(PERSON, [VISIBLE, 0, 0, 0]))[0]
    assert not _said(caption(PERSON, [np.nextafter(VISIBLE, 0), 0, 0, 0]))[0]


def test_the_occluder_and_a_partial_view_are_named():
    assert caption(PERSON, [1, 1, 0, 0], "vehicle", "car").endswith(", behind a car.")
    assert "behind another person" in caption(PERSON, [1, 1, 0, 0], "pedestrian", None)
    assert "only the top of the person in view" in caption(PERSON, [1, 1, 0, 0], keep=0.5)
    assert "behind" not in caption(PERSON, [1, 1, 1, 1])


def test_every_occluder_the_renderer_draws_has_a_word():
    kinds = {k.split("/")[0] for k in OCCLUDER_WORDS}
    assert kinds == set(OCCLUDER_KINDS)
    with pytest.raises(ValueError, match="OCCLUDER_WORDS"):
        caption(PERSON, [1, 1, 1, 1], "balloon", "red")


def test_garment_variants_read_naturally():
    assert describe_head(replace(PERSON, hair_style="shaved", hat="none")) == "a shaved head"
    assert describe_upper(replace(PERSON, pattern="logo", shirt2_name="orange", bag="none")) \
        == "a red short-sleeved shirt with an orange logo"
    assert describe_lower(replace(PERSON, lower_kind="skirt_short", lower_name="navy",
                                  leg_name="black")) == "a navy short skirt with black tights"
    assert describe_feet(PERSON) == "brown shoes"


def test_drawn_colour_names_match_the_drawn_colours():
    """The names a caption uses are the palette entries the identity's colours were tinted
    from (the tint moves each channel by a few units only)."""
    for i in range(200):
        who = sample_identity(np.random.default_rng(i))
        pairs = [(who.shirt_color, CLOTHING[who.shirt_name]),
                 (who.shirt_color2, CLOTHING[who.shirt2_name]),
                 (who.lower_color, CLOTHING[who.lower_name]),
                 (who.shoe_color, CLOTHING[who.shoe_name]),
                 (who.hat_color, CLOTHING[who.hat_name]),
                 (who.bag_color, CLOTHING[who.bag_name]),
                 (who.hair_color, HAIR_COLOURS[who.hair_name])]
        if who.leg_name:
            pairs.append((who.leg_color, CLOTHING[who.leg_name]))
        for drawn, named in pairs:
            assert np.abs(np.subtract(drawn, named)).max() <= 45, (i, drawn, named)
