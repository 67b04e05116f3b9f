"""Verify a downloaded benchmark tree before training on it.

    python tools/verify_dataset.py --dataset occluded_duke --root DATA [--no-images]

Checks, for the rganet-reid dataset ``--dataset`` (occluded_duke, occluded_reid,
partial_reid, partial_ilids, market1501_strict, msmt17_strict) under ``--root``:

* the folder is found and every split folder / list file exists;
* every image name follows the release's naming scheme (all offenders are listed);
* every image opens and decodes with PIL (skip with ``--no-images``);
* the number of identities and images per split equals the published counts
  (skip with ``--no-counts``, e.g. for a deliberately partial copy).

Prints a table per split and the list of problems; exits with status 1 when there is any.
The checks are :func:`rganet_reid.data.verify.verify`.
"""

from __future__ import annotations

import argparse
import logging
import sys

from rganet_reid.cli.dataset_tools import dataset_parser
from rganet_reid.cli.errors import run_command
from rganet_reid.data.verify import scannable_datasets, verify


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``tools/verify_dataset.py``."""
    parser = dataset_parser(__doc__)
    parser.add_argument("--no-images", action="store_true", help="do not open the images")
    parser.add_argument("--no-counts", action="store_true",
                        help="do not compare with the published counts")
    parser.add_argument("--workers", type=int, default=4, help="threads opening images")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Verify, print the report; exit status 0 (OK), 1 (problems) or 2 (usage, faults)."""
    args = build_parser().parse_args(argv)
    if args.dataset not in scannable_datasets():
        print(f"Unknown dataset {args.dataset!r}; choose one of: "
              + ", ".join(scannable_datasets()), file=sys.stderr)
        return 2

    def body() -> int:
        report, problems = verify(args.dataset, args.root, images=not args.no_images,
                                  counts=not args.no_counts, workers=args.workers)
        print(report)
        return 1 if problems else 0

    return run_command(body, debug=args.debug, level=logging.WARNING)


if __name__ == "__main__":
    sys.exit(main())
