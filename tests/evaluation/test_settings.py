"""RetrievalSettings: config keys -> evaluation choices, and evaluate_retrieval's two APIs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from retrieval_helpers import random_featureset

from rganet_reid.config import merge_opts
from rganet_reid.config.defaults import get_default_config
from rganet_reid.evaluation import RetrievalSettings, evaluate_retrieval
from rganet_reid.evaluation import rerank as rerank_mod
from rganet_reid.evaluation.index import index_options_from_config

# the field a config does not set: the dataset's protocol decides max_rank
NOT_FROM_CONFIG = {"max_rank"}


def _non_default_config():
    cfg = get_default_config()
    merge_opts(cfg, "device cpu test.dist_metric euclidean test.rerank True "
               "cuhk03.use_metric_cuhk03 True retrieval.memory_budget_mb 77 "
               "retrieval.dtype bfloat16 retrieval.rerank_k1 11 retrieval.rerank_k2 4 "
               "retrieval.rerank_lambda 0.45 retrieval.rerank_neighbours index "
               "retrieval.index.nprobe 7 retrieval.index.candidates 33".split())
    return cfg


def test_from_config_reads_every_key_into_its_own_field():
    settings = RetrievalSettings.from_config(_non_default_config())
    assert settings == RetrievalSettings(
        metric="euclidean",
        use_metric_cuhk03=True,
        device="cpu",
        memory_budget_mb=77,
        dtype=torch.bfloat16,
        rerank=True,
        rerank_k1=11,
        rerank_k2=4,
        rerank_lambda=0.45,
        rerank_neighbours="index",
        rerank_index_options=index_options_from_config(_non_default_config()),
    )
    assert settings.rerank_index_options["nprobe"] == 7
    assert settings.rerank_index_options["candidates"] == 33
    default = RetrievalSettings()
    changed = {
        f.name
        for f in dataclasses.fields(RetrievalSettings)
        if getattr(settings, f.name) != getattr(default, f.name)
    }
    assert changed == {f.name for f in dataclasses.fields(RetrievalSettings)} - NOT_FROM_CONFIG
    # the default config asks for the default settings (but "auto" device)
    assert RetrievalSettings.from_config(get_default_config()) == default.replace(
        device="auto", rerank_index_options=index_options_from_config(get_default_config()))


def test_from_config_overrides_win_and_dtype_names_become_dtypes():
    settings = RetrievalSettings.from_config(
        _non_default_config(), device=torch.device("cpu"), max_rank=7, rerank=False
    )
    assert settings.device == torch.device("cpu") and settings.max_rank == 7
    assert settings.rerank is False and settings.dtype is torch.bfloat16
    with pytest.raises(ValueError, match="Unknown dtype 'int8'"):
        RetrievalSettings(dtype="int8")
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.max_rank = 3


def test_settings_object_and_keywords_give_the_same_evaluation():
    rng = np.random.default_rng(0)
    q = random_featureset(rng, 30, 10, 3, dim=16, id_noise=1.0)
    g = random_featureset(rng, 150, 10, 3, dim=16, id_noise=1.0)
    kw = dict(max_rank=7, device="cpu", rerank=True, rerank_k1=6, rerank_k2=3)
    by_keywords = evaluate_retrieval(q, g, **kw)
    by_settings = evaluate_retrieval(q, g, RetrievalSettings(**kw))
    # keywords given with a settings object override its fields
    mixed = evaluate_retrieval(q, g, RetrievalSettings(max_rank=3, device="cpu"), **kw)
    for res in (by_settings, mixed):
        np.testing.assert_array_equal(res.cmc, by_keywords.cmc)
        assert res.mAP == by_keywords.mAP and res.mINP == by_keywords.mINP
    assert len(by_keywords.cmc) == 7
    assert by_keywords.mAP != evaluate_retrieval(q, g, device="cpu").mAP  # re-ranking ran
    with pytest.raises(TypeError, match="rerank_k3"):
        evaluate_retrieval(q, g, rerank_k3=2)
    with pytest.raises(TypeError, match="rerank_k3"):
        evaluate_retrieval(q, g, RetrievalSettings(), rerank_k3=2)


def test_index_options_reach_the_rerank_index(monkeypatch):
    seen = {}
    build = rerank_mod.GalleryIndex.build.__func__

    def recording_build(cls, points, **options):
        seen.update(options)
        return build(cls, points, **options)

    monkeypatch.setattr(rerank_mod.GalleryIndex, "build", classmethod(recording_build))
    rng = np.random.default_rng(1)
    q = random_featureset(rng, 20, 8, 3, dim=16, id_noise=1.0)
    g = random_featureset(rng, 100, 8, 3, dim=16, id_noise=1.0)
    opts = {"index_type": "flat", "region_dtype": "float32", "candidates": 500}
    evaluate_retrieval(
        q, g, device="cpu", rerank=True, rerank_neighbours="index", rerank_index_options=opts
    )
    assert seen["index_type"] == "flat" and seen["region_dtype"] == "float32"
    assert "candidates" not in seen  # a search option, not a build option
