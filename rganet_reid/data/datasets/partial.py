"""The partial-ReID test sets: Partial-REID (ICCV 2015) and Partial-iLIDS (CVPR 2018).

Both are test-only and evaluated cross-domain (train on Market-1501) with CMC Rank-1 and
Rank-3. Query images are manually cropped partial bodies, gallery images whole bodies; each
query gets camid 0 and each gallery image camid 1, so the evaluation's same-camera rule
removes no true match.
"""

from __future__ import annotations

import logging
import re

from rganet_reid.data.datasets import DATASETS
from rganet_reid.data.datasets.layout import DatasetScan, locate_dataset_dir, require_entries
from rganet_reid.data.datasets.published import ScannedDataset, scan_query_gallery

logger = logging.getLogger(__name__)

_PARTIAL_REID_NAME = re.compile(r"^(\d+)_(\d+)\.(jpg|jpeg|png|tif|tiff|bmp)$", re.IGNORECASE)
_ILIDS_NAME = re.compile(r"^(\d+)\.(jpg|jpeg|png|tif|tiff|bmp)$", re.IGNORECASE)


class _PartialTestSet(ScannedDataset):
    """Shared reader: one flat query folder and one flat gallery folder of images."""

    candidates: tuple[str, ...] = ()
    query_dirs: tuple[str, ...] = ()  # first existing one is the query folder
    gallery_dir = "whole_body_images"
    name_pattern: re.Pattern
    scheme = ""
    expected_name = ""
    eval_ranks = (1, 3)

    @classmethod
    def scan(cls, root: str) -> DatasetScan:
        """Locate the tree under ``root`` and parse its query and gallery folders."""
        owner = cls.__name__
        base = locate_dataset_dir(owner, root, cls.candidates,
                                  [*cls.query_dirs, cls.gallery_dir], cls.layout)
        present = [d for d in cls.query_dirs if (base / d).is_dir()]
        require_entries(owner, base, [present[0] if present else cls.query_dirs[0],
                                      cls.gallery_dir], cls.layout)
        qdir = present[0]
        if len(present) > 1:
            logger.info("%s: query = %s (ignoring %s)", owner, qdir, ", ".join(present[1:]))
        splits = scan_query_gallery(base / qdir, base / cls.gallery_dir, cls.name_pattern,
                                    cls.scheme, cls.expected_name)
        return DatasetScan(base, splits, source=f"{base} (query folder: {qdir})")


@DATASETS.register("partial_reid")
class PartialREID(_PartialTestSet):
    """Partial-REID: 60 identities, 5 partial + 5 whole-body images each (test-only).

    Published layout::

        <root>/Partial_REID/
            partial_body_images/001_01.jpg ... 060_05.jpg   query, 300 cropped partial images
            occluded_body_images/001_01.jpg ...            (uncropped occluded frames)
            whole_body_images/001_01.jpg ...               gallery, 300 images

    The query folder is ``partial_body_images`` (the standard protocol); a copy that only has
    ``occluded_body_images`` is read from there instead, and the choice is logged.
    ``<root>/PartialREID/`` is accepted as the folder name too. Names are
    ``<pid>_<index>.jpg`` (other image suffixes are accepted for converted copies).
    Protocol: cross-domain, train on Market-1501, report Rank-1 / Rank-3.
    """

    layout = (
        "  <root>/Partial_REID/partial_body_images/<pid>_<n>.jpg   (query; or "
        "occluded_body_images/)\n"
        "  <root>/Partial_REID/whole_body_images/<pid>_<n>.jpg     (gallery)\n"
        "  (<root>/PartialREID/... is accepted too)"
    )
    candidates = ("Partial_REID", "PartialREID")
    query_dirs = ("partial_body_images", "occluded_body_images")
    name_pattern = _PARTIAL_REID_NAME
    scheme = "<pid>_<index>.jpg"
    expected_name = "<pid>_<index>.jpg, e.g. 001_01.jpg"
    published_key = "partial_reid"


@DATASETS.register("partial_ilids")
class PartialILIDS(_PartialTestSet):
    """Partial-iLIDS: 119 identities, one partial and one whole-body image each (test-only).

    Layout (as distributed with the PVPM / DSR code)::

        <root>/Partial_iLIDS/
            partial_body_images/001.jpg ... 119.jpg   query, 119 images
            whole_body_images/001.jpg ... 119.jpg     gallery, 119 images

    The identity is the file name's number. ``<root>/PartialiLIDS/`` is accepted as the
    folder name too. Protocol: cross-domain, train on Market-1501, report Rank-1 / Rank-3.
    """

    layout = (
        "  <root>/Partial_iLIDS/partial_body_images/<pid>.jpg   (query)\n"
        "  <root>/Partial_iLIDS/whole_body_images/<pid>.jpg     (gallery)\n"
        "  (<root>/PartialiLIDS/... is accepted too)"
    )
    candidates = ("Partial_iLIDS", "PartialiLIDS")
    query_dirs = ("partial_body_images",)
    name_pattern = _ILIDS_NAME
    scheme = "<pid>.jpg"
    expected_name = "<pid>.jpg, e.g. 001.jpg"
    published_key = "partial_ilids"
