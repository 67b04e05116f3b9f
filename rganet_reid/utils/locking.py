"""One process at a time on a shared output (a benchmark run folder, a cached weights file).

Built on ``filelock`` (already a dependency of torch): the OS releases the lock when its
holder exits or crashes, so no stale lock needs cleaning by hand.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

logger = logging.getLogger(__name__)


def lock_path(target: str | Path) -> Path:
    """The lock file that guards ``target``: ``<target>.lock`` beside it."""
    target = Path(target)
    return target.with_name(f"{target.name}.lock")


@contextmanager
def exclusive(target: str | Path, what: str) -> Iterator[None]:
    """Hold the lock on ``target`` for the block; if another process holds it, log that and
    wait for it to finish (the caller then re-checks what that process left behind)."""
    path = lock_path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        logger.info("%s is in use by another process (lock %s); waiting for it to finish",
                    what, path)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()
