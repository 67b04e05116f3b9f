"""Atomic file writes: one writer (:func:`write_atomic`) behind every file the package saves.

A file is written to a temporary file in its own folder, flushed and fsynced, then renamed
over the destination with ``os.replace`` — so a reader sees the old file or the new one, never
a torn one, and an interrupted write leaves the previous file in place. The new file gets the
permissions ``open()`` would give it (``0o666`` minus the umask), not ``tempfile``'s ``0o600``.
A temporary file left by a writer that was killed (its process id, in the name, no longer
runs) is removed by the next write of the same file.
"""

from __future__ import annotations

import errno
import glob
import json
import logging
import os
import re
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import torch

logger = logging.getLogger(__name__)

_TEMP_ATTEMPTS = 100
#: Free space below which a failed write is reported as a full file system.
_FULL_BYTES = 64 << 20


def write_atomic(path: str | Path, write: Callable[[IO[bytes]], Any]) -> Path:
    """Create or replace ``path`` atomically with what ``write(fh)`` writes to a binary file.

    The temporary file ``.<name>.<pid>-<random>.tmp`` lives beside ``path`` (same file system, so
    the rename is atomic) and is removed if ``write`` raises. Returns ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path)
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
    """``torch.save(obj)`` to ``path`` atomically. A failed write (torch reports it as a
    ``RuntimeError`` such as "unexpected pos ...") is an :class:`OSError` naming ``path``:
    ``ENOSPC`` when its file system is (nearly) full, else ``EIO``."""

    def save(fh: IO[bytes]) -> None:
        try:
            torch.save(obj, fh)
        except RuntimeError as err:
            full = shutil.disk_usage(Path(path).parent).free < _FULL_BYTES
            code = errno.ENOSPC if full else errno.EIO
            raise OSError(code, f"{os.strerror(code)} (torch.save: {err})", str(path)) from err

    return write_atomic(path, save)


def _create_temp(path: Path) -> tuple[int, Path]:
    """Open a new temporary file beside ``path`` with the umask-respecting mode ``0o666``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(_TEMP_ATTEMPTS):
        tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"Could not create a temporary file beside {path}.")


def remove_stale_temps(path: Path) -> list[Path]:
    """Remove the temporary files of ``path`` whose writer process no longer runs (a save
    killed mid-write); a running writer's file is kept. Returns the removed files."""
    pattern = re.compile(re.escape(f".{path.name}.") + r"(\d+)-[0-9a-f]+\.tmp")
    removed = []
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        match = pattern.fullmatch(tmp.name)
        if match and not _running(int(match.group(1))):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    if removed:
        logger.info("Removed %d temporary file(s) of an interrupted save of %s", len(removed),
                    path)
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's) or cannot tell: keep its file
    return True


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
