"""Occluded-REID (Zhuo et al., ICME 2018): a test-only occluded benchmark."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from rganet_reid.data.dataset_stats import log_published_comparison
from rganet_reid.data.datasets import DATASETS
from rganet_reid.data.datasets.base import ReIDImageDataset
from rganet_reid.data.datasets.layout import (
    DatasetScan,
    locate_candidate,
    require_entries,
    scan_split,
)

logger = logging.getLogger(__name__)

#: Query (occluded) and gallery (whole-body) images come from different "cameras", so the
#: standard same-pid-same-camera filter of the CMC/mAP evaluation removes no true match.
QUERY_CAMID = 0
GALLERY_CAMID = 1

_NAME = re.compile(r"^(\d+)_(\d+)\.(tif|tiff|jpg|jpeg|png|bmp)$", re.IGNORECASE)


def _parse_pid(path: Path) -> int:
    m = _NAME.match(path.name)
    if m is None:
        raise ValueError("name is not <pid>_<index>.<tif|jpg|png>")
    return int(m.group(1))


def _parser(camid: int, check_folder: bool):
    def parse(path: Path) -> tuple[int, int]:
        pid = _parse_pid(path)
        if check_folder:
            if not path.parent.name.isdigit() or int(path.parent.name) != pid:
                raise ValueError(f"file of identity {pid} lies in folder {path.parent.name!r}")
        return pid, camid

    return parse


@DATASETS.register("occluded_reid")
class OccludedREID(ReIDImageDataset):
    """Occluded-REID: 200 identities, 5 occluded + 5 whole-body images each (test-only).

    Published layout (the ICME 2018 release)::

        <root>/Occluded_REID/
            occluded_body_images/001/001_01.tif ... 200/200_05.tif   query, 1,000 images
            whole_body_images/001/001_01.tif ...                     gallery, 1,000 images

    Also accepted, the renamed copy used by fast-reid's PartialReID project
    (``projects/PartialReID/partialreid/partial_dataset.py``)::

        <root>/OccludedREID/query/001_01.jpg      flat folders, <pid>_<index>.<ext>
        <root>/OccludedREID/gallery/001_01.jpg

    The first found (``Occluded_REID`` before ``OccludedREID``) is used and logged. Any image
    suffix (.tif, .jpg, .png, ...) is read, so a format-converted copy works; the name must
    be ``<pid>_<index>`` and, in the published layout, lie in the folder of its pid.

    Cameras: every query gets camid 0 and every gallery image camid 1 (occluded and whole-body
    shots are different views), so the evaluation's same-camera rule removes no true match.
    fast-reid instead reads the ``<index>`` as the camera id, which drops the gallery image
    with the query's index from its ranking; numbers from the two readers may differ.

    Protocol: cross-domain, train on Market-1501, report Rank-1 / mAP (CMC ranks 1, 5, 10).
    """

    layout = (
        "  <root>/Occluded_REID/occluded_body_images/<pid>/<pid>_<n>.tif   (query)\n"
        "  <root>/Occluded_REID/whole_body_images/<pid>/<pid>_<n>.tif      (gallery)\n"
        "  or the renamed copy: <root>/OccludedREID/{query,gallery}/<pid>_<n>.<ext>"
    )
    variants = (
        # (folder under root, query folder, gallery folder, per-pid subfolders)
        ("Occluded_REID", "occluded_body_images", "whole_body_images", True),
        ("OccludedREID", "query", "gallery", False),
    )
    eval_ranks = (1, 5, 10)
    test_only = True
    published_key = "occluded_reid"

    def __init__(self, root: str = "", **kwargs) -> None:
        scan = self.scan(root)
        scan.raise_for_problems(type(self).__name__)
        self.root = str(root)
        self.dataset_dir = str(scan.dataset_dir)
        super().__init__([], scan.items("query"), scan.items("gallery"), **kwargs)
        log_published_comparison(self)

    @classmethod
    def scan(cls, root: str) -> DatasetScan:
        """Locate the tree under ``root`` (either variant) and parse query and gallery."""
        owner = cls.__name__
        index, base = locate_candidate(
            owner, root, [v[0] for v in cls.variants],
            sorted({v[1] for v in cls.variants} | {v[2] for v in cls.variants}), cls.layout,
        )
        _folder, qdir, gdir, nested = cls.variants[index]
        require_entries(owner, base, (qdir, gdir), cls.layout)
        expected = ("<pid>/<pid>_<index>.tif, e.g. 001/001_01.tif" if nested
                    else "<pid>_<index>.<ext>, e.g. 001_01.jpg")
        splits = {
            "query": scan_split(base / qdir, _parser(QUERY_CAMID, nested), expected,
                                per_id_subfolders=nested),
            "gallery": scan_split(base / gdir, _parser(GALLERY_CAMID, nested), expected,
                                  per_id_subfolders=nested),
        }
        variant = "published" if nested else "renamed (query/gallery)"
        logger.info("%s: read the %s layout at %s", owner, variant, base)
        return DatasetScan(base, splits, source=f"{variant} layout at {base}",
                           variant="published" if nested else "renamed")
