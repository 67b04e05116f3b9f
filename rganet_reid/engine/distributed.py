"""What running under torchrun changes in the engine (``ReIDEngine.parallel``).

One process per device; every process runs the same engine. :class:`DataParallel` holds the
few places where they differ from one process:

* training forward passes go through ``DistributedDataParallel`` (gradients averaged over
  ranks). The wrapper is rebuilt whenever the set of trainable parameters changes (RGANet's
  prompt stage trains only the context vectors, stage 2 everything else, torchreid's
  ``fixbase_epoch`` opens layers later), because DDP fixes that set when it is built.
  Buffers are not broadcast from rank 0 at each forward: the memory bank (Eq. 5) is updated
  on every rank from statistics summed over ranks (:meth:`reduce`), and BatchNorm running
  statistics are averaged over ranks after every epoch (or synchronised per batch with
  ``distributed.sync_bn``);
* the memory bank's initialisation pass runs over each rank's share of the training set and
  the sums are reduced (the model's ``reduce`` hooks);
* checkpoints carry every rank's RNG states and the sampler's pass counter, so a run resumed
  under torchrun with the same number of processes continues exactly;
* evaluation extracts query and gallery in shards of whole test batches, gathers the queries
  and evaluates with the gallery left in shards
  (:func:`rganet_reid.evaluation.sharded.evaluate_sharded`).

A single process has ``enabled = False`` and every method is a no-op or the plain call, so a
single-process run computes exactly what it computed before.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import time
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.parallel import DistributedDataParallel

from rganet_reid.data.distributed import shard_loader
from rganet_reid.engine.loop import EpochStats
from rganet_reid.evaluation import FeatureSet, RetrievalResult, RetrievalSettings
from rganet_reid.evaluation.sharded import ShardComm, evaluate_sharded, gather_feature_set
from rganet_reid.utils import distributed as dist_utils
from rganet_reid.utils.rng import rng_state, set_rng_state
from rganet_reid.utils.seed import seed_everything

__all__ = ["DataParallel", "items_digest"]

logger = logging.getLogger(__name__)

# torch >= 2.13 renamed DDP's per-forward buffer broadcast
_DDP_NO_BUFFER_SYNC = (
    {"forward_sync_buffers": False}
    if "forward_sync_buffers" in inspect.signature(DistributedDataParallel.__init__).parameters
    else {"broadcast_buffers": False}
)


def items_digest(*item_lists: list) -> str:
    """SHA-256 of dataset items (path, pid, camid, …): equal on every rank or the ranks
    would read different data."""
    h = hashlib.sha256()
    for items in item_lists:
        for item in items:
            h.update(repr(tuple(item)).encode())
        h.update(b"\0")
    return h.hexdigest()


class DataParallel:
    """The engine's data-parallel side; see the module docstring.

    Args:
        model: the engine's model (already on ``device``).
        device: this rank's device.
        cfg: the run's config (``distributed.*``).
    """

    def __init__(self, model: nn.Module, device: torch.device, cfg) -> None:
        self.model = model
        self.device = device
        self.enabled = dist_utils.is_distributed()
        self.rank, self.world_size = dist_utils.rank(), dist_utils.world_size()
        self.find_unused_parameters = bool(cfg.distributed.find_unused_parameters)
        self._ddp: DistributedDataParallel | None = None
        self._signature: tuple | None = None
        self.extract_s = 0.0  # seconds of the last extract_and_evaluate's extraction
        if cfg.distributed.sync_bn and self.enabled:
            if device.type != "cuda":
                raise ValueError(
                    "distributed.sync_bn needs CUDA devices (torch's SyncBatchNorm runs on GPUs "
                    "only). On the CPU leave it False: BatchNorm running statistics are then "
                    "averaged over ranks after every epoch."
                )
            converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
            if converted is not model:
                raise ValueError("distributed.sync_bn: the model itself is a BatchNorm layer.")
            logger.info("distributed.sync_bn: %d BatchNorm layers synchronised over ranks",
                        sum(isinstance(m, nn.SyncBatchNorm) for m in model.modules()))

    # ------------------------------------------------------------------ training
    @property
    def reduce(self):
        """Sum over ranks for the model's statistics hooks (memory bank, Eq. 5), or ``None``
        for one process (the hooks then take their single-process path)."""
        return dist_utils.all_reduce_sum if self.enabled else None

    def forward(self, *inputs: Any) -> Any:
        """The model's training forward: through DDP when distributed."""
        if not self.enabled:
            return self.model(*inputs)
        try:
            return self._wrapper()(*inputs)
        except RuntimeError as err:
            if "find_unused_parameters" not in str(err) or self.find_unused_parameters:
                raise
            raise RuntimeError(
                "A training step left trainable parameters without a gradient, which DDP "
                "refuses by default: set distributed.find_unused_parameters True. DDP said: "
                f"{err}") from err

    def _wrapper(self) -> DistributedDataParallel:
        signature = tuple(p.requires_grad for p in self.model.parameters())
        if self._ddp is None or signature != self._signature:
            self._ddp = DistributedDataParallel(
                self.model,
                device_ids=[self.device.index] if self.device.type == "cuda" else None,
                find_unused_parameters=self.find_unused_parameters,
                **_DDP_NO_BUFFER_SYNC,
            )
            self._signature = signature
            logger.debug("DDP wrapper (re)built: %d trainable tensors", sum(signature))
        return self._ddp

    def average_batchnorm_statistics(self) -> None:
        """Average the BatchNorm running statistics over ranks (each saw its own share of
        the batches); SyncBatchNorm layers are already equal and skipped."""
        if not self.enabled:
            return
        for module in self.model.modules():
            if isinstance(module, _BatchNorm) and not isinstance(module, nn.SyncBatchNorm):
                for buf in (module.running_mean, module.running_var):
                    if buf is not None:
                        buf.copy_(dist_utils.all_reduce_sum(buf) / self.world_size)

    def reduce_epoch(self, stats: EpochStats) -> EpochStats:
        """One epoch's statistics over all ranks: the loss terms averaged, the images summed,
        the slowest rank's time (so ``images_per_s`` is the whole job's throughput)."""
        if not self.enabled:
            return stats
        keys = sorted(stats.means)
        means = dist_utils.all_reduce_sum(np.asarray([stats.means[k] for k in keys]))
        images = dist_utils.all_reduce_sum(np.asarray([stats.num_images], dtype=np.int64))
        times = dist_utils.all_gather_object(stats.time_s)
        return EpochStats({k: float(v) / self.world_size for k, v in zip(keys, means)},
                          int(images[0]), max(times))

    def check_same_data(self, datamanager) -> None:
        """Fail early when ranks list different training or test items."""
        if not self.enabled:
            return
        lists = []
        if getattr(datamanager, "train_set", None) is not None:
            lists.append(datamanager.train_set.items)
        for split in datamanager.test_splits.values():
            lists.extend([split.query, split.gallery])
        dist_utils.check_same_on_all_ranks("The dataset items", items_digest(*lists))

    # ------------------------------------------------------------------ checkpoints
    def checkpoint_extras(self, train_loader) -> dict[str, Any]:
        """What a checkpoint needs beyond one process's state (collective: every rank calls
        it): every rank's RNG states, the world size, the sampler's pass counter."""
        if not self.enabled:
            return {}
        extras: dict[str, Any] = {"world_size": self.world_size,
                                  "rng_per_rank": dist_utils.all_gather_object(rng_state())}
        sampler = getattr(train_loader, "sampler", None)
        if hasattr(sampler, "state_dict"):
            extras["sampler"] = sampler.state_dict()
        return extras

    def restore(self, ckpt: dict[str, Any], train_loader, path) -> None:
        """After a resume: this rank's RNG states and the sampler's pass counter. Another
        world size than the checkpoint's continues, but not exactly (warned)."""
        if not self.enabled:
            return
        saved = int(ckpt.get("world_size", 1))
        sampler = getattr(train_loader, "sampler", None)
        if saved != self.world_size or "rng_per_rank" not in ckpt:
            if self.rank == 0:
                logger.warning(
                    "%s was written by %d process(es), this run has %d: training continues "
                    "but not exactly as the interrupted run would have (different batches and "
                    "random streams). Resume with --nproc_per_node x nodes = %d for an exact "
                    "continuation.", path, saved, self.world_size, saved)
            seed_everything(int(torch.randint(0, 2**31, (1,))) + self.rank)
        else:
            set_rng_state(ckpt["rng_per_rank"][self.rank])
        if hasattr(sampler, "load_state_dict") and "sampler" in ckpt:
            sampler.load_state_dict(ckpt["sampler"])

    # ------------------------------------------------------------------ evaluation
    def extract_shard(self, engine, loader, items: list) -> tuple[FeatureSet | None, int]:
        """This rank's shard of a test set (whole test batches, no padding): its features
        (``None`` when the shard is empty) and the index of its first item."""
        sharded, start, stop = shard_loader(loader, self.rank, self.world_size)
        if stop == start:
            return None, start
        return engine.extract(sharded, items[start:stop]), start

    def extract_and_evaluate(
        self, engine, split, settings: RetrievalSettings, max_rank: int
    ) -> tuple[FeatureSet, FeatureSet, int, RetrievalResult]:
        """Sharded extraction of ``split`` and exact evaluation over the gallery shards.

        Returns the whole query set, this rank's gallery shard, the shard's first index and
        the metrics (equal on every rank)."""
        comm = ShardComm.torch_distributed()
        t0 = time.monotonic()
        q_part, _ = self.extract_shard(engine, split.query_loader, split.query)
        query = gather_feature_set(q_part, ids_of(split.query), comm)
        gallery, g_start = self.extract_shard(engine, split.gallery_loader, split.gallery)
        if gallery is None:  # no gallery batch left for this rank
            gallery = query.subset(slice(0, 0))
        self.extract_s = time.monotonic() - t0
        g_pids, g_camids = ids_of(split.gallery)
        result = evaluate_sharded(query, gallery, shard_start=g_start, gallery_pids=g_pids,
                                  gallery_camids=g_camids, settings=settings, comm=comm,
                                  max_rank=max_rank)
        return query, gallery, g_start, result

    def gather_gallery(self, shard: FeatureSet, items: list) -> FeatureSet:
        """The whole gallery from every rank's shard (for rank-list figures)."""
        return gather_feature_set(shard if len(shard) else None, ids_of(items),
                                  ShardComm.torch_distributed())


def ids_of(items: list) -> tuple[np.ndarray, np.ndarray]:
    """``(pids, camids)`` of torchreid items ``(path, pid, camid, …)``."""
    return (np.asarray([it[1] for it in items], dtype=np.int64),
            np.asarray([it[2] for it in items], dtype=np.int64))
