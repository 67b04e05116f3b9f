"""Base classes of the published benchmarks, which are read by scanning their tree on disk.

Every real-benchmark class (Occluded-Duke, Occluded-REID, Partial-REID, Partial-iLIDS,
Market-1501, MSMT17) loads the same way: its ``scan(root)`` finds and parses the tree with
:mod:`~rganet_reid.data.datasets.layout`, malformed names stop the load with one error listing
all of them, train pids are relabelled, and the loaded counts are compared with the published
ones (:func:`~rganet_reid.data.dataset_stats.log_published_comparison`).

* :class:`ScannedDataset` runs that sequence around a subclass's ``scan``;
* :class:`SplitFolderDataset` implements ``scan`` for trees with one folder per split and the
  identity and camera in every file name (Market-1501, Occluded-Duke);
* :func:`camera_name_parser` builds the name parser of a release whose file names give pid
  and camera (Market-1501, Occluded-Duke);
* :func:`scan_query_gallery` parses the query and gallery folders of a test-only set whose
  file names carry no camera (Occluded-REID, Partial-REID, Partial-iLIDS).
"""

from __future__ import annotations

import abc
import re
from collections.abc import Sequence
from pathlib import Path

from rganet_reid.data.dataset_stats import log_published_comparison
from rganet_reid.data.datasets.base import ReIDImageDataset
from rganet_reid.data.datasets.layout import (
    DatasetScan,
    Item,
    NameParser,
    SplitScan,
    locate_dataset_dir,
    relabel,
    require_entries,
    scan_split,
)

#: Cameras of the test-only sets: query (occluded / partial) and gallery (whole-body) images
#: are different views, so the evaluation's same-pid-same-camera filter removes no true match.
QUERY_CAMID = 0
GALLERY_CAMID = 1


class ScannedDataset(ReIDImageDataset, abc.ABC):
    """A published benchmark loaded from what its ``scan(root)`` classmethod parsed.

    Subclasses implement ``scan(root) -> DatasetScan`` and set ``published_key`` (a key of
    :data:`~rganet_reid.data.dataset_stats.PUBLISHED`); ``__init__`` then loads the scan.
    A subclass whose ``__init__`` takes more options scans itself and calls :meth:`_load`.
    """

    published_key: str = ""

    def __init__(self, root: str = "", **kwargs) -> None:
        self._load(root, self.scan(root), **kwargs)

    @classmethod
    @abc.abstractmethod
    def scan(cls, root: str) -> DatasetScan:
        """Locate the tree under ``root`` and parse its splits (implemented by subclasses)."""

    def _load(self, root: str, scan: DatasetScan, extra_train: Sequence[Item] = (),
              **kwargs) -> None:
        """Refuse a scan with malformed names, then load it.

        Train is ``scan``'s train split plus ``extra_train``, relabelled to ``0..n-1`` (empty
        for a test-only set); query and gallery keep their pids. ``kwargs`` go to
        :class:`~rganet_reid.data.datasets.base.ReIDImageDataset`.
        """
        scan.raise_for_problems(type(self).__name__)
        self.root = str(root)
        self.dataset_dir = str(scan.dataset_dir)
        train = relabel([*scan.items("train"), *extra_train])
        super().__init__(train, scan.items("query"), scan.items("gallery"), **kwargs)
        log_published_comparison(self)


