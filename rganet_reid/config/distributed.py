"""The ``distributed`` configuration section: training and evaluation under torchrun.

A run started by ``torchrun --nproc_per_node=N tools/main.py …`` is data-parallel (DDP) over N
processes; a run started by ``python`` alone never reads these keys' effects (it is one
process, exactly as before). README "Multiple GPUs / machines" has the commands.
"""

from __future__ import annotations

from yacs.config import CfgNode as CN


def add_distributed_config(cfg: CN) -> None:
    """Add the ``distributed`` section to ``cfg``."""
    cfg.distributed = CN()
    # Process-group backend: "auto" = NCCL for CUDA devices, gloo for the CPU | "nccl" | "gloo".
    cfg.distributed.backend = "auto"
    # Seconds a collective may wait for the slowest rank before the run fails.
    cfg.distributed.timeout_s = 1800.0
    # Convert the BatchNorm layers (RGANet: its BNNecks) to SyncBatchNorm, so their batch
    # statistics are over the global batch (CUDA/NCCL only). Off: each rank normalises its own
    # share, and the running statistics are averaged over ranks after every epoch.
    cfg.distributed.sync_bn = False
    # DDP's find_unused_parameters: set True when a training step leaves some trainable
    # parameter without a gradient (DDP then stops with an error naming this key); False
    # skips a traversal of the autograd graph per step (every shipped config uses all).
    cfg.distributed.find_unused_parameters = False
