"""The fused Eq. 10 kernel against the literal per-region computation and torchreid."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from retrieval_helpers import random_featureset

from rganet_reid.compat import torchreid_metrics
from rganet_reid.evaluation import (
    DistanceKernel,
    FeatureSet,
    embed,
    region_weighted_distance,
    region_weighted_distance_reference,
)


@pytest.mark.parametrize("regions", [1, 4])
def test_fused_eq10_equals_per_region_loop(regions):
    rng = np.random.default_rng(regions)
    q = random_featureset(rng, 23, 5, 3, dim=24, regions=regions)
    g = random_featureset(rng, 71, 5, 3, dim=24, regions=regions)
    q.region_weights[0] = 0.0  # a query whose regions are all judged unreliable
    fused = region_weighted_distance(q, g)
    ref = region_weighted_distance_reference(q, g)
    assert fused.dtype == torch.float32 and fused.shape == (23, 71)
    torch.testing.assert_close(fused.double(), ref, atol=2e-6, rtol=0)
    # all-zero confidences reduce Eq. 10 to the global cosine distance
    glob = 1 - torch.nn.functional.normalize(q.global_feats[:1].double(), dim=1) @ (
        torch.nn.functional.normalize(g.global_feats.double(), dim=1).t()
    )
    torch.testing.assert_close(fused[:1].double(), glob, atol=2e-6, rtol=0)


def test_missing_confidences_mean_uniform_weights():
    rng = np.random.default_rng(1)
    q = random_featureset(rng, 5, 3, 2)
    g = random_featureset(rng, 9, 3, 2)
    ones_q = FeatureSet(q.global_feats, q.pids, q.camids, q.region_feats, torch.ones(5, 4))
    ones_g = FeatureSet(g.global_feats, g.pids, g.camids, g.region_feats, torch.ones(9, 4))
    none_q = FeatureSet(q.global_feats, q.pids, q.camids, q.region_feats)
    none_g = FeatureSet(g.global_feats, g.pids, g.camids, g.region_feats)
    torch.testing.assert_close(
        region_weighted_distance(none_q, none_g), region_weighted_distance(ones_q, ones_g)
    )


def test_blocks_tile_the_full_matrix():
    rng = np.random.default_rng(2)
    q = random_featureset(rng, 30, 5, 3)
    g = random_featureset(rng, 50, 5, 3)
    kernel = DistanceKernel(embed(q), embed(g))
    full = kernel.block(0, 30, 0, 50)
    den = torch.empty(10_000)
    torch.testing.assert_close(kernel.block(7, 19, 11, 50, den_buffer=den), full[7:19, 11:])
    torch.testing.assert_close(kernel.block(0, 1, 0, 1), full[:1, :1])


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_global_metrics_match_torchreid_compute_distance_matrix(metric):
    rng = np.random.default_rng(3)
    q = random_featureset(rng, 12, 4, 2, regions=0)
    g = random_featureset(rng, 40, 4, 2, regions=0)
    ours = region_weighted_distance(q, g, metric=metric)
    ref = torchreid_metrics.compute_distance_matrix(q.global_feats, g.global_feats, metric)
    torch.testing.assert_close(ours, ref, atol=1e-4 if metric == "euclidean" else 1e-6, rtol=1e-5)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_low_precision_gemm_stays_close_to_float32(dtype):
    rng = np.random.default_rng(4)
    q = random_featureset(rng, 20, 5, 3, dim=64)
    g = random_featureset(rng, 60, 5, 3, dim=64)
    low = region_weighted_distance(q, g, dtype=dtype)
    assert low.dtype == torch.float32
    torch.testing.assert_close(low, region_weighted_distance(q, g), atol=2e-2, rtol=0)


def test_mismatched_or_empty_inputs_raise_clear_errors():
    rng = np.random.default_rng(5)
    q = random_featureset(rng, 4, 3, 2, dim=8)
    g = random_featureset(rng, 6, 3, 2, dim=16)
    with pytest.raises(ValueError, match="8-d but gallery ones are 16-d"):
        region_weighted_distance(q, g)
    g8 = random_featureset(rng, 6, 3, 2, dim=8, regions=0)
    with pytest.raises(ValueError, match="both query and gallery have region features"):
        region_weighted_distance(q, g8)
    with pytest.raises(ValueError, match="query set is empty"):
        region_weighted_distance(q.subset(slice(0, 0)), q)
    with pytest.raises(ValueError, match="gallery set is empty"):
        region_weighted_distance(q, q.subset(slice(0, 0)))
    with pytest.raises(ValueError, match="euclidean"):
        region_weighted_distance(q, q, metric="euclidean")
    with pytest.raises(ValueError, match="Unknown metric"):
        region_weighted_distance(q, q, metric="hamming")


def test_bad_feature_values_raise():
    rng = np.random.default_rng(6)
    q = random_featureset(rng, 4, 3, 2, dim=8)
    bad = q.subset(np.arange(4))
    bad.global_feats[2, 1] = float("nan")
    with pytest.raises(ValueError, match="global_feats row 2 contain NaN"):  # the row itself
        region_weighted_distance(bad, q)
    regions = q.subset(np.arange(4))
    regions.region_feats[1, 0, 0] = float("inf")
    regions.region_weights[3, 1] = float("nan")
    with pytest.raises(ValueError, match=r"region_weights rows 1, 3 \(2 rows\) contain NaN"):
        region_weighted_distance(regions, q)
    neg = q.subset(np.arange(4))
    neg.region_weights[1, 0] = -0.5
    with pytest.raises(ValueError, match="region_weights row 1 contain negative"):
        region_weighted_distance(neg, q)


def test_featureset_rejects_inconsistent_shapes():
    feats = torch.zeros(3, 8)
    ids = np.zeros(3, dtype=np.int64)
    with pytest.raises(ValueError, match=r"pids must have shape \(3,\)"):
        FeatureSet(feats, ids[:2], ids)
    with pytest.raises(ValueError, match="region_feats must have shape"):
        FeatureSet(feats, ids, ids, torch.zeros(2, 4, 8))
    with pytest.raises(ValueError, match="region_weights must have shape"):
        FeatureSet(feats, ids, ids, torch.zeros(3, 4, 8), torch.zeros(3, 5))
    with pytest.raises(ValueError, match="without region_feats"):
        FeatureSet(feats, ids, ids, None, torch.zeros(3, 4))
    with pytest.raises(TypeError, match="integers"):
        FeatureSet(feats, ids.astype(float), ids)


def test_scaling_the_confidences_by_c_weights_the_global_distance_by_one_over_c_squared():
    """rganet.region_weight_scale: Eq. 10 with c·w equals
    (Σ_j w_j^q w_j^g d_j + d_g / c²) / (Σ_j w_j^q w_j^g + 1 / c²), computed here by hand."""
    from dataclasses import replace

    rng = np.random.default_rng(3)
    q = random_featureset(rng, 5, 3, 2)
    g = random_featureset(rng, 7, 3, 2)
    c = 4.0
    got = region_weighted_distance(replace(q, region_weights=c * q.region_weights),
                                   replace(g, region_weights=c * g.region_weights))
    unit = torch.nn.functional.normalize
    d_g = 1 - unit(q.global_feats.double(), dim=1) @ unit(g.global_feats.double(), dim=1).T
    d_r = 1 - torch.einsum("qjd,gjd->qgj", unit(q.region_feats.double(), dim=2),
                           unit(g.region_feats.double(), dim=2))
    ww = torch.einsum("qj,gj->qgj", q.region_weights.double(), g.region_weights.double())
    expected = ((ww * d_r).sum(-1) + d_g / c**2) / (ww.sum(-1) + 1 / c**2)
    torch.testing.assert_close(got.double(), expected, atol=1e-5, rtol=1e-5)
