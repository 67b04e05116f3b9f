"""The captioned pre-training corpus: deterministic, cached, disjoint from the benchmark."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_synthocc_generation import _hash_tree  # tests/data is on sys.path

from rganet_reid.data.synthocc import SIZES, build_plan, load_manifest, mask_file
from rganet_reid.data.synthocc import corpus as corpus_mod
from rganet_reid.data.synthocc.captions import VISIBLE
from rganet_reid.data.synthocc.corpus import (
    CORPUS_SIZES,
    corpus_identities,
    corpus_records,
    ensure_corpus,
)


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory) -> Path:
    return ensure_corpus(tmp_path_factory.mktemp("corpus"), "tiny", 0)


def test_same_seed_gives_the_same_bytes_and_captions(tiny_corpus, tmp_path):
    again = ensure_corpus(tmp_path, "tiny", 0)
    assert again != tiny_corpus
    assert _hash_tree(again) == _hash_tree(tiny_corpus)
    other = ensure_corpus(tmp_path, "tiny", 1)
    assert _hash_tree(other) != _hash_tree(tiny_corpus)


def test_layout_counts_masks_and_captions(tiny_corpus):
    size = CORPUS_SIZES["tiny"]
    manifest = load_manifest(tiny_corpus)
    assert manifest["counts"] == {"train": size.num_ids * size.images_per_id,
                                  "heldout": size.heldout_ids}
    for split in ("train", "heldout"):
        for rel, rec in corpus_records(tiny_corpus, split):
            assert (tiny_corpus / rel).is_file() and mask_file(tiny_corpus, rel).is_file()
            assert rec["caption"].startswith("a person") and rec["caption"].endswith(".")
    train_ids = {rec["id"] for _, rec in corpus_records(tiny_corpus, "train")}
    held_ids = {rec["id"] for _, rec in corpus_records(tiny_corpus, "heldout")}
    assert len(train_ids) == size.num_ids and not train_ids & held_ids


def test_captions_follow_each_image_s_visibility(tiny_corpus):
    """The feet (shoe words) are said exactly when the feet are visible enough."""
    who = corpus_identities("tiny", 0)
    everyone = who["train"] + who["heldout"]
    seen_hidden = seen_visible = 0
    for split in ("train", "heldout"):
        for _, rec in corpus_records(tiny_corpus, split):
            shoes = f"{everyone[rec['id']].shoe_name} shoes"
            visible = rec["visibility"][3] >= VISIBLE
            assert (shoes in rec["caption"]) == visible, rec
            seen_hidden += not visible
            seen_visible += visible
    assert seen_hidden and seen_visible  # the tiny corpus has both cases


def test_reused_while_current_regenerated_when_the_generator_changes(tiny_corpus, monkeypatch):
    manifest = tiny_corpus / "manifest.json"
    stamp = manifest.stat().st_mtime_ns
    assert ensure_corpus(tiny_corpus.parents[1], "tiny", 0) == tiny_corpus
    assert manifest.stat().st_mtime_ns == stamp
    monkeypatch.setattr(corpus_mod, "CORPUS_VERSION", corpus_mod.CORPUS_VERSION + 1)
    assert ensure_corpus(tiny_corpus.parents[1], "tiny", 0) == tiny_corpus
    assert manifest.stat().st_mtime_ns != stamp
    assert load_manifest(tiny_corpus)["version"][0] == corpus_mod.CORPUS_VERSION


def test_no_corpus_identity_is_a_benchmark_identity(seed: int = 0):
    """Corpus identities come from their own RNG stream: none equals an identity of any
    benchmark split (train, test or distractor) of any preset size at the configs' seed."""
    corpus = corpus_identities("default", seed)
    ours = corpus["train"] + corpus["heldout"]
    assert len(set(ours)) == len(ours)
    for size in SIZES:
        plan = build_plan(size, seed)
        theirs = set(plan.identities.values())
        assert len(theirs) == len(plan.train_pids) + len(plan.test_pids) + len(
            plan.distractor_pids)
        assert not theirs & set(ours), size
