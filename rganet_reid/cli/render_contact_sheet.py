"""Render a contact sheet of SynthOcc: identities, occluders, protocols and mask overlays.

    python tools/render_contact_sheet.py --root data --size demo --seed 0 \
        --out output/synthocc_contact_sheet.png

Generates the dataset first if needed. Top block: training identities, starting with the
"consistent occluder" trap identities (always occluded by the same object in one camera).
Bottom block: test identities across the protocols: occluded query, the same capture holistic
and partial, and gallery images from other cameras. Every image is followed by its part-label
mask overlay (head red, upper body green, lower body blue, feet yellow; occluders and
background dimmed). The drawing is :func:`rganet_reid.data.synthocc.contact_sheet.render`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from rganet_reid.cli.errors import add_debug_flag, run_command
from rganet_reid.data.synthocc import SIZES, ensure_synthocc
from rganet_reid.data.synthocc.contact_sheet import render


def main(argv: list[str] | None = None) -> int:
    """Generate SynthOcc if needed and draw its contact sheet; exit status 0 (2 on a fault,
    :mod:`rganet_reid.cli.errors`)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default="data", help="data root (data.root)")
    parser.add_argument("--size", default="demo", choices=sorted(SIZES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="output/synthocc_contact_sheet.png")
    parser.add_argument("--train-rows", type=int, default=4)
    parser.add_argument("--test-rows", type=int, default=4)
    add_debug_flag(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    def body() -> int:
        dataset_dir = ensure_synthocc(args.root, args.size, args.seed)
        out = render(dataset_dir, Path(args.out), args.train_rows, args.test_rows)
        print(f"wrote {out}")
        return 0

    return run_command(body, debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
