"""Atomic file writes: one writer (:func:`write_atomic`) behind every file the package saves.

A file is written to a temporary file in its own folder, flushed and fsynced, then renamed
over the destination with ``os.replace`` — so a reader sees the old file or the new one, never
a torn one, and an interrupted write leaves the previous file in place. The new file gets the
permissions ``open()`` would give it (``0o666`` minus the umask), not ``tempfile``'s ``0o600``.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import torch

_TEMP_ATTEMPTS = 100


def write_atomic(path: str | Path, write: Callable[[IO[bytes]], Any]) -> Path:
    """Create or replace ``path`` atomically with what ``write(fh)`` writes to a binary file.

    The temporary file ``.<name>.<random>.tmp`` lives beside ``path`` (same file system, so
    the rename is atomic) and is removed if ``write`` raises. Returns ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def write_json_atomic(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented JSON (UTF-8) to ``path`` atomically."""
    data = json.dumps(obj, indent=2).encode("utf-8")
    return write_atomic(path, lambda fh: fh.write(data))


def save_torch_atomic(path: str | Path, obj: Any) -> Path:
    """``torch.save(obj)`` to ``path`` atomically."""
    return write_atomic(path, lambda fh: torch.save(obj, fh))


def _create_temp(path: Path) -> tuple[int, Path]:
    """Open a new temporary file beside ``path`` with the umask-respecting mode ``0o666``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(_TEMP_ATTEMPTS):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"Could not create a temporary file beside {path}.")


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
