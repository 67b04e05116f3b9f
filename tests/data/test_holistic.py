"""Market-1501 and MSMT17 (V1 and V2) read strictly from miniature published trees."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from rganet_reid.compat import torchreid_datasets
from rganet_reid.data.datasets import DATASETS
from rganet_reid.data.datasets.base import DatasetLayoutError
from rganet_reid.data.datasets.holistic import (
    Market1501Strict,
    MSMT17Strict,
    parse_market_name,
)
from rganet_reid.data.datasets.layout import MalformedFileNameError


def _names(items):
    return sorted(Path(it[0]).name for it in items)


# ------------------------------------------------------------------------------ Market-1501
def test_parse_market_name_reads_pid_camera_and_junk():
    assert parse_market_name(Path("0002_c1s1_000451_03.jpg")) == (2, 0)
    assert parse_market_name(Path("-1_c6s4_000010_02.jpg")) == (-1, 5)
    assert parse_market_name(Path("0000_c3s1_000152_01.jpg")) == (0, 2)
    for bad in ("0002_c7s1_000451_03.jpg", "0002_c1_000451.jpg", "Thumbs.jpg"):
        with pytest.raises(ValueError):
            parse_market_name(Path(bad))


def test_market_drops_junk_keeps_distractors_and_relabels_train(tmp_path, trees):
    trees.market(tmp_path)
    ds = Market1501Strict(root=str(tmp_path), verbose=False)
    assert ds.dataset_dir == str(tmp_path / "market1501" / "Market-1501-v15.09.15")
    # train pids 2, 7, 1500 → 0, 1, 2 (sorted); cameras 0-based
    assert sorted((Path(p).name, pid, cam) for p, pid, cam, _ in ds.train) == [
        ("0002_c1s1_000451_03.jpg", 0, 0), ("0002_c2s1_000301_01.jpg", 0, 1),
        ("0007_c3s3_070952_01.jpg", 1, 2), ("1500_c6s4_000010_02.jpg", 2, 5)]
    # gallery: the two -1 junk images are gone, the 0000 distractors stay as pid 0
    assert _names(ds.gallery) == ["0000_c1s1_000151_01.jpg", "0000_c3s1_000152_01.jpg",
                                  "0001_c2s1_000100_01.jpg", "0003_c5s3_000400_02.jpg"]
    assert sorted({pid for _, pid, _, _ in ds.gallery}) == [0, 1, 3]
    assert [pid for _, pid, _, _ in ds.query] == [1, 3]


def test_market_matches_torchreid_market1501_on_the_same_tree(tmp_path, trees):
    trees.market(tmp_path)
    ours = Market1501Strict(root=str(tmp_path), verbose=False)
    theirs = torchreid_datasets.init_image_dataset("market1501", root=str(tmp_path),
                                                   verbose=False)
    for split in ("query", "gallery"):
        assert sorted(getattr(ours, split)) == sorted(getattr(theirs, split))
    assert sorted((p, c) for p, _, c, _ in ours.train) == sorted(
        (p, c) for p, _, c, _ in theirs.train)
    assert ours.num_train_pids == theirs.num_train_pids


def test_market_combineall_leaves_junk_and_distractors_out_of_training(tmp_path, trees):
    trees.market(tmp_path)
    ds = Market1501Strict(root=str(tmp_path), combineall=True, verbose=False)
    names = _names(ds.train)
    assert "0001_c2s1_000100_01.jpg" in names and "0001_c1s1_001051_00.jpg" in names
    assert not any(n.startswith(("0000_", "-1_")) for n in names)
    assert ds.num_train_pids == 5  # 2, 7, 1500 + test ids 1, 3


@pytest.mark.parametrize("folder", ["market1501", "Market-1501-v15.09.15"])
def test_market_finds_the_alternative_placements(tmp_path, trees, folder):
    trees.market(tmp_path, folder=folder)
    ds = Market1501Strict(root=str(tmp_path), verbose=False)
    assert ds.dataset_dir == str(tmp_path / folder)


def test_market_malformed_name_is_an_error_but_thumbs_db_is_not(tmp_path, trees):
    trees.market(tmp_path)  # with Thumbs.db in every split
    base = tmp_path / "market1501" / "Market-1501-v15.09.15"
    Market1501Strict(root=str(tmp_path), verbose=False)
    trees.write_image(base / "query" / "0001_c1s1_001051.jpg")
    with pytest.raises(MalformedFileNameError) as err:
        Market1501Strict(root=str(tmp_path), verbose=False)
    assert "0001_c1s1_001051.jpg" in str(err.value)
    assert "0002_c1s1_000451_03.jpg" in str(err.value)  # the expected-pattern example


def test_market_missing_split_folder_and_wrong_root(tmp_path, trees):
    with pytest.raises(DatasetLayoutError, match="Market-1501-v15.09.15"):
        Market1501Strict(root=str(tmp_path), verbose=False)
    trees.write_image(tmp_path / "market1501" / "bounding_box_train" / "0002_c1s1_000451_03.jpg")
    with pytest.raises(DatasetLayoutError, match=r"missing in .*market1501:\n.*query"):
        Market1501Strict(root=str(tmp_path), verbose=False)


def test_market_500k_distractors_are_refused_with_a_pointer(tmp_path, trees):
    trees.market(tmp_path)
    with pytest.raises(ValueError, match="torchreid's 'market1501'"):
        Market1501Strict(root=str(tmp_path), market1501_500k=True, verbose=False)


# ------------------------------------------------------------------------------ MSMT17
@pytest.mark.parametrize("version,train_dir,test_dir", [("v1", "train", "test"),
                                                        ("v2", "mask_train_v2", "mask_test_v2")])
def test_msmt17_reads_the_lists_of_either_version_and_logs_it(tmp_path, trees, caplog,
                                                               version, train_dir, test_dir):
    base = trees.msmt(tmp_path, version=version)
    with caplog.at_level(logging.INFO):
        ds = MSMT17Strict(root=str(tmp_path), verbose=False)
    assert ds.version == version.upper() and ds.dataset_dir == str(base)
    assert f"read MSMT17 {version.upper()} ({train_dir}/{test_dir})" in caplog.text
    assert sorted((Path(p).relative_to(base).as_posix(), pid, cam)
                  for p, pid, cam, _ in ds.train) == [
        (f"{train_dir}/0000/0000_000_01_0303morning_0015_0.jpg", 0, 0),
        (f"{train_dir}/0000/0000_001_05_0303morning_0018_1.jpg", 0, 4),
        (f"{train_dir}/0001/0001_000_15_0303noon_0100_0.jpg", 1, 14)]
    assert [(pid, cam) for _, pid, cam, _ in ds.query] == [(0, 2), (2, 9)]
    assert len(ds.gallery) == 3 and all(test_dir in p for p, *_ in ds.gallery)


def test_msmt17_val_list_joins_training_only_with_combineall(tmp_path, trees):
    trees.msmt(tmp_path)
    assert len(MSMT17Strict(root=str(tmp_path), verbose=False).train) == 3
    ds = MSMT17Strict(root=str(tmp_path), combineall=True, verbose=False)
    names = _names(ds.train)
    assert "0001_001_02_0303noon_0101_0.jpg" in names  # from list_val.txt
    assert len(ds.train) == 3 + 1 + 2 + 3  # train + val + query + gallery


@pytest.mark.parametrize("folder", ["MSMT17_V2", "msmt17"])
def test_msmt17_finds_the_alternative_placements(tmp_path, trees, folder):
    base = trees.msmt(tmp_path, version="v2", folder=folder)
    ds = MSMT17Strict(root=str(tmp_path), verbose=False)
    assert ds.dataset_dir == str(base) and ds.version == "V2"


def test_msmt17_accepts_upper_case_v2_folder_names(tmp_path, trees):
    base = trees.msmt(tmp_path, version="v2")
    (base / "mask_train_v2").rename(base / "mask_train_V2")
    (base / "mask_test_v2").rename(base / "mask_test_V2")
    ds = MSMT17Strict(root=str(tmp_path), verbose=False)
    assert all("mask_train_V2" in p for p, *_ in ds.train)


def test_msmt17_version_option_selects_the_release(tmp_path, trees):
    trees.msmt(tmp_path, version="v1")
    trees.msmt(tmp_path, version="v2")
    assert MSMT17Strict(root=str(tmp_path), verbose=False).version == "V1"
    ds = MSMT17Strict(root=str(tmp_path), msmt17_version="v2", verbose=False)
    assert ds.version == "V2"


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_msmt17_version_is_set_by_the_config_key(tmp_path, trees, version):
    from rganet_reid.config import load_config
    from rganet_reid.data.datamanager import init_dataset

    trees.msmt(tmp_path, version="v1")
    trees.msmt(tmp_path, version="v2")
    cfg = load_config(opts=["data.root", str(tmp_path), "msmt17.version", version])
    assert init_dataset("msmt17_strict", "train", cfg, verbose=False).version == version.upper()


def test_msmt17_malformed_list_line_and_missing_image_are_named(tmp_path, trees):
    base = trees.msmt(tmp_path)
    with open(base / "list_query.txt", "a") as fh:
        fh.write("0009/0009_000_03_0113morning_0005_0.jpg 9\n")  # not on disk
        fh.write("just-a-path.jpg\n")
    with pytest.raises(MalformedFileNameError) as err:
        MSMT17Strict(root=str(tmp_path), verbose=False)
    msg = str(err.value)
    assert "list_query.txt:3" in msg and "does not exist" in msg
    assert "list_query.txt:4" in msg and "'<image path> <pid>'" in msg


def test_msmt17_list_files_without_image_folders_is_a_layout_error(tmp_path):
    base = tmp_path / "msmt17" / "MSMT17_V1"
    base.mkdir(parents=True)
    (base / "list_train.txt").write_text("")
    with pytest.raises(DatasetLayoutError, match="V1: train/test or V2: mask_train_v2"):
        MSMT17Strict(root=str(tmp_path), verbose=False)


def test_msmt17_missing_list_file_is_named(tmp_path, trees):
    base = trees.msmt(tmp_path)
    (base / "list_gallery.txt").unlink()
    with pytest.raises(DatasetLayoutError, match="list_gallery.txt"):
        MSMT17Strict(root=str(tmp_path), verbose=False)


def test_msmt17_matches_torchreid_msmt17_on_a_v1_tree(tmp_path, trees):
    trees.msmt(tmp_path)
    ours = MSMT17Strict(root=str(tmp_path), verbose=False)
    theirs = torchreid_datasets.init_image_dataset("msmt17", root=str(tmp_path), verbose=False)
    for split in ("train", "query", "gallery"):
        assert sorted(getattr(ours, split)) == sorted(getattr(theirs, split))


@pytest.mark.parametrize("name,build", [("market1501_strict", "market"),
                                        ("msmt17_strict", "msmt")])
def test_torchreid_init_image_dataset_builds_it_after_registration(tmp_path, trees, name,
                                                                   build, init_via_torchreid):
    getattr(trees, build)(tmp_path)
    ds = init_via_torchreid(name, tmp_path)
    assert type(ds) is DATASETS.get(name) and ds.num_train_pids > 0


# ------------------------------------------------------------------------------ data manager
def _cfg(root, sources, targets):
    from rganet_reid.config.defaults import get_default_config

    cfg = get_default_config()
    cfg.data.root = str(root)
    cfg.data.sources, cfg.data.targets = sources, targets
    cfg.data.workers = 0
    cfg.data.height, cfg.data.width = 32, 16
    cfg.train.batch_size, cfg.sampler.num_instances = 4, 2
    return cfg


@pytest.mark.parametrize("market,msmt", [("market1501_strict", "msmt17_strict"),
                                         ("market1501", "msmt17")])  # ours and torchreid's
def test_data_manager_trains_on_market_and_tests_on_every_real_benchmark(tmp_path, trees,
                                                                         market, msmt):
    from rganet_reid.data.datamanager import ReIDDataManager

    trees.market(tmp_path)
    trees.msmt(tmp_path)
    trees.occluded_reid(tmp_path)
    trees.partial_reid(tmp_path)
    trees.partial_ilids(tmp_path)
    targets = [msmt, "occluded_reid", "partial_reid", "partial_ilids"]
    dm = ReIDDataManager(_cfg(tmp_path, [market], targets))
    assert dm.num_train_pids == 3
    batch = next(iter(dm.train_loader))
    assert tuple(batch["img"].shape) == (4, 3, 32, 16)
    assert {n: (len(s.query), len(s.gallery)) for n, s in dm.test_splits.items()} == {
        msmt: (2, 3), "occluded_reid": (6, 6), "partial_reid": (6, 6), "partial_ilids": (3, 3)}
    assert dm.test_splits["partial_ilids"].eval_ranks == (1, 3)


def test_data_manager_loads_part_masks_from_a_mask_root_for_market(tmp_path, trees):
    import numpy as np

    from rganet_reid.data.datamanager import ReIDDataManager
    from rganet_reid.data.masks import mask_path_for, write_mask

    files = trees.market(tmp_path)
    base = tmp_path / "market1501" / "Market-1501-v15.09.15"
    for i, img in enumerate(files["bounding_box_train"]):
        write_mask(mask_path_for(img, base, tmp_path / "masks"),
                   np.full((trees.IMG_H, trees.IMG_W), i % 5))
    cfg = _cfg(tmp_path, ["market1501_strict"], ["market1501_strict"])
    cfg.data.load_masks, cfg.data.mask_root = True, str(tmp_path / "masks")
    batch = next(iter(ReIDDataManager(cfg).train_loader))
    assert tuple(batch["mask"].shape) == (4, 32, 16)
    assert set(batch["mask"].unique().tolist()) <= {0, 1, 2, 3}
