"""``rganet-export`` / ``tools/export_onnx.py``: export a trained model to ONNX, check it, and
measure parity and throughput against PyTorch.

    rganet-export --model output/run --out model.onnx [--images DIR] [--benchmark-batch 32]

Prints the input contract (uint8 RGB, normalisation inside the graph), the checker's verdict,
the max abs difference of every output between PyTorch and onnxruntime on real images at
batch sizes 1 and 7 (exit code 1 when it exceeds ``--tolerance``), and the images/s of both
runtimes on this machine. Without ``--images`` the query images of the model's first target
dataset are used (``--root`` sets its data root). Library code: :mod:`rganet_reid.export`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from rganet_reid.cli.errors import add_debug_flag, run_command

logger = logging.getLogger("rganet_reid.cli.export")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rganet-export", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="run folder or weights file (.pth)")
    p.add_argument("--config", default=None, help="YAML config (e.g. for torchreid weights)")
    p.add_argument("--opt", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                   help="config override, repeatable")
    p.add_argument("--out", required=True, help="the .onnx file to write")
    p.add_argument("--opset", type=int, default=18)
    p.add_argument("--images", nargs="+", default=[],
                   help="folders of real images for the parity and throughput checks")
    p.add_argument("--root", default="", help="data root for the default images (data.root)")
    p.add_argument("--parity-batches", type=int, nargs="+", default=[1, 7])
    p.add_argument("--tolerance", type=float, default=1e-4,
                   help="largest accepted max abs difference (exit code 1 above it)")
    p.add_argument("--benchmark-batch", type=int, default=32, help="0 = no throughput run")
    p.add_argument("--threads", type=int, default=0, help="intra-op threads of both runtimes")
    p.add_argument("--repeats", type=int, default=5, help="timed runs per runtime (median)")
    add_debug_flag(p)
    return p


def _images(args: argparse.Namespace, cfg) -> tuple[list, str]:
    from rganet_reid.inference import list_images

    if args.images:
        return list_images(*args.images), ", ".join(args.images)
    from rganet_reid.data.datamanager import init_dataset

    cfg = cfg.clone()
    cfg.defrost()
    if args.root:
        cfg.data.root = args.root
    name = (list(cfg.data.targets) or list(cfg.data.sources))[0]
    ds = init_dataset(name, "query", cfg, verbose=False)
    return [it[0] for it in ds.query], f"{name} query set ({cfg.data.root})"


def main(argv: Sequence[str] | None = None) -> int:
    """Export and check; faults exit with status 2 (:mod:`rganet_reid.cli.errors`)."""
    from rganet_reid.utils.logging import setup_logging

    args = build_parser().parse_args(argv)
    setup_logging()
    return run_command(lambda: run(args), debug=args.debug, log=logger)


def run(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    import rganet_reid  # noqa: F401  (registers datasets/models with torchreid)
    from rganet_reid.export.onnx import export_onnx, measure_parity, measure_throughput
    from rganet_reid.inference import FeatureExtractor

    path = Path(args.model).expanduser()
    source = {"run_dir": path} if path.is_dir() else {"model_path": path}
    extractor = FeatureExtractor(config=args.config, device="cpu", verbose=False,
                                 opts=[v for pair in args.opt for v in pair], **source)
    cfg = extractor.cfg
    out = export_onnx(extractor, args.out, opset=args.opset)
    h, w = extractor.input_size
    print(f"Exported {cfg.model.name} (fingerprint {extractor.fingerprint}) to {out} "
          f"({out.stat().st_size / 2**20:.1f} MiB); onnx.checker.check_model(full_check=True): "
          "passed")
    print(f"Input 'images': uint8 RGB (batch, 3, {h}, {w}), dynamic batch, resized by the "
          "caller. Normalisation is INSIDE the graph (x/255, then (x - mean) / std with mean "
          f"{list(cfg.data.norm_mean)}, std {list(cfg.data.norm_std)}): do not normalise "
          "before feeding it.")
    images, where = _images(args, cfg)
    parity = measure_parity(extractor, out, images, args.parity_batches)
    keys, derived = list(parity[0].max_abs_diff), list(parity[0].derived)
    print(f"\nParity, max |ONNX - PyTorch| on real images ({where}); outputs, then what "
          "retrieval computes (Eq. 10 distances within the batch):")
    print(tabulate([[p.batch_size, *(f"{p.max_abs_diff[k]:.2e}" for k in keys),
                     *(f"{p.derived[k]:.2e}" for k in derived)] for p in parity],
                   headers=["batch", *keys, *derived], tablefmt="github"))
    worst = max(p.worst for p in parity)
    if args.benchmark_batch > 0:
        rates = measure_throughput(extractor, out, images, args.benchmark_batch, args.threads,
                                   repeats=args.repeats)
        print(f"\nThroughput on this machine's CPU (batch {args.benchmark_batch}, "
              f"{rates[0].threads} thread(s), median of {args.repeats} runs, preprocessing "
              "excluded):")
        print(tabulate([[r.runtime, f"{r.images_per_s:.1f}",
                         f"{1000 * args.benchmark_batch / r.images_per_s:.1f}"] for r in rates],
                       headers=["runtime", "images/s", "ms/batch"], tablefmt="github"))
    if worst > args.tolerance:
        logger.error("Parity check FAILED: max abs difference %.2e > tolerance %.1e", worst,
                     args.tolerance)
        return 1
    print(f"\nParity check passed: max abs difference {worst:.2e} <= {args.tolerance:.0e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
