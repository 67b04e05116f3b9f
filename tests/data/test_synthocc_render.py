"""SynthOcc drawing: the part-label mask matches the pixels exactly."""

from __future__ import annotations

import numpy as np
import pytest

from rganet_reid.data.synthocc.appearance import sample_identity
from rganet_reid.data.synthocc.geometry import pixel_grid
from rganet_reid.data.synthocc.render import (
    OCCLUDER_KINDS,
    Occluder,
    Pose,
    compose,
    render_person,
    sample_occluder,
    sample_pose,
)

H, W = 128, 64
MAGENTA = np.array([255.0, 0.0, 255.0], np.float32)  # no clothing / skin colour is near it


def _flat():
    return np.broadcast_to(MAGENTA, (H, W, 3)).copy()


@pytest.mark.parametrize("index", range(12))
def test_mask_is_exactly_the_silhouette_over_a_flat_background(index):
    rng = np.random.default_rng(index)
    identity, pose = sample_identity(rng), sample_pose(rng)
    rgb, mask, body_px = compose(identity, pose, _flat())
    on_body = mask > 0
    assert body_px == on_body.sum() > 800
    differs = np.any(rgb != MAGENTA, axis=-1)
    assert np.array_equal(differs, on_body)  # body pixels differ, all others equal the bg


@pytest.mark.parametrize("index", range(6))
def test_parts_are_ordered_head_to_feet(index):
    rng = np.random.default_rng(100 + index)
    identity, pose = sample_identity(rng), sample_pose(rng)
    X, Y = pixel_grid(H, W)
    _, label = render_person(identity, pose, X, Y, H, W)
    mean_y = [Y[label == k].mean() for k in (1, 2, 3, 4)]
    assert all(a < b for a, b in zip(mean_y, mean_y[1:])), mean_y


def test_occluder_pixels_are_labelled_background():
    rng = np.random.default_rng(7)
    identity = sample_identity(rng)
    pose = Pose()
    pole = Occluder(kind="pole", style="metal", color=(120, 120, 120), xc=W / 2, half_width=5)
    rgb, mask, body_px = compose(identity, pose, _flat(), [pole])
    X, _ = pixel_grid(H, W)
    band = np.abs(X - W / 2) <= 5
    assert (mask[band] == 0).all()
    assert np.any(rgb[band] != MAGENTA, axis=-1).all()  # drawn over the person and the bg
    clean_rgb, clean_mask, _ = compose(identity, pose, _flat())
    assert np.array_equal(mask[~band], clean_mask[~band])
    assert np.array_equal(rgb[~band], clean_rgb[~band])
    assert (mask > 0).sum() < body_px


@pytest.mark.parametrize("kind", OCCLUDER_KINDS)
def test_sampled_occluders_hide_the_requested_share_of_the_body(kind):
    rng = np.random.default_rng(3)
    identity, pose = sample_identity(rng), sample_pose(rng)
    others = [sample_identity(rng) for _ in range(5)]
    X, Y = pixel_grid(H, W)
    body = render_person(identity, pose, X, Y, H, W)[1] > 0
    for trial in range(5):
        occ = sample_occluder(np.random.default_rng(trial), body, X, Y, H, W, (0.2, 0.6),
                              others, kind)
        _, mask, body_px = compose(identity, pose, _flat(), [occ])
        hidden = 1 - (mask > 0).sum() / body_px
        assert 0.2 - 1e-9 <= hidden <= 0.6 + 0.03, (kind, trial, occ.kind, hidden)


def test_partial_view_keeps_only_the_top_of_the_person():
    rng = np.random.default_rng(11)
    identity, pose = sample_identity(rng), sample_pose(rng)
    _, full, _ = compose(identity, pose, _flat())
    _, part, _ = compose(identity, pose, _flat(), keep=0.5)
    assert 4 in np.unique(full) and 4 not in np.unique(part)  # feet cut off
    assert 1 in np.unique(part)
    # the head is stretched to twice its height
    head_rows = lambda m: np.flatnonzero((m == 1).any(axis=1))  # noqa: E731
    assert abs(len(head_rows(part)) - 2 * len(head_rows(full))) <= 2
