"""Seeding and device selection."""

from __future__ import annotations

import random

import numpy as np
import torch


class DeviceError(RuntimeError):
    """The requested device is not a device, or not available on this machine."""


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) RNGs."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def resolve_device(spec: str | torch.device | None = "auto") -> torch.device:
    """``"auto"`` / ``None`` → CUDA when available, else CPU; otherwise ``torch.device(spec)``,
    which must exist here (else :class:`DeviceError` naming it and what this machine has)."""
    if spec is None or spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(spec)
    except (RuntimeError, TypeError) as err:
        raise DeviceError(f"device={spec!r} is not a device: use auto, cpu, cuda or cuda:N "
                          f"({err}).") from err
    problem = device_problem(device)
    if problem:
        raise DeviceError(f"device={spec!r}: {problem}")
    return device


def device_problem(device: torch.device) -> str | None:
    """Why ``device`` cannot be used on this machine, or ``None`` when it can."""
    if device.type == "cpu":
        return None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            return ("CUDA is not available on this machine (no GPU, or this torch build has "
                    "no CUDA); use device cpu (or auto).")
        if device.index is not None and device.index >= count:
            return (f"this machine has {count} CUDA device(s) (cuda:0..cuda:{count - 1}); use "
                    "one of them.")
        return None
    backend = getattr(torch.backends, device.type, None) or getattr(torch, device.type, None)
    available = getattr(backend, "is_available", None)
    if available is None or not available():
        return f"the {device.type} backend is not available here; use device cpu (or auto)."
    return None
