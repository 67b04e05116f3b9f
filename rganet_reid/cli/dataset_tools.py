"""What the dataset commands (``verify_dataset``, ``check_masks``) share on the command line."""

from __future__ import annotations

import argparse
import logging

from rganet_reid.data.verify import scannable_datasets


def dataset_parser(doc: str) -> argparse.ArgumentParser:
    """A parser described by ``doc``'s first paragraph, with ``--dataset`` (a dataset that can
    be scanned, :func:`~rganet_reid.data.verify.scannable_datasets`) and ``--root``."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--dataset", required=True,
                        help="dataset name: " + ", ".join(scannable_datasets()))
    parser.add_argument("--root", required=True, help="data root (data.root)")
    return parser


def log_warnings() -> None:
    """Route warnings of the dataset code to stderr, one line each, next to the report."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
