"""Miniature copies of the real benchmark trees, and helpers shared by the data tests.

Every builder writes a few tiny real images (JPEG or TIFF, chosen by suffix) under
``tmp_path`` and returns the created paths; tests reach them through the ``trees`` fixture.
``run_tool`` runs a command of ``rganet_reid.cli`` (what ``tools/<name>.py`` calls) in-process;
``init_via_torchreid`` builds a registered dataset through torchreid's own factory.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from rganet_reid.compat import register_image_dataset, torchreid_datasets
from rganet_reid.data.datasets import DATASETS

IMG_W, IMG_H = 8, 16


def write_image(path: Path, seed: int = 0, size: tuple[int, int] = (IMG_W, IMG_H)) -> Path:
    """A tiny real image; the format follows the suffix (.jpg → JPEG, .tif → TIFF, ...)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


def _write_all(base: Path, names: list[str]) -> list[Path]:
    return [write_image(base / n, seed=i) for i, n in enumerate(names)]


# Occluded-Duke: <pid>_c<cam>_f<frame>.jpg
DUKE = {
    "bounding_box_train": ["0001_c2_f0046182.jpg", "0001_c5_f0051781.jpg",
                           "0003_c1_f0044158.jpg", "0007_c8_f0000001.jpg"],
    "query": ["0005_c2_f0046985.jpg", "0009_c3_f0000333.jpg"],
    "bounding_box_test": ["0005_c1_f0044200.jpg", "0005_c6_f0047000.jpg",
                          "0009_c2_f0000400.jpg", "0011_c7_f0000500.jpg"],
}


def build_duke(root: Path, folder: str = "Occluded_Duke") -> dict[str, list[Path]]:
    base = root / folder
    return {split: _write_all(base / split, names) for split, names in DUKE.items()}


# Market-1501: <pid>_c<cam>s<seq>_<frame>_<box>.jpg, junk -1, distractor 0000, Thumbs.db
MARKET = {
    "bounding_box_train": ["0002_c1s1_000451_03.jpg", "0002_c2s1_000301_01.jpg",
                           "0007_c3s3_070952_01.jpg", "1500_c6s4_000010_02.jpg"],
    "query": ["0001_c1s1_001051_00.jpg", "0003_c4s2_000200_00.jpg"],
    "bounding_box_test": ["0001_c2s1_000100_01.jpg", "0003_c5s3_000400_02.jpg",
                          "0000_c1s1_000151_01.jpg", "0000_c3s1_000152_01.jpg",
                          "-1_c1s1_000401_03.jpg", "-1_c2s1_000402_04.jpg"],
}


def build_market(root: Path, folder: str = "market1501/Market-1501-v15.09.15",
                 thumbs: bool = True) -> dict[str, list[Path]]:
    base = root / folder
    out = {split: _write_all(base / split, names) for split, names in MARKET.items()}
    if thumbs:
        for split in MARKET:
            (base / split / "Thumbs.db").write_bytes(b"\x00windows thumbnail cache")
    return out


# MSMT17: <pid>/<pid>_<n>_<cam>_<date><time>_<frame>_<?>.jpg listed in list_*.txt
MSMT_TRAIN = [("0000/0000_000_01_0303morning_0015_0.jpg", 0),
              ("0000/0000_001_05_0303morning_0018_1.jpg", 0),
              ("0001/0001_000_15_0303noon_0100_0.jpg", 1)]
MSMT_VAL = [("0001/0001_001_02_0303noon_0101_0.jpg", 1)]
MSMT_QUERY = [("0000/0000_000_03_0113morning_0005_0.jpg", 0),
              ("0002/0002_000_10_0113noon_0020_1.jpg", 2)]
MSMT_GALLERY = [("0000/0000_001_07_0113morning_0006_0.jpg", 0),
                ("0002/0002_001_11_0113noon_0021_0.jpg", 2),
                ("0004/0004_000_12_0113noon_0050_0.jpg", 4)]


