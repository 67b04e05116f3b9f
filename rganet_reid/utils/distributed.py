"""``torch.distributed`` as this package uses it: one process per device, launched by torchrun.

``torchrun --nproc_per_node=N …`` (or any launcher that sets torchrun's environment:
``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``) starts N copies of
the same command; :func:`init_distributed` joins them into one process group (NCCL on CUDA,
gloo on CPU) and gives each its device (``cuda:LOCAL_RANK`` or the CPU). Without that
environment everything here is a no-op for a single process: rank 0 of 1.

The collectives below take and return host values (numpy arrays, CPU tensors, Python
objects) and move them to the backend's device themselves (NCCL needs CUDA tensors), so
callers stay device-agnostic. Every rank must call a collective in the same order.
"""

from __future__ import annotations

import datetime
import logging
import os
import socket
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

__all__ = [
    "BACKENDS",
    "all_gather_object",
    "all_gather_rows",
    "all_reduce_sum",
    "barrier",
    "broadcast_object",
    "check_same_on_all_ranks",
    "comm_device",
    "env_rank",
    "env_world_size",
    "free_port",
    "init_distributed",
    "is_distributed",
    "is_main_process",
    "local_rank",
    "rank",
    "shutdown_distributed",
    "world_size",
]

logger = logging.getLogger(__name__)

#: ``distributed.backend`` values: ``auto`` = NCCL for CUDA devices, gloo for the CPU.
BACKENDS = ("auto", "nccl", "gloo")


def env_rank() -> int:
    """``RANK`` set by torchrun (0 for a process started on its own); readable before the
    process group exists (e.g. to decide who writes the log file)."""
    return int(os.environ.get("RANK", "0"))


def env_world_size() -> int:
    """``WORLD_SIZE`` set by torchrun (1 when the process was started on its own)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def free_port() -> int:
    """A TCP port of this machine that nothing listens on now (a MASTER_PORT for torchrun
    launches of one machine)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def is_distributed() -> bool:
    """Whether a process group of more than one process is running."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's global rank (0 when not distributed)."""
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def world_size() -> int:
    """Number of processes (1 when not distributed)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def local_rank() -> int:
    """This process's rank on its machine (torchrun's ``LOCAL_RANK``; 0 when unset)."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def is_main_process() -> bool:
    """Rank 0: the one process that writes checkpoints, logs, TensorBoard and results."""
    return rank() == 0


def init_distributed(
    device_spec: str = "auto", backend: str = "auto", timeout_s: float = 1800.0
) -> torch.device:
    """Join the torchrun process group (if torchrun started this process) and pick the device.

    ``device_spec`` is the config's ``device``: ``auto`` / ``cuda`` give ``cuda:LOCAL_RANK``
    when CUDA is available (else the CPU), ``cpu`` the CPU. ``backend`` ``auto`` chooses NCCL
    for CUDA devices and gloo for the CPU. A single process (no ``WORLD_SIZE`` > 1) joins
    nothing and gets :func:`rganet_reid.utils.seed.resolve_device`'s device, as before.
    """
    from rganet_reid.utils.seed import resolve_device

    if backend not in BACKENDS:
        raise ValueError(f"distributed.backend must be one of {BACKENDS}, got {backend!r}.")
    if env_world_size() <= 1:
        return resolve_device(device_spec)
    if not dist.is_available():
        raise RuntimeError("WORLD_SIZE > 1 but this torch build has no torch.distributed.")
    spec = str(device_spec)
    if spec in ("auto", "cuda") and torch.cuda.is_available():
        if local_rank() >= torch.cuda.device_count():
            raise RuntimeError(
                f"LOCAL_RANK {local_rank()} but only {torch.cuda.device_count()} CUDA devices "
                "are visible: start at most one process per GPU (--nproc_per_node)."
            )
        device = torch.device("cuda", local_rank())
        torch.cuda.set_device(device)
    elif spec in ("auto", "cpu"):
        device = torch.device("cpu")
    else:
        raise ValueError(
            f"device={spec!r} under torchrun: use auto, cuda (one GPU per process, "
            "cuda:LOCAL_RANK) or cpu."
        )
    chosen = backend if backend != "auto" else ("nccl" if device.type == "cuda" else "gloo")
    if chosen == "nccl" and device.type != "cuda":
        raise ValueError("distributed.backend nccl needs CUDA devices; use gloo on the CPU.")
    if not dist.is_initialized():
        dist.init_process_group(chosen, timeout=datetime.timedelta(seconds=timeout_s))
    logger.info("Distributed: rank %d of %d (local rank %d), backend %s, device %s",
                rank(), world_size(), local_rank(), chosen, device)
    return device


