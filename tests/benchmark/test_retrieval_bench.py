"""The retrieval benchmark (``tools/bench_retrieval.py``): synthetic features and both runs."""

from __future__ import annotations

import re

import torch

from rganet_reid.benchmark.retrieval import run_evaluation_bench
from rganet_reid.benchmark.synthetic_features import Preset, synthetic_split
from rganet_reid.cli.bench_retrieval import main

TINY = Preset(num_query=40, num_gallery=300, num_ids=30, num_cams=4, dim=16, regions=2)


def test_synthetic_split_has_the_preset_structure():
    q, g = synthetic_split(TINY, seed=3)
    assert (len(q), len(g)) == (40, 300)
    assert q.global_feats.shape == (40, 16) and g.region_feats.shape == (300, 2, 16)
    assert set(g.pids.tolist()) == set(range(30))  # every identity is in the gallery
    assert set(q.pids.tolist()) <= set(range(30)) and set(g.camids.tolist()) <= set(range(4))
    torch.testing.assert_close(g.region_weights.sum(1), torch.ones(300))
    again, _ = synthetic_split(TINY, seed=3)
    assert torch.equal(again.global_feats, q.global_feats)  # seeded


def test_evaluation_bench_agrees_with_torchreid(capsys):
    run_evaluation_bench("tiny", TINY, seed=0, memory_budget_mb=16, torchreid_queries=20)
    out = capsys.readouterr().out
    assert out.startswith("== tiny: 40 queries x 300 gallery, 16-d, 2 regions, 4 cameras")
    assert out.count("CMC identical True") == 2, out
    assert all(float(d) < 1e-9 for d in re.findall(r"\|dmAP\| (\S+)", out))
    rank1 = float(re.search(r"Rank-1 (\d\.\d+)", out).group(1))
    assert 0.5 < rank1 <= 1.0  # the synthetic split is rankable, not random


def test_command_line_forwards_the_index_options(capsys):
    threads = torch.get_num_threads()
    try:
        assert main(["--index", "600", "--index-queries", "30", "--index-dim", "16",
                     "--train-size", "600", "--threads", "1", "retrieval.index.nlist", "4",
                     "retrieval.index.nprobe", "8", "retrieval.index.candidates", "600"]) == 0
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert out.startswith("== index: 600 gallery vectors (16-d + 4 regions), 30 queries, {")
    assert "build (IVF4,Flat, global vectors)" in out and "600 candidates re-scored" in out
    recall = float(re.search(r"recall@10 of the index vs exact Eq. 10 ranking: (\S+)", out)[1])
    assert recall == 1.0  # every list probed, every item re-scored: the exact top-10
