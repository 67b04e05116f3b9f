"""Logging set-up: console + a log file in the run folder (no stdout redirection).

The console shows messages only; tracebacks attached to a record (``exc_info``) go to the log
file, and to the console too once :func:`show_tracebacks` is on (a command's ``--debug``).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_tracebacks_on_console = False


class ConsoleFormatter(logging.Formatter):
    """``%(asctime)s %(message)s``; a record's traceback only when tracebacks are shown."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        if _tracebacks_on_console or not (record.exc_info or record.exc_text):
            return super().format(record)
        saved = record.exc_info, record.exc_text
        record.exc_info, record.exc_text = None, None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text = saved


def show_tracebacks(on: bool = True) -> None:
    """Print tracebacks of logged errors on the console too (they always go to the log file)."""
    global _tracebacks_on_console
    _tracebacks_on_console = bool(on)


def log_files(name: str = "rganet_reid") -> list[Path]:
    """The files the ``name`` logger writes to (the run's ``log.txt``, when one is set up)."""
    return [Path(h.baseFilename) for h in logging.getLogger(name).handlers
            if isinstance(h, logging.FileHandler)]


def setup_logging(save_dir: str | Path | None = None, level: int = logging.INFO) -> logging.Logger:
    """Configure the ``rganet_reid`` logger hierarchy once per run folder.

    Messages go to stderr and, when ``save_dir`` is given, to ``save_dir/log.txt`` (appended,
    so a resumed run keeps its history).
    """
    root = logging.getLogger("rganet_reid")
    root.setLevel(level)
    root.propagate = False
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(ConsoleFormatter())
    root.addHandler(console)
    if save_dir is not None:
        Path(save_dir).mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(Path(save_dir) / "log.txt", encoding="utf-8")
        file_handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(file_handler)
    return root
