"""Data under torchrun: the global training batch split across ranks, test sets in shards.

Training — :class:`GlobalBatchSplitSampler`. Every rank builds the *same* single-process
sampler (torchreid's ``RandomIdentitySampler`` = P identities × K images, or any other),
draws the same global index sequence from a seed shared by all ranks and a pass counter,
cuts it into global batches of ``train.batch_size`` and keeps its own contiguous slice of
each. With ``train.batch_size / world_size`` a multiple of K, every rank's slice is whole
identities (P / world_size of them, K images each): triplet mining sees complete identities,
no image index is given to two ranks, each epoch's global order (hence each rank's subset)
is new, and the ranks together see exactly the batches one process would have drawn from
that seed.

Extraction — :func:`shard_bounds` / :func:`shard_loader`. A test set is cut into contiguous
ranges of *whole test batches*, one per rank, with no padding (``DistributedSampler`` pads
with repeated images to equal lengths, which duplicates them in the evaluation). Each image
goes through the model in the same batch as in a single process, so its features are the
same bits.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sized
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Sampler, Subset

from rganet_reid.utils.rng import preserved_rng_state

__all__ = ["GlobalBatchSplitSampler", "shard_bounds", "shard_loader"]


class GlobalBatchSplitSampler(Sampler[int]):
    """This rank's share of the global batches a single-process sampler draws.

    Args:
        base: the sampler one process would use (built from the same items on every rank).
        global_batch: ``train.batch_size``, the batch of one optimiser step over all ranks.
        rank, world_size: this process and the number of processes.
        seed: shared by all ranks (the config's ``seed``).
        unit: the slice of each global batch a rank takes must be a multiple of this
            (``sampler.num_instances`` for identity samplers: whole identities).

    Each pass (``iter``) reseeds Python's, NumPy's and torch's RNGs from ``(seed, pass)``
    around the base sampler only (the process's own streams are left as they were) and then
    counts the pass; :meth:`state_dict` / :meth:`load_state_dict` carry the counter through a
    checkpoint so a resumed run draws the same batches. Incomplete global batches are dropped,
    so every rank yields the same number of batches (DDP needs that).
    """

    def __init__(self, base: Sampler, global_batch: int, rank: int, world_size: int,
                 seed: int, unit: int = 1) -> None:
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} of world size {world_size}")
        if global_batch % world_size or (global_batch // world_size) % max(unit, 1):
            raise ValueError(
                f"train.batch_size={global_batch} is the global batch of {world_size} processes: "
                f"it must be a multiple of world_size x {max(unit, 1)} (sampler.num_instances for "
                "identity samplers) so every rank gets whole identities."
            )
        self.base = base
        self.global_batch = global_batch
        self.rank, self.world_size = rank, world_size
        self.per_rank = global_batch // world_size
        self.seed = int(seed)
        self.passes = 0

    def global_indices(self, pass_index: int) -> list[int]:
        """The base sampler's sequence for pass ``pass_index``, seeded from (seed, pass),
        cut to whole global batches; identical on every rank."""
        words = np.random.SeedSequence([self.seed, pass_index]).generate_state(2)
        with preserved_rng_state():
            random.seed(int(words[0]))
            np.random.seed(int(words[1]))
            torch.manual_seed(int(words[0]) | int(words[1]) << 32)
            indices = [int(i) for i in self.base]
        whole = len(indices) // self.global_batch * self.global_batch
        return indices[:whole]

    def __iter__(self) -> Iterator[int]:
        indices = self.global_indices(self.passes)
        self.passes += 1
        lo, hi = self.rank * self.per_rank, (self.rank + 1) * self.per_rank
        for start in range(0, len(indices), self.global_batch):
            yield from indices[start + lo : start + hi]

    def __len__(self) -> int:
        n = len(self.base) if isinstance(self.base, Sized) else 0
        return n // self.global_batch * self.per_rank

    def state_dict(self) -> dict[str, Any]:
        return {"passes": self.passes, "seed": self.seed, "world_size": self.world_size}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.passes = int(state["passes"])


def shard_bounds(num_items: int, batch_size: int, rank: int, world_size: int) -> tuple[int, int]:
    """``[start, stop)`` of this rank's contiguous share of ``num_items``: whole batches of
    ``batch_size`` (the last one may be short), spread as evenly as batches allow. Ranks past
    the last batch get an empty range; the ranges of all ranks tile ``0..num_items`` once."""
    num_batches = -(-num_items // max(batch_size, 1))
    first = rank * num_batches // world_size
    last = (rank + 1) * num_batches // world_size
    return min(first * batch_size, num_items), min(last * batch_size, num_items)


def shard_loader(loader: DataLoader, rank: int, world_size: int) -> tuple[DataLoader, int, int]:
    """``(loader over this rank's shard, start, stop)`` of a sequential test ``loader``: the
    same dataset, transforms, batch size and workers, restricted to :func:`shard_bounds`."""
    start, stop = shard_bounds(len(loader.dataset), loader.batch_size, rank, world_size)
    sharded = DataLoader(
        Subset(loader.dataset, range(start, stop)),
        batch_size=loader.batch_size,
        shuffle=False,
        num_workers=loader.num_workers,
        collate_fn=loader.collate_fn,
        pin_memory=loader.pin_memory,
        drop_last=False,
        generator=torch.Generator().manual_seed(0),
    )
    return sharded, start, stop
