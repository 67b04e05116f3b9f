"""GalleryIndex built in shards (faiss.IndexShards): the same search as one index, saved
and loaded as parts."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from retrieval_helpers import random_featureset

from rganet_reid.evaluation.index import GalleryIndex
from rganet_reid.evaluation.knn import exact_topk, recall_at_k


def _sets(seed=0, nq=50, ng=2000):
    rng = np.random.default_rng(seed)
    return (random_featureset(rng, nq, 120, 6, dim=32, id_noise=0.8),
            random_featureset(rng, ng, 120, 6, dim=32, id_noise=0.8))


def assert_same_search(a, b):
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.distances, b.distances)
    np.testing.assert_array_equal(a.pids, b.pids)


@pytest.mark.parametrize("index_type,search", [("flat", {"candidates": 2000}),
                                               ("flat", {"candidates": 40}),
                                               ("ivf", {"candidates": 60, "nprobe": 4})])
def test_sharded_index_finds_what_one_index_finds(index_type, search):
    q, g = _sets()
    one = GalleryIndex.build(g, index_type=index_type, nlist=32, region_dtype="float32")
    parts = GalleryIndex.build(g, index_type=index_type, nlist=32, region_dtype="float32",
                               shards=3)
    assert parts.faiss_index.count() == 3 and parts.faiss_index.ntotal == len(g)
    # IVF parts share one trained quantiser: the probed lists hold the same candidates
    assert_same_search(one.search(q, 10, **search), parts.search(q, 10, **search))


def test_sharded_exhaustive_search_is_the_exact_eq10_top_k():
    q, g = _sets(1)
    parts = GalleryIndex.build(g, index_type="flat", region_dtype="float32", shards=4)
    res = parts.search(q, 10, candidates=len(g))
    exact_d, exact_i = exact_topk(q, g, 10, device="cpu")
    np.testing.assert_allclose(res.distances, exact_d.numpy(), atol=1e-5)
    assert recall_at_k(torch.from_numpy(res.indices), exact_i, 10) == 1.0


def test_sharded_hnsw_keeps_its_recall():
    q, g = _sets(2, nq=80, ng=3000)
    parts = GalleryIndex.build(g, index_type="hnsw", shards=2)
    res = parts.search(q, 10, candidates=100, ef_search=64)
    _, exact_i = exact_topk(q, g, 10, device="cpu")
    assert recall_at_k(torch.from_numpy(res.indices), exact_i, 10) >= 0.98


def test_saved_parts_load_and_search_the_same(tmp_path):
    q, g = _sets(3)
    parts = GalleryIndex.build(g, index_type="ivf", nlist=16, shards=2)
    path = parts.save(tmp_path / "idx")
    assert json.loads((path / "meta.json").read_text())["shards"] == 2
    assert sorted(p.name for p in path.glob("faiss*")) == [
        "faiss.shard-0000.index", "faiss.shard-0001.index"]
    loaded = GalleryIndex.load(path)
    assert loaded.num_shards == 2
    assert_same_search(parts.search(q, 10, nprobe=8), loaded.search(q, 10, nprobe=8))
    (path / "faiss.shard-0001.index").unlink()
    with pytest.raises(FileNotFoundError, match="faiss.shard-0001.index"):
        GalleryIndex.load(path)


def test_a_shard_count_beyond_the_gallery_is_refused():
    _, g = _sets(4, ng=20)
    with pytest.raises(ValueError, match="shards must be between 1 and the gallery size 20"):
        GalleryIndex.build(g, shards=21)
