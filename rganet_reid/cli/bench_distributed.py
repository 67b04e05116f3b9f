"""Benchmark of running beyond one process (README "Multiple GPUs / machines"): 1 vs N
torchrun processes for the exact sharded evaluation at Occluded-Duke and MSMT17 sizes and for
training throughput; time and peak memory per rank. What it runs:
:mod:`rganet_reid.benchmark.distributed`.

Examples::

    python tools/bench_distributed.py                              # CPU: 1 vs 2 processes
    python tools/bench_distributed.py --nproc 1 2 4 8 --train-config projects/RGANet/occ_duke.yaml \
        --root /data/reid --train-opts data.workers 8             # a CUDA host, one GPU each
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rganet_reid.benchmark.distributed import run_distributed_bench
from rganet_reid.benchmark.synthetic_features import PRESETS

#: Training defaults for a CPU run: the tiny RGANet on SynthOcc demo from random weights
#: (throughput does not depend on the weights; no one-time CLIP pre-training), no prompt stage.
CPU_TRAIN_CONFIG = "projects/RGANet/synth_occ.yaml"
CPU_TRAIN_OPTS = ["model.pretrained", "", "data.synthocc.size", "demo",
                  "rganet.stage1.max_epoch", "0", "data.workers", "0"]


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run the benchmark; exit status 0."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nproc", type=int, nargs="+", default=[1, 2],
                        help="process counts to compare (the first is the reference)")
    parser.add_argument("--preset", nargs="*", default=["occluded_duke", "msmt17"],
                        choices=sorted(PRESETS), help="evaluation sizes (none: skip)")
    parser.add_argument("--no-train", action="store_true", help="skip the training runs")
    parser.add_argument("--train-config", default=CPU_TRAIN_CONFIG)
    parser.add_argument("--train-opts", nargs="*", default=None,
                        help=f"KEY VALUE overrides of the training run (default for "
                             f"{CPU_TRAIN_CONFIG}: {' '.join(repr(o) for o in CPU_TRAIN_OPTS)})")
    parser.add_argument("--root", default="data", help="data root of the training run")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--eval-opts", nargs="*", default=[],
                        help="KEY VALUE overrides of the evaluation (retrieval.*, device ...)")
    parser.add_argument("--threads", type=int, default=0,
                        help="threads per process (0: cores / processes)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work-dir", default="output/bench_distributed")
    parser.add_argument("--json", default="", help="also write the raw records here")
    args = parser.parse_args(argv)
    train_opts = args.train_opts
    if train_opts is None:
        train_opts = CPU_TRAIN_OPTS if args.train_config == CPU_TRAIN_CONFIG else []
    report = run_distributed_bench(
        nprocs=args.nproc, presets=args.preset, train=not args.no_train,
        train_config=args.train_config, train_opts=[*train_opts, "data.root", args.root],
        epochs=args.epochs, eval_opts=args.eval_opts, work_dir=Path(args.work_dir),
        seed=args.seed, threads=args.threads or None)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
