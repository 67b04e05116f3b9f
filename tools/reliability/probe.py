"""Probe: 37 bad inputs and faults, each run as a user would run it (a fresh process).

Builds tiny SynthOcc and a copy of it with broken images under ``--out`` (default
``output/reliability/probe``), writes bad configs and checkpoints there, then runs each case
(``tools/main.py`` and the other tools) and classifies what the user sees:

* ``OK``: exit 2 (or 1 with a report, for the dataset tools) with a message naming the file,
  key or device; for Ctrl-C: exit 130 without a traceback;
* ``SILENT``: exit 0 without an error message;
* ``RAW``: a Python traceback on the console.

The last case sends SIGINT (Ctrl-C) 15 s into a 2000-epoch run. A malicious checkpoint (its
pickle runs ``touch <out>/PWNED``) is given as ``model.resume``; the probe reports whether the
command ran. Each case's stderr is kept under ``<out>/stderr/``. Run from the repository root
(takes a few minutes)::

    OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 python tools/reliability/probe.py \
        --out output/reliability/probe

It prints one Markdown table row per case, paths under ``--out`` written ``<out>`` and under
the repository ``<repo>``::

    | config file missing | 2 | OK | ... Config file not found: <out>/cfg/nope.yaml ... | 8s |
    ...
    | Ctrl-C during training | 130 | OK | ... Interrupted (Ctrl-C). | 17s |
    PWNED exists: False
    37 cases: 37 OK, 0 SILENT, 0 RAW, 0 other

and exits 1 unless every case is OK and ``PWNED`` is absent.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def _parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "output/reliability/probe",
                        help="scratch folder for the data, the bad inputs and the runs")
    return parser.parse_args(argv)


def _write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def _tool(name: str) -> list[str]:
    return [sys.executable, str(ROOT / "tools" / name)]


class _Evil:
    """A pickle that runs ``touch <marker>`` when loaded with ``weights_only=False``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _break_images(data: Path, bad: Path) -> list[Path]:
    """Copy ``data`` to ``bad``; corrupt a train image, empty a gallery image, write a float
    TIFF with values > 1 over another. Returns the gallery images of the copy."""
    shutil.rmtree(bad, ignore_errors=True)
    shutil.copytree(data, bad)
    imgs = sorted(bad.rglob("*.jpg")) + sorted(bad.rglob("*.png"))
    train_imgs = [p for p in imgs if "bounding_box_train" in str(p) and "mask" not in str(p)]
    gal = [p for p in imgs if "occluded/bounding_box_test" in str(p) and "mask" not in str(p)]
    train_imgs[0].write_text("not an image")
    gal[0].write_bytes(b"")
    Image.fromarray(np.full((8, 4), 3.0, np.float32)).save(gal[1], format="TIFF")
    return gal


def build_cases(p: Path) -> list[tuple[str, list[str]]]:
    """Write the bad inputs under ``p`` and return (name, argv) for each failing command."""
    from rganet_reid.data.synthocc import ensure_synthocc

    data = p / "data"
    ensure_synthocc(data, size="tiny", seed=0)
    base = ["--config-file", str(ROOT / "configs/baselines/osnet_x0_25.yaml"),
            "data.root", str(data), "data.synthocc.size", "tiny", "train.max_epoch", "1",
            "train.batch_size", "16", "data.workers", "0", "test.batch_size", "64"]

    def main(*a: str, save: str = "run") -> list[str]:
        return [*_tool("main.py"), *base, "data.save_dir", str(p / save), *a]

    cfg = p / "cfg"
    bad_yaml = _write(cfg / "bad.yaml", "train:\n  lr: [0.1\n")
    list_yaml = _write(cfg / "list.yaml", "- a\n- b\n")
    _write(cfg / "a.yaml", "_BASE_: b.yaml\n")
    _write(cfg / "b.yaml", "_BASE_: a.yaml\n")
    missing_base = _write(cfg / "mb.yaml", "_BASE_: nowhere.yaml\n")
    notckpt = _write(p / "notes.pth", "hello")
    (p / "afile").write_text("x")
    torch.save({"model": {"w": torch.ones(1)}}, p / "weights_only.pth")
    torch.save({"model": _Evil(p / "PWNED"), "rng": 1, "optimizer": 1}, p / "evil.pth")

    bad = p / "baddata"
    gal = _break_images(data, bad)
    bad_base = [x if x != str(data) else str(bad) for x in base]

    return [
        ("config file missing", [*_tool("main.py"), "--config-file", str(cfg / "nope.yaml")]),
        ("config YAML syntax error", [*_tool("main.py"), "--config-file", bad_yaml]),
        ("config top level is a list", [*_tool("main.py"), "--config-file", list_yaml]),
        ("_BASE_ cycle", [*_tool("main.py"), "--config-file", str(cfg / "a.yaml")]),
        ("_BASE_ file missing", [*_tool("main.py"), "--config-file", missing_base]),
        ("wrong type train.max_epoch three", main("train.max_epoch", "three")),
        ("negative train.lr", main("train.lr", "-0.1")),
        ("data.height 0", main("data.height", "0")),
        ("test.batch_size 0", main("test.batch_size", "0")),
        ("train.optim adamw", main("train.optim", "adamw")),
        ("train.lr_scheduler cosin", main("train.lr_scheduler", "cosin")),
        ("loss.name arcface", main("loss.name", "arcface")),
        ("test.dist_metric manhattan", main("test.dist_metric", "manhattan")),
        ("data.transforms unknown", main("data.transforms", "['random_rotate']")),
        ("model.name typo", main("model.name", "resnet5")),
        ("sampler.train_sampler typo", main("sampler.train_sampler", "RandomIdentitySamplr")),
        ("unknown target dataset -t", [*_tool("main.py"), "-t", "dukemtmcc", *base[2:]]),
        ("empty name in -t a,,b",
         [*_tool("main.py"), "-t", "synthocc_occluded,,x", *base[2:]]),
        ("model.load_weights is a folder", main("model.load_weights", str(p))),
        ("model.load_weights is a text file",
         main("test.evaluate", "True", "model.load_weights", notckpt)),
        ("model.resume weights-only file", main("model.resume", str(p / "weights_only.pth"))),
        ("model.resume malicious pickle", main("model.resume", str(p / "evil.pth"))),
        ("device cuda:1 (no GPU)", main("device", "cuda:1")),
        ("device tpu", main("device", "tpu")),
        ("data.save_dir is a file", main(save="afile")),
        ("data.root is a file", [*_tool("main.py"), *base, "data.root", str(p / "afile"),
                                 "data.save_dir", str(p / "r2")]),
        ("data.mask_root is a file", main("data.mask_root", str(p / "afile"))),
        ("corrupt train + empty gallery + float TIFF >1",
         [*_tool("main.py"), *bad_base, "data.save_dir", str(p / "bd")]),
        ("verify_dataset unknown dataset",
         [*_tool("verify_dataset.py"), "--dataset", "foo", "--root", str(data)]),
        ("verify_dataset root missing",
         [*_tool("verify_dataset.py"), "--dataset", "occluded_duke", "--root", str(p / "none")]),
        ("check_masks unknown split",
         [*_tool("check_masks.py"), "--dataset", "synthocc_occluded", "--root", str(data),
          "--mask-root", str(data), "--splits", "bogus"]),
        ("search query, index missing",
         [*_tool("search.py"), "query", "--index", str(p / "noidx"), str(gal[2])]),
        ("export weights missing",
         [*_tool("export_onnx.py"), "--model", str(p / "none.pth"), "--out", str(p / "m.onnx")]),
        ("benchmark spec missing",
         [*_tool("benchmark.py"), "--spec", str(p / "nospec.yaml"), "--out", str(p / "b")]),
        ("override after -- with odd count", [*_tool("main.py"), *base[:2], "--", "train.lr"]),
        ("data.workers -1", main("data.workers", "-1")),
    ]


