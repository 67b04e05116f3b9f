"""Benchmark of large-scale retrieval evaluation (docs/retrieval.md).

Synthetic features with a real benchmark's sizes and id/camera structure; by default the
evaluation benchmark (bare GEMM limit, our exact Eq. 10 evaluation, torchreid's pipeline,
agreement of the metrics; ``--bf16`` adds the bfloat16 GEMM), with ``--index N`` the FAISS
gallery index of N vectors (build / search time, recall@10), built and searched as the config's
``retrieval.index.*`` keys say (defaults, overridden by trailing ``KEY VALUE`` pairs). What
each step measures: :mod:`rganet_reid.benchmark.retrieval`.

Examples::

    python tools/bench_retrieval.py --preset small
    python tools/bench_retrieval.py --preset msmt17 --torchreid-queries 256
    python tools/bench_retrieval.py --index 1000000 retrieval.index.nlist 1024 \
        retrieval.index.nprobe 128 retrieval.index.candidates 100
"""

from __future__ import annotations

import argparse
import sys

import torch

from rganet_reid.benchmark.retrieval import run_evaluation_bench, run_index_bench
from rganet_reid.benchmark.synthetic_features import PRESETS
from rganet_reid.cli.errors import add_debug_flag, run_command
from rganet_reid.config import load_config
from rganet_reid.evaluation.index import index_options_from_config, split_index_options


def main(argv: list[str] | None = None) -> int:
    """Parse the options, set the thread counts and run one benchmark; exit status 0 (2 on a
    fault, :mod:`rganet_reid.cli.errors`)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="small")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory-budget-mb", type=int, default=512)
    parser.add_argument(
        "--torchreid-queries",
        type=int,
        default=256,
        help="query subset for torchreid's (slow) pipeline; time is scaled",
    )
    parser.add_argument("--bf16", action="store_true", help="also time the bf16 GEMM option")
    parser.add_argument(
        "--index",
        type=int,
        default=0,
        help="instead: build and search a FAISS index of this many vectors",
    )
    parser.add_argument("--index-dim", type=int, default=128)
    parser.add_argument("--index-queries", type=int, default=1000)
    parser.add_argument("--train-size", type=int, default=65536,
                        help="vectors that train the IVF quantiser (--index)")
    add_debug_flag(parser)
    parser.add_argument("opts", nargs="*", metavar="KEY VALUE",
                        help="config overrides of the index (--index): retrieval.index.* keys")
    args = parser.parse_args(argv)
    return run_command(lambda: _run(args), debug=args.debug)


def _run(args: argparse.Namespace) -> int:
    if args.opts and not args.index:
        from rganet_reid.config import ConfigError

        raise ConfigError(f"Overrides {args.opts} configure the FAISS index benchmark only; "
                          "add --index N (or drop them).")
    torch.set_num_threads(args.threads)
    try:
        import faiss

        faiss.omp_set_num_threads(args.threads)
    except ImportError:
        pass
    if args.index:
        options = index_options_from_config(load_config(opts=args.opts))
        build, search = split_index_options(options)
        run_index_bench(
            args.index,
            build,
            search,
            queries=args.index_queries,
            dim=args.index_dim,
            train_size=args.train_size,
            seed=args.seed,
        )
    else:
        run_evaluation_bench(
            args.preset,
            PRESETS[args.preset],
            seed=args.seed,
            memory_budget_mb=args.memory_budget_mb,
            torchreid_queries=args.torchreid_queries,
            bf16=args.bf16,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
