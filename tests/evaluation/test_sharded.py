"""Exact evaluation with the gallery sharded over ranks (threads standing in for processes;
the gloo path: tests/distributed/): metrics equal one process's, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from retrieval_helpers import random_featureset
from shard_helpers import ThreadGroup

from rganet_reid.evaluation import FeatureSet, evaluate_retrieval
from rganet_reid.evaluation.sharded import evaluate_sharded, gather_feature_set


def sharded(query, gallery, bounds, **settings):
    """Run evaluate_sharded on len(bounds)-1 thread ranks; the results in rank order."""
    def rank_fn(rank, comm):
        lo, hi = bounds[rank], bounds[rank + 1]
        return evaluate_sharded(query, gallery.subset(slice(lo, hi)), shard_start=lo,
                                gallery_pids=gallery.pids, gallery_camids=gallery.camids,
                                comm=comm, **settings)

    return ThreadGroup(len(bounds) - 1).run(rank_fn)


def assert_identical(results, ref):
    for res in results:
        np.testing.assert_array_equal(res.cmc, ref.cmc)
        assert res.mAP == ref.mAP and res.mINP == ref.mINP
        assert res.num_valid_queries == ref.num_valid_queries


def with_ties(gallery: FeatureSet, src: slice, dst: slice) -> FeatureSet:
    """Copies of gallery rows ``src`` at ``dst`` (same features and pid: exact ties)."""
    for t in (gallery.global_feats, gallery.region_feats, gallery.region_weights):
        if t is not None:
            t[dst] = t[src]
    gallery.pids[dst] = gallery.pids[src]
    return gallery


@pytest.mark.parametrize("bounds", [
    [0, 160, 300], [0, 1, 2, 300], [0, 100, 100, 300], [0, 300, 300], [0, 57, 170, 171, 300]])
def test_eq10_metrics_equal_one_process_for_any_shard_layout(bounds):
    rng = np.random.default_rng(0)
    query = random_featureset(rng, 60, 20, 3, id_noise=1.0)
    gallery = with_ties(random_featureset(rng, 300, 20, 3, id_noise=1.0),
                        slice(150, 165), slice(165, 180))
    ref = evaluate_retrieval(query, gallery, max_rank=20, memory_budget_mb=1)
    assert_identical(sharded(query, gallery, bounds, max_rank=20, memory_budget_mb=1), ref)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_global_feature_metrics_equal_one_process(metric):
    rng = np.random.default_rng(1)
    query = random_featureset(rng, 40, 15, 2, regions=0, id_noise=0.7)
    gallery = with_ties(random_featureset(rng, 200, 15, 2, regions=0, id_noise=0.7),
                        slice(10, 30), slice(120, 140))
    ref = evaluate_retrieval(query, gallery, metric=metric)
    assert_identical(sharded(query, gallery, [0, 70, 130, 200], metric=metric), ref)


def test_rows_split_into_blocks_and_the_bfloat16_gemm_still_agree():
    rng = np.random.default_rng(2)
    query = random_featureset(rng, 700, 40, 4, id_noise=1.5)
    gallery = random_featureset(rng, 600, 40, 4, id_noise=1.5)
    for dtype in (torch.float32, torch.bfloat16):
        ref = evaluate_retrieval(query, gallery, memory_budget_mb=1, dtype=dtype)
        assert_identical(sharded(query, gallery, [0, 333, 600], memory_budget_mb=1,
                                 dtype=dtype), ref)


def test_rerank_gathers_the_shards_and_equals_one_process():
    rng = np.random.default_rng(3)
    query = random_featureset(rng, 30, 10, 3, id_noise=1.0)
    gallery = random_featureset(rng, 90, 10, 3, id_noise=1.0)
    ref = evaluate_retrieval(query, gallery, rerank=True, max_rank=10)
    assert_identical(sharded(query, gallery, [0, 40, 90], rerank=True, max_rank=10), ref)


def test_shards_that_do_not_tile_the_gallery_are_refused():
    rng = np.random.default_rng(4)
    query = random_featureset(rng, 10, 5, 2)
    gallery = random_featureset(rng, 50, 5, 2)
    with pytest.raises(ValueError, match="shards must tile it once"):
        sharded(query, gallery, [0, 30, 45])  # items 45..49 held by nobody


def test_a_shard_whose_ids_disagree_with_the_gallery_is_refused():
    rng = np.random.default_rng(5)
    query = random_featureset(rng, 10, 5, 2)
    gallery = random_featureset(rng, 50, 5, 2)

    def rank_fn(rank, comm):
        lo, hi = (0, 20) if rank == 0 else (20, 50)
        return evaluate_sharded(query, gallery.subset(slice(lo, hi)), shard_start=lo,
                                gallery_pids=gallery.pids[::-1].copy(),
                                gallery_camids=gallery.camids, comm=comm)

    with pytest.raises(ValueError, match="differ from gallery_pids"):
        ThreadGroup(2).run(rank_fn)


def test_gathered_parts_are_the_whole_set_in_rank_order():
    rng = np.random.default_rng(6)
    whole = random_featureset(rng, 23, 5, 2)
    bounds = [0, 0, 9, 23]

    def rank_fn(rank, comm):
        lo, hi = bounds[rank], bounds[rank + 1]
        part = whole.subset(slice(lo, hi)) if hi > lo else None
        return gather_feature_set(part, (whole.pids, whole.camids), comm)

    for got in ThreadGroup(3).run(rank_fn):
        for name in ("global_feats", "region_feats", "region_weights"):
            assert torch.equal(getattr(got, name), getattr(whole, name))
        np.testing.assert_array_equal(got.pids, whole.pids)
