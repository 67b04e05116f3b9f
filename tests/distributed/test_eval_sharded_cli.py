"""``tools/eval_sharded.py`` under ``torchrun --nproc_per_node=2`` (gloo): saved features and a
model evaluated with the gallery sharded give one process's metrics exactly."""

from __future__ import annotations

import json

import numpy as np
import torch
from dist_helpers import REPO, torchrun

from rganet_reid.config import load_config
from rganet_reid.evaluation import FeatureSet, RetrievalSettings, evaluate_retrieval
from rganet_reid.evaluation.feature_store import read_features, write_features
from rganet_reid.evaluation.sharded import evaluate_feature_dirs

CONFIG = str(REPO / "projects" / "RGANet" / "synth_occ.yaml")


def features(rng, n: int, ids: int = 20) -> FeatureSet:
    centers = np.random.default_rng(99).standard_normal((ids, 5, 16))
    pids = rng.integers(0, ids, n)
    x = torch.from_numpy(centers[pids] + 0.9 * rng.standard_normal((n, 5, 16))).float()
    return FeatureSet(x[:, 0].contiguous(), pids, rng.integers(0, 3, n), x[:, 1:].contiguous(),
                      torch.from_numpy(rng.random((n, 4))).float())


def metrics_of(res) -> dict:
    return {"rank1": 100.0 * res.rank(1), "rank5": 100.0 * res.rank(5),
            "mAP": 100.0 * res.mAP, "mINP": 100.0 * res.mINP}


def test_saved_features_evaluated_by_two_processes_equal_one_process(tmp_path):
    rng = np.random.default_rng(0)
    query, gallery = features(rng, 30), features(rng, 151)
    write_features(query, tmp_path / "q")
    write_features(gallery, tmp_path / "g")
    out = tmp_path / "results.json"
    proc = torchrun(["tools/eval_sharded.py", "--query", str(tmp_path / "q"), "--gallery",
                     str(tmp_path / "g"), "--out", str(out), "device", "cpu",
                     "retrieval.memory_budget_mb", "1"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(out.read_text())["results"]["features"]
    assert got["num_processes"] == 2 and got["num_gallery"] == 151
    ref = metrics_of(evaluate_retrieval(query, gallery, max_rank=10))
    assert {k: got[k] for k in ref} == ref


def test_a_model_evaluated_by_two_processes_saves_its_features_and_equals_one_process(
        synthocc_root, tmp_path):
    feats, out = tmp_path / "feats", tmp_path / "results.json"
    proc = torchrun(["tools/eval_sharded.py", "--config-file", CONFIG, "--root",
                     str(synthocc_root), "--save-features", str(feats), "--out", str(out),
                     "data.synthocc.size", "tiny", "data.save_dir", str(tmp_path / "run"),
                     "model.pretrained", "", "data.workers", "0", "test.batch_size", "8",
                     "device", "cpu"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(out.read_text())["results"]["synthocc_occluded"]
    q_dir, g_dir = feats / "synthocc_occluded" / "query", feats / "synthocc_occluded" / "gallery"
    assert len(read_features(q_dir)) == 16 and len(read_features(g_dir)) == 39  # all, once
    settings = RetrievalSettings.from_config(load_config(CONFIG), max_rank=10)
    one, _, _ = evaluate_feature_dirs(q_dir, g_dir, settings, rank=0, world_size=1,
                                      comm=_identity_comm())
    assert {k: got[k] for k in ("rank1", "rank5", "mAP", "mINP")} == metrics_of(one)


def _identity_comm():
    from rganet_reid.evaluation.sharded import ShardComm

    return ShardComm(sum=lambda a: a, gather_rows=lambda t: t)
