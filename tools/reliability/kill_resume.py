"""SIGKILL a training run mid-epoch and during a checkpoint write, resume, compare.

Trains osnet_x0_25 for 4 epochs on tiny SynthOcc (CPU, ``data.workers 0``) three times
under ``--out`` (default ``output/reliability/kill_resume``):

* ``full``: uninterrupted (kept and reused if its ``model.pth`` exists);
* ``mid``: SIGKILL 1.5 s after the epoch-2 checkpoint appears (mid-epoch: epoch 3, or
  epoch 4 on a fast machine), then
  ``model.resume <out>/mid/checkpoints/last.pth`` (kept and reused if finished);
* ``write``: SIGKILL the moment a temp file of ``checkpoints/last.pth`` exists (a checkpoint
  write in progress), then resumed the same way (always re-run).

Each resumed run's final ``model.pth`` is compared with ``full``'s (``torch.equal`` on every
tensor). Run from the repository root (takes a few minutes)::

    OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 python tools/reliability/kill_resume.py \
        --out output/reliability/kill_resume

It prints::

    uninterrupted 4-epoch run: <s> s
    killed mid-epoch: True checkpoint epoch <n>
    mid-epoch kill + resume bit-identical: True
    killed during a write: True temps left: ['.last.pth.<pid>-<hex>.tmp'] checkpoint epoch <n>
    after resume, temps left: []
    checkpoint-write kill + resume bit-identical: True
    model.pth mode: 0o644 umask 0o22

and exits 1 if either resumed run is not bit-identical to the uninterrupted one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]


def _parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "output/reliability/kill_resume",
                        help="scratch folder for the data and the three runs")
    return parser.parse_args(argv)


class KillResume:
    """The three runs of the experiment, all under one scratch folder."""

    def __init__(self, out: Path) -> None:
        self.out = out.resolve()
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
                    "OMP_NUM_THREADS": "1"}
        self.base = [
            "--config-file", str(ROOT / "configs/baselines/osnet_x0_25.yaml"),
            "data.root", str(self.out / "data"), "data.synthocc.size", "tiny",
            "train.max_epoch", "4", "train.batch_size", "16", "data.workers", "0",
            "test.batch_size", "64", "train.stepsize", "[2]", "train.print_freq", "1",
        ]

    def cmd(self, save: str, *extra: str) -> list[str]:
        """The ``tools/main.py`` command line of run ``save`` with extra overrides."""
        return [sys.executable, str(ROOT / "tools/main.py"), *self.base,
                "data.save_dir", str(self.out / save), *extra]

    def run(self, save: str, *extra: str) -> None:
        """Run ``save`` to the end; raise if it fails."""
        subprocess.run(self.cmd(save, *extra), env=self.env, check=True, capture_output=True)

    def kill_when(self, save: str, predicate: Callable[[Path], bool],
                  poll: float = 0.0005) -> bool:
        """Start ``save``; SIGKILL it once ``predicate(run folder)`` holds. True if killed."""
        proc = subprocess.Popen(self.cmd(save), env=self.env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        while proc.poll() is None:
            if predicate(self.out / save):
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return True
            time.sleep(poll)
        return False

    def same(self, a: str, b: str) -> bool:
        """Whether runs ``a`` and ``b`` ended with bit-identical ``model.pth`` weights."""
        x = torch.load(self.out / a / "model.pth", weights_only=True)["model"]
        y = torch.load(self.out / b / "model.pth", weights_only=True)["model"]
        return x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x)


def ckpt_epoch(folder: Path) -> int:
    """Epoch of ``folder/checkpoints/last.pth``; 0 while it is absent or unreadable."""
    try:
        return torch.load(folder / "checkpoints/last.pth", weights_only=True)["epoch"]
    except Exception:
        return 0


def temps(folder: Path) -> list[str]:
    """Names of the temp files (``*.tmp``) in ``folder/checkpoints``."""
    d = folder / "checkpoints"
    return [p.name for p in d.iterdir() if p.name.endswith(".tmp")] if d.is_dir() else []


def main(argv: list[str] | None = None) -> int:
    """Run the experiment and print its findings; 1 if a resume is not bit-identical."""
    kr = KillResume(_parse_args(argv).out)
    out = kr.out
    t0 = time.time()
    if not (out / "full/model.pth").exists():
        kr.run("full")
    print(f"uninterrupted 4-epoch run: {time.time() - t0:.0f} s", flush=True)

    # 1) mid-epoch: after the epoch-2 checkpoint exists, 1.5 s into epoch 3
    started: dict[str, float] = {}

    def mid(folder: Path) -> bool:
        if ckpt_epoch(folder) >= 2:
            started.setdefault("t", time.time())
            return time.time() - started["t"] > 1.5
        return False

    if not (out / "mid/model.pth").exists():
        print("killed mid-epoch:", kr.kill_when("mid", mid),
              "checkpoint epoch", ckpt_epoch(out / "mid"))
        kr.run("mid", "model.resume", str(out / "mid/checkpoints/last.pth"))
    mid_ok = kr.same("full", "mid")
    print("mid-epoch kill + resume bit-identical:", mid_ok, flush=True)

    # 2) during a checkpoint write: the moment a temp file of last.pth exists
    shutil.rmtree(out / "write", ignore_errors=True)
    hit = kr.kill_when(
        "write", lambda f: (f / "checkpoints/last.pth").exists() and bool(temps(f)), poll=0.0)
    print("killed during a write:", hit, "temps left:", temps(out / "write"),
          "checkpoint epoch", ckpt_epoch(out / "write"))
    kr.run("write", "model.resume", str(out / "write/checkpoints/last.pth"))
    print("after resume, temps left:", temps(out / "write"))
    write_ok = kr.same("full", "write")
    print("checkpoint-write kill + resume bit-identical:", write_ok, flush=True)

    mode = oct((out / "write/model.pth").stat().st_mode & 0o777)
    umask = os.umask(0o022)
    os.umask(umask)
    print("model.pth mode:", mode, "umask", oct(umask))
    return 0 if mid_ok and write_ok else 1


if __name__ == "__main__":
    sys.exit(main())
