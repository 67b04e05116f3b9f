"""Engine for torchreid's built-in models: label-smoothed ID loss [+ hard-mined triplet loss].

torchreid's ``ImageSoftmaxEngine`` / ``ImageTripletEngine`` recipe on this package's loop, with
the losses of :mod:`rganet_reid.losses` (``id``, ``triplet``).
"""

from __future__ import annotations

from rganet_reid.engine.base import ReIDEngine
from rganet_reid.engine.registry import ENGINES
from rganet_reid.losses import build_loss


class SoftmaxTripletEngine(ReIDEngine):
    """Trains torchreid's models; ``loss.name`` chooses the losses.

    ``loss.name = softmax``: ID loss only (the model is built with ``loss='softmax'``).
    ``loss.name = triplet``: ``weight_x`` · ID + ``weight_t`` · triplet (``loss='triplet'``:
    the model returns logits and features).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cfg = self.cfg
        num_classes = int(self.datamanager.num_train_pids)
        self.id_loss = build_loss(cfg, num_classes, "id")
        self.triplet = build_loss(cfg, num_classes, "triplet") if cfg.loss.name == "triplet" \
            else None

    def forward_backward(self, data: dict) -> dict[str, float]:
        imgs, pids = self.parse_data_for_train(data)
        with self.autocast():
            outputs = self.model(imgs)
        if self.triplet is not None:
            logits, feats = outputs
            loss_x = self.id_loss(logits, pids)
            loss_t = self.triplet(feats, pids)
            loss = self.cfg.loss.triplet.weight_x * loss_x + self.cfg.loss.triplet.weight_t * loss_t
            terms = {"loss_id": loss_x.item(), "loss_tri": loss_t.item()}
        else:
            loss = self.id_loss(outputs, pids)
            terms = {"loss_id": loss.item()}
        self.step(loss)
        return terms


ENGINES.register("softmax_triplet", SoftmaxTripletEngine)
