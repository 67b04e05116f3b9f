"""Engine for torchreid's built-in models: label-smoothed ID loss + hard-mined triplet loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from rganet_reid.compat import torchreid_losses
from rganet_reid.engine.base import ReIDEngine
from rganet_reid.engine.registry import ENGINES


def id_loss(logits: torch.Tensor | list | tuple, pids: torch.Tensor, smooth: float) -> torch.Tensor:
    """Cross-entropy with label smoothing; averaged over part classifiers (PCB) for a list."""
    if isinstance(logits, (list, tuple)):
        return sum(id_loss(x, pids, smooth) for x in logits) / len(logits)
    return F.cross_entropy(logits, pids, label_smoothing=smooth)


class SoftmaxTripletEngine(ReIDEngine):
    """torchreid's ``ImageSoftmaxEngine`` / ``ImageTripletEngine`` recipe on our loop.

    ``loss.name = softmax``: ID loss only (the model is built with ``loss='softmax'``).
    ``loss.name = triplet``: ``weight_x`` · ID + ``weight_t`` · triplet (``loss='triplet'``).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cfg = self.cfg
        self.use_triplet = cfg.loss.name == "triplet"
        self.smooth = 0.1 if cfg.loss.softmax.label_smooth else 0.0
        self.triplet = torchreid_losses.TripletLoss(margin=cfg.loss.triplet.margin)

    def forward_backward(self, data: dict) -> dict[str, float]:
        imgs, pids = self.parse_data_for_train(data)
        with self.autocast():
            outputs = self.model(imgs)
        if self.use_triplet:
            logits, feats = outputs
            loss_x = id_loss(_float(logits), pids, self.smooth)
            loss_t = self.triplet(feats.float(), pids)
            loss = self.cfg.loss.triplet.weight_x * loss_x + self.cfg.loss.triplet.weight_t * loss_t
            terms = {"loss_id": loss_x.item(), "loss_tri": loss_t.item()}
        else:
            loss = id_loss(_float(outputs), pids, self.smooth)
            terms = {"loss_id": loss.item()}
        self.step(loss)
        return terms


def _float(x):
    return [t.float() for t in x] if isinstance(x, (list, tuple)) else x.float()


ENGINES.register("softmax", SoftmaxTripletEngine)
ENGINES.register("triplet", SoftmaxTripletEngine)
