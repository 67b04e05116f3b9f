"""``rganet-search`` / ``tools/search.py``: gallery search and rank-list figures.

    rganet-search index --model RUN_OR_WEIGHTS --index GALLERY_DIR FOLDER [FOLDER ...]
    rganet-search query --index GALLERY_DIR IMAGE_OR_FOLDER [...] [-k 10] [--out ranks.png]
    rganet-search ranklist --model RUN_A [--model RUN_B] --dataset synthocc_occluded \
        --root data --out fig5.png
    rganet-search regions --model RUN_OR_WEIGHTS IMAGE_OR_FOLDER [...] --out fig4.png

``--model`` is a run folder (``config.yaml`` + ``model.pth``), a weights file written by
rganet-reid (it embeds its config), torchreid weights with ``--config``, or an ONNX file from
``rganet-export``. ``query`` uses the model the gallery was built with unless ``--model``
names one (it must be the same model). Library code: :mod:`rganet_reid.inference`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from rganet_reid.cli.errors import add_debug_flag, run_command

logger = logging.getLogger("rganet_reid.cli.search")


def _model_args(parser: argparse.ArgumentParser, required: bool, multiple: bool = False
                ) -> None:
    parser.add_argument("--model", required=required, action="append" if multiple else None,
                        help="run folder, weights file (.pth) or ONNX file"
                        + (" (twice: two models side by side)" if multiple else ""))
    parser.add_argument("--config", default=None, help="YAML config (e.g. for torchreid weights)")
    parser.add_argument("--opt", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                        help="config override, repeatable (e.g. --opt test.batch_size 64)")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda[:N]")
    parser.add_argument("--batch-size", type=int, default=0,
                        help="images per forward pass (default: test.batch_size)")
    add_debug_flag(parser, default=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rganet-search", description="Index folders of person crops and search them; "
        "draw rank lists (paper Fig. 5).", formatter_class=argparse.RawDescriptionHelpFormatter)
    add_debug_flag(parser)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="index folder trees of person crops (resumable, appends)")
    _model_args(p, required=True)
    p.add_argument("--index", required=True, help="gallery folder to create or extend")
    p.add_argument("folders", nargs="+", help="folders of images (searched recursively)")
    p.add_argument("--chunk-size", type=int, default=512,
                   help="images per saved chunk (an interrupted run resumes after the last one)")
    p.add_argument("--region-dtype", choices=("float32", "float16"), default="float32")
    p.add_argument("--index-type", default="flat",
                   help="flat (exact) | ivf | hnsw | a FAISS factory string")
    p.add_argument("--skip-unreadable", action="store_true",
                   help="skip unreadable images (logged) instead of stopping")

    p = sub.add_parser("query", help="top-k gallery images of query images (table + figure)")
    _model_args(p, required=False)
    p.add_argument("--index", required=True, help="gallery folder built by `index`")
    p.add_argument("images", nargs="+", help="query images or folders of them")
    p.add_argument("-k", "--topk", type=int, default=10)
    p.add_argument("--exclude-same-camera", action="store_true",
                   help="leave out gallery images of the query's identity and camera "
                   "(Market-style names; torchreid's protocol)")
    p.add_argument("--candidates", type=int, default=0,
                   help="FAISS candidates re-scored exactly (0 = the whole gallery)")
    p.add_argument("--out", default="", help="write the rank-list figure (PNG) here")
    p.add_argument("--table-format", default="github", help="tabulate format")
    p.add_argument("--no-verify", action="store_true",
                   help="skip the SHA-256 check of the index files (very large galleries)")

    p = sub.add_parser("ranklist", help="rank lists of one or two models on a dataset (Fig. 5)")
    _model_args(p, required=True, multiple=True)
    p.add_argument("--label", action="append", default=[], help="model label, per --model")
    p.add_argument("--dataset", required=True, help="registered dataset, e.g. synthocc_occluded")
    p.add_argument("--root", default="", help="data root (data.root; default: the model's)")
    p.add_argument("--queries", type=int, default=5, help="random queries with a match")
    p.add_argument("--query-index", type=int, action="append", default=[],
                   help="a chosen query (index in the query set), repeatable")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-k", "--topk", type=int, default=10)
    p.add_argument("--out", required=True, help="PNG file")

    p = sub.add_parser("regions", help="Fig. 4 for image files: each image, its region masks "
                       "and α / β / w per region (RGANet models with generated regions)")
    _model_args(p, required=True)
    p.add_argument("images", nargs="+", help="images or folders of them")
    p.add_argument("--max-images", type=int, default=8, help="draw at most this many")
    p.add_argument("--out", required=True, help="PNG file")
    return parser


def _extractor(model: str, args: argparse.Namespace):
    from rganet_reid.inference import FeatureExtractor

    opts = [v for pair in args.opt for v in pair]
    path = Path(model).expanduser()
    kwargs = {"run_dir": path} if path.is_dir() else {"model_path": path}
    return FeatureExtractor(config=args.config, device=args.device, batch_size=args.batch_size,
                            opts=opts, **kwargs)


def cmd_index(args: argparse.Namespace) -> int:
    from rganet_reid.inference.gallery import build_gallery

    gallery = build_gallery(_extractor(args.model, args), args.folders, args.index,
                            chunk_size=args.chunk_size, region_dtype=args.region_dtype,
                            index_type=args.index_type, skip_unreadable=args.skip_unreadable)
    model = gallery.manifest["model"]["model"]
    print(f"{args.index}: {len(gallery)} images indexed (model {model}, fingerprint "
          f"{gallery.fingerprint})")
    return 0


def _display(path: str) -> str:
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path


def cmd_query(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from rganet_reid.inference import identity_of, list_images
    from rganet_reid.inference.gallery import SearchGallery

    gallery = SearchGallery.open(args.index, verify=not args.no_verify)
    if args.model:
        extractor = _extractor(args.model, args)
        gallery.check_model(extractor)
    else:
        extractor = gallery.extractor(device=args.device, batch_size=args.batch_size,
                                      verbose=False)
    queries: list[Path] = []
    for item in args.images:
        p = Path(item).expanduser()
        queries += list_images(p) if p.is_dir() else [p]
    feats = extractor(queries)
    identities = [identity_of(q) for q in queries]
    results = gallery.query(feats, identities, args.topk,
                            exclude_same_camera=args.exclude_same_camera,
                            candidates=args.candidates)
    mark = {True: "yes", False: "no", None: "?"}
    rows = [[_display(str(q)) if m.rank == 1 else "", m.rank, f"{m.distance:.4f}",
             mark[m.correct], "-" if m.pid is None else m.pid,
             "-" if m.camid is None else m.camid, _display(m.path)]
            for q, matches in zip(queries, results) for m in matches]
    print(tabulate(rows, headers=["query", "rank", "distance", "same id", "pid", "camid",
                                  "gallery image"], tablefmt=args.table_format))
    if args.out:
        from rganet_reid.visualization.ranklist import RankedImage, RankRow, draw_ranklists

        fig_rows = [RankRow(str(q), [RankedImage(_image_or_placeholder(m.path), m.distance,
                                                 m.correct, _caption(m)) for m in matches],
                            label=q.name,
                            query_caption="query" if ident is None else f"query · id {ident[0]}")
                    for q, ident, matches in zip(queries, identities, results)]
        out = draw_ranklists(fig_rows, args.out, title=f"{extractor.cfg.model.name}: top "
                             f"{args.topk} of {len(gallery)} gallery images")
        print(f"Figure: {out}")
    return 0


def _caption(match) -> str:
    return Path(match.path).name[:14] if match.pid is None else f"id {match.pid} c{match.camid}"


def _image_or_placeholder(path: str):
    import numpy as np

    if Path(path).is_file():
        return path
    logger.warning("Gallery image %s no longer exists; drawn as a gray box.", path)
    return np.full((128, 64, 3), 200, np.uint8)


def cmd_ranklist(args: argparse.Namespace) -> int:
    from rganet_reid.inference.dataset_ranks import dataset_ranklists
    from rganet_reid.visualization.ranklist import draw_ranklists

    if len(args.label) not in (0, len(args.model)):
        raise ValueError(f"Give one --label per --model ({len(args.model)}), or none.")
    labels = args.label or [Path(m).name for m in args.model]
    extractors = {label: _extractor(m, args) for label, m in zip(labels, args.model)}
    cfg = next(iter(extractors.values())).cfg.clone()
    cfg.defrost()
    if args.root:
        cfg.data.root = args.root
    rows = dataset_ranklists(extractors, args.dataset, cfg, query_indices=args.query_index,
                             num_queries=args.queries, seed=args.seed, topk=args.topk,
                             progress=True)
    out = draw_ranklists(rows, args.out, title=f"{' vs '.join(labels)} on {args.dataset}: "
                         f"top {args.topk}")
    print(f"Figure: {out}")
    return 0


def cmd_regions(args: argparse.Namespace) -> int:
    import numpy as np

    from rganet_reid.data.image_io import read_rgb
    from rganet_reid.inference import list_images
    from rganet_reid.modeling.prompt import resolve_part_names
    from rganet_reid.visualization.regions import draw_region_views, views_from_outputs

    extractor = _extractor(args.model, args)
    paths: list[Path] = []
    for item in args.images:
        p = Path(item).expanduser()
        paths += list_images(p) if p.is_dir() else [p]
    if len(paths) > args.max_images:
        logger.info("Drawing the first %d of %d images (--max-images).", args.max_images,
                    len(paths))
        paths = paths[:args.max_images]
    images = [np.asarray(read_rgb(p)) for p in paths]
    outputs = extractor.region_outputs([str(p) for p in paths])
    rg = extractor.cfg.rganet
    names = resolve_part_names(int(rg.num_regions), list(rg.part_names))
    views = views_from_outputs(outputs, images, names, titles=[_display(str(p)) for p in paths])
    out = draw_region_views(views, args.out, f"{Path(args.model).name}: regions, α, β, w")
    print(f"Figure: {out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command; faults exit with status 2 (:mod:`rganet_reid.cli.errors`)."""
    from rganet_reid.utils.logging import setup_logging

    args = build_parser().parse_args(argv)
    setup_logging()
    import rganet_reid  # noqa: F401  (registers datasets/models with torchreid)

    commands = {"index": cmd_index, "query": cmd_query, "ranklist": cmd_ranklist,
                "regions": cmd_regions}
    return run_command(lambda: commands[args.command](args), debug=args.debug, log=logger)


if __name__ == "__main__":
    sys.exit(main())
