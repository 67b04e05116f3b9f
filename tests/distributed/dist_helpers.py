"""Starting real process groups in tests: ``torch.multiprocessing.spawn`` with gloo on the
CPU (each child sets torchrun's environment variables, so the package code runs exactly as
under torchrun), and ``torchrun`` itself as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import torch.multiprocessing as mp

from rganet_reid.utils.distributed import free_port

REPO = Path(__file__).resolve().parents[2]


def join_as_torchrun(rank: int, world: int, port: int) -> None:
    """Set the environment torchrun gives rank ``rank`` of ``world`` (one machine)."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(world), LOCAL_WORLD_SIZE=str(world),
                      OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")


def spawn(worker: Callable, world: int, out_dir: Path, *args) -> list[dict]:
    """Run ``worker(rank, world, port, out_dir, *args)`` in ``world`` processes; each must write
    ``out_dir/rank<r>.json``; returns those records in rank order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    mp.spawn(worker, args=(world, free_port(), out_dir, *args), nprocs=world, join=True)
    return [json.loads((out_dir / f"rank{r}.json").read_text()) for r in range(world)]


def torchrun(args: Sequence[str], nproc: int = 2, timeout: int = 600
             ) -> subprocess.CompletedProcess:
    """``python -m torch.distributed.run --nproc_per_node=nproc ARGS`` from the repository root
    (a free rendezvous port; one thread per process)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}",
           "--master_addr=127.0.0.1", f"--master_port={free_port()}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env,
                          timeout=timeout)
