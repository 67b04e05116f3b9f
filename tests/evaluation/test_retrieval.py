"""evaluate_retrieval end to end against torchreid's distance + evaluate_rank pipeline."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from retrieval_helpers import random_featureset, torchreid_evaluate

from rganet_reid.compat import torchreid_metrics
from rganet_reid.evaluation import (
    FeatureSet,
    RetrievalResult,
    evaluate_retrieval,
    region_weighted_distance,
)
from rganet_reid.evaluation.blocks import plan_blocks


def _check(res: RetrievalResult, ref_cmc, ref_map, max_rank):
    np.testing.assert_array_equal(res.cmc, ref_cmc[:max_rank].astype(np.float32))
    assert abs(res.mAP - ref_map) < 1e-6


def test_streamed_region_weighted_evaluation_matches_torchreid_on_eq10_matrix():
    rng = np.random.default_rng(0)
    q = random_featureset(rng, 120, 60, 4, dim=32, id_noise=1.0)
    g = random_featureset(rng, 3000, 60, 4, dim=32, id_noise=1.0)
    dist = region_weighted_distance(q, g).numpy()
    ref_cmc, ref_map = torchreid_evaluate(dist, q.pids, g.pids, q.camids, g.camids, 50)
    # 1 MB budget: 3000-wide rows -> blocks of ~40 queries, 1024-column chunks
    assert plan_blocks(120, 3000, 1).rows < 120
    res = evaluate_retrieval(q, g, memory_budget_mb=1, device="cpu")
    _check(res, ref_cmc, ref_map, 50)
    assert 0.0 < res.mINP <= res.mAP <= 1.0 and res.num_valid_queries > 100
    assert res.rank(1) == res.cmc[0] and res.rank(50) == res.cmc[49]


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_global_feature_evaluation_matches_torchreid_pipeline(metric):
    rng = np.random.default_rng(1)
    q = random_featureset(rng, 50, 20, 3, dim=16, regions=0, id_noise=1.5)
    g = random_featureset(rng, 400, 20, 3, dim=16, regions=0, id_noise=1.5)
    dist = torchreid_metrics.compute_distance_matrix(q.global_feats, g.global_feats, metric)
    ref_cmc, ref_map = torchreid_evaluate(dist.numpy(), q.pids, g.pids, q.camids, g.camids, 20)
    res = evaluate_retrieval(q, g, metric=metric, max_rank=20, device="cpu")
    _check(res, ref_cmc, ref_map, 20)


def test_low_precision_evaluation_is_close_to_float32():
    rng = np.random.default_rng(2)
    q = random_featureset(rng, 80, 30, 3, dim=32, id_noise=1.0)
    g = random_featureset(rng, 600, 30, 3, dim=32, id_noise=1.0)
    full = evaluate_retrieval(q, g, device="cpu")
    low = evaluate_retrieval(q, g, device="cpu", dtype=torch.bfloat16)
    assert abs(full.mAP - low.mAP) < 0.02 and abs(full.rank(1) - low.rank(1)) < 0.05


def test_cuhk03_option_reaches_the_single_shot_protocol():
    rng = np.random.default_rng(3)
    q = random_featureset(rng, 40, 10, 2, dim=16, id_noise=1.0)
    g = random_featureset(rng, 200, 10, 2, dim=16, id_noise=1.0)
    multi = evaluate_retrieval(q, g, device="cpu")
    single = evaluate_retrieval(q, g, device="cpu", use_metric_cuhk03=True)
    assert single.mAP == multi.mAP
    assert not np.allclose(single.cmc, multi.cmc)  # one random image per identity differs
    assert np.all(np.diff(single.cmc) >= 0) and 0 < single.cmc[0] and single.cmc[-1] <= 1


def test_rank_k_beyond_cmc_length_raises():
    res = RetrievalResult(cmc=np.array([0.5, 1.0]), mAP=0.5, mINP=0.5, num_valid_queries=2)
    assert res.rank(2) == 1.0
    with pytest.raises(ValueError, match=r"rank k must be in \[1, 2\]"):
        res.rank(3)


def test_no_valid_query_raises():
    rng = np.random.default_rng(4)
    q = random_featureset(rng, 5, 3, 1, dim=8)
    g = random_featureset(rng, 20, 3, 1, dim=8)  # one camera: every match is junk
    with pytest.raises(ValueError, match="No query has a valid match"):
        evaluate_retrieval(q, g, device="cpu")


def test_identical_features_rank_by_gallery_index():
    # one-hot features: every dot product is exactly 1 or 0 in any summation order, so the
    # ties are exact whatever the BLAS kernel does (all-ones features are not: their GEMM
    # rounds differently per column on some CPUs)
    g_feats = torch.zeros(6, 8)
    g_feats[:, 0] = 1.0
    g_feats[0, 0], g_feats[0, 1] = 0.0, 1.0  # item 0 is the only one at distance 1
    g = FeatureSet(g_feats, np.array([3, 1, 2, 1, 3, 1]), np.array([1, 1, 1, 1, 1, 0]))
    q = FeatureSet(g_feats[1:2], np.array([1]), np.array([0]))
    res = evaluate_retrieval(q, g, max_rank=6, device="cpu")
    # items 1..4 tie at distance 0 (5 is junk), item 0 is last: kept order 1, 2, 3, 4, 0;
    # positives 1 and 3 at ranks 1 and 3. CMC length is min(max_rank, gallery size); past
    # the kept list it stays at its last value
    np.testing.assert_array_equal(res.cmc, [1, 1, 1, 1, 1, 1])
    assert res.mAP == pytest.approx((1 / 1 + 2 / 3) / 2)
    assert res.mINP == pytest.approx(2 / 3)


def test_dtype_may_be_given_by_config_name():
    rng = np.random.default_rng(5)
    q = random_featureset(rng, 20, 5, 2, dim=16, id_noise=1.0)
    g = random_featureset(rng, 100, 5, 2, dim=16, id_noise=1.0)
    by_name = evaluate_retrieval(q, g, device="cpu", dtype="bfloat16")
    by_dtype = evaluate_retrieval(q, g, device="cpu", dtype=torch.bfloat16)
    np.testing.assert_array_equal(by_name.cmc, by_dtype.cmc)
    assert by_name.mAP == by_dtype.mAP
    with pytest.raises(ValueError, match="Unknown dtype 'int8'"):
        evaluate_retrieval(q, g, device="cpu", dtype="int8")


def test_partial_protocol_rank1_rank3_match_torchreid():
    # Partial-REID style: a partial query from camera 0 and a full-body gallery image from
    # camera 1 per identity
    torch.manual_seed(7)
    n = 60
    feats = torch.randn(n, 16)
    regions = torch.randn(n, 4, 16)
    weights = torch.rand(n, 4)
    ids = np.arange(n)
    q = FeatureSet(
        feats + 0.8 * torch.randn(n, 16),
        ids,
        np.zeros(n, np.int64),
        regions + 0.8 * torch.randn(n, 4, 16),
        weights,
    )
    g = FeatureSet(feats, ids, np.ones(n, np.int64), regions, torch.rand(n, 4))
    dist = region_weighted_distance(q, g).numpy()
    ref_cmc, ref_map = torchreid_evaluate(dist, q.pids, g.pids, q.camids, g.camids, 10)
    res = evaluate_retrieval(q, g, max_rank=10, device="cpu")
    assert 0.3 < res.rank(1) < 1.0  # a non-trivial ranking
    assert res.rank(1) == pytest.approx(ref_cmc[0]) and res.rank(3) == pytest.approx(ref_cmc[2])
    assert abs(res.mAP - ref_map) < 1e-6
