"""``tools/bench_distributed.py``: 1 vs N processes (torchrun) for training throughput and for
the exact sharded evaluation at Occluded-Duke and MSMT17 sizes.

* Evaluation: synthetic features with the benchmark's sizes and id/camera structure
  (:mod:`.synthetic_features`) are written once as feature directories; each run is
  ``torchrun --nproc_per_node=N`` of :mod:`.distributed_worker` ``eval``: every rank reads
  the queries and its gallery shard (memory-mapped) and runs
  :func:`~rganet_reid.evaluation.sharded.evaluate_sharded`. Reported per run: wall time of
  the slowest rank, each rank's peak resident memory (and CUDA peak on GPUs), and whether the
  metrics are identical to the one-process run.
* Training: ``torchrun`` of :mod:`.distributed_worker` ``train``: the engine of a config
  (default: RGANet-Tiny on SynthOcc ``demo``) for a few epochs after its set-up; images per
  second over all ranks, each rank's peak memory.

The same command runs on a CUDA host (one process per GPU, NCCL) — there, use a real
training config, e.g. ``--train-config projects/RGANet/occ_duke.yaml --root DATA``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tabulate import tabulate

from rganet_reid.benchmark.synthetic_features import PRESETS, synthetic_split
from rganet_reid.evaluation.feature_store import write_features
from rganet_reid.utils.distributed import free_port

__all__ = ["ensure_feature_dirs", "run_distributed_bench", "torchrun_worker"]

WORKER = "rganet_reid.benchmark.distributed_worker"


def ensure_feature_dirs(preset: str, seed: int, work_dir: Path) -> tuple[Path, Path]:
    """Query and gallery feature directories of ``preset`` (written on first use)."""
    base = work_dir / "features" / f"{preset}-seed{seed}"
    query, gallery = base / "query", base / "gallery"
    if not (query / "meta.json").is_file() or not (gallery / "meta.json").is_file():
        t0 = time.perf_counter()
        q, g = synthetic_split(PRESETS[preset], seed)
        write_features(q, query)
        write_features(g, gallery)
        print(f"[{preset}] wrote {len(q)} + {len(g)} synthetic feature rows to {base} "
              f"({time.perf_counter() - t0:.1f} s)", flush=True)
    return query, gallery


def torchrun_worker(nproc: int, args: Sequence[str], out_dir: Path, threads: int,
                    timeout: float = 7200.0) -> list[dict[str, Any]]:
    """Run :mod:`.distributed_worker` with ``args`` under ``torchrun --nproc_per_node=nproc``
    (``threads`` OpenMP threads per process); the ranks' records in rank order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("rank*.json"):
        old.unlink()
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}",
           "--master_addr=127.0.0.1", f"--master_port={free_port()}", "-m", WORKER,
           *args[:1], "--out", str(out_dir), *args[1:]]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return [json.loads((out_dir / f"rank{r}.json").read_text()) for r in range(nproc)]


def _peaks(records: list[dict[str, Any]], key: str) -> str:
    return " / ".join(f"{r[key]:,.0f}" for r in records if key in r) or "-"


def run_distributed_bench(
    *,
    nprocs: Sequence[int] = (1, 2),
    presets: Sequence[str] = ("occluded_duke", "msmt17"),
    train: bool = True,
    train_config: str = "",
    train_opts: Sequence[str] = (),
    epochs: int = 1,
    eval_opts: Sequence[str] = (),
    work_dir: Path = Path("output/bench_distributed"),
    seed: int = 0,
    threads: int | None = None,
) -> dict[str, Any]:
    """Measure every preset's sharded evaluation and the training for each process count;
    print the tables and return the records (``{"eval": {preset: {n: ranks}}, "train":
    {n: ranks}}``). ``threads``: OpenMP threads per process (default: cores / processes)."""
    cores = os.cpu_count() or 1
    report: dict[str, Any] = {"eval": {}, "train": {}, "cores": cores}
    rows = []
    for preset in presets:
        query, gallery = ensure_feature_dirs(preset, seed, work_dir)
        report["eval"][preset] = {}
        for n in nprocs:
            t = threads or max(1, cores // n)
            recs = torchrun_worker(n, ["eval", "--query", str(query), "--gallery", str(gallery),
                                       *eval_opts], work_dir / f"eval-{preset}-n{n}", t)
            report["eval"][preset][n] = recs
            first = report["eval"][preset][nprocs[0]][0]
            same = all(r["cmc"] == first["cmc"] and r["mAP"] == first["mAP"]
                       and r["mINP"] == first["mINP"] for r in recs)
            rows.append([preset, f"{recs[0]['num_query']:,} x {recs[0]['num_gallery']:,}", n, t,
                         f"{max(r['time_s'] for r in recs):.1f}", _peaks(recs, "peak_rss_mb"),
                         _peaks(recs, "cuda_peak_mb"), f"{100 * first['mAP']:.2f}",
                         "yes" if same else "NO", recs[0]["device"]])
            print(f"[eval {preset}] {n} process(es): {rows[-1][4]} s", flush=True)
    if rows:
        print("\nSharded exact evaluation (Eq. 10, synthetic features):")
        print(tabulate(rows, headers=["preset", "query x gallery", "procs", "threads/proc",
                                      "time s", "peak RSS MB per rank", "CUDA peak MB per rank",
                                      "mAP %", f"= {nprocs[0]} proc", "device"],
                       tablefmt="github"))
    if train:
        rows = []
        for n in nprocs:
            t = threads or max(1, cores // n)
            cfg_args = ["--config-file", train_config] if train_config else []
            recs = torchrun_worker(
                n, ["train", "--epochs", str(epochs), *cfg_args, *train_opts,
                    "data.save_dir", str(work_dir / f"train-n{n}")],
                work_dir / f"train-n{n}-ranks", t)
            report["train"][n] = recs
            rows.append([n, t, recs[0]["global_batch"], f"{recs[0]['images']:,.0f}",
                         f"{max(r['time_s'] for r in recs):.1f}",
                         f"{recs[0]['images_per_s']:.1f}", _peaks(recs, "peak_rss_mb"),
                         _peaks(recs, "cuda_peak_mb"), recs[0]["device"]])
            print(f"[train] {n} process(es): {rows[-1][5]} img/s", flush=True)
        print(f"\nTraining throughput ({epochs} epoch(s) after set-up):")
        print(tabulate(rows, headers=["procs", "threads/proc", "global batch", "images",
                                      "time s", "images/s", "peak RSS MB per rank",
                                      "CUDA peak MB per rank", "device"], tablefmt="github"))
    return report
