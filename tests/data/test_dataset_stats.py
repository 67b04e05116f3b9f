"""Published counts and the comparison with a loaded dataset."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from rganet_reid.data import dataset_stats
from rganet_reid.data.dataset_stats import (
    PUBLISHED,
    comparison_rows,
    comparison_table,
    log_published_comparison,
    mismatches,
)

FULL_MARKET = [("train", 751, 12936, 6), ("query", 750, 3368, 6), ("gallery", 751, 15913, 6)]


def test_published_counts_of_every_benchmark_are_recorded():
    assert set(PUBLISHED) == {"occluded_duke", "occluded_reid", "partial_reid",
                              "partial_ilids", "market1501", "msmt17"}
    assert PUBLISHED["occluded_duke"].splits["train"].images == 15_618
    assert PUBLISHED["partial_ilids"].splits["query"].ids == 119
    assert "train" not in PUBLISHED["occluded_reid"].splits  # test-only
    assert PUBLISHED["partial_reid"].metrics == ("Rank-1", "Rank-3")
    assert PUBLISHED["occluded_reid"].train_on == "market1501"


def test_matching_counts_give_no_mismatch_and_ok_rows():
    assert mismatches("market1501", FULL_MARKET) == []
    assert {row[-1] for row in comparison_rows("market1501", FULL_MARKET)} == {"ok"}


def test_a_differing_split_is_reported_with_both_counts():
    rows = [("train", 751, 12936, 6), ("query", 750, 3000, 6), ("gallery", 751, 15913, 6)]
    assert mismatches("market1501", rows) == [
        "Market-1501 query: loaded 750 ids / 3000 images, published 750 ids / 3368 images"]
    assert "MISMATCH" in comparison_table("market1501", rows)


def test_empty_train_of_a_test_only_set_matches_and_skipped_splits_are_not_compared():
    rows = [("train", 0, 0, 0), ("query", 119, 119, 1), ("gallery", 119, 10, 1)]
    assert [r[-1] for r in comparison_rows("partial_ilids", rows)] == ["ok", "ok", "MISMATCH"]
    assert comparison_rows("partial_ilids", rows, skip=("gallery",))[2][-1] == "not compared"


def test_msmt17_val_list_is_compared_against_its_own_count():
    assert comparison_rows("msmt17", [("val", 1041, 2373, 15)])[0][-1] == "ok"


def test_log_published_comparison_skips_train_under_combineall(tmp_path, caplog):
    ds = SimpleNamespace(published_key="market1501", combineall=True, dataset_dir=str(tmp_path),
                         statistics=lambda: [("train", 1, 2, 1), *FULL_MARKET[1:]])
    with caplog.at_level(logging.WARNING):
        assert log_published_comparison(ds) == []
    assert not caplog.records


def test_log_published_comparison_warns_once_per_dataset_folder(tmp_path, caplog):
    ds = SimpleNamespace(published_key="market1501", combineall=False,
                         dataset_dir=str(tmp_path),
                         statistics=lambda: [("train", 1, 2, 1), *FULL_MARKET[1:]])
    with caplog.at_level(logging.WARNING):
        assert len(log_published_comparison(ds)) == 1
        assert len(log_published_comparison(ds)) == 1  # same mismatch, no second warning
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "Market-1501 train: loaded 1 ids / 2 images, published 751 ids" in warnings[0]
    assert str(tmp_path) in warnings[0]


def test_unknown_key_names_the_known_ones():
    with pytest.raises(KeyError, match="market1501"):
        dataset_stats.published("cuhk03")
