"""SynthOcc's per-part visibility ground truth agrees with the rendered part masks."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from rganet_reid.data.synthocc import ensure_synthocc, load_manifest, mask_file
from rganet_reid.data.synthocc.appearance import sample_identity
from rganet_reid.data.synthocc.geometry import pixel_grid
from rganet_reid.data.synthocc.render import (
    Occluder,
    compose,
    part_visibility,
    render_person,
    sample_pose,
)

H, W = 128, 64


def _person(seed: int):
    rng = np.random.default_rng(seed)
    return sample_identity(rng), sample_pose(rng)


def test_hand_computed_example():
    full = np.zeros((4, 4), np.uint8)
    full[0, :2] = 1  # head: 2 px
    full[1:3, :] = 2  # upper body: 8 px
    full[3, :] = 3  # lower body: 4 px; no feet
    visible = full.copy()
    visible[2, :] = 0  # half the upper body hidden
    visible[3, 1:] = 0  # 3 of 4 lower-body pixels hidden
    np.testing.assert_allclose(part_visibility(visible, full), [1.0, 0.5, 0.25, 0.0])
    # a partial view's pixel stands for `keep` of a crop pixel
    np.testing.assert_allclose(part_visibility(full, full, keep=0.5), [0.5, 0.5, 0.5, 0.0])


def test_unoccluded_person_is_fully_visible():
    identity, pose = _person(1)
    _, mask, _ = compose(identity, pose, np.zeros((H, W, 3), np.float32))
    np.testing.assert_allclose(part_visibility(mask, mask), [1.0, 1.0, 1.0, 1.0])


def test_board_from_below_hides_the_lower_parts_not_the_head():
    identity, pose = _person(2)
    board = Occluder(kind="board", style="sign", color=(10, 200, 10), color2=(0, 0, 0),
                     top=0.55 * H)
    bg = np.zeros((H, W, 3), np.float32)
    _, mask, _ = compose(identity, pose, bg, [board])
    _, full = render_person(identity, pose, *pixel_grid(H, W), H, W)
    vis = part_visibility(mask, full)
    assert vis[0] == 1.0 and vis[3] == 0.0, vis  # head untouched, feet gone
    assert vis[2] < vis[1], vis


@pytest.mark.parametrize("keep", [0.45, 0.7])
def test_partial_view_visibility_matches_the_kept_rows(keep):
    identity, pose = _person(3)
    _, full = render_person(identity, pose, *pixel_grid(H, W), H, W)
    _, part = render_person(identity, pose, *pixel_grid(H, W, keep), H, W)
    vis = part_visibility(part, full, keep)
    rows_kept = (np.arange(H) + 0.5) < keep * H
    expected = [((full == k) & rows_kept[:, None]).sum() / (full == k).sum() for k in (1, 2, 3, 4)]
    np.testing.assert_allclose(vis, expected, atol=0.06)  # stretched grid vs crop rows
    assert vis[0] == pytest.approx(1.0, abs=0.02)


def test_manifest_visibility_matches_the_mask_files(tmp_path):
    ds = ensure_synthocc(tmp_path, "tiny", 0)
    records = load_manifest(ds)["images"]
    occluded = {r: rec for r, rec in records.items() if rec["occluded"]}
    assert occluded and all(len(rec["visibility"]) == 4 for rec in records.values())
    for rel, rec in records.items():
        mask = np.asarray(Image.open(mask_file(ds, rel)))
        visible = np.bincount(mask.ravel(), minlength=5)[1:]
        vis = np.asarray(rec["visibility"])
        # a part seen in the mask is (partly) visible, a part absent from it is not
        assert np.array_equal(visible > 0, vis > 0), (rel, visible, vis)
        if not rec["occluded"] and rec["keep"] == 1.0:
            assert np.all(vis[visible > 0] == 1.0), (rel, vis)
    hidden = np.mean([1 - np.mean(rec["visibility"]) for rec in occluded.values()])
    assert hidden > 0.15  # occluders hide a real share of the parts
