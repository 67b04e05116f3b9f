"""Exact streaming CMC / mAP / mINP against torchreid's evaluate_rank."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from retrieval_helpers import stable_rank_matrix, torchreid_evaluate

from rganet_reid.evaluation import FeatureSet, StreamingRanker, evaluate_distmat
from rganet_reid.evaluation import ranking as ranking_mod
from rganet_reid.evaluation.protocol import RankingProtocol


def _ids(rng, n, num_ids, num_cams):
    return rng.integers(0, num_ids, n), rng.integers(0, num_cams, n)


def _assert_same_as_torchreid(dist, qp, gp, qc, gc, max_rank=20, **kw):
    ref_cmc, ref_map = torchreid_evaluate(stable_rank_matrix(dist), qp, gp, qc, gc, max_rank)
    res = evaluate_distmat(dist, qp, gp, qc, gc, max_rank=max_rank, **kw)
    np.testing.assert_array_equal(res.cmc, ref_cmc.astype(np.float32))
    assert abs(res.mAP - ref_map) < 1e-6
    return res


@pytest.mark.parametrize("seed", range(6))
def test_random_distances_match_torchreid_exactly(seed):
    rng = np.random.default_rng(seed)
    nq, ng = rng.integers(5, 60), rng.integers(20, 400)
    qp, qc = _ids(rng, nq, 8, 3)
    gp, gc = _ids(rng, ng, 8, 3)
    dist = rng.random((nq, ng)).astype(np.float32)
    # continuous distances: no ties, so torchreid's own argsort order is unambiguous
    ref_cmc, ref_map = torchreid_evaluate(dist, qp, gp, qc, gc, 20)
    res = evaluate_distmat(dist, qp, gp, qc, gc, max_rank=20, rows_per_block=7)
    np.testing.assert_array_equal(res.cmc, ref_cmc.astype(np.float32))
    assert abs(res.mAP - ref_map) < 1e-6


@pytest.mark.parametrize("levels", [2, 5])
def test_tied_distances_follow_stable_sort_by_gallery_index(levels):
    rng = np.random.default_rng(levels)
    qp, qc = _ids(rng, 40, 6, 3)
    gp, gc = _ids(rng, 300, 6, 3)
    dist = rng.integers(0, levels, (40, 300)).astype(np.float32)
    _assert_same_as_torchreid(dist, qp, gp, qc, gc, rows_per_block=9)


def test_constant_rows_rank_gallery_in_index_order():
    qp = np.array([1, 2])
    qc = np.array([0, 0])
    gp = np.array([3, 1, 2, 1, 2])
    gc = np.array([1, 1, 1, 1, 0])  # query 2's second match (index 4) is same-camera junk
    dist = np.zeros((2, 5), dtype=np.float32)
    res = evaluate_distmat(dist, qp, gp, qc, gc, max_rank=5)
    # query 1: positives at kept positions 1 and 3 -> AP = (1/2 + 2/4) / 2, INP = 2/4
    # query 2: positive at position 2 (index 4 removed) -> AP = 1/3, INP = 1/3
    assert res.mAP == pytest.approx(((0.5 + 0.5) / 2 + 1 / 3) / 2, abs=1e-12)
    assert res.mINP == pytest.approx((0.5 + 1 / 3) / 2, abs=1e-12)
    np.testing.assert_allclose(res.cmc, [0, 0.5, 1, 1, 1])


def test_negative_zero_ties_with_zero():
    qp, qc = np.array([1]), np.array([0])
    gp, gc = np.array([2, 1]), np.array([1, 1])
    dist = np.array([[0.0, -0.0]], dtype=np.float32)  # equal: the earlier index goes first
    res = evaluate_distmat(dist, qp, gp, qc, gc, max_rank=2)
    np.testing.assert_array_equal(res.cmc, [0.0, 1.0])


def test_queries_without_valid_match_are_skipped_like_torchreid():
    rng = np.random.default_rng(3)
    qp = np.array([0, 1, 2, 99, 3])  # 99: absent from the gallery
    qc = np.array([0, 1, 0, 0, 2])
    gp, gc = _ids(rng, 60, 4, 3)
    gp[gp == 3] = 2  # query 3 (pid 3) has no gallery match at all
    gp[:4], gc[:4] = 1, 1  # pid 1 seen only by camera 1 ... plus elsewhere
    dist = rng.random((5, 60)).astype(np.float32)
    protocol = RankingProtocol(q_pids=qp, g_pids=gp, q_camids=qc, g_camids=gc)
    expected_valid = sum(bool(np.any((gp == p) & (gc != c))) for p, c in zip(qp, qc))
    res = _assert_same_as_torchreid(dist, qp, gp, qc, gc)
    assert res.num_valid_queries == expected_valid == int(protocol.valid.sum()) < 5


def test_all_junk_gallery_raises_like_torchreid():
    qp, qc = np.array([1, 2]), np.array([0, 0])
    gp, gc = np.array([1, 2, 1]), np.array([0, 0, 0])  # every match shares the query camera
    dist = np.random.default_rng(0).random((2, 3)).astype(np.float32)
    with pytest.raises(AssertionError):
        torchreid_evaluate(dist, qp, gp, qc, gc)
    with pytest.raises(ValueError, match="No query has a valid match"):
        evaluate_distmat(dist, qp, gp, qc, gc)


def test_one_camera_only_has_no_valid_query():
    rng = np.random.default_rng(1)
    qp, gp = rng.integers(0, 3, 10), rng.integers(0, 3, 30)
    with pytest.raises(ValueError, match="No query has a valid match"):
        evaluate_distmat(rng.random((10, 30)), qp, gp, np.zeros(10, int), np.zeros(30, int))


def test_single_gallery_item_cuts_cmc_to_one_rank_like_torchreid():
    qp, qc = np.array([5, 5, 6]), np.array([0, 2, 0])
    gp, gc = np.array([5]), np.array([1])
    dist = np.array([[0.3], [0.1], [0.2]], dtype=np.float32)
    res = _assert_same_as_torchreid(dist, qp, gp, qc, gc, max_rank=50)
    assert res.cmc.shape == (1,) and res.num_valid_queries == 2 and res.mAP == 1.0


def test_many_chunks_and_row_blocks_give_the_same_result():
    rng = np.random.default_rng(7)
    qp, qc = _ids(rng, 50, 10, 4)
    gp, gc = _ids(rng, 500, 10, 4)
    dist = torch.from_numpy(rng.integers(0, 40, (50, 500)).astype(np.float32))
    whole = evaluate_distmat(dist, qp, gp, qc, gc)
    ranker = StreamingRanker(q_pids=qp, g_pids=gp, q_camids=qc, g_camids=gc)
    valid = ranker.valid_queries
    bounds = [0, 13, 14, 200, 371, 500]
    for rows in np.array_split(valid, 4):
        r = torch.from_numpy(rows)
        ranker.add_rows(rows, [(a, dist[r, a:b]) for a, b in itertools.pairwise(bounds)][::-1])
    chunked = ranker.result()
    np.testing.assert_array_equal(chunked.cmc, whole.cmc)
    assert chunked.mAP == whole.mAP and chunked.mINP == whole.mINP


def test_minp_matches_definition_on_sorted_ranking():
    rng = np.random.default_rng(11)
    qp, qc = _ids(rng, 30, 5, 3)
    gp, gc = _ids(rng, 200, 5, 3)
    dist = rng.random((30, 200))
    inps = []
    for i in range(30):
        order = np.argsort(dist[i], kind="stable")
        keep = ~((gp[order] == qp[i]) & (gc[order] == qc[i]))
        hits = (gp[order] == qp[i])[keep]
        if hits.any():
            inps.append(hits.sum() / (np.flatnonzero(hits)[-1] + 1))
    assert evaluate_distmat(dist, qp, gp, qc, gc).mINP == pytest.approx(np.mean(inps), abs=1e-12)


def test_blocks_and_chunks_split_to_fit_the_sort_key(monkeypatch):
    # rows and columns are packed into 64-bit sort keys; over-large blocks are split. Shrink
    # the limits so the split paths run (with ties crossing the column splits).
    monkeypatch.setattr(ranking_mod, "_MAX_ROWS", 3)
    monkeypatch.setattr(ranking_mod, "_MAX_COLS", 7)
    rng = np.random.default_rng(4)
    qp, qc = _ids(rng, 20, 4, 2)
    gp, gc = _ids(rng, 100, 4, 2)
    _assert_same_as_torchreid(rng.integers(0, 3, (20, 100)), qp, gp, qc, gc, rows_per_block=8)


def test_bad_inputs_raise_clear_errors():
    p = np.zeros(3, int)
    with pytest.raises(ValueError, match="shape"):
        evaluate_distmat(np.zeros((2, 3)), p, p, p, p)
    with pytest.raises(ValueError, match="query set is empty"):
        evaluate_distmat(np.zeros((0, 3)), p[:0], p, p[:0], p)
    with pytest.raises(ValueError, match="gallery set is empty"):
        evaluate_distmat(np.zeros((3, 0)), p, p[:0], p, p[:0])
    with pytest.raises(ValueError, match="NaN"):
        evaluate_distmat(np.full((3, 3), np.nan), p, p, p, p)


def test_cuhk03_expected_cmc_equals_enumeration_of_all_draws():
    qp, qc = np.array([1]), np.array([0])
    gp = np.array([2, 1, 3, 2, 1, 3, 3])
    gc = np.array([1, 1, 1, 1, 1, 1, 1])
    dist = np.array([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]])
    res = evaluate_distmat(dist, qp, gp, qc, gc, max_rank=3, use_metric_cuhk03=True)
    groups = [np.flatnonzero(gp == p) for p in (1, 2, 3)]
    cmc = np.zeros(3)
    draws = list(itertools.product(*groups))
    for pick in draws:
        ranked = np.sort(np.array(pick))  # indices already in distance order
        first = np.flatnonzero(gp[ranked] == 1)[0]
        cmc += np.arange(3) >= first
    np.testing.assert_allclose(res.cmc, cmc / len(draws), atol=1e-7)


def test_cuhk03_cmc_agrees_with_torchreid_sampling_estimate():
    rng = np.random.default_rng(5)
    qp, qc = _ids(rng, 300, 30, 2)
    gp, gc = _ids(rng, 400, 30, 2)
    dist = rng.random((300, 400))
    np.random.seed(0)
    ref_cmc, ref_map = torchreid_evaluate(dist, qp, gp, qc, gc, 10, cuhk03=True)
    res = evaluate_distmat(dist, qp, gp, qc, gc, max_rank=10, use_metric_cuhk03=True)
    assert abs(res.mAP - ref_map) < 1e-6  # AP does not depend on the draws
    # torchreid averages 10 random draws per query; over ~300 queries its CMC is within a few
    # standard errors (< 0.02) of the exact expectation
    np.testing.assert_allclose(res.cmc, ref_cmc, atol=0.02)
    assert np.abs(res.cmc - ref_cmc).mean() < 0.01


def test_ranker_takes_ids_by_keyword_in_torchreid_order():
    rng = np.random.default_rng(12)
    qp, qc = _ids(rng, 20, 5, 3)
    gp, gc = _ids(rng, 20, 5, 3)  # equal lengths: a positional swap would run, silently wrong
    dist = rng.random((20, 20)).astype(np.float32)
    with pytest.raises(TypeError):
        StreamingRanker(qp, gp, qc, gc)
    with pytest.raises(TypeError):
        RankingProtocol(qp, gp, qc, gc)
    ref = _assert_same_as_torchreid(dist, qp, gp, qc, gc, max_rank=5)  # positional
    feats = torch.zeros(20, 1)
    q, g = FeatureSet(feats, qp, qc), FeatureSet(feats, gp, gc)
    ranker = StreamingRanker.for_sets(q, g, max_rank=5)
    ranker.add_rows(ranker.valid_queries, [(0, torch.from_numpy(dist[ranker.valid_queries]))])
    res = ranker.result()
    np.testing.assert_array_equal(res.cmc, ref.cmc)
    assert res.mAP == ref.mAP and res.num_valid_queries == ref.num_valid_queries
