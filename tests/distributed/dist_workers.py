"""Functions run in each spawned process of the distributed tests (importable by the
children: this folder is on the parent's sys.path, which spawn hands down)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch
from dist_helpers import join_as_torchrun


def tensor_digests(tensors: dict[str, torch.Tensor]) -> dict[str, str]:
    return {k: hashlib.sha256(v.detach().cpu().contiguous().numpy().tobytes()).hexdigest()
            for k, v in tensors.items()}


def tiny_rganet_cfg(root: str, save_dir: str):
    """RGANet-Tiny on SynthOcc tiny: RGM with learnable prompts (stage 1 runs), every region
    above the α threshold (the memory bank moves every step), global batch 16 = 2 ranks x
    2 identities x 4 images, test batches of 8 (the 39-image gallery is 5 batches)."""
    from rganet_reid.config.defaults import get_default_config

    cfg = get_default_config()
    cfg.device = "cpu"
    cfg.model.name, cfg.loss.name, cfg.model.pretrained = "rganet_tiny", "rganet", ""
    cfg.data.root, cfg.data.save_dir = root, save_dir
    cfg.data.synthocc.size = "tiny"
    cfg.data.sources = cfg.data.targets = ["synthocc_occluded"]
    cfg.data.height, cfg.data.width, cfg.data.workers = 64, 32, 0
    cfg.data.load_masks = True
    cfg.data.norm_mean = [0.48145466, 0.4578275, 0.40821073]
    cfg.data.norm_std = [0.26862954, 0.26130258, 0.27577711]
    cfg.train.batch_size, cfg.sampler.num_instances = 16, 4
    cfg.train.max_epoch, cfg.train.print_freq = 1, 1
    cfg.test.batch_size = 8
    cfg.rganet.stage1.max_epoch = 1
    cfg.rganet.stage1.lr = 1e-2
    cfg.rganet.memory.alpha_threshold = 0.0
    cfg.rganet.memory.init_batches = 2
    cfg.freeze()
    return cfg


def ddp_training_worker(rank: int, world: int, port: int, out_dir: Path, root: str) -> None:
    """Stage 1, memory-bank initialisation and one stage-2 epoch under DDP, a checkpoint,
    the sharded evaluation and the single-process evaluation of the same model, then
    :func:`sharded_eval_record` (one process group for all: starting one takes long)."""
    join_as_torchrun(rank, world, port)
    torch.set_num_threads(1)
    from rganet_reid.cli.main import build
    from rganet_reid.evaluation import RetrievalSettings, evaluate_retrieval
    from rganet_reid.utils.distributed import shutdown_distributed

    record: dict = {"rank": rank}
    try:
        engine = build(tiny_rganet_cfg(root, str(out_dir / "run")))
        model = engine.model
        record["initial"] = tensor_digests(model.state_dict())
        ctx0 = model.prompt.ctx.detach().clone()
        engine.before_train()  # stage 1 under DDP, then the sharded memory-bank init
        record["ctx_moved"] = not torch.equal(model.prompt.ctx, ctx0)
        record["after_stage1"] = tensor_digests({"ctx": model.prompt.ctx,
                                                 "centers": model.memory.centers})
        centers0 = model.memory.centers.clone()
        engine.train_epoch(0)
        record["steps"] = engine.global_step
        record["centers_moved"] = not torch.equal(model.memory.centers, centers0)
        record["final"] = tensor_digests(model.state_dict())
        engine.save(1)
        record["sharded"] = engine.test()["synthocc_occluded"]
        split = engine.datamanager.test_splits["synthocc_occluded"]
        query = engine.extract(split.query_loader, split.query)
        gallery = engine.extract(split.gallery_loader, split.gallery)
        res = evaluate_retrieval(query, gallery, RetrievalSettings.from_config(engine.cfg),
                                 max_rank=10)
        record["single"] = {"cmc": res.cmc.tolist(), "mAP": 100.0 * res.mAP,
                            "mINP": 100.0 * res.mINP}
        record["features"] = sharded_eval_record(seed=3)
    finally:
        shutdown_distributed()
    (out_dir / f"rank{rank}.json").write_text(json.dumps(record))


def sharded_eval_record(seed: int) -> dict:
    """evaluate_sharded over the running process group (2 ranks) on random features with
    exact ties across the shard border, next to one process's evaluation of the whole
    gallery; and ``all_gather_rows`` with a rank that has no rows."""
    from rganet_reid.evaluation import FeatureSet, evaluate_retrieval
    from rganet_reid.evaluation.sharded import evaluate_sharded
    from rganet_reid.utils.distributed import all_gather_rows, rank

    rng = np.random.default_rng(seed)  # the same features on every rank
    n_q, n_g, ids = 40, 230, 25
    centers = rng.standard_normal((ids, 5, 16))

    def features(n: int) -> FeatureSet:
        pids = rng.integers(0, ids, n)
        x = torch.from_numpy(centers[pids] + 0.8 * rng.standard_normal((n, 5, 16))).float()
        w = torch.from_numpy(rng.random((n, 4))).float()
        return FeatureSet(x[:, 0].contiguous(), pids, rng.integers(0, 3, n),
                          x[:, 1:].contiguous(), w)

    gallery, query = features(n_g), features(n_q)
    for t in (gallery.global_feats, gallery.region_feats, gallery.region_weights):
        t[120:125] = t[110:115]  # exact duplicates on both sides of the shard border
    gallery.pids[120:125] = gallery.pids[110:115]
    bounds = [0, 117, n_g]
    r = rank()
    shard = gallery.subset(slice(bounds[r], bounds[r + 1]))
    res = evaluate_sharded(query, shard, shard_start=bounds[r], gallery_pids=gallery.pids,
                           gallery_camids=gallery.camids, max_rank=20, memory_budget_mb=1)
    ref = evaluate_retrieval(query, gallery, max_rank=20, memory_budget_mb=1)
    gathered = all_gather_rows(torch.full((r + 1, 2), float(r)) if r else None)
    return {"cmc": res.cmc.tolist(), "mAP": res.mAP, "mINP": res.mINP,
            "ref_cmc": ref.cmc.tolist(), "ref_mAP": ref.mAP, "ref_mINP": ref.mINP,
            "gathered": gathered.tolist()}


def main_runs_worker(rank: int, world: int, port: int, out_dir: Path,
                     runs: list[tuple[int, list[str]]]) -> None:
    """``tools/main.py``'s ``main`` with each ``(port, argument list)`` in turn, in the same
    processes (each run joins and leaves its own process group on its own rendezvous port, as
    separate torchrun launches would: reusing one port races with rank 0 closing its store)."""
    join_as_torchrun(rank, world, port)
    torch.set_num_threads(1)
    from rganet_reid.cli.main import main

    codes = []
    for run_port, argv in runs:
        os.environ["MASTER_PORT"] = str(run_port)
        codes.append(main(argv))
    (out_dir / f"rank{rank}.json").write_text(json.dumps({"codes": codes}))
