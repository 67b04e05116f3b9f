"""SynthOcc protocols: occlusion rates, identity splits, camera rules, the consistent-occluder
trap and partial queries - measured on the generated files."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rganet_reid.data.synthocc import (
    SIZES,
    SYNTHOCC_PROTOCOLS,
    SynthOccSize,
    build_plan,
    ensure_synthocc,
    load_manifest,
    mask_file,
)
from rganet_reid.data.synthocc.generate import render_planned

# Big enough for meaningful rates (~280 train images, ~160 gallery images), ~1.5 s to generate.
SMALL = SynthOccSize("small", num_train_ids=56, num_test_ids=24, num_distractor_ids=6,
                     train_images=(4, 6), gallery_images=(4, 7), queries_per_id=2,
                     cams_per_id=(2, 4), trap_images=2)


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, dict]:
    d = ensure_synthocc(tmp_path_factory.mktemp("small"), SMALL, 0)
    return d, load_manifest(d)


def _records(manifest, split, protocol=""):
    return {r: rec for r, rec in manifest["images"].items()
            if rec["split"] == split and rec["protocol"] == protocol}


def _visible_px(d: Path, rel: str) -> int:
    return int((np.asarray(Image.open(mask_file(d, rel))) > 0).sum())


def test_occlusion_flags_match_the_masks_on_disk(small):
    d, manifest = small
    for rel, rec in manifest["images"].items():
        visible = _visible_px(d, rel)
        assert visible == rec["visible_px"], rel
        lo, hi = SMALL.hidden_range if rec["split"] == "train" else SMALL.test_hidden_range
        if rec["occluded"]:
            assert lo - 1e-9 <= 1 - visible / rec["body_px"] <= hi + 0.05, rel
        else:
            assert visible == rec["body_px"], rel


def test_occlusion_rates_hit_the_protocol_targets(small):
    _, manifest = small
    train = _records(manifest, "train")
    rate = np.mean([r["occluded"] for r in train.values()])
    assert len(train) > 200
    assert abs(rate - SMALL.train_occluded) <= 0.5 / len(train) + 1e-9
    occ_gallery = _records(manifest, "gallery", "occluded")
    rate = np.mean([r["occluded"] for r in occ_gallery.values()])
    assert abs(rate - SMALL.gallery_occluded) <= 0.5 / len(occ_gallery) + 1e-9
    assert all(r["occluded"] for r in _records(manifest, "query", "occluded").values())
    for protocol in ("partial", "holistic"):
        for split in ("query", "gallery"):
            assert not any(r["occluded"] for r in _records(manifest, split, protocol).values())


def test_several_occluder_kinds_occur(small):
    _, manifest = small
    kinds = {r["occluder"] for r in manifest["images"].values() if r["occluded"]}
    assert {"vehicle", "board", "pole", "pedestrian"} <= kinds


def test_train_and_test_identities_are_disjoint(small):
    _, manifest = small
    train_pids = {r["pid"] for r in _records(manifest, "train").values()}
    test_pids = {r["pid"] for r in manifest["images"].values() if r["split"] != "train"}
    assert len(train_pids) == SMALL.num_train_ids
    assert len(test_pids) == SMALL.num_test_ids + SMALL.num_distractor_ids
    assert not train_pids & test_pids


@pytest.mark.parametrize("protocol", SYNTHOCC_PROTOCOLS)
def test_every_query_has_a_cross_camera_match_and_same_camera_junk(small, protocol):
    _, manifest = small
    gallery_cams = defaultdict(set)
    gallery_count = defaultdict(int)
    for rec in _records(manifest, "gallery", protocol).values():
        gallery_cams[rec["pid"]].add(rec["cam"])
        gallery_count[(rec["pid"], rec["cam"])] += 1
    queries = _records(manifest, "query", protocol)
    assert len(queries) >= SMALL.num_test_ids
    assert len({r["cam"] for r in manifest["images"].values()}) >= 2
    for rel, rec in queries.items():
        assert gallery_cams[rec["pid"]] - {rec["cam"]}, rel
        assert gallery_count[(rec["pid"], rec["cam"])] >= 1, rel  # camera rule matters
    distractors = set(manifest["ids"]["distractor"])
    assert distractors and distractors <= set(gallery_cams)
    assert not distractors & {r["pid"] for r in queries.values()}


def test_protocols_share_train_and_test_captures(small):
    _, manifest = small
    for split in ("query", "gallery"):
        names = {p: {Path(r).name for r in _records(manifest, split, p)}
                 for p in SYNTHOCC_PROTOCOLS}
        assert names["occluded"] == names["partial"] == names["holistic"], split


def test_partial_queries_are_cropped_upper_bodies(small):
    d, manifest = small
    lo, hi = SMALL.partial_keep
    for rel, rec in _records(manifest, "query", "partial").items():
        assert lo <= rec["keep"] <= hi, rel
        labels = set(np.unique(np.asarray(Image.open(mask_file(d, rel)))))
        assert 4 not in labels and 1 in labels, rel  # feet cut off, head kept
    for rec in _records(manifest, "gallery", "partial").values():
        assert rec["keep"] == 1.0


def test_consistent_occluder_trap_exists(small):
    _, manifest = small
    traps = manifest["traps"]
    assert len(traps) == max(1, round(SMALL.trap_ids * SMALL.num_train_ids))
    train = _records(manifest, "train")
    for t in traps:
        in_cam = {r: rec for r, rec in train.items()
                  if rec["pid"] == t["pid"] and rec["cam"] == t["cam"]}
        elsewhere = [rec for rec in train.values() if rec["pid"] == t["pid"]
                     and rec["cam"] != t["cam"]]
        assert len(in_cam) >= SMALL.trap_images and elsewhere
        assert sorted(in_cam) == t["images"]
        assert all(rec["trap"] and rec["occluder"] == t["kind"]
                   and rec["occluder_style"] == t["style"] for rec in in_cam.values())
        assert not any(rec["occluded"] for rec in elsewhere)
    # every trap image is occluded by the very same object; only its top edge follows the pose
    plan = build_plan(SMALL, 0)
    for pf in plan.files:
        if pf.variant.occlusion == "trap":
            occ = render_planned(plan, pf).occluder
            assert replace(occ, top=0.0) == replace(plan.traps[pf.variant.trap].template, top=0.0)


def test_tiny_preset_is_small_and_has_every_split(tmp_path):
    d = ensure_synthocc(tmp_path, "tiny", 0)
    counts = load_manifest(d)["counts"]
    sz = SIZES["tiny"]
    assert sz.num_train_ids * sz.train_images[0] <= counts["bounding_box_train"] <= 120
    for p in SYNTHOCC_PROTOCOLS:
        assert counts[f"{p}/query"] >= sz.num_test_ids
        assert counts[f"{p}/bounding_box_test"] >= sz.num_test_ids * 2


SCENE = replace(SMALL, name="scene", test_hidden_range=(0.35, 0.7), scene_occluders=2,
                scene_share=0.7)


def test_scene_occluders_recur_across_identities_of_a_camera_in_occluded_test_images():
    plan = build_plan(SCENE, 0)
    occluded_test = [pf for pf in plan.files if pf.split != "train"
                     and pf.variant.occlusion in ("random", "scene")]
    scene = [pf for pf in occluded_test if pf.variant.occlusion == "scene"]
    assert {pf.protocol for pf in occluded_test} == {"occluded"}
    assert abs(len(scene) / len(occluded_test) - SCENE.scene_share) < 0.12
    pids = defaultdict(set)
    for pf in scene:
        pids[(pf.capture.cam, pf.variant.trap)].add(pf.capture.pid)
    assert max(len(p) for p in pids.values()) >= 3  # one object, several people
    lo, hi = SCENE.test_hidden_range
    for pf in scene[:12]:
        out = render_planned(plan, pf)
        template = plan.scenes[pf.capture.cam][pf.variant.trap]
        assert replace(out.occluder, top=0.0) == replace(template, top=0.0)
        assert lo - 0.08 <= 1 - out.visible_px / out.body_px <= hi + 0.08
    # the training split is the same as without scene occluders (cached weights stay valid)
    train = [(pf.relpath, pf.variant) for pf in plan.files if pf.split == "train"]
    assert train == [(pf.relpath, pf.variant) for pf in build_plan(SMALL, 0).files
                     if pf.split == "train"]


def test_demo_scene_is_the_demo_with_scene_occluders_in_every_occluded_test_image():
    """The demo_scene preset: the demo's training split and test captures, file for file;
    only occluded-protocol test images differ: every query and 30 % of the gallery hidden by
    a scene object of its camera."""
    demo, scene = build_plan("demo", 0), build_plan("demo_scene", 0)
    assert replace(SIZES["demo_scene"], name="demo", gallery_occluded=0.1, scene_occluders=0,
                   scene_share=0.0) == SIZES["demo"]
    assert [pf.relpath for pf in demo.files] == [pf.relpath for pf in scene.files]
    for a, b in zip(demo.files, scene.files):
        if a.split == "train" or a.protocol != "occluded":
            assert a.variant == b.variant, a.relpath
        else:
            assert b.variant.occlusion in ("scene", "none"), b.relpath
    occluded = [pf for pf in scene.files if pf.protocol == "occluded"]
    assert all(pf.variant.occlusion == "scene" for pf in occluded if pf.split == "query")
    gallery = [pf.variant.occlusion == "scene" for pf in occluded if pf.split == "gallery"]
    assert abs(sum(gallery) / len(gallery) - 0.3) < 0.01