def shutdown_distributed() -> None:
    """Leave the process group (no-op when none is running)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def comm_device() -> torch.device:
    """Where tensors must live for this process group's collectives (CUDA for NCCL)."""
    if is_distributed() and dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def barrier() -> None:
    """Wait for every rank (no-op for one process)."""
    if is_distributed():
        if dist.get_backend() == "nccl":
            dist.barrier(device_ids=[torch.cuda.current_device()])
        else:
            dist.barrier()


def all_reduce_sum(value: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """The element-wise sum of ``value`` over all ranks, as the same type on the same device
    (numpy in, numpy out). One process: ``value`` itself."""
    if not is_distributed():
        return value
    if isinstance(value, np.ndarray):
        return all_reduce_sum(torch.from_numpy(np.ascontiguousarray(value))).numpy()
    t = value.detach().to(comm_device()).clone()
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.to(value.device)


def all_gather_object(obj: Any) -> list[Any]:
    """``[obj of rank 0, obj of rank 1, …]`` (picklable objects; one process: ``[obj]``)."""
    if not is_distributed():
        return [obj]
    out: list[Any] = [None] * world_size()
    dist.all_gather_object(out, obj)
    return out


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """Rank ``src``'s ``obj`` on every rank."""
    if not is_distributed():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def all_gather_rows(tensor: torch.Tensor | None) -> torch.Tensor | None:
    """Concatenate every rank's rows in rank order: ``cat([t_0, t_1, …])``.

    Ranks may hold different numbers of rows, or ``None`` (no rows: the trailing shape and
    dtype come from a rank that has some). The rows travel padded to the largest part and
    are cut back, so nothing is duplicated or dropped. Returns a CPU tensor, or ``None``
    when no rank has rows.
    """
    if not is_distributed():
        return None if tensor is None else tensor.cpu()
    meta = all_gather_object(None if tensor is None
                             else (tuple(tensor.shape), str(tensor.dtype).split(".")[-1]))
    known = [m for m in meta if m is not None]
    if not known:
        return None
    trailing, dtype = known[0][0][1:], getattr(torch, known[0][1])
    for m in known:
        if m[0][1:] != trailing or m[1] != known[0][1]:
            raise ValueError(f"all_gather_rows: ranks hold different shapes or dtypes: {meta}")
    sizes = [0 if m is None else m[0][0] for m in meta]
    longest = max(sizes)
    device = comm_device()
    local = torch.zeros((longest, *trailing), dtype=dtype, device=device)
    if tensor is not None and len(tensor):
        local[: len(tensor)] = tensor.to(device)
    parts = [torch.empty_like(local) for _ in sizes]
    dist.all_gather(parts, local)
    return torch.cat([p[:n] for p, n in zip(parts, sizes)]).cpu()


def check_same_on_all_ranks(what: str, digest: str) -> None:
    """Raise unless every rank computed the same ``digest`` of ``what`` (e.g. a hash of the
    dataset items: ranks that list or relabel images differently would train and evaluate
    on different data)."""
    digests = all_gather_object(digest)
    differ = [r for r, d in enumerate(digests) if d != digests[0]]
    if differ:
        raise RuntimeError(
            f"{what} differs between ranks (ranks {differ} disagree with rank 0). Every "
            "process must see the same files in the same order: check that all machines "
            "read the same data root and dataset version."
        )
