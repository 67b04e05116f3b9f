"""Logging set-up: console + a log file in the run folder (no stdout redirection)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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
    console.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    root.addHandler(console)
    if save_dir is not None:
        Path(save_dir).mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(Path(save_dir) / "log.txt", encoding="utf-8")
        file_handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(file_handler)
    return root
