"""Benchmark of large-scale retrieval evaluation (docs/retrieval.md, ``tools/bench_retrieval.py``).

On synthetic features with a real benchmark's sizes
(:mod:`~rganet_reid.benchmark.synthetic_features`), :func:`run_evaluation_bench` measures, in
one run:

1. the bare GEMM of the same FLOPs (this machine's limit for the evaluation);
2. our full region-weighted evaluation (Eq. 10, exact CMC/mAP/mINP): time and extra peak
   memory;
3. torchreid's pipeline (compute_distance_matrix per region + Eq. 10 + evaluate_rank) on a
   query subset, scaled to the full query set;
4. whether the metrics agree (on the subset, from the same distances and from torchreid's);
5. optionally (``bf16``) the bfloat16 GEMM's time and accuracy effect.

:func:`run_index_bench` instead builds a FAISS gallery index of N vectors (as the config's
``retrieval.index.*`` keys say) and reports build/search time and recall@10 of the approximate
search against the exact ranking.
"""

from __future__ import annotations

import gc
import os
import resource
import tempfile
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from rganet_reid.benchmark.synthetic_features import Preset, synthetic_split
from rganet_reid.compat import torchreid_metrics
from rganet_reid.evaluation import FeatureSet, evaluate_retrieval, region_weighted_distance
from rganet_reid.evaluation.blocks import plan_blocks
from rganet_reid.evaluation.distance import embed
from rganet_reid.evaluation.index import GalleryIndex
from rganet_reid.evaluation.knn import exact_topk, recall_at_k
from rganet_reid.evaluation.ranking import StreamingRanker

__all__ = ["bare_gemm_seconds", "run_evaluation_bench", "run_index_bench", "torchreid_pipeline"]


def _rss_mb() -> float:
    """Resident memory of this process now (MB)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _hwm_mb() -> float:
    """Peak resident memory of this process (MB)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS counter (VmHWM) so the next peak is this phase's own."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _timed_split(preset: Preset, seed: int) -> tuple[FeatureSet, FeatureSet]:
    """:func:`synthetic_split`, printing how long it took."""
    t = time.perf_counter()
    q, g = synthetic_split(preset, seed)
    print(f"synthetic features: {time.perf_counter() - t:.1f} s")
    return q, g


def bare_gemm_seconds(q: FeatureSet, g: FeatureSet, rows: int, dtype: torch.dtype) -> float:
    """Time of the GEMMs alone (same operands and row blocks as the evaluation)."""
    eq, eg = embed(q, "cosine", "cpu", dtype), embed(g, "cosine", "cpu", dtype)
    torch.mm(eq.vecs[:rows], eg.vecs[:1024].t())  # warm-up
    t = time.perf_counter()
    for s in range(0, len(eq), rows):
        torch.mm(eq.vecs[s : s + rows], eg.vecs.t())
    return time.perf_counter() - t


def torchreid_pipeline(
    q: FeatureSet, g: FeatureSet, max_rank: int
) -> tuple[float, float, np.ndarray, float]:
    """torchreid's way: one compute_distance_matrix per region + the global feature, Eq. 10
    combined elementwise, then evaluate_rank (pure Python: the PyPI build has no Cython)."""
    t0 = time.perf_counter()
    num = torchreid_metrics.compute_distance_matrix(q.global_feats, g.global_feats, "cosine")
    den = torch.ones_like(num)
    for j in range(q.num_regions):
        ww = q.region_weights[:, j : j + 1] * g.region_weights[:, j].unsqueeze(0)
        dj = torchreid_metrics.compute_distance_matrix(
            q.region_feats[:, j], g.region_feats[:, j], "cosine"
        )
        num += ww * dj
        den += ww
    dist = (num / den).numpy()
    t1 = time.perf_counter()
    cmc, mAP = torchreid_metrics.evaluate_rank(
        dist, q.pids, g.pids, q.camids, g.camids, max_rank=max_rank, use_cython=False
    )
    return t1 - t0, time.perf_counter() - t1, cmc, mAP


