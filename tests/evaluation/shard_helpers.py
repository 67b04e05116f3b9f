"""In-process stand-ins for a process group: one thread per rank, collectives through a
barrier (for testing sharded evaluation over many shard layouts without starting processes;
the real torch.distributed path is tested in tests/distributed/)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from rganet_reid.evaluation.sharded import ShardComm


class ThreadGroup:
    """``world`` ranks as threads; :meth:`comm` gives rank ``r`` its :class:`ShardComm`."""

    def __init__(self, world: int) -> None:
        self.world = world
        self.barrier = threading.Barrier(world, timeout=60)
        self.slots: list[Any] = [None] * world
        self.calls = 0  # collectives run (counted by rank 0)

    def _exchange(self, rank: int, value: Any) -> list[Any]:
        self.slots[rank] = value
        self.barrier.wait()
        values = list(self.slots)
        self.barrier.wait()
        if rank == 0:
            self.calls += 1
        return values

    def comm(self, rank: int) -> ShardComm:
        def total(array: np.ndarray) -> np.ndarray:
            return functools.reduce(np.add, self._exchange(rank, np.array(array)))

        def gather_rows(t: torch.Tensor | None) -> torch.Tensor | None:
            parts = [p for p in self._exchange(rank, t) if p is not None]
            return torch.cat(parts) if parts else None

        return ShardComm(sum=total, gather_rows=gather_rows)

    def run(self, fn: Callable[[int, ShardComm], Any]) -> list[Any]:
        """``fn(rank, comm)`` on every rank at once; the results in rank order (the first
        exception is raised after every thread stopped)."""
        results: list[Any] = [None] * self.world
        errors: list[BaseException] = []

        def target(rank: int) -> None:
            try:
                results[rank] = fn(rank, self.comm(rank))
            except BaseException as err:  # noqa: BLE001 - re-raised below
                errors.append(err)
                self.barrier.abort()

        threads = [threading.Thread(target=target, args=(r,)) for r in range(self.world)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return results
