"""Occluded-REID (Zhuo et al., ICME 2018): a test-only occluded benchmark."""

from __future__ import annotations

import logging
import re

from rganet_reid.data.datasets import DATASETS
from rganet_reid.data.datasets.layout import DatasetScan, locate_candidate, require_entries
from rganet_reid.data.datasets.published import ScannedDataset, scan_query_gallery

logger = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d+)_(\d+)\.(tif|tiff|jpg|jpeg|png|bmp)$", re.IGNORECASE)
_SCHEME = "<pid>_<index>.<tif|jpg|png>"


@DATASETS.register("occluded_reid")
class OccludedREID(ScannedDataset):
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
    published_key = "occluded_reid"

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
        splits = scan_query_gallery(base / qdir, base / gdir, _NAME, _SCHEME, expected,
                                    per_id_subfolders=nested)
        variant = "published" if nested else "renamed (query/gallery)"
        logger.info("%s: read the %s layout at %s", owner, variant, base)
        return DatasetScan(base, splits, source=f"{variant} layout at {base}",
                           variant="published" if nested else "renamed")
