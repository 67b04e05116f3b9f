"""The region IoU a model predicting on a feature grid can reach on SynthOcc (an upper bound).

    python tools/bench_region_ceiling.py [--root DATA] [--size demo] [--seed 0]
        [--protocol occluded] [--grid 16x8 --grid 32x16]

RGANet's masks (Eq. 1) live on the ViT patch grid: 16×8 for a 128×64 input with 8-pixel patches,
as for the paper's 256×128 input with 16-pixel patches. The region mIoU of
``results.json`` compares their bilinear upsampling with the exact part masks. This command
gives every grid cell the *true* share of each class among its pixels, upsamples and
argmaxes those shares the same way (:func:`rganet_reid.evaluation.region_quality.
grid_ceiling_iou`) and prints the IoU per part over the protocol's test images (query and
gallery): ``argmax`` is the plain rule, ``best prior`` the best of a small grid of per-class
factors (background, head, feet) — an optimistic bound, chosen on the same images.
"""

from __future__ import annotations

import argparse
import itertools
import sys

from rganet_reid.cli.errors import add_debug_flag, run_command

#: per-class factors tried for the "best prior" row: (background, head, feet)
PRIOR_GRID = {"background": (0.5, 1.0), "head": (1.0, 2.0, 3.0, 5.0),
              "feet": (1.0, 2.0, 3.0, 5.0, 8.0)}


def parse_grid(text: str) -> tuple[int, int]:
    """``"16x8"`` → ``(16, 8)`` (rows × columns of the feature grid)."""
    try:
        rows, cols = (int(v) for v in text.lower().split("x"))
        if rows < 1 or cols < 1:
            raise ValueError
        return rows, cols
    except ValueError:
        raise argparse.ArgumentTypeError(f"--grid {text!r}: expected ROWSxCOLS, e.g. 16x8"
                                         ) from None


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``tools/bench_region_ceiling.py``."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default="data", help="data root (generated on first use)")
    parser.add_argument("--size", default="demo", help="SynthOcc size preset")
    parser.add_argument("--seed", type=int, default=0, help="SynthOcc generator seed")
    parser.add_argument("--protocol", default="occluded",
                        help="occluded | partial | holistic (its query + gallery masks)")
    parser.add_argument("--grid", type=parse_grid, action="append",
                        help="feature grid ROWSxCOLS (repeatable; default 16x8 and 32x16)")
    add_debug_flag(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Print the table; exit status 0, or 2 on a fault (:mod:`rganet_reid.cli.errors`)."""
    args = build_parser().parse_args(argv)
    return run_command(lambda: _bench(args), debug=args.debug)


def _bench(args: argparse.Namespace) -> int:
    import numpy as np
    from tabulate import tabulate

    from rganet_reid.data.masks import read_mask
    from rganet_reid.data.synthocc import (
        SYNTHOCC_PROTOCOLS,
        ensure_synthocc,
        load_manifest,
        mask_file,
    )
    from rganet_reid.data.synthocc.person import LABEL_NAMES
    from rganet_reid.evaluation.region_quality import grid_ceiling_iou

    if args.protocol not in SYNTHOCC_PROTOCOLS:
        raise ValueError(f"--protocol {args.protocol!r}: choose one of {SYNTHOCC_PROTOCOLS}")
    parts = list(LABEL_NAMES[1:])
    if len(parts) != 4:  # the prior grid names background, head, two parts, feet
        raise ValueError(f"SynthOcc labels changed ({parts}); update PRIOR_GRID")
    dataset = ensure_synthocc(args.root, args.size, args.seed)
    images = sorted(rel for rel, rec in load_manifest(dataset)["images"].items()
                    if rec["protocol"] == args.protocol)
    truth = np.stack([read_mask(mask_file(dataset, rel), num_labels=len(parts) + 1)
                      for rel in images]).astype(np.int64)
    rows = []
    for grid in args.grid or [(16, 8), (32, 16)]:
        plain = grid_ceiling_iou(truth, len(parts), grid)
        best = max(((grid_ceiling_iou(truth, len(parts), grid, (bg, head, 1.0, 1.0, feet)),
                     (bg, head, feet))
                    for bg, head, feet in itertools.product(*PRIOR_GRID.values())),
                   key=lambda result: float(np.nanmean(result[0])))
        for rule, iou in (("argmax", plain), (f"best prior {best[1]}", best[0])):
            rows.append([f"{grid[0]}x{grid[1]}", rule, *(f"{v:.3f}" for v in iou),
                         f"{float(np.nanmean(iou)):.3f}"])
    print(f"SynthOcc {args.size} seed {args.seed}, {args.protocol} protocol, {len(images)} test "
          f"images (query + gallery), IoU at image size of the best grid masks")
    print(tabulate(rows, headers=["grid", "rule", *parts, "mIoU"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
