"""Inference throughput excludes warm-up; training throughput skips the first epoch."""

import time

import pytest
from torch import nn

from rganet_reid.benchmark.throughput import (
    count_parameters,
    measure_inference,
    training_throughput,
)


class SlowStart(nn.Module):
    """The first ``slow_calls`` forward passes sleep ``slow_s``; later ones ``fast_s``."""

    def __init__(self, slow_calls: int, slow_s: float = 0.15, fast_s: float = 0.01) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.calls = 0
        self.slow_calls, self.slow_s, self.fast_s = slow_calls, slow_s, fast_s

    def forward(self, x):
        self.calls += 1
        time.sleep(self.slow_s if self.calls <= self.slow_calls else self.fast_s)
        return self.fc(x.mean(dim=(2, 3)))


def test_measured_rate_reflects_only_the_calls_after_warm_up():
    model = SlowStart(slow_calls=3)
    res = measure_inference(model, batch_size=8, image_size=(4, 2), warmup=3, repeats=3)
    assert model.calls == 6  # 3 untimed warm-up + 3 timed
    assert len(res.times_s) == 3
    assert max(res.times_s) < 0.1  # none of the slow calls was timed
    # rate of the fast calls (8 images / ~0.01 s), far above the slow calls' 8 / 0.15 = 53/s
    assert res.images_per_s > 8 / 0.05
    assert res.images_per_s == pytest.approx(8 / res.median_batch_s)


def test_without_warm_up_the_slow_first_calls_are_what_is_measured():
    model = SlowStart(slow_calls=3)
    res = measure_inference(model, batch_size=8, image_size=(4, 2), warmup=0, repeats=3)
    assert min(res.times_s) >= 0.15
    assert res.images_per_s < 8 / 0.15 * 1.01


def test_measurement_restores_training_mode_and_reports_its_setting():
    model = SlowStart(slow_calls=0, fast_s=0.0).train()
    res = measure_inference(model, batch_size=2, image_size=(4, 2), warmup=1, repeats=2)
    assert model.training
    assert (res.batch_size, res.warmup, res.repeats, res.device) == (2, 1, 2, "cpu")


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="repeats"):
        measure_inference(SlowStart(0), batch_size=2, image_size=(4, 2), repeats=0)


def test_training_throughput_is_the_median_of_epochs_after_the_first():
    epochs = [{"images_per_s": 5.0}, {"images_per_s": 40.0}, {"images_per_s": 50.0},
              {"images_per_s": 60.0}]
    assert training_throughput(epochs) == 50.0
    assert training_throughput([{"images_per_s": 7.0}]) == 7.0
    assert training_throughput([]) is None


def test_count_parameters_counts_frozen_parameters_too():
    model = nn.Linear(4, 3)
    model.bias.requires_grad_(False)
    assert count_parameters(model) == 15
    assert count_parameters(nn.Sequential(model, nn.ReLU())) == 15
