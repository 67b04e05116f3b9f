"""``model.resume`` under torchrun: two processes interrupted after epoch 1 and resumed end
with the weights, memory bank and metrics of the uninterrupted two-process run. The three
runs are ``tools/main.py``'s ``main`` in one pair of processes started as torchrun starts
them (each run joins and leaves its process group; one start instead of three)."""

from __future__ import annotations

import json

import torch
from dist_helpers import REPO, spawn
from dist_workers import main_runs_worker

from rganet_reid.utils.distributed import free_port

CONFIG = str(REPO / "projects" / "RGANet" / "synth_occ.yaml")


def run_opts(root, save_dir, epochs):
    return ["--config-file", CONFIG, "data.root", str(root),
            "data.synthocc.size", "tiny", "data.save_dir", str(save_dir),
            "model.pretrained", "", "train.max_epoch", str(epochs), "train.batch_size", "16",
            "train.stepsize", "[1]", "rganet.stage1.max_epoch", "1", "data.workers", "0",
            "test.batch_size", "16", "train.print_freq", "1", "device", "cpu",
            "rganet.memory.alpha_threshold", "0.4"]


def test_resumed_torchrun_run_equals_the_uninterrupted_one(synthocc_root, tmp_path):
    full, half = tmp_path / "full", tmp_path / "half"
    ckpt = half / "checkpoints" / "last.pth"
    argvs = [run_opts(synthocc_root, full, 2), run_opts(synthocc_root, half, 1),
             [*run_opts(synthocc_root, half, 2), "model.resume", str(ckpt)]]
    runs = [(free_port(), argv) for argv in argvs]
    records = spawn(main_runs_worker, 2, tmp_path / "ranks", runs)
    assert [r["codes"] for r in records] == [[0, 0, 0], [0, 0, 0]]
    saved = torch.load(ckpt, weights_only=True)
    assert saved["world_size"] == 2 and len(saved["rng_per_rank"]) == 2
    assert saved["sampler"]["passes"] >= 4  # stage 1, memory init, epochs 1 and 2
    a = torch.load(full / "model.pth", weights_only=True)["model"]
    b = torch.load(half / "model.pth", weights_only=True)["model"]
    assert a.keys() == b.keys()
    assert [k for k in a if not torch.equal(a[k], b[k])] == []
    ra = json.loads((full / "results.json").read_text())["results"]
    rb = json.loads((half / "results.json").read_text())["results"]
    for key in ("rank1", "rank5", "mAP", "mINP"):
        assert ra["synthocc_occluded"][key] == rb["synthocc_occluded"][key]
    log = (half / "log.txt").read_text()
    assert "Resumed from" in log and "rank 0 of 2" in log
