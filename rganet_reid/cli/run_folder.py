"""The arguments every command on a finished run folder takes (``tools/draw_regions.py``,
``tools/rescore_readings.py``): ``RUN_DIR``, ``--root``, ``--weights``, ``--debug`` and
trailing ``KEY VALUE`` config overrides."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rganet_reid.cli.errors import add_debug_flag


def run_folder_parser(doc: str | None) -> argparse.ArgumentParser:
    """A parser with ``run_dir`` (``config.yaml`` + ``model.pth``), ``--root`` (replaces the
    run's ``data.root``), ``--weights`` (default ``RUN_DIR/model.pth``), ``--debug`` and
    ``opts`` (``KEY VALUE`` pairs after ``--`` merged into the run's config, e.g.
    ``-- data.synthocc.seed 1``); the command adds its own options."""
    parser = argparse.ArgumentParser(description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir")
    parser.add_argument("--root", default=None, help="data root (default: the run's data.root)")
    parser.add_argument("--weights", default=None, help="weights file (default RUN_DIR/model.pth)")
    add_debug_flag(parser)
    parser.epilog = ("KEY VALUE pairs after -- change the run's config, e.g. "
                     "-- data.synthocc.seed 1 (another SynthOcc world)")
    return parser


def parse_run_folder_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None
                          ) -> argparse.Namespace:
    """``parser``'s arguments before ``--``; the ``KEY VALUE`` overrides after it go to
    ``.opts`` (a list, empty without ``--``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:cut])
    args.opts = argv[cut + 1:]
    return args
