"""``tools/main.py`` / ``rganet-main``: train and evaluate like torchreid's ``scripts/main.py``.

    python tools/main.py --config-file projects/RGANet/occ_duke.yaml --root DATA \
        [-s SOURCE ...] [-t TARGET ...] [KEY VALUE ...]

``test.evaluate True`` runs evaluation only; ``model.load_weights PATH`` loads weights;
``model.resume PATH`` continues a run exactly from its checkpoint. Started by
``torchrun --nproc_per_node=N`` it trains and evaluates data-parallel over N processes
(README "Multiple GPUs / machines"); rank 0 writes the run folder.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from yacs.config import CfgNode

logger = logging.getLogger("rganet_reid.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Train / evaluate person ReID models (RGANet and torchreid built-ins).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Trailing KEY VALUE pairs override config keys, e.g. train.max_epoch 5 "
        "test.evaluate True model.load_weights output/run/model.pth",
    )
    parser.add_argument("--config-file", type=str, default="", help="path to a YAML config")
    parser.add_argument("--root", type=str, default="", help="data root (data.root)")
    parser.add_argument("-s", "--sources", type=str, nargs="+", help="training datasets")
    parser.add_argument("-t", "--targets", type=str, nargs="+", help="test datasets")
    parser.add_argument("--transforms", type=str, nargs="+", help="training augmentations")
    parser.add_argument("--save-dir", type=str, default="", help="run folder (data.save_dir)")
    parser.add_argument("opts", default=None, nargs=argparse.REMAINDER,
                        help="KEY VALUE config overrides")
    return parser


def config_from_args(args: argparse.Namespace) -> CfgNode:
    """Defaults → ``--config-file`` → named flags → trailing ``KEY VALUE`` pairs."""
    from rganet_reid.config import load_config, merge_opts

    cfg = load_config(args.config_file or None, freeze=False)
    if args.root:
        cfg.data.root = args.root
    if args.sources:
        cfg.data.sources = list(args.sources)
    if args.targets:
        cfg.data.targets = list(args.targets)
    if args.transforms:
        cfg.data.transforms = list(args.transforms)
    if args.save_dir:
        cfg.data.save_dir = args.save_dir
    merge_opts(cfg, args.opts or [])
    cfg.freeze()
    return cfg


def build(cfg: CfgNode):
    """Data, model and engine for ``cfg`` (:func:`rganet_reid.engine.builder.build_run`)."""
    from rganet_reid.engine.builder import build_run

    return build_run(cfg)


def run(cfg: CfgNode) -> dict[str, dict[str, float]]:
    """Build data, model and engine from ``cfg`` and run it; returns per-dataset metrics."""
    return build(cfg).run()


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that are the user's input, reported as one clear line (no traceback)."""
    from rganet_reid.config import ConfigError
    from rganet_reid.data.datasets.base import DatasetLayoutError
    from rganet_reid.data.image_io import ImageReadError
    from rganet_reid.engine.checkpoint import CheckpointError
    from rganet_reid.modeling import PretrainedWeightsError

    return (ConfigError, DatasetLayoutError, ImageReadError, CheckpointError,
            PretrainedWeightsError, KeyError, FileNotFoundError, ValueError)


def report_user_error(err: BaseException, log: logging.Logger = logger) -> int:
    """Log a user-input error as one line (traceback only at debug level); returns exit code 2."""
    log.error("%s: %s", type(err).__name__, err.args[0] if err.args else err)
    log.debug("traceback", exc_info=True)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    from rganet_reid.utils.distributed import env_rank, shutdown_distributed
    from rganet_reid.utils.logging import setup_logging

    args = build_parser().parse_args(argv)
    setup_logging()
    errors = user_errors()
    try:
        cfg = config_from_args(args)
        if env_rank() == 0:  # under torchrun the other ranks log errors only, to stderr
            setup_logging(cfg.data.save_dir)
        else:
            setup_logging(level=logging.ERROR)
        logger.info("Config:\n%s", cfg.dump())
        run(cfg)
    except errors as err:
        return report_user_error(err)
    finally:
        shutdown_distributed()
    return 0


if __name__ == "__main__":
    sys.exit(main())
