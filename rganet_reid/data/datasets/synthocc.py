"""SynthOcc protocols as torchreid image datasets: ``synthocc_occluded``, ``synthocc_partial``,
``synthocc_holistic``.

The dataset is generated on first use under ``<root>/synthocc/<size>_seed<seed>/`` (see
:mod:`rganet_reid.data.synthocc`) and parsed like torchreid's Market1501: Market-1501 file
names, 0-based camera ids, training pids relabelled ``0..n-1``, query/gallery pids kept.
Part-label masks live in ``mask_subdir`` (``masks/<image relative path>.png``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from rganet_reid.data.datasets import DATASETS
from rganet_reid.data.datasets.base import DatasetLayoutError, ReIDImageDataset
from rganet_reid.data.datasets.layout import DatasetScan, relabel, scan_split
from rganet_reid.data.masks import mask_path_for
from rganet_reid.data.part_truth import PartTruth
from rganet_reid.data.synthocc import EVAL_RANKS, ensure_synthocc, load_manifest
from rganet_reid.data.synthocc.protocols import GALLERY_DIR, MASK_DIR, QUERY_DIR, TRAIN_DIR
from rganet_reid.data.synthocc.render import LABEL_NAMES

MARKET_PATTERN = re.compile(r"([-\d]+)_c(\d)")
EXPECTED_NAME = "{pid:04d}_c{cam}s1_{frame:06d}_00.jpg, e.g. 0042_c3s1_000123_00.jpg"


def parse_synthocc_name(path: Path) -> tuple[int, int]:
    """``(pid, camid)`` of a Market-1501-style name; camid is 0-based like torchreid's."""
    m = MARKET_PATTERN.search(path.name)
    if m is None:
        raise ValueError(f"does not follow the Market-1501 pattern {EXPECTED_NAME}")
    return int(m.group(1)), int(m.group(2)) - 1


_LAYOUT = """\
<root>/synthocc/<size>_seed<seed>/      (generated automatically on first use)
    manifest.json
    bounding_box_train/                  shared by the three protocols
    <protocol>/query/                    protocol = occluded | partial | holistic
    <protocol>/bounding_box_test/
    masks/<same relative path>.png       part labels 0 bg/occluder, 1 head, 2 upper, 3 lower,
                                         4 feet"""


class SynthOccDataset(ReIDImageDataset):
    """Base of the three SynthOcc protocols (not registered itself).

    Args:
        root: data root (``data.root``); the dataset folder is created beneath it.
        synthocc_size: ``tiny`` | ``demo`` | ``full`` (``data.synthocc.size``).
        synthocc_seed: generator seed (``data.synthocc.seed``).
        **kwargs: passed to :class:`ReIDImageDataset` (transform, mode, combineall, verbose,
            ...); torchreid-only keys (split_id, cuhk03_*, market1501_500k) are ignored.
    """

    protocol: str = ""
    mask_subdir = MASK_DIR
    layout = _LAYOUT

    def __init__(self, root: str = "", synthocc_size: str = "demo", synthocc_seed: int = 0,
                 **kwargs) -> None:
        self.root = os.path.abspath(os.path.expanduser(root or "."))
        scan = self.scan(self.root, synthocc_size, synthocc_seed)
        scan.raise_for_problems(type(self).__name__)
        self.dataset_dir = str(scan.dataset_dir)
        self.train_dir, self.query_dir, self.gallery_dir = (
            str(scan.splits[s].folder) for s in ("train", "query", "gallery"))
        self._manifest: dict | None = None
        super().__init__(relabel(scan.items("train")), scan.items("query"),
                         scan.items("gallery"), **kwargs)

    @classmethod
    def scan(cls, root: str, synthocc_size: str = "demo", synthocc_seed: int = 0
             ) -> DatasetScan:
        """Generate the dataset if needed and parse this protocol's splits (raw pids)."""
        dataset_dir = ensure_synthocc(root or ".", synthocc_size, synthocc_seed)
        folders = {"train": dataset_dir / TRAIN_DIR,
                   "query": dataset_dir / cls.protocol / QUERY_DIR,
                   "gallery": dataset_dir / cls.protocol / GALLERY_DIR}
        missing = [str(f) for f in folders.values() if not f.is_dir()]
        if missing:
            raise DatasetLayoutError(
                f"{cls.__name__}: missing {', '.join(missing)}; delete {dataset_dir} to "
                f"regenerate it.\nExpected layout:\n{cls.layout}")
        splits = {split: scan_split(folder, parse_synthocc_name, EXPECTED_NAME)
                  for split, folder in folders.items()}
        return DatasetScan(dataset_dir, splits, source=f"SynthOcc {synthocc_size} seed "
                           f"{synthocc_seed}, {cls.protocol} protocol, at {dataset_dir}")

    # -- masks and occlusion metadata -----------------------------------------------------
    def mask_path(self, img_path: str) -> str:
        """Part-label mask of an image of this dataset (the data manager's rule)."""
        return str(mask_path_for(img_path, self.dataset_dir,
                                 Path(self.dataset_dir) / self.mask_subdir))

    @property
    def manifest(self) -> dict:
        """The generator's ``manifest.json`` (loaded lazily)."""
        if self._manifest is None:
            self._manifest = load_manifest(self.dataset_dir)
        return self._manifest

    def image_info(self, img_path: str) -> dict:
        """Manifest record of an image: pid, cam, split, protocol, occluded, occluder,
        occluder_style, trap, keep, body_px, visible_px, visibility (per part)."""
        rel = Path(img_path).resolve().relative_to(self.dataset_dir).as_posix()
        try:
            return self.manifest["images"][rel]
        except KeyError:
            raise KeyError(
                f"{img_path} is not listed in {self.dataset_dir}/manifest.json") from None

    def part_truth(self, items: list) -> PartTruth:
        """Ground truth of ``items`` (query or gallery tuples), in item order: the manifest's
        per-part ``visibility`` (head, upper body, lower body, feet) and each image's mask."""
        vis = np.asarray([self.image_info(it[0])["visibility"] for it in items],
                         dtype=np.float32).reshape(len(items), len(LABEL_NAMES) - 1)
        return PartTruth(vis, tuple(Path(self.mask_path(it[0])) for it in items),
                         tuple(LABEL_NAMES[1:]))

    def occlusion_rate(self, split: str) -> float:
        """Fraction of occluded images in ``split`` (train | query | gallery)."""
        items = {"train": self.train, "query": self.query, "gallery": self.gallery}[split]
        if not items:
            return 0.0
        return sum(self.image_info(it[0])["occluded"] for it in items) / len(items)


@DATASETS.register("synthocc_occluded")
class SynthOccOccluded(SynthOccDataset):
    """Occluded-Duke-like protocol: all queries occluded, ~10 % of the gallery occluded."""

    protocol = "occluded"
    eval_ranks = EVAL_RANKS["occluded"]


@DATASETS.register("synthocc_partial")
class SynthOccPartial(SynthOccDataset):
    """Partial-REID-like protocol: partial-body queries vs whole-body gallery (Rank-1/3)."""

    protocol = "partial"
    eval_ranks = EVAL_RANKS["partial"]


@DATASETS.register("synthocc_holistic")
class SynthOccHolistic(SynthOccDataset):
    """Holistic protocol: the same test captures without any occlusion."""

    protocol = "holistic"
    eval_ranks = EVAL_RANKS["holistic"]
