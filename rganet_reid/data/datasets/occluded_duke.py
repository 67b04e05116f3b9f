"""Occluded-DukeMTMC (Miao et al., ICCV 2019), read from its published folder tree."""

from __future__ import annotations

import re

from rganet_reid.data.datasets import DATASETS
from rganet_reid.data.datasets.published import SplitFolderDataset, camera_name_parser

_DUKE_NAME = re.compile(r"^(\d+)_c(\d+)_f(\d+)\.jpg$")
NUM_CAMERAS = 8

#: ``parse_duke_name(Path("0001_c2_f0046182.jpg"))`` → ``(pid=1, camid=1)`` (camid 0-based,
#: cameras 1..8). Raises ``ValueError`` for another name or camera.
parse_duke_name = camera_name_parser(_DUKE_NAME, "<pid>_c<camera>_f<frame>.jpg", NUM_CAMERAS)


@DATASETS.register("occluded_duke")
class OccludedDuke(SplitFolderDataset):
    """Occluded-DukeMTMC: all queries occluded, 10 % of the gallery occluded.

    Built from DukeMTMC-reID by the authors' ``convert_duke_to_occduke.py``, which writes the
    Duke tree layout::

        <root>/Occluded_Duke/                   (first candidate found is used, see below)
            bounding_box_train/0001_c2_f0046182.jpg   15,618 images, 702 ids
            query/0005_c2_f0046985.jpg                 2,210 images, 519 ids
            bounding_box_test/0002_c1_f0044158.jpg    17,661 images, 1,110 ids

    Candidates searched under ``data.root``, in order: ``Occluded_Duke``,
    ``dukemtmcreid/Occluded_Duke``, ``dukemtmc-reid/Occluded_Duke``, ``occluded_duke``,
    and ``data.root`` itself; the one used is logged. Names are ``<pid>_c<cam>_f<frame>.jpg``
    with cameras 1..8 (camid = cam - 1). Train pids are relabelled to 0..701.
    Protocol: train on its train split, report Rank-1 / mAP (CMC ranks 1, 5, 10).
    """

    layout = (
        "  <root>/Occluded_Duke/{bounding_box_train,query,bounding_box_test}/"
        "<pid>_c<cam>_f<frame>.jpg\n"
        "  (also accepted: <root>/dukemtmcreid/Occluded_Duke/..., "
        "<root>/dukemtmc-reid/Occluded_Duke/..., <root>/occluded_duke/..., or root = the "
        "Occluded_Duke folder)"
    )
    candidates = (
        "Occluded_Duke",
        "dukemtmcreid/Occluded_Duke",
        "dukemtmc-reid/Occluded_Duke",
        "occluded_duke",
        ".",
    )
    expected_name = "<pid>_c<camera 1-8>_f<frame>.jpg, e.g. 0001_c2_f0046182.jpg"
    tree_name = "Occluded-Duke"
    parse_name = staticmethod(parse_duke_name)
    eval_ranks = (1, 5, 10)
    published_key = "occluded_duke"
