"""``tools/eval_sharded.py`` / ``rganet-eval-sharded``: exact evaluation with the gallery
sharded over processes, of saved features or of a model.

    # saved features (feature directories, docs/retrieval.md §7; a GalleryIndex directory works)
    torchrun --nproc_per_node=N tools/eval_sharded.py --query Q_DIR --gallery G_DIR \
        [--config-file CFG] [--out results.json] [KEY VALUE ...]
    # a model: sharded extraction, then the same evaluation (optionally saving the features)
    torchrun --nproc_per_node=N tools/eval_sharded.py --config-file CFG --root DATA \
        model.load_weights RUN/model.pth [--save-features DIR] [KEY VALUE ...]

Each process reads (or extracts) every query and one contiguous shard of the gallery, counts
closer items against its shard, and the counts are summed: CMC / mAP / mINP equal one
process's evaluation of the whole gallery. ``KEY VALUE`` pairs are config overrides
(``retrieval.memory_budget_mb``, ``retrieval.dtype``, ``test.dist_metric``, ``device`` …).
Started with plain ``python`` it is the single-process evaluation.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from rganet_reid.cli.errors import add_debug_flag, run_command

logger = logging.getLogger("rganet_reid.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Exact ReID evaluation with the gallery sharded over torchrun processes.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--query", type=str, default="", help="query feature directory")
    parser.add_argument("--gallery", type=str, default="", help="gallery feature directory")
    parser.add_argument("--config-file", type=str, default="", help="YAML config")
    parser.add_argument("--root", type=str, default="", help="data root (model mode)")
    parser.add_argument("--save-features", type=str, default="",
                        help="model mode: write <DIR>/<dataset>/{query,gallery} feature dirs")
    parser.add_argument("--out", type=str, default="",
                        help="results JSON (model mode default: data.save_dir/results.json)")
    parser.add_argument("opts", nargs=argparse.REMAINDER, help="KEY VALUE config overrides")
    add_debug_flag(parser)
    return parser


def evaluate_saved(query_dir: str | Path, gallery_dir: str | Path, cfg) -> dict:
    """Metrics of saved query features against saved gallery features, this process reading
    only its gallery shard (every process calls it and gets the metrics), as in results.json."""
    from rganet_reid.evaluation import RetrievalSettings
    from rganet_reid.evaluation.sharded import evaluate_feature_dirs
    from rganet_reid.utils import distributed as dist

    ranks = sorted(int(r) for r in cfg.test.ranks)
    settings = RetrievalSettings.from_config(cfg, max_rank=max(max(ranks), 10))
    res, num_query, num_gallery = evaluate_feature_dirs(query_dir, gallery_dir, settings)
    metrics = {f"rank{r}": 100.0 * res.rank(min(r, len(res.cmc))) for r in ranks}
    metrics.update(mAP=100.0 * res.mAP, mINP=100.0 * res.mINP, num_query=num_query,
                   num_gallery=num_gallery, num_valid_queries=res.num_valid_queries,
                   num_processes=dist.world_size())
    return metrics


def feature_writer(directory: Path):
    """The engine's ``feature_sink`` for ``--save-features``: every rank writes its rows of
    ``<directory>/<dataset>/{query,gallery}``."""
    from rganet_reid.evaluation.feature_store import write_feature_rows
    from rganet_reid.utils import distributed as dist

    def sink(name: str, query, gallery_shard, gallery_start: int, num_gallery: int) -> None:
        main = dist.is_main_process()
        write_feature_rows(directory / name / "query", query if main else None, 0, len(query),
                           create=main, finish=main, template=query, barrier=dist.barrier)
        write_feature_rows(directory / name / "gallery", gallery_shard, gallery_start,
                           num_gallery, create=main, finish=main, template=query,
                           barrier=dist.barrier)
        if main:
            logger.info("Features of %s written to %s", name, directory / name)

    return sink


def main(argv: Sequence[str] | None = None) -> int:
    """Parse and evaluate; faults exit with status 2 (:func:`rganet_reid.cli.errors.run_command`).
    """
    from rganet_reid.config import load_config, merge_opts
    from rganet_reid.utils import distributed as dist
    from rganet_reid.utils.io import write_json_atomic

    args = build_parser().parse_args(argv)

    def body() -> int:
        if bool(args.query) != bool(args.gallery):
            logger.error("--query and --gallery go together (saved features); give both or "
                         "neither.")
            return 2
        cfg = load_config(args.config_file or None, freeze=False)
        if args.root:
            cfg.data.root = args.root
        merge_opts(cfg, args.opts or [])
        if args.query:
            cfg.freeze()
            device = dist.init_distributed(cfg.device, cfg.distributed.backend,
                                           cfg.distributed.timeout_s)
            cfg.defrost()
            cfg.device = str(device)
            cfg.freeze()
            results = {"features": evaluate_saved(args.query, args.gallery, cfg)}
        else:
            if not args.config_file:
                logger.error("Give --query/--gallery (saved features) or --config-file (a model).")
                return 2
            cfg.test.evaluate = True
            cfg.freeze()
            from rganet_reid.engine.builder import build_run

            engine = build_run(cfg)
            if args.save_features:
                engine.feature_sink = feature_writer(Path(args.save_features))
            results = engine.run()
        if dist.is_main_process():
            for name, m in results.items():
                logger.info("%s  %s", name, "  ".join(
                    f"{k}={v:.2f}" for k, v in m.items() if k.startswith(("rank", "mAP", "mI"))))
            if args.out:
                write_json_atomic(Path(args.out), {"results": results})
            print(json.dumps(results, indent=2))
        return 0

    level = logging.INFO if dist.env_rank() == 0 else logging.ERROR
    try:
        return run_command(body, debug=args.debug, log=logger, level=level)
    finally:
        dist.shutdown_distributed()

if __name__ == "__main__":
    sys.exit(main())