def build_msmt(root: Path, version: str = "v1", folder: str | None = None) -> Path:
    folder = folder or f"msmt17/MSMT17_{version.upper()}"
    base = root / folder
    train_dir, test_dir = ("train", "test") if version == "v1" else (
        "mask_train_v2", "mask_test_v2")
    for list_name, image_dir, rows in (
        ("list_train.txt", train_dir, MSMT_TRAIN), ("list_val.txt", train_dir, MSMT_VAL),
        ("list_query.txt", test_dir, MSMT_QUERY), ("list_gallery.txt", test_dir, MSMT_GALLERY),
    ):
        _write_all(base / image_dir, [rel for rel, _ in rows])
        (base / list_name).write_text("".join(f"{rel} {pid}\n" for rel, pid in rows))
    return base


# Occluded-REID: occluded_body_images/<pid>/<pid>_<n>.tif, whole_body_images/<pid>/...
def build_occluded_reid(root: Path, pids=(1, 2, 3), per_id: int = 2,
                        renamed: bool = False) -> Path:
    if renamed:  # fast-reid's copy: OccludedREID/{query,gallery}/<pid>_<n>.jpg
        base = root / "OccludedREID"
        for split in ("query", "gallery"):
            _write_all(base / split, [f"{p:03d}_{n:02d}.jpg" for p in pids
                                      for n in range(1, per_id + 1)])
        return base
    base = root / "Occluded_REID"
    for split in ("occluded_body_images", "whole_body_images"):
        _write_all(base / split, [f"{p:03d}/{p:03d}_{n:02d}.tif" for p in pids
                                  for n in range(1, per_id + 1)])
    return base


# Partial-REID: partial_body_images/<pid>_<n>.jpg, whole_body_images/<pid>_<n>.jpg
def build_partial_reid(root: Path, pids=(1, 2, 60), per_id: int = 2,
                       query_dirs=("partial_body_images",)) -> Path:
    base = root / "Partial_REID"
    names = [f"{p:03d}_{n:02d}.jpg" for p in pids for n in range(1, per_id + 1)]
    for d in (*query_dirs, "whole_body_images"):
        _write_all(base / d, names)
    return base


# Partial-iLIDS: partial_body_images/<pid>.jpg, whole_body_images/<pid>.jpg
def build_partial_ilids(root: Path, pids=(1, 2, 119)) -> Path:
    base = root / "Partial_iLIDS"
    for d in ("partial_body_images", "whole_body_images"):
        _write_all(base / d, [f"{p:03d}.jpg" for p in pids])
    return base


@pytest.fixture
def trees() -> SimpleNamespace:
    """The miniature-tree builders and their file lists."""
    return SimpleNamespace(
        write_image=write_image,
        duke=build_duke, DUKE=DUKE,
        market=build_market, MARKET=MARKET,
        msmt=build_msmt, MSMT_TRAIN=MSMT_TRAIN, MSMT_VAL=MSMT_VAL, MSMT_QUERY=MSMT_QUERY,
        MSMT_GALLERY=MSMT_GALLERY,
        occluded_reid=build_occluded_reid,
        partial_reid=build_partial_reid,
        partial_ilids=build_partial_ilids,
        IMG_W=IMG_W, IMG_H=IMG_H,
    )


@pytest.fixture
def run_tool(capsys):
    """``run_tool(name, *argv) -> (exit code, stdout + stderr)`` of ``rganet_reid.cli.<name>``'s
    main, the command ``tools/<name>.py`` runs."""

    def run(name: str, *argv: str) -> tuple[int, str]:
        code = importlib.import_module(f"rganet_reid.cli.{name}").main(list(argv))
        out = capsys.readouterr()
        return code, out.out + out.err

    return run


@pytest.fixture
def init_via_torchreid():
    """``init(name, root, **kwargs)``: register DATASETS[name] with torchreid and build it
    with ``torchreid.data.datasets.init_image_dataset`` (quietly)."""

    def init(name: str, root: Path, **kwargs):
        register_image_dataset(name, DATASETS.get(name))
        return torchreid_datasets.init_image_dataset(name, root=str(root), verbose=False,
                                                     **kwargs)

    return init
