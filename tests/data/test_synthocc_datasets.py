"""The SynthOcc torchreid datasets (rganet_reid/data/datasets/synthocc.py)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import rganet_reid.data.datasets  # noqa: F401  (fills DATASETS)
from rganet_reid.compat import register_image_dataset, torchreid_data
from rganet_reid.data.datasets import DATASETS
from rganet_reid.data.datasets.layout import scan_split
from rganet_reid.data.datasets.synthocc import (
    MARKET_PATTERN,
    SynthOccDataset,
    SynthOccHolistic,
    SynthOccPartial,
    parse_synthocc_name,
)
from rganet_reid.data.synthocc import SIZES, load_manifest

NAMES = ("synthocc_occluded", "synthocc_partial", "synthocc_holistic")


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> str:
    for name in NAMES:
        register_image_dataset(name, DATASETS.get(name))
    return str(tmp_path_factory.mktemp("data"))


def _build(name, root, **kw):
    # the keyword set torchreid's ImageDataManager passes, plus ours
    return torchreid_data.datasets.init_image_dataset(
        name, root=root, synthocc_size="tiny", synthocc_seed=0, split_id=0,
        cuhk03_labeled=False, cuhk03_classic_split=False, market1501_500k=False,
        verbose=False, **kw)


@pytest.mark.parametrize("name", NAMES)
def test_torchreid_builds_the_registered_dataset(root, name):
    ds = _build(name, root, mode="train")
    assert isinstance(ds, SynthOccDataset)
    assert os.path.isabs(ds.dataset_dir)
    assert Path(ds.dataset_dir) == Path(root).resolve() / "synthocc" / "tiny_seed0"
    assert ds.mask_subdir == "masks"
    assert ds.eval_ranks == ((1, 3) if name == "synthocc_partial" else (1, 3, 5, 10))
    assert ds.num_train_pids == SIZES["tiny"].num_train_ids
    assert sorted({it[1] for it in ds.train}) == list(range(ds.num_train_pids))
    for items in (ds.train, ds.query, ds.gallery):
        assert {it[2] for it in items} <= set(range(6))  # 0-based camera ids
        assert all(len(it) == 4 and it[3] == 0 for it in items)
    sample = ds[0]
    assert sample["pid"] == ds.train[0][1] and sample["img"].size == (64, 128)


def test_query_and_gallery_keep_original_pids_and_cameras(root):
    ds = _build("synthocc_occluded", root, mode="query")
    manifest = load_manifest(ds.dataset_dir)
    assert {it[1] for it in ds.query} == set(manifest["ids"]["test"])
    for path, pid, camid, _ in ds.query + ds.gallery:
        m = MARKET_PATTERN.search(Path(path).name)
        assert (pid, camid) == (int(m.group(1)), int(m.group(2)) - 1)
    assert len(ds) == len(ds.query)


def test_occlusion_flags_are_exposed_per_image_and_per_split(root):
    occ = _build("synthocc_occluded", root, mode="query")
    hol = _build("synthocc_holistic", root, mode="query")
    assert occ.occlusion_rate("query") == 1.0
    assert hol.occlusion_rate("query") == 0.0 == hol.occlusion_rate("gallery")
    assert 0.0 < occ.occlusion_rate("train") < 0.2
    info = occ.image_info(occ.query[0][0])
    assert info["occluded"] and info["split"] == "query" and info["protocol"] == "occluded"


def test_mask_path_points_to_a_label_map_of_the_image_size(root):
    ds = _build("synthocc_partial", root, mode="query")
    for path, *_ in ds.query[:5] + ds.train[:5]:
        mask = np.asarray(Image.open(ds.mask_path(path)))
        assert mask.shape == (128, 64) and mask.max() <= 4
    path = ds.query[0][0]  # below partial/query/: the mask tree mirrors the protocol folders
    rel = Path(path).relative_to(ds.dataset_dir)
    assert rel.parts[:2] == ("partial", "query")
    assert Path(ds.mask_path(path)) == Path(ds.dataset_dir) / "masks" / rel.with_suffix(".png")


def test_foreign_file_triggers_regeneration_and_bad_names_are_reported(root):
    d = _build("synthocc_holistic", root, mode="query").dataset_dir
    bad = Path(d) / "holistic" / "query" / "not_market.jpg"
    bad.write_bytes(b"")
    try:
        SynthOccHolistic.scan(root, "tiny", 0)  # the file count changed: regenerated
        assert not bad.exists()
        bad.write_bytes(b"")
        split = scan_split(bad.parent, parse_synthocc_name, "market")
        assert [Path(p).name for p, _ in split.malformed] == ["not_market.jpg"]
        assert "Market-1501 pattern" in split.malformed[0][1]
    finally:
        bad.unlink(missing_ok=True)


def test_scan_lists_the_protocol_folders_for_the_mask_tools(root):
    scan = SynthOccPartial.scan(root, "tiny", 0)
    assert scan.splits["query"].folder == scan.dataset_dir / "partial" / "query"
    assert scan.splits["train"].folder == scan.dataset_dir / "bounding_box_train"
    assert not scan.problems()


def test_part_truth_of_the_test_items_matches_the_manifest_and_the_masks(root):
    ds = _build("synthocc_occluded", root, mode="query")
    records = load_manifest(ds.dataset_dir)["images"]
    for items in (ds.query, ds.gallery):
        truth = ds.part_truth(items)
        assert truth.part_names == ("head", "upper_body", "lower_body", "feet")
        assert truth.visibility.shape == (len(items), 4)
        for i, (path, *_) in enumerate(items):
            rel = Path(path).resolve().relative_to(ds.dataset_dir).as_posix()
            np.testing.assert_allclose(truth.visibility[i], records[rel]["visibility"])
            assert truth.mask_paths[i] == Path(ds.mask_path(path))
            seen = np.bincount(truth.mask(i).ravel(), minlength=5)[1:] > 0
            assert np.array_equal(seen, truth.visibility[i] > 0)
    assert (ds.part_truth(ds.query).visibility < 0.5).any()  # occluded queries hide parts


def test_data_manager_attaches_the_part_truth_to_each_synthocc_test_split(root):
    from rganet_reid.config.defaults import get_default_config
    from rganet_reid.data.datamanager import ReIDDataManager

    cfg = get_default_config()
    cfg.data.root, cfg.data.workers = root, 0
    cfg.data.sources, cfg.data.targets = ["synthocc_occluded"], ["synthocc_partial"]
    cfg.data.synthocc.size = "tiny"
    split = ReIDDataManager(cfg, build_train=False).test_splits["synthocc_partial"]
    ds = _build("synthocc_partial", root, mode="query")
    assert len(split.query_truth) == len(split.query) and len(split.gallery_truth) == len(
        split.gallery)
    np.testing.assert_array_equal(split.query_truth.visibility,
                                  ds.part_truth(split.query).visibility)
    assert (split.query_truth.visibility[:, 3] < 1).any()  # partial views crop the feet
