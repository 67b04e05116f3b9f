"""Checkpoints: atomic writes, weights_only loading, architecture errors."""

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


class TwoHeadNet(Net):
    """A model with a second identity-sized tensor that is not called ``classifier``."""

    def __init__(self, classes: int = 3):
        super().__init__(4, classes)
        self.part_logits = nn.Parameter(torch.zeros(2, classes, 4))


def test_a_model_names_its_own_identity_sized_tensors(tmp_path):
    ck.save_checkpoint(tmp_path / "w.pth", {"model": TwoHeadNet(classes=10).state_dict()})
    with pytest.raises(ck.CheckpointError, match="part_logits"):  # not a "classifier" key
        ck.load_model_weights(TwoHeadNet(classes=3), tmp_path / "w.pth")
    dst = TwoHeadNet(classes=3)
    dst.classifier_keys = ("classifier", "part_logits")
    ck.load_model_weights(dst, tmp_path / "w.pth")  # the hook lets them differ


def test_rganet_tolerates_its_global_and_region_classifiers(tmp_path):
    from rganet_reid.config.defaults import get_default_config
    from rganet_reid.modeling import build_rganet

    cfg = get_default_config()
    cfg.model.name, cfg.rganet.regions = "rganet_tiny", "stripes"
    cfg.data.height, cfg.data.width = 64, 32
    src = build_rganet(cfg, 10)
    ck.save_checkpoint(tmp_path / "w.pth", {"model": src.state_dict()})
    dst = build_rganet(cfg, 3)
    ck.load_model_weights(dst, tmp_path / "w.pth")
    assert torch.equal(dst.dai.fc.weight, src.dai.fc.weight)
