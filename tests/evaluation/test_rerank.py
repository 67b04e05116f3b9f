"""k-reciprocal re-ranking against torchreid's re_ranking."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from retrieval_helpers import random_featureset, torchreid_evaluate

from rganet_reid.compat import torchreid_root
from rganet_reid.evaluation import DistanceKernel, FeatureSet, embed, evaluate_retrieval
from rganet_reid.evaluation.rerank import rerank_distance


def _torchreid_rerank(q, g, metric, k1, k2, lam):
    eq, eg = embed(q, metric), embed(g, metric)
    qg = DistanceKernel(eq, eg, metric).block(0, len(q), 0, len(g)).numpy()
    qq = DistanceKernel(eq, eq, metric).block(0, len(q), 0, len(q)).numpy()
    gg = DistanceKernel(eg, eg, metric).block(0, len(g), 0, len(g)).numpy()
    return torchreid_root.utils.re_ranking(qg, qq, gg, k1=k1, k2=k2, lambda_value=lam)


@pytest.mark.parametrize(
    "regions,metric,k1,k2",
    [(4, "cosine", 20, 6), (4, "cosine", 5, 1), (0, "cosine", 7, 3), (0, "euclidean", 20, 6)],
)
def test_reranked_distances_and_metrics_match_torchreid(regions, metric, k1, k2):
    rng = np.random.default_rng(k1 + k2 + regions)
    q = random_featureset(rng, 40, 15, 3, dim=16, regions=regions, id_noise=1.0)
    g = random_featureset(rng, 200, 15, 3, dim=16, regions=regions, id_noise=1.0)
    ref = _torchreid_rerank(q, g, metric, k1, k2, 0.3)
    ours = rerank_distance(q, g, metric=metric, k1=k1, k2=k2, lambda_value=0.3)
    np.testing.assert_allclose(ours.numpy(), ref, atol=2e-6, rtol=0)
    ref_cmc, ref_map = torchreid_evaluate(ref, q.pids, g.pids, q.camids, g.camids, 20)
    res = evaluate_retrieval(
        q,
        g,
        metric=metric,
        max_rank=20,
        rerank=True,
        rerank_k1=k1,
        rerank_k2=k2,
        device="cpu",
        memory_budget_mb=1,
    )
    np.testing.assert_array_equal(res.cmc, ref_cmc.astype(np.float32))
    assert abs(res.mAP - ref_map) < 1e-6


def test_index_neighbours_with_exhaustive_candidates_match_exact_rerank():
    rng = np.random.default_rng(9)
    q = random_featureset(rng, 30, 10, 3, dim=16, id_noise=1.0)
    g = random_featureset(rng, 150, 10, 3, dim=16, id_noise=1.0)
    exact = rerank_distance(q, g, k1=6, k2=3)
    # a flat index with every point as a candidate finds the same neighbours and row maxima
    opts = {
        "index_type": "flat",
        "search_vectors": "fused",
        "region_dtype": "float32",
        "candidates": 1000,
    }
    via_index = rerank_distance(q, g, k1=6, k2=3, neighbours="index", index_options=opts)
    # (rescoring rounds differently from the GEMM: equal up to float32 noise)
    np.testing.assert_allclose(via_index.numpy(), exact.numpy(), atol=1e-4)


def test_reranking_changes_the_ranking_and_rejects_bad_parameters():
    rng = np.random.default_rng(2)
    q = random_featureset(rng, 30, 10, 3, dim=16, id_noise=1.0)
    g = random_featureset(rng, 150, 10, 3, dim=16, id_noise=1.0)
    plain = evaluate_retrieval(q, g, device="cpu")
    reranked = evaluate_retrieval(q, g, device="cpu", rerank=True, rerank_k1=6, rerank_k2=3)
    assert reranked.mAP != plain.mAP
    with pytest.raises(ValueError, match="neighbours must be"):
        rerank_distance(q, g, neighbours="magic")
    with pytest.raises(ValueError, match="k1 and k2"):
        rerank_distance(q, g, k2=0)
    assert torch.isfinite(rerank_distance(q, g, k1=3, k2=2)).all()


def test_exact_neighbours_over_many_column_chunks_match_a_dense_pass():
    from rganet_reid.evaluation.blocks import plan_blocks
    from rganet_reid.evaluation.rerank import exact_neighbours

    # small-integer features, euclidean: every distance is exact in any summation order, so
    # the streamed pass and the dense matrix agree to the bit
    rng = np.random.default_rng(3)
    n, k = 1500, 12
    points = FeatureSet(
        torch.from_numpy(rng.integers(-4, 5, (n, 6))).float(), np.arange(n), np.zeros(n, int)
    )
    emb = embed(points, "euclidean")
    kernel = DistanceKernel(emb, emb, "euclidean")
    assert plan_blocks(n, n, 1).cols < n  # several column chunks per row block
    nb = exact_neighbours(kernel, k, memory_budget_mb=1)
    dense = kernel.block(0, n, 0, n)
    row_max = dense.square().amax(dim=1)
    torch.testing.assert_close(nb.row_max, row_max, rtol=0, atol=0)
    orig = dense.square() / row_max.unsqueeze(1)
    # equal distances are frequent here: compare the k smallest values, and check that the
    # indices point at them
    torch.testing.assert_close(nb.orig, torch.sort(orig, dim=1).values[:, :k], rtol=0, atol=0)
    torch.testing.assert_close(orig.gather(1, nb.idx), nb.orig, rtol=0, atol=0)
