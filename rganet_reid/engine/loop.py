"""One pass over a training loader: the epoch scaffolding every training stage shares.

The engine's ReID epochs (:meth:`ReIDEngine.train_epoch`) and RGANet's prompt-learning epochs
(:meth:`RGANetEngine.train_prompt`) differ only in their step; both run through
:func:`run_epoch` (progress bar, loss sums, throughput, wall-time stop).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tqdm import tqdm


@dataclass
class EpochStats:
    """What one pass did: the mean of each logged term, the images seen, the wall time."""

    means: dict[str, float]
    num_images: int
    time_s: float

    @property
    def images_per_s(self) -> float:
        return self.num_images / max(self.time_s, 1e-9)

    def record(self, epoch: int, **extra: Any) -> dict[str, Any]:
        """The epoch's history record: ``epoch``, ``extra`` (e.g. ``lr``), time, throughput,
        then the mean terms."""
        return {"epoch": epoch, **extra, "time_s": self.time_s,
                "images_per_s": self.images_per_s, **self.means}


def run_epoch(
    loader: Iterable[dict],
    step: Callable[[dict], dict[str, float]],
    desc: str,
    stop: Callable[[], bool] = lambda: False,
) -> EpochStats:
    """Call ``step(batch)`` on every batch of ``loader`` (dicts with ``pid``); average the terms
    it returns. ``stop()`` is asked after each batch and ends the pass early when true (a
    wall-time budget)."""
    sums: dict[str, float] = defaultdict(float)
    n_batches, n_images, t0 = 0, 0, time.monotonic()
    bar = tqdm(loader, desc=desc, leave=False, mininterval=2.0, dynamic_ncols=True)
    for data in bar:
        terms = step(data)
        n_batches += 1
        n_images += len(data["pid"])
        for k, v in terms.items():
            sums[k] += v
        bar.set_postfix({k: f"{v:.3f}" for k, v in terms.items()}, refresh=False)
        if stop():
            break
    bar.close()
    elapsed = time.monotonic() - t0
    return EpochStats({k: v / max(n_batches, 1) for k, v in sums.items()}, n_images, elapsed)
