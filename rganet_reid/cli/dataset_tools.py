"""What the dataset commands (``verify_dataset``, ``check_masks``) share on the command line.

Both print a report on stdout and show only warnings of the dataset code on stderr
(``run_command(..., level=logging.WARNING)``)."""

from __future__ import annotations

import argparse

from rganet_reid.cli.errors import add_debug_flag
from rganet_reid.data.verify import scannable_datasets


def dataset_parser(doc: str) -> argparse.ArgumentParser:
    """A parser described by ``doc``'s first paragraph, with ``--dataset`` (a dataset that can
    be scanned, :func:`~rganet_reid.data.verify.scannable_datasets`) and ``--root``."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--dataset", required=True,
                        help="dataset name: " + ", ".join(scannable_datasets()))
    parser.add_argument("--root", required=True, help="data root (data.root)")
    add_debug_flag(parser)
    return parser