class SplitFolderDataset(ScannedDataset):
    """A tree of one folder per split whose file names give pid and camera.

    Class attributes a subclass sets: ``candidates`` (folders searched under ``data.root``,
    ``"."`` = root itself), ``layout``, ``expected_name`` (the naming scheme with an example,
    for errors), ``tree_name`` (for the ``source`` line), ``parse_name`` (a staticmethod
    ``path -> (pid, camid)`` raising ``ValueError``) and optionally ``drop_pid`` (a
    staticmethod ``pid -> reason or None`` leaving protocol junk out) and ``split_dirs``
    (default: the Market-1501 / DukeMTMC-reID folder names).
    """

    candidates: tuple[str, ...] = ()
    split_dirs: dict[str, str] = {"train": "bounding_box_train", "query": "query",
                                  "gallery": "bounding_box_test"}
    expected_name = ""
    tree_name = ""

    @staticmethod
    @abc.abstractmethod
    def parse_name(path: Path) -> tuple[int, int]:
        """``(pid, camid)`` of an image path (implemented by subclasses)."""

    @staticmethod
    def drop_pid(pid: int) -> str | None:
        """Why images of ``pid`` are left out by the protocol; ``None`` keeps them."""
        return None

    @classmethod
    def scan(cls, root: str) -> DatasetScan:
        """Locate the tree under ``root`` and parse every split (junk dropped, no relabel)."""
        owner = cls.__name__
        base = locate_dataset_dir(owner, root, cls.candidates, list(cls.split_dirs.values()),
                                  cls.layout)
        require_entries(owner, base, cls.split_dirs.values(), cls.layout)
        splits = {
            split: scan_split(base / folder, cls.parse_name, cls.expected_name,
                              drop=cls.drop_pid)
            for split, folder in cls.split_dirs.items()
        }
        return DatasetScan(base, splits, source=f"{cls.tree_name} tree at {base}")


def camera_name_parser(pattern: re.Pattern, scheme: str, num_cameras: int) -> NameParser:
    """A name parser giving ``(pid, camera - 1)`` from ``pattern``'s first two groups.

    Args:
        pattern: matched against the file name; group 1 is the pid, group 2 the 1-based
            camera number.
        scheme: the naming scheme, quoted in the ``ValueError`` for a name that does not match.
        num_cameras: cameras are ``1..num_cameras``; another number is a ``ValueError``.
    """

    def parse(path: Path) -> tuple[int, int]:
        m = pattern.match(path.name)
        if m is None:
            raise ValueError(f"name is not {scheme}")
        pid, cam = int(m.group(1)), int(m.group(2))
        if not 1 <= cam <= num_cameras:
            raise ValueError(f"camera c{cam} is outside c1..c{num_cameras}")
        return pid, cam - 1

    return parse


def fixed_camera_parser(pattern: re.Pattern, scheme: str, camid: int, *,
                        check_folder: bool = False) -> NameParser:
    """A name parser giving ``(pattern's first group as pid, camid)``.

    Args:
        pattern: matched against the file name; its first group is the pid.
        scheme: the naming scheme, quoted in the ``ValueError`` for a name that does not match.
        camid: the camera id of every image of the split.
        check_folder: the image must also lie in the folder named by its pid (``<pid>/``).
    """

    def parse(path: Path) -> tuple[int, int]:
        m = pattern.match(path.name)
        if m is None:
            raise ValueError(f"name is not {scheme}")
        pid = int(m.group(1))
        if check_folder and (not path.parent.name.isdigit() or int(path.parent.name) != pid):
            raise ValueError(f"file of identity {pid} lies in folder {path.parent.name!r}")
        return pid, camid

    return parse


def scan_query_gallery(
    query_dir: Path,
    gallery_dir: Path,
    pattern: re.Pattern,
    scheme: str,
    expected: str,
    *,
    per_id_subfolders: bool = False,
) -> dict[str, SplitScan]:
    """Parse the query and gallery folders of a test-only set.

    Pids come from :func:`fixed_camera_parser`; queries get :data:`QUERY_CAMID` and gallery
    images :data:`GALLERY_CAMID`. With ``per_id_subfolders`` images live in ``<pid>/``
    folders and must lie in the one of their pid. ``expected`` is the naming scheme with an
    example, for error messages.
    """
    return {
        split: scan_split(folder,
                          fixed_camera_parser(pattern, scheme, camid,
                                              check_folder=per_id_subfolders),
                          expected, per_id_subfolders=per_id_subfolders)
        for split, folder, camid in (("query", query_dir, QUERY_CAMID),
                                     ("gallery", gallery_dir, GALLERY_CAMID))
    }
