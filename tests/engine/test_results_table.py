"""The results table counts the queries that were evaluated, as results.json does."""

from rganet_reid.engine.base import results_table


def metrics(valid, total, gallery=24):
    return {"rank1": 50.0, "mAP": 40.0, "mINP": 30.0, "num_query": total,
            "num_gallery": gallery, "num_valid_queries": valid}


def test_queries_without_a_valid_match_are_not_counted_and_are_named():
    table = results_table({"a": metrics(8, 9), "b": metrics(9, 9)})
    assert "8/24 (1 of 9 queries skipped: no valid match)" in table
    assert "| 9/24 " in table and "9/24 (" not in table
