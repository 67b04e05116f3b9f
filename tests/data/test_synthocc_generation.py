"""SynthOcc generation: determinism, cache reuse / invalidation, atomic writes, file format."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rganet_reid.data.synthocc import (
    SIZES,
    build_plan,
    dataset_dir_for,
    ensure_synthocc,
    load_manifest,
    mask_file,
)
from rganet_reid.data.synthocc import writer as writer_mod
from rganet_reid.data.synthocc.generate import _encode, render_planned

MARKET_RE = re.compile(r"([-\d]+)_c(\d)")


def _hash_tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _mtimes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns
            for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return ensure_synthocc(tmp_path_factory.mktemp("a"), "tiny", 0)


def test_same_seed_gives_byte_identical_files(tiny, tmp_path):
    again = ensure_synthocc(tmp_path, "tiny", 0)
    assert again != tiny
    a, b = _hash_tree(tiny), _hash_tree(again)
    assert len(a) > 200
    assert a == b


def test_different_seed_gives_different_images(tiny, tmp_path):
    other = ensure_synthocc(tmp_path, "tiny", 1)
    a, b = _hash_tree(tiny), _hash_tree(other)
    images_a = {h for k, h in a.items() if k.endswith(".jpg")}
    images_b = {h for k, h in b.items() if k.endswith(".jpg")}
    assert not images_a & images_b


def test_rendering_one_file_alone_reproduces_its_bytes(tiny):
    """Per-image RNG from (seed, stream, index): no dependence on generation order."""
    plan = build_plan("tiny", 0)
    picks = [plan.files[-1], plan.files[len(plan.files) // 2], plan.files[3]]
    picks += [pf for pf in plan.files if pf.variant.occlusion != "none"][-2:]
    for pf in picks:
        out = render_planned(plan, pf)
        img_bytes, mask_bytes = _encode(out.image, out.mask)
        assert (tiny / pf.relpath).read_bytes() == img_bytes, pf.relpath
        assert mask_file(tiny, pf.relpath).read_bytes() == mask_bytes, pf.relpath


def test_file_names_parse_with_market_regex_and_masks_mirror_images(tiny):
    manifest = load_manifest(tiny)
    assert sum(manifest["counts"].values()) == len(manifest["images"])
    for rel, rec in manifest["images"].items():
        m = MARKET_RE.search(Path(rel).name)
        assert m is not None, rel
        assert (int(m.group(1)), int(m.group(2))) == (rec["pid"], rec["cam"])
        assert re.fullmatch(r"\d{4}_c\d+s1_\d{6}_00\.jpg", Path(rel).name), rel
    for rel in list(manifest["images"])[::7]:
        img = Image.open(tiny / rel)
        mask = Image.open(mask_file(tiny, rel))
        assert img.mode == "RGB" and mask.mode == "L"
        assert img.size == mask.size == (64, 128)
        assert set(np.unique(np.asarray(mask))) <= {0, 1, 2, 3, 4}


def test_second_call_reuses_the_cache_without_rewriting(tiny):
    before = _mtimes(tiny)
    assert ensure_synthocc(tiny.parent.parent, "tiny", 0) == tiny
    assert _mtimes(tiny) == before


def test_manifest_mismatch_regenerates(tmp_path):
    d = ensure_synthocc(tmp_path, "tiny", 0)
    manifest = json.loads((d / "manifest.json").read_text())
    manifest["version"] = -1
    (d / "manifest.json").write_text(json.dumps(manifest))
    stale = d / "bounding_box_train" / "stale_marker.txt"
    stale.write_text("left over from an older generator")
    assert ensure_synthocc(tmp_path, "tiny", 0) == d
    assert load_manifest(d)["version"] == writer_mod.GENERATOR_VERSION
    assert not stale.exists()


def test_missing_file_regenerates(tmp_path):
    d = ensure_synthocc(tmp_path, "tiny", 0)
    victim = next((d / "occluded" / "query").iterdir())
    victim.unlink()
    ensure_synthocc(tmp_path, "tiny", 0)
    assert victim.exists()


def test_interrupted_generation_leaves_no_dataset_and_no_temp(tmp_path, monkeypatch):
    real = writer_mod.write_plan

    def crash(plan, out_dir, progress=False):
        real(plan, out_dir, progress)
        raise KeyboardInterrupt

    monkeypatch.setattr(writer_mod, "write_plan", crash)
    with pytest.raises(KeyboardInterrupt):
        ensure_synthocc(tmp_path, "tiny", 0)
    parent = tmp_path / "synthocc"
    assert list(parent.iterdir()) == []
    assert not dataset_dir_for(tmp_path, "tiny", 0).exists()


def test_stale_temp_folder_of_a_dead_process_is_removed(tmp_path):
    parent = tmp_path / "synthocc"
    stale = parent / ".tiny_seed0.tmp.999999999-deadbeef"
    (stale / "bounding_box_train").mkdir(parents=True)
    ensure_synthocc(tmp_path, "tiny", 0)
    assert not stale.exists()
    assert sorted(p.name for p in parent.iterdir()) == ["tiny_seed0"]


def test_unknown_size_names_the_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="tiny, demo, demo_scene, full"):
        ensure_synthocc(tmp_path, "huge", 0)
    assert set(SIZES) == {"tiny", "demo", "demo_scene", "full"}


def test_manifest_records_generator_version_and_parameters(tiny):
    manifest = load_manifest(tiny)
    assert manifest["generator"] == writer_mod.GENERATOR
    assert manifest["size"] == "tiny" and manifest["seed"] == 0
    assert manifest["params"]["num_train_ids"] == SIZES["tiny"].num_train_ids
    assert os.path.isabs(str(tiny))
