"""The arguments every command on a finished run folder takes (``tools/draw_regions.py``,
``tools/rescore_readings.py``): ``RUN_DIR``, ``--root``, ``--weights`` and ``--debug``."""

from __future__ import annotations

import argparse

from rganet_reid.cli.errors import add_debug_flag


def run_folder_parser(doc: str | None) -> argparse.ArgumentParser:
    """A parser with ``run_dir`` (``config.yaml`` + ``model.pth``), ``--root`` (replaces the
    run's ``data.root``), ``--weights`` (default ``RUN_DIR/model.pth``) and ``--debug``; the
    command adds its own options."""
    parser = argparse.ArgumentParser(description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir")
    parser.add_argument("--root", default=None, help="data root (default: the run's data.root)")
    parser.add_argument("--weights", default=None, help="weights file (default RUN_DIR/model.pth)")
    add_debug_flag(parser)
    return parser
