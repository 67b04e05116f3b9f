"""Fig. 4 for a trained RGANet: images, their N regions and α, β, w per region (PNG).

    python tools/draw_regions.py RUN_DIR [--root DATA] [--dataset NAME] [--split query]
        [--count 4 | --index I ...] [--out FILE.png] [-- KEY VALUE ...]

RUN_DIR holds ``config.yaml`` and ``model.pth``. By default the ``--count`` most occluded
queries of the first target dataset (lowest mean ground-truth part visibility) are drawn,
with the true visibility of each region's part printed beside its w ("GT"); on datasets
without part ground truth give ``--index``. Library: :mod:`rganet_reid.visualization.regions`.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Draw the figure; faults exit with status 2 (:mod:`rganet_reid.cli.errors`)."""
    from rganet_reid.cli.errors import run_command
    from rganet_reid.cli.run_folder import parse_run_folder_args, run_folder_parser

    parser = run_folder_parser(__doc__)
    parser.add_argument("--dataset", default=None, help="target dataset (default: the first)")
    parser.add_argument("--split", choices=("query", "gallery"), default="query")
    parser.add_argument("--count", type=int, default=4, help="most occluded items to draw")
    parser.add_argument("--index", type=int, nargs="+", help="draw these items instead")
    parser.add_argument("--out", default=None, help="PNG path (default RUN_DIR/regions.png)")
    args = parse_run_folder_args(parser, argv)
    return run_command(lambda: _draw(args, parser), debug=args.debug)


def _draw(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import numpy as np
    import torch

    from rganet_reid.data.image_io import read_rgb
    from rganet_reid.engine.saved_run import load_saved_run
    from rganet_reid.evaluation.region_quality import region_part_map, region_visibility
    from rganet_reid.modeling.prompt import resolve_part_names
    from rganet_reid.visualization.regions import draw_region_views, most_occluded, region_views

    engine = load_saved_run(args.run_dir, args.root, args.weights, "figures", args.opts)
    splits = engine.datamanager.test_splits
    name = args.dataset or next(iter(splits))
    if name not in splits:
        parser.error(f"--dataset {name!r} is not a target of this run ({', '.join(splits)})")
    split = splits[name]
    items = getattr(split, args.split)
    truth = getattr(split, f"{args.split}_truth")
    if args.index:
        indices = args.index
    elif truth is not None:
        indices = most_occluded(truth.visibility, args.count)
    else:
        parser.error(f"{name} has no part ground truth to find occluded images: give --index")
    loader = getattr(split, f"{args.split}_loader")
    inputs = torch.stack([loader.dataset[i]["img"] for i in indices]).to(engine.device)
    images = [np.asarray(read_rgb(items[i][0])) for i in indices]
    cfg = engine.cfg.rganet
    names = resolve_part_names(int(cfg.num_regions), list(cfg.part_names))
    visibility = None
    if truth is not None:
        parts = region_part_map(int(cfg.num_regions), truth.num_parts, list(cfg.seg.label_map))
        visibility = region_visibility(truth.visibility[indices], parts)
    titles = [f"{Path(items[i][0]).name}\nid {items[i][1]}" for i in indices]
    views = region_views(engine.model, inputs, images, names, visibility, titles)
    out = Path(args.out or Path(args.run_dir) / "regions.png")
    draw_region_views(views, out, f"{name} {args.split}: regions, α, β, w (GT = true "
                                  "visibility of the region's part)")
    print(out)
    return 0

