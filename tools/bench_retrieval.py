"""Benchmark of large-scale retrieval evaluation (docs/retrieval.md).

Synthetic features with a real benchmark's sizes and id/camera structure, then, in one run:

1. the bare GEMM of the same FLOPs (this machine's limit for the evaluation);
2. our full region-weighted evaluation (Eq. 10, exact CMC/mAP/mINP): time and extra peak
   memory;
3. torchreid's pipeline (compute_distance_matrix per region + Eq. 10 + evaluate_rank) on a
   query subset, scaled to the full query set;
4. whether the metrics agree (on the subset, from the same distances and from torchreid's);
5. optionally (``--bf16``) the bfloat16 GEMM's time and accuracy effect.

``--index N`` instead builds a FAISS gallery index of N vectors and reports build/search time
and recall@10 of the approximate search against the exact ranking. The index is built and
searched as the config's ``retrieval.index.*`` keys say (defaults, overridden by trailing
``KEY VALUE`` pairs).

Examples::

    python tools/bench_retrieval.py --preset small
    python tools/bench_retrieval.py --preset msmt17 --torchreid-queries 256
    python tools/bench_retrieval.py --index 1000000 retrieval.index.nlist 1024 \
        retrieval.index.nprobe 128 retrieval.index.candidates 100
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from rganet_reid.evaluation import FeatureSet, evaluate_retrieval  # noqa: E402


@dataclass(frozen=True)
class Preset:
    num_query: int
    num_gallery: int
    num_ids: int  # identities in the test split (all appear in the gallery)
    num_cams: int
    dim: int
    regions: int


# Per-image noise norm relative to the unit identity centres, and the weight of each
# identity's own component against its two shared attributes: together they set the ranking
# difficulty (tuned so that Eq. 10 at MSMT17 size scores like a decent trained model).
NOISE = 1.0
OWN = 0.4
ATTRIBUTES = 64
OCCLUSION_IN_GLOBAL = 0.6  # how much an occluder corrupts the global feature

PRESETS = {
    # MSMT17 test split: 11,659 query / 82,161 gallery images, 3,060 ids, 15 cameras
    "msmt17": Preset(11659, 82161, 3060, 15, 512, 4),
    # Occluded-Duke: 2,210 query / 17,661 gallery images, 1,110 ids, 8 cameras
    "occluded_duke": Preset(2210, 17661, 1110, 8, 512, 4),
    "small": Preset(500, 5000, 200, 6, 256, 4),
}


def synthetic_split(
    preset: Preset, seed: int = 0, noise: float = NOISE
) -> tuple[FeatureSet, FeatureSet]:
    """Query and gallery FeatureSets with the preset's sizes and id/camera structure.

    Each identity is seen by 2-6 cameras; features are an identity centre plus a camera shift
    plus noise, and each image has each region occluded with probability 0.25 (an occluded
    region's feature is unrelated noise and its confidence is low), so Eq. 10's weighting
    matters and the ranking difficulty resembles a trained model's.
    """
    rng = np.random.default_rng(seed)
    g = torch.Generator().manual_seed(seed)
    cams_per_id = [
        rng.choice(
            preset.num_cams, size=rng.integers(2, min(6, preset.num_cams) + 1), replace=False
        )
        for _ in range(preset.num_ids)
    ]

    def ids_and_cams(n: int, query: bool) -> tuple[np.ndarray, np.ndarray]:
        if query:  # queries: a subset of ids, like the real splits
            pids = rng.integers(0, preset.num_ids, n)
        else:  # every id appears in the gallery at least once
            pids = np.concatenate(
                [np.arange(preset.num_ids), rng.integers(0, preset.num_ids, n - preset.num_ids)]
            )
        cams = np.array([rng.choice(cams_per_id[p]) for p in pids])
        return pids.astype(np.int64), cams.astype(np.int64)

    # Identity centres built from shared "attributes" (clothing, colours): people who share
    # attributes look alike, which is where real ranking errors come from.
    attributes = torch.randn(ATTRIBUTES, preset.regions + 1, preset.dim, generator=g)
    picks = torch.randint(0, ATTRIBUTES, (preset.num_ids, 2), generator=g)
    own = torch.randn(preset.num_ids, preset.regions + 1, preset.dim, generator=g)
    centres = F.normalize(attributes[picks[:, 0]] + attributes[picks[:, 1]] + OWN * own, dim=2)
    cam_shift = 0.35 * F.normalize(torch.randn(preset.num_cams, preset.dim, generator=g), dim=1)

    noise_scale = noise / preset.dim**0.5  # noise vectors of norm ~noise, centres of norm 1

    def features(pids: np.ndarray, cams: np.ndarray) -> FeatureSet:
        n = len(pids)
        glob = torch.empty(n, preset.dim)
        regions = torch.empty(n, preset.regions, preset.dim)
        weights = torch.empty(n, preset.regions)
        for s in range(0, n, 8192):
            sl = slice(s, min(n, s + 8192))
            p = torch.from_numpy(pids[sl])
            c = torch.from_numpy(cams[sl])
            m = len(p)
            noise = torch.randn(m, preset.regions + 1, preset.dim, generator=g)
            f = centres[p] + cam_shift[c].unsqueeze(1) + noise_scale * noise
            occluded = torch.rand(m, preset.regions, generator=g) < 0.25
            junk = F.normalize(torch.randn(m, preset.regions, preset.dim, generator=g), dim=2)
            r = torch.where(occluded.unsqueeze(2), junk, f[:, 1:])
            logits = torch.randn(m, preset.regions, generator=g) - 3.0 * occluded
            glob[sl] = f[:, 0] + OCCLUSION_IN_GLOBAL * (junk * occluded.unsqueeze(2)).sum(1)
            regions[sl] = r
            weights[sl] = torch.softmax(logits, dim=1)
        return FeatureSet(glob, pids, cams, regions, weights)

    qp, qc = ids_and_cams(preset.num_query, query=True)
    gp, gc_ = ids_and_cams(preset.num_gallery, query=False)
    return features(qp, qc), features(gp, gc_)


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _hwm_mb() -> float:
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


def bare_gemm_seconds(q: FeatureSet, g: FeatureSet, rows: int, dtype: torch.dtype) -> float:
    """Time of the GEMMs alone (same operands and row blocks as the evaluation)."""
    from rganet_reid.evaluation.distance import embed

    eq, eg = embed(q, "cosine", "cpu", dtype), embed(g, "cosine", "cpu", dtype)
    torch.mm(eq.vecs[:rows], eg.vecs[:1024].t())  # warm-up
    t = time.perf_counter()
    for s in range(0, len(eq), rows):
        torch.mm(eq.vecs[s : s + rows], eg.vecs.t())
    return time.perf_counter() - t


def torchreid_pipeline(q: FeatureSet, g: FeatureSet, max_rank: int):
    """torchreid's way: one compute_distance_matrix per region + the global feature, Eq. 10
    combined elementwise, then evaluate_rank (pure Python: the PyPI build has no Cython)."""
    from rganet_reid.compat import torchreid_metrics

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


def run_evaluation_bench(args) -> None:
    from rganet_reid.evaluation import region_weighted_distance
    from rganet_reid.evaluation.blocks import plan_blocks
    from rganet_reid.evaluation.ranking import StreamingRanker

    preset = PRESETS[args.preset]
    print(
        f"== {args.preset}: {preset.num_query} queries x {preset.num_gallery} gallery, "
        f"{preset.dim}-d, {preset.regions} regions, {preset.num_cams} cameras; "
        f"{torch.get_num_threads()} threads; load average {os.getloadavg()[0]:.2f}"
    )
    t = time.perf_counter()
    q, g = synthetic_split(preset, args.seed)
    print(f"synthetic features: {time.perf_counter() - t:.1f} s")
    n_valid = len(StreamingRanker.for_sets(q, g).valid_queries)
    width = preset.dim * (preset.regions + 1)
    flops = 2.0 * n_valid * len(g) * width
    rows = plan_blocks(n_valid, len(g), args.memory_budget_mb).rows
    gc.collect()

    # the bare GEMM is timed before and after our run and averaged: other jobs on a shared
    # machine change the available CPU between phases
    valid_q = q.subset(np.arange(n_valid))
    bare_before = bare_gemm_seconds(valid_q, g, rows, torch.float32)
    gc.collect()

    base = _rss_mb()
    exact_peak = _reset_peak()
    t = time.perf_counter()
    ours = evaluate_retrieval(q, g, device="cpu", memory_budget_mb=args.memory_budget_mb)
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

    if args.bf16:
        gc.collect()
        bare16 = bare_gemm_seconds(valid_q, g, rows, torch.bfloat16)
        t = time.perf_counter()
        low = evaluate_retrieval(
            q, g, device="cpu", memory_budget_mb=args.memory_budget_mb, dtype=torch.bfloat16
        )
        low_s = time.perf_counter() - t
        print(
            f"ours, bf16 GEMM: {low_s:.1f} s (bare bf16 GEMM {bare16:.1f} s); "
            f"Rank-1 {low.rank(1) - ours.rank(1):+.4f}, mAP {low.mAP - ours.mAP:+.5f}, "
            f"mINP {low.mINP - ours.mINP:+.5f} vs fp32"
        )

    n_sub = min(args.torchreid_queries, len(q))
    sub = q.subset(np.random.default_rng(1).choice(len(q), n_sub, replace=False))
    gc.collect()
    d_s, e_s, ref_cmc, ref_map = torchreid_pipeline(sub, g, 50)
    scale = len(q) / n_sub
    print(
        f"torchreid pipeline on {n_sub} queries: distances {d_s:.1f} s + evaluate_rank "
        f"{e_s:.1f} s; scaled to {len(q)} queries: {(d_s + e_s) * scale:.0f} s "
        f"({(d_s + e_s) * scale / ours_s:.0f}x ours)"
    )
    mine = evaluate_retrieval(sub, g, device="cpu", memory_budget_mb=args.memory_budget_mb)
    same_cmc = np.array_equal(mine.cmc, ref_cmc.astype(np.float32))
    print(
        f"agreement on the subset vs torchreid's own distances: CMC identical {same_cmc}, "
        f"max |dCMC| {np.abs(mine.cmc - ref_cmc).max():.2e}, "
        f"|dmAP| {abs(mine.mAP - ref_map):.2e}"
    )
    from rganet_reid.compat import torchreid_metrics

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


def run_index_bench(args) -> None:
    from rganet_reid.config import load_config
    from rganet_reid.evaluation.index import (
        GalleryIndex,
        index_options_from_config,
        split_index_options,
    )
    from rganet_reid.evaluation.knn import exact_topk, recall_at_k

    build, search = split_index_options(index_options_from_config(load_config(opts=args.opts)))
    n = args.index
    preset = Preset(args.index_queries, n, max(2, n // 27), 15, args.index_dim, 4)
    print(
        f"== index: {n} gallery vectors ({preset.dim}-d + {preset.regions} regions), "
        f"{preset.num_query} queries, {build} {search}; {torch.get_num_threads()} threads; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    t = time.perf_counter()
    q, g = synthetic_split(preset, args.seed)
    print(f"synthetic features: {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    index = GalleryIndex.build(g, train_size=args.train_size, **build)
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="small")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory-budget-mb", type=int, default=512)
    parser.add_argument(
        "--torchreid-queries",
        type=int,
        default=256,
        help="query subset for torchreid's (slow) pipeline; time is scaled",
    )
    parser.add_argument("--bf16", action="store_true", help="also time the bf16 GEMM option")
    parser.add_argument(
        "--index",
        type=int,
        default=0,
        help="instead: build and search a FAISS index of this many vectors",
    )
    parser.add_argument("--index-dim", type=int, default=128)
    parser.add_argument("--index-queries", type=int, default=1000)
    parser.add_argument("--train-size", type=int, default=65536,
                        help="vectors that train the IVF quantiser (--index)")
    parser.add_argument("opts", nargs="*", metavar="KEY VALUE",
                        help="config overrides of the index (--index): retrieval.index.* keys")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        import faiss

        faiss.omp_set_num_threads(args.threads)
    except ImportError:
        pass
    if args.index:
        run_index_bench(args)
    else:
        run_evaluation_bench(args)


if __name__ == "__main__":
    main()
