"""The one error path of every command (``rganet-main``, ``rganet-benchmark``, ``rganet-search``,
``rganet-export``, ``tools/verify_dataset.py`` ...).

A *fault* — something the user or the machine can fix: a config key, a file, a folder, a
device, a diverged training — ends the command with one message that names the file, key or
device and what to do, and exit status 2. Its traceback goes to the run's ``log.txt`` (when a
run folder is set up) and to the console only with ``--debug``. Anything else is a bug in
this package and keeps its traceback. Ctrl-C ends with status 130 and no traceback.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import re
from collections.abc import Callable

from rganet_reid.utils.logging import log_files, setup_logging, show_tracebacks

logger = logging.getLogger("rganet_reid.cli")

#: Exit status of a fault (argparse uses 2 for usage errors too).
EXIT_FAULT = 2
#: Exit status after Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130

_NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)
_NO_SPACE = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


def fault_types() -> tuple[type[BaseException], ...]:
    """Exceptions that are the user's input or the machine's state, not a bug of the package."""
    import torch

    from rganet_reid.config import ConfigError
    from rganet_reid.data.datasets.base import DatasetLayoutError
    from rganet_reid.data.image_io import ImageReadError
    from rganet_reid.data.masks import MaskError
    from rganet_reid.engine.checkpoint import CheckpointError
    from rganet_reid.modeling import PretrainedWeightsError
    from rganet_reid.utils.seed import DeviceError

    return (ConfigError, DatasetLayoutError, ImageReadError, MaskError, CheckpointError,
            PretrainedWeightsError, DeviceError, FloatingPointError, torch.OutOfMemoryError,
            MemoryError, ImportError, OSError, KeyError, ValueError)


def describe(err: BaseException) -> str:
    """What went wrong and what to do, for a fault of :func:`fault_types`."""
    if isinstance(err, OSError) and err.errno is not None:  # raised by the OS, not by us
        return _os_message(err)
    message = err.args[0] if err.args and isinstance(err.args[0], str) else str(err)
    message = _worker_message(message)
    if isinstance(err, MemoryError) or type(err).__name__ == "OutOfMemoryError":
        first = message.splitlines()[0] if message else "out of memory"
        return (f"{first} Lower train.batch_size / test.batch_size (or data.height/width), or "
                "use a device with more memory.")
    return message


def _os_message(err: OSError) -> str:
    where = err.filename if err.filename is not None else "a file"
    if err.filename2 is not None:
        where = f"{err.filename} -> {err.filename2}"
    reason = err.strerror or os.strerror(err.errno)
    if err.errno in _NO_SPACE:
        return (f"No space left on the device holding {where} ({reason}): free space there or "
                "choose another folder (data.save_dir for run outputs, data.root for data).")
    if err.errno in _NOT_WRITABLE:
        return (f"{where}: {reason}. Make it writable (readable) for this user or choose "
                "another folder (data.save_dir for run outputs, data.root for data).")
    if err.errno == errno.EFBIG:
        return (f"{where}: {reason} — the file system or this process's file-size limit "
                "(ulimit -f) refuses a file this large.")
    if err.errno == errno.ENOENT:
        return f"{where}: no such file or folder. Check the path (and data.root)."
    if err.errno in (errno.ENOTDIR, errno.EEXIST):
        return (f"{where}: {reason} — a file stands where a folder is needed; move it or "
                "choose another folder (data.save_dir / data.root).")
    return f"{where}: {reason}."


def _worker_message(message: str) -> str:
    """A DataLoader worker's error re-raised in the main process carries the worker's traceback
    in its message: keep its last line, the original error."""
    if "Original Traceback" not in message:
        return message
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    match = re.match(r"[A-Za-z_][\w.]*: (.*)", lines[-1])
    return match.group(1) if match else lines[-1]


def report_fault(err: BaseException, log: logging.Logger = logger) -> int:
    """Log ``err`` as one message (its traceback to the log file; to the console only with
    ``--debug``); returns :data:`EXIT_FAULT`."""
    files = log_files()
    where = f"traceback in {files[0]}" if files else "--debug prints the traceback"
    log.error("%s: %s [%s]", type(err).__name__, describe(err), where, exc_info=err)
    return EXIT_FAULT


def add_debug_flag(parser: argparse.ArgumentParser, default: object = False) -> None:
    """``--debug``: print an error's traceback (it always goes to the run's log.txt)."""
    parser.add_argument("--debug", action="store_true", default=default,
                        help="print the traceback of an error (a run also logs it to log.txt)")


def run_command(body: Callable[[], int | None], *, debug: bool = False,
                log: logging.Logger = logger, extra: tuple[type[BaseException], ...] = (),
                level: int = logging.INFO) -> int:
    """Run a command's ``body`` through the one error path; returns its exit status.

    ``extra``: more fault types of this command (e.g. the benchmark's spec errors);
    ``level``: what the console shows of the package's logging (a run adds its log.txt).
    """
    show_tracebacks(debug)
    setup_logging(level=level)
    try:
        return int(body() or 0)
    except KeyboardInterrupt:
        log.error("Interrupted (Ctrl-C).")
        return EXIT_INTERRUPTED
    except (*fault_types(), *extra) as err:
        return report_fault(err, log)
