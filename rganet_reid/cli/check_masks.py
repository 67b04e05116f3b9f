"""Check a folder of pseudo part masks against a dataset before training with L_seg.

    python tools/check_masks.py --dataset occluded_duke --root DATA --mask-root MASKS \
        [--num-labels 5] [--splits train]

The masks must follow the format of :mod:`rganet_reid.data.masks`: one single-channel PNG
label map per image, at the image's path relative to the dataset folder with a ``.png``
suffix, of the image's height × width, with labels ``0..num_labels-1``. The tool names every
image whose mask is missing, unreadable, mis-sized or holds out-of-range labels, counts
masks that belong to no image of the dataset, and exits with status 1 on any problem.
The checks are :func:`rganet_reid.data.mask_check.check_masks`.
"""

from __future__ import annotations

import argparse
import logging
import sys

from rganet_reid.cli.dataset_tools import dataset_parser
from rganet_reid.cli.errors import run_command
from rganet_reid.data.mask_check import check_masks


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``tools/check_masks.py``."""
    parser = dataset_parser(__doc__)
    parser.add_argument("--mask-root", required=True, help="root of the mask tree")
    parser.add_argument("--splits", nargs="+", default=None,
                        help="splits to check (default: train, or query gallery if test-only)")
    parser.add_argument("--num-labels", type=int, default=None,
                        help="labels allowed: 0..num_labels-1 (N parts + background)")
    parser.add_argument("--ignore-label", type=int, default=None,
                        help="one extra allowed label (e.g. 255 = ignored by the loss)")
    parser.add_argument("--workers", type=int, default=4)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Check, print the report; exit status 0 (OK), 1 (problems) or 2 (usage, faults)."""
    args = build_parser().parse_args(argv)

    def body() -> int:
        report, problems = check_masks(args.dataset, args.root, args.mask_root, args.splits,
                                       args.num_labels, args.ignore_label, args.workers)
        print(report)
        return 1 if problems else 0

    return run_command(body, debug=args.debug, level=logging.WARNING)


if __name__ == "__main__":
    sys.exit(main())
