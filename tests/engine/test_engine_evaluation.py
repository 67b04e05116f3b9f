"""engine.test() evaluates with the retrieval settings its config asks for."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from rganet_reid.config.defaults import get_default_config
from rganet_reid.engine.base import ReIDEngine
from rganet_reid.evaluation import FeatureSet, evaluate_retrieval


class _EvalOnlyEngine(ReIDEngine):
    def forward_backward(self, data: dict) -> dict[str, float]:
        raise AssertionError("this engine only evaluates")


def _split(rng, n, num_ids, num_cams, dim=8):
    """Images that are their own features (the model is nn.Flatten), one loader batch."""
    pids = rng.integers(0, num_ids, n)
    centers = np.random.default_rng(99).standard_normal((num_ids, dim))
    feats = torch.from_numpy(centers[pids] + 1.5 * rng.standard_normal((n, dim))).float()
    items = [(f"img{i}.jpg", int(p), int(c)) for i, (p, c) in
             enumerate(zip(pids, rng.integers(0, num_cams, n), strict=True))]
    return [{"img": feats}], items


def test_test_hands_the_config_retrieval_settings_to_the_evaluation(tmp_path):
    rng = np.random.default_rng(0)
    q_loader, q_items = _split(rng, 40, 12, 3)
    g_loader, g_items = _split(rng, 200, 12, 3)
    split = SimpleNamespace(query=q_items, gallery=g_items, query_loader=q_loader,
                            gallery_loader=g_loader, eval_ranks=(1, 5),
                            query_truth=None, gallery_truth=None)
    datamanager = SimpleNamespace(train_loader=[], test_loader={}, test_splits={"toy": split})
    cfg = get_default_config()
    cfg.data.save_dir = str(tmp_path)
    cfg.test.normalize_feature = False
    cfg.test.dist_metric = "euclidean"
    cfg.test.rerank = True
    cfg.retrieval.rerank_k1, cfg.retrieval.rerank_k2, cfg.retrieval.rerank_lambda = 5, 2, 0.6
    cfg.retrieval.memory_budget_mb = 1
    engine = _EvalOnlyEngine(cfg, datamanager, nn.Flatten(), None, device=torch.device("cpu"))
    got = engine.test()["toy"]

    def ids(items, k):
        return np.array([it[k] for it in items])

    q = FeatureSet(q_loader[0]["img"], ids(q_items, 1), ids(q_items, 2))
    g = FeatureSet(g_loader[0]["img"], ids(g_items, 1), ids(g_items, 2))
    want = evaluate_retrieval(q, g, metric="euclidean", max_rank=10, device="cpu", rerank=True,
                              rerank_k1=5, rerank_k2=2, rerank_lambda=0.6)
    assert got["mAP"] == pytest.approx(100 * want.mAP, abs=1e-9)
    assert got["mINP"] == pytest.approx(100 * want.mINP, abs=1e-9)
    assert got["rank5"] == pytest.approx(100 * want.rank(5), abs=1e-9)
    # the config's choices matter here: the default settings give another result
    default = evaluate_retrieval(q, g, max_rank=10, device="cpu")
    assert abs(got["mAP"] - 100 * default.mAP) > 0.1
    saved = json.loads((tmp_path / "results.json").read_text())["results"]["toy"]
    assert saved["mAP"] == got["mAP"]


class _NeverIterated:
    """A loader the engine must not read (the gallery's features are reused)."""

    def __iter__(self):
        raise AssertionError("this gallery should not be extracted again")


def _gallery_files(folder, items, payload):
    folder.mkdir()
    out = []
    for i, (_, pid, cam) in enumerate(items):
        path = folder / f"{i:04d}.jpg"
        path.write_bytes(payload(i))
        out.append((str(path), pid, cam))
    return out


@pytest.mark.parametrize("same_bytes", [True, False])
def test_a_target_whose_gallery_repeats_the_previous_one_reuses_its_features(tmp_path,
                                                                              same_bytes):
    rng = np.random.default_rng(1)
    q_loader, q_items = _split(rng, 30, 10, 3)
    g_loader, g_items = _split(rng, 120, 10, 3)
    q2_loader, q2_items = _split(rng, 30, 10, 3)
    g1 = _gallery_files(tmp_path / "g1", g_items, lambda i: b"image %d" % i)
    g2 = _gallery_files(tmp_path / "g2", g_items,
                        lambda i: b"image %d" % i if same_bytes or i != 7 else b"other %d" % i)
    other_feats = [{"img": g_loader[0]["img"].flip(0)}]  # what extracting g2 would give
    splits = {
        "first": SimpleNamespace(query=q_items, gallery=g1, query_loader=q_loader,
                                 gallery_loader=g_loader, eval_ranks=(1,), query_truth=None,
                                 gallery_truth=None),
        "second": SimpleNamespace(query=q2_items, gallery=g2, query_loader=q2_loader,
                                  gallery_loader=_NeverIterated() if same_bytes else other_feats,
                                  eval_ranks=(1,), query_truth=None, gallery_truth=None),
    }
    datamanager = SimpleNamespace(train_loader=[], test_loader={}, test_splits=splits)
    cfg = get_default_config()
    cfg.data.save_dir = str(tmp_path)
    engine = _EvalOnlyEngine(cfg, datamanager, nn.Flatten(), None, device=torch.device("cpu"))
    got = engine.test()["second"]

    def ids(items, k):
        return np.array([it[k] for it in items])

    g_feats = g_loader[0]["img"] if same_bytes else other_feats[0]["img"]
    q = FeatureSet(nn.functional.normalize(q2_loader[0]["img"]), ids(q2_items, 1),
                   ids(q2_items, 2))
    g = FeatureSet(nn.functional.normalize(g_feats), ids(g_items, 1), ids(g_items, 2))
    want = evaluate_retrieval(q, g, max_rank=10, device="cpu")
    assert got["mAP"] == pytest.approx(100 * want.mAP, abs=1e-6)
