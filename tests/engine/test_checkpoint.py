"""Checkpoints: atomic writes, weights_only loading, RNG round trip, architecture errors."""

import random

import numpy as np
import pytest
import torch
from torch import nn

from rganet_reid.engine import checkpoint as ck


def test_save_is_atomic_and_a_failed_save_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt" / "last.pth"
    ck.save_checkpoint(path, {"epoch": 1, "model": {"w": torch.ones(2)}})

    def exploding_save(obj, fh):
        fh.write(b"partial bytes")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", exploding_save)
    with pytest.raises(OSError, match="disk full"):
        ck.save_checkpoint(path, {"epoch": 2})
    monkeypatch.undo()
    assert ck.load_checkpoint(path)["epoch"] == 1
    assert [p.name for p in path.parent.iterdir()] == ["last.pth"]


def test_rng_state_round_trip_reproduces_python_numpy_and_torch_draws(tmp_path):
    ck.save_checkpoint(tmp_path / "r.pth", {"rng": ck.rng_state()})
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    random.random(), np.random.rand(), torch.rand(3)  # move all states on
    ck.set_rng_state(ck.load_checkpoint(tmp_path / "r.pth")["rng"])
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected


class Evil:
    """An arbitrary Python object: unpickling it would run code of the file's choosing."""


def test_checkpoint_with_pickled_objects_is_refused(tmp_path):
    torch.save({"x": Evil()}, tmp_path / "evil.pth")
    with pytest.raises(ck.CheckpointError, match="weights_only"):
        ck.load_checkpoint(tmp_path / "evil.pth")


def test_missing_and_corrupt_checkpoints_are_clear_errors(tmp_path):
    with pytest.raises(ck.CheckpointError, match="not found"):
        ck.load_checkpoint(tmp_path / "nope.pth")
    (tmp_path / "bad.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ck.CheckpointError, match="corrupt"):
        ck.load_checkpoint(tmp_path / "bad.pth")


class Net(nn.Module):
    def __init__(self, width: int = 4, classes: int = 3):
        super().__init__()
        self.backbone = nn.Linear(2, width)
        self.classifier = nn.Linear(width, classes)


def test_weights_from_another_architecture_are_rejected_with_names(tmp_path):
    ck.save_checkpoint(tmp_path / "w.pth", {"model_name": "wide", "model": Net(8).state_dict()})
    with pytest.raises(ck.CheckpointError) as err:
        ck.load_model_weights(Net(4), tmp_path / "w.pth")
    assert "'wide'" in str(err.value) and "backbone.weight" in str(err.value)


def test_classifier_size_may_differ_when_loading_weights(tmp_path):
    src = Net(4, classes=10)
    ck.save_checkpoint(tmp_path / "w.pth", {"model": src.state_dict()})
    dst = Net(4, classes=3)
    ck.load_model_weights(dst, tmp_path / "w.pth")
    assert torch.equal(dst.backbone.weight, src.backbone.weight)


def test_torchreid_style_checkpoint_with_module_prefix_loads(tmp_path):
    src = Net()
    sd = {f"module.{k}": v for k, v in src.state_dict().items()}
    torch.save({"state_dict": sd, "epoch": 3}, tmp_path / "tr.pth")
    dst = Net()
    ck.load_model_weights(dst, tmp_path / "tr.pth")
    assert torch.equal(dst.backbone.bias, src.backbone.bias)
