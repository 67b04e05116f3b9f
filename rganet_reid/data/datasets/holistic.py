"""The holistic benchmarks, read strictly: Market-1501 and MSMT17 (V1 and V2).

torchreid registers ``market1501`` and ``msmt17`` itself; those keep working with our data
manager. The classes here read the same published trees but (a) search several usual
placements of the folder under ``data.root`` and name them all when none is found, (b) stop
with the list of every file name that breaks the naming scheme instead of crashing on the
first (torchreid raises ``AttributeError`` on such a name), (c) log their statistics and
compare them with the published counts, and (d) derive from
:class:`~rganet_reid.data.datasets.base.ReIDImageDataset`, so part masks for L_seg resolve
against ``dataset_dir`` like every other rganet-reid dataset. They are registered as
``market1501_strict`` and ``msmt17_strict``.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from rganet_reid.data.datasets import DATASETS
from rganet_reid.data.datasets.base import DatasetLayoutError
from rganet_reid.data.datasets.layout import (
    DatasetScan,
    SplitScan,
    locate_dataset_dir,
    require_entries,
)
from rganet_reid.data.datasets.published import (
    ScannedDataset,
    SplitFolderDataset,
    camera_name_parser,
)

logger = logging.getLogger(__name__)

# ------------------------------------------------------------------------------ Market-1501
_MARKET_NAME = re.compile(r"^(-1|\d+)_c(\d)s(\d+)_(\d+)_(\d+)\.jpg$")
MARKET_CAMERAS = 6
MARKET_JUNK_PID = -1
MARKET_DISTRACTOR_PID = 0

#: ``parse_market_name(Path("0002_c1s1_000451_03.jpg"))`` → ``(pid=2, camid=0)``; junk images
#: have pid -1. Raises ``ValueError`` for another name or a camera outside c1..c6.
parse_market_name = camera_name_parser(
    _MARKET_NAME, "<pid>_c<camera>s<sequence>_<frame>_<box>.jpg", MARKET_CAMERAS
)


def _market_junk(pid: int) -> str | None:
    return "junk image (pid -1), ignored by the protocol" if pid == MARKET_JUNK_PID else None


@DATASETS.register("market1501_strict")
class Market1501Strict(SplitFolderDataset):
    """Market-1501, read strictly from its published tree.

    Layout (the extracted ``Market-1501-v15.09.15.zip``)::

        <root>/market1501/Market-1501-v15.09.15/
            bounding_box_train/0002_c1s1_000451_03.jpg   12,936 images, 751 ids
            query/0001_c1s1_001051_00.jpg                3,368 images, 750 ids
            bounding_box_test/0000_c1s1_000151_01.jpg    15,913 images + 3,819 junk (-1_...)

    Candidates searched under ``data.root``: ``market1501/Market-1501-v15.09.15``,
    ``market1501``, ``Market-1501-v15.09.15``, ``Market-1501`` and ``data.root`` itself.
    Names are ``<pid>_c<cam>s<seq>_<frame>_<box>.jpg``, cameras 1..6 (camid = cam - 1).

    Junk and distractors exactly as torchreid's ``Market1501``: images of pid ``-1`` (junk
    detections) are dropped from every split; pid ``0000`` (distractor boxes) is kept as an
    ordinary gallery id that never matches a query, and ``_junk_pids = [0, -1]`` keeps both
    out of the training set under ``combineall``. Train pids are relabelled to 0..750.
    ``Thumbs.db`` files shipped in the archive are ignored. The 500k-distractor extension is
    not supported here (use torchreid's ``market1501`` with ``market1501_500k``).
    Protocol: train and test on Market-1501 (Rank-1 / mAP, CMC ranks 1, 5, 10); it is also the
    training set of the cross-domain protocol for Occluded-REID, Partial-REID, Partial-iLIDS.
    """

    layout = (
        "  <root>/market1501/Market-1501-v15.09.15/{bounding_box_train,query,"
        "bounding_box_test}/<pid>_c<cam>s<seq>_<frame>_<box>.jpg\n"
        "  (also accepted: <root>/market1501/{bounding_box_train,...}, "
        "<root>/Market-1501-v15.09.15/..., <root>/Market-1501/..., or root = that folder)"
    )
    candidates = (
        "market1501/Market-1501-v15.09.15",
        "market1501",
        "Market-1501-v15.09.15",
        "Market-1501",
        ".",
    )
    expected_name = "<pid>_c<camera 1-6>s<seq>_<frame>_<box>.jpg, e.g. 0002_c1s1_000451_03.jpg"
    tree_name = "Market-1501"
    parse_name = staticmethod(parse_market_name)
    drop_pid = staticmethod(_market_junk)
    _junk_pids = [MARKET_DISTRACTOR_PID, MARKET_JUNK_PID]
    eval_ranks = (1, 5, 10)
    published_key = "market1501"

    def __init__(self, root: str = "", market1501_500k: bool = False, **kwargs) -> None:
        if market1501_500k:
            raise ValueError(
                "market1501_strict does not read the 500k distractor gallery; use torchreid's "
                "'market1501' dataset with market1501_500k=True for that protocol."
            )
        super().__init__(root, **kwargs)


# ------------------------------------------------------------------------------ MSMT17
MSMT17_CAMERAS = 15
_MSMT_NAME = re.compile(r"^(\d+)_(\d+)_(\d+)_[^/\\]*\.jpg$")
#: Image folders of each release (V2 blurs faces; lists and names are the same).
MSMT17_VERSIONS = {"v1": ("train", "test"), "v2": ("mask_train_v2", "mask_test_v2")}
MSMT17_LISTS = {
    "train": ("list_train.txt", 0),
    "val": ("list_val.txt", 0),
    "query": ("list_query.txt", 1),
    "gallery": ("list_gallery.txt", 1),
}  # list file, index of its image folder in MSMT17_VERSIONS[...]


def parse_msmt17_list(list_path: Path, image_dir: Path) -> SplitScan:
    """Parse one MSMT17 list file (lines ``<pid>/<image>.jpg <pid>``).

    The camera is the third ``_``-separated field of the image name
    (``0000_000_01_0303morning_0015_0.jpg`` → camera 01 → camid 0), as in the official code
    and torchreid. Every malformed line and every listed image missing on disk is recorded
    as ``("<list>:<line>", reason)``.
    """
    scan = SplitScan(folder=image_dir,
                     expected=f"lines '<pid>/<pid>_<n>_<camera 01-15>_<...>.jpg <pid>' "
                     f"in {list_path.name}")
    with open(list_path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{list_path}:{lineno}"
        fields = line.split()
        if len(fields) != 2 or not fields[1].lstrip("-").isdigit():
            scan.malformed.append((where, f"expected '<image path> <pid>', got {line!r}"))
            continue
        rel, pid = fields[0], int(fields[1])
        m = _MSMT_NAME.match(os.path.basename(rel))
        if m is None:
            scan.malformed.append((where, f"image name {rel!r} is not "
                                          "<pid>_<n>_<camera>_<...>.jpg"))
            continue
        cam = int(m.group(3))
        if not 1 <= cam <= MSMT17_CAMERAS:
            scan.malformed.append((where, f"camera {cam} is outside 1..{MSMT17_CAMERAS}"))
            continue
        path = image_dir / rel
        if not path.is_file():
            scan.malformed.append((where, f"listed image {path} does not exist"))
            continue
        scan.items.append((str(path), pid, cam - 1))
    return scan


def _find_dir(base: Path, name: str) -> Path | None:
    """``base/name``, matching the name case-insensitively (``mask_train_V2`` copies exist)."""
    if (base / name).is_dir():
        return base / name
    for entry in base.iterdir():
        if entry.is_dir() and entry.name.lower() == name.lower():
            return entry
    return None


@DATASETS.register("msmt17_strict")
class MSMT17Strict(ScannedDataset):
    """MSMT17 V1 or V2, read from the official list files; the version is detected.

    Layouts (one of them under the folder found)::

        MSMT17_V1/                            MSMT17_V2/  (faces blurred)
            train/0000/0000_000_01_...jpg         mask_train_v2/0000/0000_000_01_...jpg
            test/0000/0000_000_01_...jpg          mask_test_v2/0000/...
            list_train.txt  list_val.txt          list_train.txt  list_val.txt
            list_query.txt  list_gallery.txt      list_query.txt  list_gallery.txt

    List lines are ``<pid>/<image>.jpg <pid>``, relative to the train (train/val lists) or
    test (query/gallery lists) image folder. The camera is the image name's third field
    (01..15, camid = camera - 1). The version is decided by which image folders exist
    (``train``/``test`` → V1, ``mask_train_v2``/``mask_test_v2`` → V2) and logged.

    Candidates searched under ``data.root``: ``msmt17/MSMT17_V1``, ``msmt17/MSMT17_V2``
    (torchreid's placement), ``MSMT17_V1``, ``MSMT17_V2``, ``msmt17``, ``MSMT17`` and
    ``data.root`` itself — the first holding ``list_train.txt``. ``msmt17_version="v1"`` or
    ``"v2"`` (config key ``msmt17.version``) restricts the search to that release.

    Protocol (as torchreid and the paper): train = ``list_train.txt`` (30,248 images,
    1,041 ids); ``list_val.txt`` (2,373 images) joins the training set only with
    ``combineall``. Query 11,659 / gallery 82,161 images of 3,060 ids. Rank-1 / mAP.
    """

    layout = (
        "  <root>/msmt17/MSMT17_V1/{train,test}/<pid>/<image>.jpg + list_{train,val,query,"
        "gallery}.txt\n"
        "  <root>/msmt17/MSMT17_V2/{mask_train_v2,mask_test_v2}/<pid>/<image>.jpg + the same "
        "list files\n"
        "  (also accepted: <root>/MSMT17_V1, <root>/MSMT17_V2, <root>/msmt17, <root>/MSMT17, "
        "or root = that folder)"
    )
    candidates = ("msmt17/MSMT17_V1", "msmt17/MSMT17_V2", "MSMT17_V1", "MSMT17_V2", "msmt17",
                  "MSMT17", ".")
    eval_ranks = (1, 5, 10)
    published_key = "msmt17"

    def __init__(self, root: str = "", msmt17_version: str = "auto", **kwargs) -> None:
        scan = self.scan(root, version=msmt17_version)
        self.version = scan.variant  # "V1" or "V2"
        # torchreid's MSMT17 also adds list_val.txt to the training set under combineall
        extra = scan.extra["val"].items if kwargs.get("combineall") else []
        self._load(root, scan, extra_train=extra, **kwargs)

    @classmethod
    def scan(cls, root: str, version: str = "auto") -> DatasetScan:
        """Locate the tree, detect V1/V2 and parse the four list files."""
        owner = cls.__name__
        version = version.lower()
        if version not in ("auto", *MSMT17_VERSIONS):
            raise ValueError(f"msmt17_version must be auto, v1 or v2, got {version!r}")
        candidates = cls.candidates
        if version != "auto":
            other = "V2" if version == "v1" else "V1"
            candidates = tuple(c for c in candidates if not c.endswith(f"MSMT17_{other}"))
        base = locate_dataset_dir(owner, root, candidates, ["list_train.txt"], cls.layout)
        found = {
            v: [_find_dir(base, d) for d in dirs] for v, dirs in MSMT17_VERSIONS.items()
        }
        complete = [v for v, dirs in found.items() if all(dirs)
                    and (version == "auto" or v == version)]
        if not complete:
            wanted = MSMT17_VERSIONS if version == "auto" else {version: MSMT17_VERSIONS[version]}
            options = " or ".join(f"{v.upper()}: {'/'.join(d)}" for v, d in wanted.items())
            raise DatasetLayoutError(
                f"{owner}: {base} has list files but not the image folders of a release "
                f"({options}).\nExpected layout:\n{cls.layout}"
            )
        chosen = complete[0]
        if len(complete) > 1:
            logger.warning("%s: %s holds both V1 and V2 image folders; reading V1 "
                           "(set msmt17.version v2 for V2)", owner, base)
        require_entries(owner, base, [f for f, _ in MSMT17_LISTS.values()], cls.layout)
        dirs = found[chosen]
        scans = {split: parse_msmt17_list(base / fname, dirs[idx])
                 for split, (fname, idx) in MSMT17_LISTS.items()}
        logger.info("%s: read MSMT17 %s (%s) from %s", owner, chosen.upper(),
                    "/".join(d.name for d in dirs), base)
        return DatasetScan(
            base,
            {s: scans[s] for s in ("train", "query", "gallery")},
            source=f"MSMT17 {chosen.upper()} at {base}",
            extra={"val": scans["val"]},
            variant=chosen.upper(),
        )
