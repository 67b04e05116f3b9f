"""The engine's evaluation honours the ``retrieval`` config: the re-ranking index of
``rerank_neighbours: index`` is built and searched with the ``retrieval.index.*`` keys."""

import numpy as np
import pytest
import torch
from torch import nn

from rganet_reid.config import load_config
from rganet_reid.data import datamanager
from rganet_reid.engine.base import ReIDEngine
from rganet_reid.evaluation.index import GalleryIndex

pytest.importorskip("faiss")


class _EvalOnly(ReIDEngine):
    def forward_backward(self, data):  # pragma: no cover - never trained here
        raise AssertionError("this engine only evaluates")


class _Data:
    """One test split: 8 queries and 24 gallery images of 4 ids (a camera apart)."""

    def __init__(self) -> None:
        g = torch.Generator().manual_seed(0)

        def part(n, cam):
            items = [(f"{cam}_{i}.jpg", i % 4, cam) for i in range(n)]
            imgs = torch.randn(n, 3, 8, 4, generator=g) + torch.arange(n).remainder(4).view(
                n, 1, 1, 1)
            return items, [{"img": imgs[i:i + 4]} for i in range(0, n, 4)]

        (q, ql), (gal, gl) = part(8, 0), part(24, 1)
        self.test_splits = {"toy": datamanager.TestSplit("toy", q, gal, ql, gl, (1, 5))}
        self.train_loader, self.test_loader, self.num_train_pids = [], {}, 4


def test_rerank_index_is_built_and_searched_with_the_config_keys(tmp_path, monkeypatch):
    cfg = load_config(opts=[
        "data.save_dir", str(tmp_path), "test.rerank", "True",
        "retrieval.rerank_neighbours", "index", "retrieval.rerank_k1", "3",
        "retrieval.rerank_k2", "2", "retrieval.index.type", "flat",
        "retrieval.index.search_vectors", "fused", "retrieval.index.nlist", "3",
        "retrieval.index.hnsw_m", "5", "retrieval.index.ef_construction", "6",
        "retrieval.index.region_dtype", "float32", "retrieval.index.use_gpu", "False",
        "retrieval.index.candidates", "30", "retrieval.index.nprobe", "2",
        "retrieval.index.ef_search", "7",
    ])
    built, searched = [], []
    build, search = GalleryIndex.build.__func__, GalleryIndex.search

    def record_build(cls, gallery, **kwargs):
        built.append(kwargs)
        return build(cls, gallery, **kwargs)

    def record_search(self, query, k=10, **kwargs):
        searched.append(kwargs)
        return search(self, query, k, **kwargs)

    monkeypatch.setattr(GalleryIndex, "build", classmethod(record_build))
    monkeypatch.setattr(GalleryIndex, "search", record_search)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 4, 16))
    engine = _EvalOnly(cfg, _Data(), model, optimizer=None)
    results = engine.test()
    assert built == [{"index_type": "flat", "search_vectors": "fused", "nlist": 3, "hnsw_m": 5,
                      "ef_construction": 6, "region_dtype": "float32", "use_gpu": False}]
    assert searched and searched[0] == {"candidates": 30, "nprobe": 2, "ef_search": 7}
    assert all(s["nprobe"] == 2 and s["ef_search"] == 7 for s in searched)
    assert np.isfinite(results["toy"]["mAP"])
