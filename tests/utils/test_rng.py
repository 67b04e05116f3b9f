"""Saving and restoring every RNG stream (checkpoints, side work inside a run)."""

import random

import numpy as np
import pytest
import torch

from rganet_reid.engine.checkpoint import load_checkpoint, save_checkpoint
from rganet_reid.utils.rng import preserved_rng_state, rng_state, set_rng_state


def _draws():
    return random.random(), np.random.rand(), torch.rand(1).item()


def test_rng_state_round_trip_reproduces_python_numpy_and_torch_draws(tmp_path):
    save_checkpoint(tmp_path / "r.pth", {"rng": rng_state()})  # survives weights_only loading
    expected = _draws()
    random.random(), np.random.rand(), torch.rand(3)  # move all states on
    set_rng_state(load_checkpoint(tmp_path / "r.pth")["rng"])
    assert _draws() == expected


def test_preserved_rng_state_puts_every_stream_back_even_on_error():
    state = rng_state()
    expected = _draws()
    set_rng_state(state)
    with pytest.raises(RuntimeError), preserved_rng_state():
        _draws(), torch.randn(100)
        raise RuntimeError("side work failed")
    assert _draws() == expected
