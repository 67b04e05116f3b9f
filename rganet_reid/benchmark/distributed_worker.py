"""One rank of ``tools/bench_distributed.py``, started by torchrun:

    python -m torch.distributed.run --nproc_per_node=N -m rganet_reid.benchmark.distributed_worker \
        eval --query Q_DIR --gallery G_DIR --out DIR [KEY VALUE ...]
    ... train --out DIR [--epochs E] [--config-file CFG] [KEY VALUE ...]

Each rank measures its own time and peak memory (resident set: ``VmHWM`` reset at the start of
the measured phase; CUDA: ``max_memory_allocated``) and writes ``DIR/rank<r>.json``; the
launcher (:mod:`rganet_reid.benchmark.distributed`) reads them.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from rganet_reid.benchmark.retrieval import _hwm_mb, _reset_peak, _rss_mb


def _memory_start(device: torch.device) -> dict[str, Any]:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    return {"rss_before_mb": _rss_mb(), "peak_reset": _reset_peak()}


def _memory_end(device: torch.device, start: dict[str, Any]) -> dict[str, Any]:
    out = {**start, "peak_rss_mb": _hwm_mb()}
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        out["cuda_peak_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return out


def evaluate(query_dir: str, gallery_dir: str, cfg) -> dict[str, Any]:
    """Sharded exact evaluation of saved features; this rank's time and memory."""
    from rganet_reid.evaluation import RetrievalSettings
    from rganet_reid.evaluation.sharded import evaluate_feature_dirs
    from rganet_reid.utils import distributed as dist

    device = dist.init_distributed(cfg.device, cfg.distributed.backend,
                                   cfg.distributed.timeout_s)
    settings = RetrievalSettings.from_config(cfg, device=device, max_rank=10)
    dist.barrier()
    mem = _memory_start(device)
    t0 = time.perf_counter()
    res, num_query, num_gallery = evaluate_feature_dirs(query_dir, gallery_dir, settings)
    elapsed = time.perf_counter() - t0
    return {"time_s": elapsed, **_memory_end(device, mem), "num_query": num_query,
            "num_gallery": num_gallery, "cmc": res.cmc.tolist(), "mAP": res.mAP,
            "mINP": res.mINP, "device": str(device)}


def train(cfg, epochs: int) -> dict[str, Any]:
    """``epochs`` training epochs of the engine (after its stage-1 / memory set-up); global
    images per second and this rank's time and memory."""
    from rganet_reid.cli.main import build
    from rganet_reid.utils import distributed as dist

    engine = build(cfg)
    t0 = time.perf_counter()
    engine.before_train()
    setup_s = time.perf_counter() - t0
    dist.barrier()
    mem = _memory_start(engine.device)
    t0 = time.perf_counter()
    for epoch in range(epochs):
        engine.train_epoch(epoch)
    elapsed = time.perf_counter() - t0
    images = round(sum(r["images_per_s"] * r["time_s"] for r in engine.history))  # all ranks
    return {"time_s": elapsed, "setup_s": setup_s, **_memory_end(engine.device, mem),
            "images": images, "steps": engine.global_step,
            "images_per_s": images / max(elapsed, 1e-9),
            "global_batch": int(cfg.train.batch_size), "device": str(engine.device)}


def main(argv: Sequence[str] | None = None) -> int:
    from rganet_reid.config import load_config
    from rganet_reid.utils import distributed as dist

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phase", choices=("eval", "train"))
    parser.add_argument("--out", required=True)
    parser.add_argument("--query", default="")
    parser.add_argument("--gallery", default="")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--config-file", default="")
    args, opts = parser.parse_known_args(argv)  # the rest: KEY VALUE config overrides
    logging.basicConfig(level=logging.WARNING)
    cfg = load_config(args.config_file or None, opts=opts)
    try:
        if args.phase == "eval":
            record = evaluate(args.query, args.gallery, cfg)
        else:
            record = train(cfg, args.epochs)
        record.update(rank=dist.rank(), world_size=dist.world_size(),
                      threads=torch.get_num_threads())
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / f"rank{dist.rank()}.json").write_text(json.dumps(record))
    finally:
        dist.shutdown_distributed()
    return 0


if __name__ == "__main__":
    sys.exit(main())
