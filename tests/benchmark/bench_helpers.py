"""Fake run folders (bench.json + results.json) for leaderboard and table tests: no training."""

import json
from pathlib import Path

from rganet_reid.benchmark.runner import RUN_FORMAT, RUN_FORMAT_VERSION

RANKS = {"synthocc_occluded": (1, 3, 5, 10), "synthocc_partial": (1, 3),
         "synthocc_holistic": (1, 3, 5, 10)}


def metrics(base: float, dataset: str) -> dict:
    """Distinct, checkable numbers: rank r = base + r, mAP = base - 1, mINP = base - 2."""
    m = {f"rank{r}": base + r for r in RANKS.get(dataset, (1, 5, 10))}
    m.update(mAP=base - 1.0, mINP=base - 2.0, num_query=10, num_gallery=50)
    return m


def write_run(run_dir: Path, *, entry: str, seed: int, results: dict[str, dict],
              config_hash: str = "0" * 16, sources=("synthocc_occluded",), params: int = 1_500_000,
              infer: float = 100.0, train: float | None = 20.0, descriptor: dict | None = None,
              date: str = "2025-01-01T00:00:00+00:00", spec: str = "test") -> Path:
    """Write what :func:`rganet_reid.benchmark.runner.execute` leaves in a run folder."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "results.json").write_text(json.dumps(
        {"model": "m", "epoch": 1, "results": results}))
    bench = {
        "format": RUN_FORMAT, "version": RUN_FORMAT_VERSION, "status": "complete",
        "config_hash": config_hash, "seed": seed, "sources": list(sources),
        "targets": list(results), "action": "train",
        "created_by": {"spec": spec, "entry": entry},
        "descriptor": descriptor or {"model.name": "m", "loss.name": "triplet"},
        "params": params,
        "inference": {"images_per_s": infer, "batch_size": 128, "device": "cpu", "warmup": 5,
                      "repeats": 20, "median_batch_s": 128 / infer, "times_s": [], "threads": 2},
        "training": None if train is None else {"images_per_s": train, "epochs": 2,
                                                 "train_time_s": 10.0},
        "wall_time_s": 12.5, "date": date,
        "machine": {"device": "cpu", "device_name": "Test CPU", "cpu_count": 2,
                    "torch_threads": 2, "torch": "2.x", "platform": "test"},
    }
    (run_dir / "bench.json").write_text(json.dumps(bench))
    return run_dir
