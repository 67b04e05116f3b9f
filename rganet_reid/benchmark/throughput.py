"""Model size and speed: #params, inference throughput, training throughput.

Inference throughput (Table VII's FPS) is the model's eval-mode forward pass on a batch of
``batch_size`` images at the configured input size on one device: ``warmup`` batches run
first and are not timed (allocator, cuDNN autotuning, lazy initialisation), then each of
``repeats`` batches is timed on its own (with device synchronisation) and the rate is
``batch_size / median(batch time)``. Feature extraction only: the distance computation the
paper also counts depends on the gallery size, not the model.

Training throughput is read from the run's own epochs (``train_summary.json``): images per
second of each epoch including data loading and the optimiser step, median over the epochs
after the first (the first is warm-up) when there are several.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn


@dataclass
class InferenceThroughput:
    """Result of :func:`measure_inference`."""

    images_per_s: float
    batch_size: int
    device: str
    warmup: int
    repeats: int
    median_batch_s: float
    times_s: list[float] = field(default_factory=list)
    threads: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def count_parameters(model: nn.Module) -> int:
    """Number of parameters (trainable or not) of ``model`` as it runs at inference."""
    return sum(p.numel() for p in model.parameters())


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.inference_mode()
def measure_inference(
    model: nn.Module,
    batch_size: int,
    image_size: tuple[int, int],
    device: torch.device | str = "cpu",
    warmup: int = 5,
    repeats: int = 20,
    channels: int = 3,
    seed: int = 0,
) -> InferenceThroughput:
    """Images/s of ``model`` in eval mode: median of ``repeats`` timed batches after
    ``warmup`` untimed ones (see the module docstring)."""
    if batch_size < 1 or repeats < 1 or warmup < 0:
        raise ValueError(f"need batch_size >= 1, repeats >= 1, warmup >= 0; got {batch_size}, "
                         f"{repeats}, {warmup}")
    device = torch.device(device)
    was_training = model.training
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    images = torch.randn(batch_size, channels, *image_size, generator=gen).to(device)
    try:
        for _ in range(warmup):
            model(images)
        _sync(device)
        times: list[float] = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            model(images)
            _sync(device)
            times.append(time.perf_counter() - t0)
    finally:
        model.train(was_training)
    median = statistics.median(times)
    return InferenceThroughput(
        images_per_s=batch_size / max(median, 1e-12), batch_size=batch_size,
        device=str(device), warmup=warmup, repeats=repeats, median_batch_s=median,
        times_s=times, threads=torch.get_num_threads(),
    )


def training_throughput(epochs: Sequence[Mapping[str, Any]]) -> float | None:
    """Median ``images_per_s`` over the epochs after the first (all of them if only one)."""
    rates = [float(e["images_per_s"]) for e in epochs if "images_per_s" in e]
    if not rates:
        return None
    return statistics.median(rates[1:] if len(rates) > 1 else rates)