def run_evaluation_bench(
    name: str,
    preset: Preset,
    seed: int = 0,
    memory_budget_mb: int = 512,
    torchreid_queries: int = 256,
    bf16: bool = False,
) -> None:
    """Time and check the evaluation of a synthetic split of ``preset``; print the report.

    Runs, in order: the bare GEMM of the same FLOPs (timed before and after ours), our exact
    Eq. 10 evaluation (time, extra peak memory, metrics), optionally its bfloat16 GEMM,
    torchreid's pipeline on ``torchreid_queries`` queries (scaled to all), and the agreement
    of the metrics on that subset (against torchreid's distances and its ``evaluate_rank``).
    """
    print(
        f"== {name}: {preset.num_query} queries x {preset.num_gallery} gallery, "
        f"{preset.dim}-d, {preset.regions} regions, {preset.num_cams} cameras; "
        f"{torch.get_num_threads()} threads; load average {os.getloadavg()[0]:.2f}"
    )
    q, g = _timed_split(preset, seed)
    n_valid = len(StreamingRanker.for_sets(q, g).valid_queries)
    width = preset.dim * (preset.regions + 1)
    flops = 2.0 * n_valid * len(g) * width
    rows = plan_blocks(n_valid, len(g), memory_budget_mb).rows
    gc.collect()

    # the bare GEMM is timed before and after our run and averaged: other jobs on a shared
    # machine change the available CPU between phases
    valid_q = q.subset(np.arange(n_valid))
    bare_before = bare_gemm_seconds(valid_q, g, rows, torch.float32)
    gc.collect()

    base = _rss_mb()
    exact_peak = _reset_peak()
    t = time.perf_counter()
    ours = evaluate_retrieval(q, g, device="cpu", memory_budget_mb=memory_budget_mb)
    ours_s = time.perf_counter() - t
    extra = _hwm_mb() - base
    gc.collect()
    bare_after = bare_gemm_seconds(valid_q, g, rows, torch.float32)
    bare = (bare_before + bare_after) / 2
    print(
        f"bare GEMM, same FLOPs ({flops / 1e12:.2f} TFLOP, fp32): {bare_before:.1f} s before, "
        f"{bare_after:.1f} s after our run; mean {bare:.1f} s ({flops / bare / 1e9:.0f} GFLOP/s)"
    )
    print(
        f"ours, Eq. 10 exact evaluation (fp32): {ours_s:.1f} s = {ours_s / bare:.2f}x bare "
        f"GEMM; extra peak memory {extra:.0f} MB"
        + ("" if exact_peak else " (peak counter not resettable: upper bound)")
    )
    print(
        f"  Rank-1 {ours.rank(1):.4f}  Rank-5 {ours.rank(5):.4f}  mAP {ours.mAP:.4f}  "
        f"mINP {ours.mINP:.4f}  valid queries {ours.num_valid_queries}"
    )

    if bf16:
        gc.collect()
        bare16 = bare_gemm_seconds(valid_q, g, rows, torch.bfloat16)
        t = time.perf_counter()
        low = evaluate_retrieval(
            q, g, device="cpu", memory_budget_mb=memory_budget_mb, dtype=torch.bfloat16
        )
        low_s = time.perf_counter() - t
        print(
            f"ours, bf16 GEMM: {low_s:.1f} s (bare bf16 GEMM {bare16:.1f} s); "
            f"Rank-1 {low.rank(1) - ours.rank(1):+.4f}, mAP {low.mAP - ours.mAP:+.5f}, "
            f"mINP {low.mINP - ours.mINP:+.5f} vs fp32"
        )

    n_sub = min(torchreid_queries, len(q))
    sub = q.subset(np.random.default_rng(1).choice(len(q), n_sub, replace=False))
    gc.collect()
    d_s, e_s, ref_cmc, ref_map = torchreid_pipeline(sub, g, 50)
    scale = len(q) / n_sub
    print(
        f"torchreid pipeline on {n_sub} queries: distances {d_s:.1f} s + evaluate_rank "
        f"{e_s:.1f} s; scaled to {len(q)} queries: {(d_s + e_s) * scale:.0f} s "
        f"({(d_s + e_s) * scale / ours_s:.0f}x ours)"
    )
    mine = evaluate_retrieval(sub, g, device="cpu", memory_budget_mb=memory_budget_mb)
    same_cmc = np.array_equal(mine.cmc, ref_cmc.astype(np.float32))
    print(
        f"agreement on the subset vs torchreid's own distances: CMC identical {same_cmc}, "
        f"max |dCMC| {np.abs(mine.cmc - ref_cmc).max():.2e}, "
        f"|dmAP| {abs(mine.mAP - ref_map):.2e}"
    )
    ours_dist = region_weighted_distance(sub, g).numpy()
    cmc2, map2 = torchreid_metrics.evaluate_rank(
        ours_dist, sub.pids, g.pids, sub.camids, g.camids, max_rank=50, use_cython=False
    )
    print(
        f"agreement on the subset, torchreid evaluate_rank on our distance matrix: CMC "
        f"identical {np.array_equal(mine.cmc, cmc2.astype(np.float32))}, "
        f"|dmAP| {abs(mine.mAP - map2):.2e}"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


def run_index_bench(
    n: int,
    build: Mapping[str, Any],
    search: Mapping[str, Any],
    queries: int = 1000,
    dim: int = 128,
    train_size: int = 65536,
    seed: int = 0,
) -> None:
    """Build a FAISS gallery index of ``n`` synthetic vectors, save, load (memory-mapped) and
    search it; print build / search times and recall@10 against the exact Eq. 10 ranking.

    ``build`` and ``search`` are :meth:`GalleryIndex.build` and :meth:`GalleryIndex.search`
    options (:func:`~rganet_reid.evaluation.index.split_index_options` of the config's
    ``retrieval.index`` section); ``train_size`` vectors train the IVF quantiser.
    """
    preset = Preset(queries, n, max(2, n // 27), 15, dim, 4)
    print(
        f"== index: {n} gallery vectors ({preset.dim}-d + {preset.regions} regions), "
        f"{preset.num_query} queries, {build} {search}; {torch.get_num_threads()} threads; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    q, g = _timed_split(preset, seed)
    t = time.perf_counter()
    index = GalleryIndex.build(g, train_size=train_size, **build)
    print(
        f"build ({index.meta['index_factory']}, {build['search_vectors']} vectors): "
        f"{time.perf_counter() - t:.1f} s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        path = index.save(tmp)
        size = sum(f.stat().st_size for f in path.iterdir()) / 2**20
        print(f"save: {time.perf_counter() - t:.1f} s, {size:.0f} MB on disk")
        loaded = GalleryIndex.load(path, use_gpu=build["use_gpu"])
        t = time.perf_counter()
        res = loaded.search(q, 10, **search)
        search_s = time.perf_counter() - t
        del loaded
    print(
        f"search (memory-mapped, {search['candidates']} candidates re-scored exactly): "
        f"{search_s:.1f} s = {search_s / len(q) * 1e3:.1f} ms/query"
    )
    del index
    gc.collect()
    t = time.perf_counter()
    _, exact_i = exact_topk(q, g, 10, device="cpu")
    exact_s = time.perf_counter() - t
    recall = recall_at_k(torch.from_numpy(res.indices), exact_i, 10)
    print(f"exact streamed top-10 (ground truth): {exact_s:.1f} s")
    print(f"recall@10 of the index vs exact Eq. 10 ranking: {recall:.4f}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