def _sigint_argv(p: Path) -> list[str]:
    return [*_tool("main.py"), "--config-file",
            str(ROOT / "configs/baselines/osnet_x0_25.yaml"), "data.root", str(p / "data"),
            "data.synthocc.size", "tiny", "train.max_epoch", "2000", "train.batch_size", "16",
            "data.workers", "0", "data.save_dir", str(p / "sigint")]


def _restore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def main(argv: list[str] | None = None) -> int:
    """Run every case, print a table row per case and a summary; 1 unless all are OK."""
    p = _parse_args(argv).out.resolve()
    p.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
           "OMP_NUM_THREADS": "1", "XDG_CACHE_HOME": str(p / "cache")}
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))

    def shorten(text: str) -> str:
        return text.replace(str(p), "<out>").replace(str(ROOT), "<repo>").replace("|", "/")

    verdicts: Counter[str] = Counter()
    (p / "stderr").mkdir(exist_ok=True)
    for name, case_argv in build_cases(p):
        t0 = time.time()
        proc = subprocess.run(case_argv, env=env, capture_output=True, text=True, timeout=600)
        err = proc.stderr.strip()
        tb = "Traceback (most recent call last)" in err
        (p / "stderr" / (name.replace("/", "_").replace(" ", "_") + ".txt")).write_text(err)
        lines = err.splitlines()
        idx = [i for i, line in enumerate(lines) if "error" in line.lower()]
        if idx:
            msg = " ".join(lines[idx[-1]:idx[-1] + 3])
        else:
            msg = lines[-1] if lines else ""
        verdict = "RAW" if tb else ("SILENT" if proc.returncode == 0 and not idx else "OK")
        verdicts[verdict] += 1
        print(f"| {name} | {proc.returncode} | {verdict} | {shorten(msg[:400])} "
              f"| {time.time() - t0:.0f}s |", flush=True)

    # Ctrl-C during training: SIGINT 15 s into a 2000-epoch run; exit 130, no traceback
    t0 = time.time()
    proc = subprocess.Popen(_sigint_argv(p), env=env, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True, preexec_fn=_restore_sigint)
    time.sleep(15)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate()
    err = err.strip()
    if "Traceback" in err:
        verdict = "RAW"
    elif proc.returncode == 130:
        verdict = "OK"
    else:
        verdict = f"exit {proc.returncode}"
    verdicts[verdict if verdict in ("OK", "RAW") else "other"] += 1
    last = err.splitlines()[-1][:200] if err else ""
    print(f"| Ctrl-C during training | {proc.returncode} | {verdict} | {shorten(last)} "
          f"| {time.time() - t0:.0f}s |", flush=True)

    pwned = (p / "PWNED").exists()
    print("PWNED exists:", pwned)
    total = sum(verdicts.values())
    print(f"{total} cases: {verdicts['OK']} OK, {verdicts['SILENT']} SILENT, "
          f"{verdicts['RAW']} RAW, {verdicts['other']} other")
    return 0 if verdicts["OK"] == total and not pwned else 1


if __name__ == "__main__":
    sys.exit(main())
