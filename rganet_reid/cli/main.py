"""``tools/main.py`` / ``rganet-main``: train and evaluate like torchreid's ``scripts/main.py``.

    python tools/main.py --config-file projects/RGANet/occ_duke.yaml --root DATA \
        [-s SOURCE[,SOURCE]] [-t TARGET[,TARGET]] [--debug] [--] [KEY VALUE ...]

``-s``, ``-t`` and ``--transforms`` take one value each — several names comma-separated
(``-t occluded_duke,market1501_strict``) or the flag repeated — so they can never swallow the
``KEY VALUE`` overrides that follow; a token in the overrides that is not a config key is an
error that shows what was parsed. ``test.evaluate True`` runs evaluation only;
``model.load_weights PATH`` loads weights; ``model.resume PATH`` continues a run exactly from
its checkpoint (same training keys; see docs/reliability.md). Errors:
:mod:`rganet_reid.cli.errors`. Started by ``torchrun --nproc_per_node=N`` it trains and
evaluates data-parallel over N processes (README "Multiple GPUs / machines"); rank 0 writes the
run folder.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from yacs.config import CfgNode

from rganet_reid.cli.errors import add_debug_flag, run_command

logger = logging.getLogger("rganet_reid.cli")

_LIST_FLAGS = (("sources", "-s/--sources"), ("targets", "-t/--targets"),
               ("transforms", "--transforms"))

USAGE_EPILOG = """\
Several datasets or transforms: comma-separated or the flag repeated,
  -t synthocc_occluded,synthocc_partial    or    -t synthocc_occluded -t synthocc_partial
Then trailing KEY VALUE pairs override config keys (after an optional --), e.g.
  train.max_epoch 5 test.evaluate True model.load_weights output/run/model.pth
Every key and its meaning: rganet_reid/config/defaults.py.
"""


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"empty name in {text!r}; separate names with commas")
    return names


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``rganet-main`` (flags first, then ``KEY VALUE`` overrides)."""
    parser = argparse.ArgumentParser(
        prog="rganet-main",
        description="Train / evaluate person ReID models (RGANet and torchreid built-ins).",
        usage="%(prog)s [--config-file FILE] [--root DIR] [-s NAME[,NAME]] [-t NAME[,NAME]] "
              "[--transforms NAME[,NAME]] [--save-dir DIR] [--debug] [--] [KEY VALUE ...]",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=USAGE_EPILOG,
    )
    parser.add_argument("--config-file", type=str, default="", help="path to a YAML config")
    parser.add_argument("--root", type=str, default="", help="data root (data.root)")
    parser.add_argument("-s", "--sources", type=_names, action="append", metavar="NAME[,NAME]",
                        help="training dataset(s) (data.sources)")
    parser.add_argument("-t", "--targets", type=_names, action="append", metavar="NAME[,NAME]",
                        help="test dataset(s) (data.targets)")
    parser.add_argument("--transforms", type=_names, action="append", metavar="NAME[,NAME]",
                        help="training augmentations (data.transforms)")
    parser.add_argument("--save-dir", type=str, default="", help="run folder (data.save_dir)")
    add_debug_flag(parser)
    parser.add_argument("opts", default=None, nargs=argparse.REMAINDER, metavar="KEY VALUE",
                        help="config overrides, after the flags")
    return parser


def _flat(values: list[list[str]] | None) -> list[str]:
    return [name for group in values or [] for name in group]


def parsed_summary(args: argparse.Namespace, opts: Sequence[str]) -> str:
    """What the command line was read as, for error messages."""
    parts = [f"--config-file {args.config_file or '(none)'}"]
    parts += [f"{flag} {_flat(getattr(args, dest))}" for dest, flag in _LIST_FLAGS
              if getattr(args, dest)]
    parts.append(f"overrides {list(opts)}")
    return "Parsed: " + "; ".join(parts) + "."


def check_overrides(cfg: CfgNode, opts: Sequence[str], args: argparse.Namespace) -> None:
    """Every even token of ``opts`` must be a config key with a value after it; otherwise a
    :class:`~rganet_reid.config.ConfigError` saying what was parsed and how to write it."""
    from rganet_reid.config import ConfigError
    from rganet_reid.config.keys import get_key, has_key, unknown_key_error

    for key in opts[0::2]:
        if has_key(cfg, key) and not isinstance(get_key(cfg, key), CfgNode):
            continue
        if key.startswith("-"):
            why = (f"Option {key!r} comes after the KEY VALUE overrides; put every option "
                   "before them.")
        elif has_key(cfg, key):
            why = f"{key!r} is a config section, not a key; name one of its keys."
        elif _is_dataset(key):
            why = (f"{key!r} is a dataset name, not a config key: -s/-t take one value each; "
                   f"give several comma-separated (-t a,b) or repeat the flag.")
        else:
            why = str(unknown_key_error(cfg, key, "the command line"))
        raise ConfigError(f"{why} {parsed_summary(args, opts)}")
    if len(opts) % 2:
        raise ConfigError(f"Config key {opts[-1]!r} on the command line has no value; "
                          f"overrides are KEY VALUE pairs. {parsed_summary(args, opts)}")


def _is_dataset(name: str) -> bool:
    import rganet_reid  # noqa: F401  (registers the datasets with torchreid)
    from rganet_reid.compat import torchreid_datasets

    return name in getattr(torchreid_datasets, "__image_datasets", {})


def config_from_args(args: argparse.Namespace) -> CfgNode:
    """Defaults → ``--config-file`` → named flags → trailing ``KEY VALUE`` pairs."""
    from rganet_reid.config import load_config, merge_opts

    cfg = load_config(args.config_file or None, freeze=False)
    opts = list(args.opts or [])
    if opts[:1] == ["--"]:
        opts = opts[1:]
    check_overrides(cfg, opts, args)
    if args.root:
        cfg.data.root = args.root
    for dest, _flag in _LIST_FLAGS:
        if getattr(args, dest):
            setattr(cfg.data, dest, _flat(getattr(args, dest)))
    if args.save_dir:
        cfg.data.save_dir = args.save_dir
    merge_opts(cfg, opts)
    cfg.freeze()
    return cfg


def build(cfg: CfgNode):
    """Data, model and engine for ``cfg`` (:func:`rganet_reid.engine.builder.build_run`)."""
    from rganet_reid.engine.builder import build_run

    return build_run(cfg)


def run(cfg: CfgNode) -> dict[str, dict[str, float]]:
    """Build data, model and engine from ``cfg`` and run it; returns per-dataset metrics."""
    return build(cfg).run()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, set up logging in the run folder, run; faults exit with status 2
    (:func:`rganet_reid.cli.errors.run_command`)."""
    from rganet_reid.utils.distributed import env_rank, shutdown_distributed
    from rganet_reid.utils.logging import setup_logging

    args = build_parser().parse_args(argv)
    setup_logging()

    def body() -> int:
        cfg = config_from_args(args)
        if env_rank() == 0:  # under torchrun the other ranks log errors only, to stderr
            setup_logging(cfg.data.save_dir)
        else:
            setup_logging(level=logging.ERROR)
        logger.info("Config:\n%s", cfg.dump())
        run(cfg)
        return 0

    try:
        return run_command(body, debug=args.debug, log=logger)
    finally:
        shutdown_distributed()


if __name__ == "__main__":
    sys.exit(main())
