"""The shared epoch loop: every step runs once per batch, terms are averaged, a budget stops it."""

import pytest
import torch

from rganet_reid.engine.loop import run_epoch

BATCHES = [{"pid": torch.zeros(n)} for n in (4, 4, 2)]


def test_every_batch_is_stepped_and_its_terms_averaged():
    seen = []

    def step(data):
        seen.append(len(data["pid"]))
        return {"loss": float(len(seen)), "acc": 0.5}

    stats = run_epoch(BATCHES, step, "test")
    assert seen == [4, 4, 2]
    assert stats.means == pytest.approx({"loss": 2.0, "acc": 0.5})
    assert stats.num_images == 10 and stats.time_s >= 0
    assert stats.images_per_s == pytest.approx(10 / max(stats.time_s, 1e-9))


def test_stop_ends_the_pass_after_the_current_batch():
    seen = []
    stats = run_epoch(BATCHES, lambda d: seen.append(1) or {"loss": 1.0}, "test",
                      stop=lambda: len(seen) == 2)
    assert len(seen) == 2 and stats.num_images == 8


def test_record_puts_epoch_and_extras_before_time_and_means():
    stats = run_epoch(BATCHES[:1], lambda d: {"loss_id": 3.0}, "test")
    record = stats.record(5, lr=0.1)
    assert list(record) == ["epoch", "lr", "time_s", "images_per_s", "loss_id"]
    assert record["epoch"] == 5 and record["lr"] == 0.1 and record["loss_id"] == 3.0
