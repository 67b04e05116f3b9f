"""The engine of torchreid's models: loss.name chooses the losses (from rganet_reid.losses)."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from rganet_reid.compat import torchreid_losses
from rganet_reid.config.defaults import get_default_config
from rganet_reid.engine.softmax_triplet import SoftmaxTripletEngine

B, C, D = 8, 4, 6
PIDS = torch.arange(B) % C


class TinyReID(nn.Module):
    """torchreid's output contract: logits (softmax), (logits, feats) (triplet), or a list of
    part logits (PCB, softmax only) in train mode."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode
        self.body = nn.Linear(12, D)
        self.classifier = nn.Linear(D, C)
        self.parts = nn.ModuleList([nn.Linear(D, C) for _ in range(3)])
        self.seen: dict = {}

    def forward(self, x):
        feats = self.body(x.flatten(1))
        if self.mode == "parts":
            out = [p(feats) for p in self.parts]
        else:
            out = self.classifier(feats)
            if self.mode == "triplet":
                out = (out, feats)
        self.seen = {"out": out}
        return out


class OneBatch:
    num_train_pids = C
    test_splits: dict = {}

    def __init__(self):
        torch.manual_seed(0)
        self.train_loader = [{"img": torch.randn(B, 3, 2, 2), "pid": PIDS}]
        self.test_loader = {}


def _engine(tmp_path, loss, mode, weight_x=1.0, weight_t=1.0):
    cfg = get_default_config()
    cfg.loss.name = loss
    cfg.loss.triplet.weight_x, cfg.loss.triplet.weight_t = weight_x, weight_t
    cfg.data.save_dir = str(tmp_path)
    torch.manual_seed(1)
    model = TinyReID(mode)
    return SoftmaxTripletEngine(cfg, OneBatch(), model, torch.optim.SGD(model.parameters(), 0.1))


def _detached(out):
    if isinstance(out, (list, tuple)):
        return type(out)(t.detach() for t in out)
    return out.detach()


def test_triplet_is_weighted_label_smoothed_id_plus_hard_triplet(tmp_path):
    engine = _engine(tmp_path, "triplet", "triplet", weight_x=0.7, weight_t=2.0)
    start = {k: v.clone() for k, v in engine.model.state_dict().items()}
    terms = engine.forward_backward(engine.train_loader[0])
    logits, feats = _detached(engine.model.seen["out"])
    expected_id = F.cross_entropy(logits, PIDS, label_smoothing=0.1)
    expected_tri = torchreid_losses.TripletLoss(margin=0.3)(feats, PIDS)
    assert terms == pytest.approx({"loss_id": float(expected_id), "loss_tri": float(expected_tri)})
    # the step used 0.7·ID + 2·triplet: recompute its gradient on the weights it started from
    model = TinyReID("triplet")
    model.load_state_dict(start)
    logits, feats = model(engine.train_loader[0]["img"])
    (0.7 * F.cross_entropy(logits, PIDS, label_smoothing=0.1)
     + 2.0 * torchreid_losses.TripletLoss(margin=0.3)(feats, PIDS)).backward()
    expected = start["body.weight"] - 0.1 * model.body.weight.grad
    assert torch.allclose(engine.model.body.weight, expected, atol=1e-6)


def test_softmax_is_id_loss_only_and_averages_part_classifiers(tmp_path):
    single = _engine(tmp_path / "s", "softmax", "single")
    terms = single.forward_backward(single.train_loader[0])
    expected = F.cross_entropy(_detached(single.model.seen["out"]), PIDS, label_smoothing=0.1)
    assert terms == pytest.approx({"loss_id": float(expected)})

    parts = _engine(tmp_path / "p", "softmax", "parts")
    terms = parts.forward_backward(parts.train_loader[0])
    logits = _detached(parts.model.seen["out"])
    expected = sum(F.cross_entropy(x, PIDS, label_smoothing=0.1) for x in logits) / 3
    assert terms == pytest.approx({"loss_id": float(expected)})


def test_label_smoothing_off_is_plain_cross_entropy(tmp_path):
    engine = _engine(tmp_path, "softmax", "single")
    engine.cfg.defrost()
    engine.cfg.loss.softmax.label_smooth = False
    engine = SoftmaxTripletEngine(engine.cfg, OneBatch(), engine.model, engine.optimizer)
    terms = engine.forward_backward(engine.train_loader[0])
    expected = F.cross_entropy(_detached(engine.model.seen["out"]), PIDS)
    assert terms == pytest.approx({"loss_id": float(expected)})
