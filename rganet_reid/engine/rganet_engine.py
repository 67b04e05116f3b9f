"""RGANet's two-stage training recipe on the base engine (paper §IV-B).

Stage 1 — prompt learning: only the K context vectors train (Adam, ``rganet.stage1.lr``, for
``rganet.stage1.max_epoch`` epochs) under L_seg (Eq. 3); skipped for hand-crafted prompts,
for models without RGM, and when the training set has no part masks (``data.load_masks``).

Stage 2 — ReID training: the prototypes are cached and the text encoder dropped, the memory
bank is initialised with fixed-stripe features of the training set, then every step minimises
Eq. 8 with the run's optimiser and schedule (``train.*``) and updates the memory bank (Eq. 5).

Evaluation hands the global feature, the region features and their confidences w to the
region-weighted distance of Eq. 10.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

from rganet_reid.engine.base import ReIDEngine
from rganet_reid.engine.loop import run_epoch
from rganet_reid.engine.registry import ENGINES
from rganet_reid.losses import build_loss, build_stage1_loss

logger = logging.getLogger(__name__)


class RGANetEngine(ReIDEngine):
    """Engine of the RGANet models (:func:`rganet_reid.modeling.build_rganet`; ``loss.name``
    rganet, Eq. 8)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        num_classes = int(self.datamanager.num_train_pids)
        self.criterion = build_loss(self.cfg, num_classes).to(self.device)
        self.stage1_criterion = (
            build_stage1_loss(self.cfg).to(self.device) if self.cfg.rganet.regions == "rgm"
            else None
        )
        self.stage1_done = False
        self.stage1_history: list[dict[str, float]] = []
        self.memory_warned = False

    # ------------------------------------------------------------------ hooks
    def before_train(self) -> None:
        """Stage 1 (when it applies), then the switch to stage 2 and the memory bank init."""
        if self.stage1_applies():
            self.train_prompt()
        self.stage1_done = True
        self.model.set_stage(2)
        if self.model.memory is not None:
            self.model.init_memory_bank(
                self.train_loader, self.device, int(self.cfg.rganet.memory.init_batches),
                reduce=self.parallel.reduce)

    def after_open_layers(self) -> None:
        self.model.apply_trainability()  # open_all_layers unfroze the text side and BN shifts

    def forward_backward(self, data: dict) -> dict[str, float]:
        imgs, pids = self.parse_data_for_train(data)
        masks = self._masks(data) if self.criterion.needs_masks else None
        with self.autocast():
            outputs = self.forward_train(imgs)
        loss, terms = self.criterion(outputs, pids, masks)
        self.step(loss)
        updated = self.model.update_memory(outputs, self.parallel.reduce)  # Eq. 5, all ranks
        kept = (self.model.memory.passes(outputs["alpha"])
                if updated is not None and outputs.get("alpha") is not None else None)
        return {**terms, **confidence_stats(outputs, updated, kept)}

    def train_epoch(self, epoch: int) -> dict[str, float]:
        """The base epoch, plus a warning (once per run) the first time the memory bank
        (Eq. 5) never moved in an epoch."""
        means = super().train_epoch(epoch)
        if means.get("memory_update_rate") == 0.0 and not self.memory_warned:
            self.memory_warned = True
            logger.warning(
                "Epoch %d: no region feature had α above rganet.memory.alpha_threshold (%.2f; "
                "mean α %.3f), so the memory bank kept its centres (Eq. 5) and "
                "rganet.memory.momentum has no effect. Lower the threshold or train the DAI "
                "longer if the IAI should track the regions. Not repeated: the per-epoch "
                "memory_update_rate is in train_summary.json and TensorBoard.", epoch + 1,
                self.model.memory.alpha_threshold, means.get("alpha_mean", float("nan")))
        return means

    def extra_state(self) -> dict[str, Any]:
        return {"stage1_done": self.stage1_done, "stage1_history": list(self.stage1_history)}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.stage1_done = bool(state.get("stage1_done", False))
        self.stage1_history = list(state.get("stage1_history", []))
        if self.stage1_done:
            self.model.set_stage(2)

    # ------------------------------------------------------------------ stage 1
    def stage1_applies(self) -> bool:
        """Whether prompt learning runs; logs why not when it is skipped."""
        cfg = self.cfg
        if not self.model.prompt_parameters():
            return False  # no RGM, or hand-crafted prompts: nothing to learn
        if cfg.rganet.stage1.max_epoch <= 0:
            logger.warning("rganet.stage1.max_epoch is 0: the learnable prompt context keeps "
                           "its initial values.")
            return False
        if not cfg.data.load_masks:
            logger.warning(
                "Prompt learning (stage 1) skipped: the training set has no part masks "
                "(data.load_masks is False), so the learnable context keeps its initial values "
                "and the prototypes carry little meaning. Load masks (data.load_masks True, "
                "data.mask_root) or use rganet.prompt.mode template."
            )
            return False
        return True

    def build_stage1_optimizer(self) -> torch.optim.Optimizer:
        s1 = self.cfg.rganet.stage1
        params = self.model.prompt_parameters()
        if s1.optim == "adam":
            return torch.optim.Adam(params, lr=s1.lr, weight_decay=s1.weight_decay,
                                    betas=(self.cfg.adam.beta1, self.cfg.adam.beta2))
        if s1.optim == "sgd":
            return torch.optim.SGD(params, lr=s1.lr, weight_decay=s1.weight_decay,
                                   momentum=self.cfg.sgd.momentum)
        raise ValueError(f"rganet.stage1.optim must be adam or sgd, got {s1.optim!r}")

    def train_prompt(self) -> list[dict[str, float]]:
        """Stage 1: train the prompt context with L_seg; returns one record per epoch."""
        epochs = int(self.cfg.rganet.stage1.max_epoch)
        self.model.set_stage(1)
        self.set_model_mode("train")
        optimizer = self.build_stage1_optimizer()
        logger.info("Stage 1: learning %d prompt context vectors for %d epochs",
                    self.model.prompt.ctx.shape[0], epochs)
        start_rms = float(self.model.prompt.ctx.detach().float().pow(2).mean().sqrt())
        for epoch in range(epochs):
            try:
                stats = self.parallel.reduce_epoch(run_epoch(
                    self.train_loader, lambda data: self.prompt_step(data, optimizer),
                    f"prompt {epoch + 1}/{epochs}", self.out_of_time))
            except FloatingPointError as err:
                raise FloatingPointError(f"Prompt learning (stage 1), epoch {epoch + 1}: {err} "
                                         "(for this stage: rganet.stage1.lr)") from err
            check_prompt_context(self.model.prompt.ctx, start_rms, epoch + 1)
            record = stats.record(epoch + 1)
            self.stage1_history.append(record)
            logger.info("prompt epoch %d/%d  loss_seg %.4f  %.1f img/s", epoch + 1, epochs,
                        record.get("loss_seg", float("nan")), record["images_per_s"])
            if self.out_of_time():
                logger.info("Wall-time budget reached during prompt learning.")
                break
        return self.stage1_history

    def prompt_step(self, data: dict, optimizer: torch.optim.Optimizer) -> dict[str, float]:
        """One stage-1 step: L_seg (Eq. 3) on a batch, only the prompt context moves."""
        imgs, pids = self.parse_data_for_train(data)
        with self.autocast():
            outputs = self.forward_train(imgs)
        loss, terms = self.stage1_criterion(outputs, pids, self._masks(data))
        self.step(loss, optimizer)
        return terms

    def _masks(self, data: dict) -> torch.Tensor:
        if "mask" not in data:
            raise ValueError(
                "This step needs part masks but the batch has none: set data.load_masks True "
                "(and data.mask_root for datasets that ship no masks)."
            )
        return data["mask"].to(self.device, non_blocking=True)


ENGINES.register("rganet", RGANetEngine)

#: Growth of the prompt context's RMS over its initial value that counts as divergence.
PROMPT_DIVERGENCE_FACTOR = 1000.0


def check_prompt_context(ctx: torch.Tensor, start_rms: float, epoch: int) -> None:
    """:class:`FloatingPointError` when the learned context vectors are not finite or their RMS
    grew more than :data:`PROMPT_DIVERGENCE_FACTOR` times (a diverged stage 1 that would
    otherwise continue with meaningless prototypes)."""
    ctx = ctx.detach().float()
    rms = float(ctx.pow(2).mean().sqrt())
    if not torch.isfinite(ctx).all() or rms > PROMPT_DIVERGENCE_FACTOR * max(start_rms, 1e-3):
        raise FloatingPointError(
            f"Prompt learning (stage 1) diverged at epoch {epoch}: the context vectors' RMS is "
            f"{rms:.3g} (it started at {start_rms:.3g}); lower rganet.stage1.lr.")


def confidence_stats(outputs: dict, updated: torch.Tensor | None,
                     kept: torch.Tensor | None = None) -> dict[str, float]:
    """What the region assessment did in a step, logged with the losses: the mean DAI
    confidence α (Eq. 4); ``memory_update_rate``, the share of the N memory centres Eq. 5
    moved (a centre moves when at least one of the batch's features of its region has α above
    the threshold; over every process's batch under data parallelism); and
    ``memory_kept_share``, the share of this process's (image, region) features that entered
    Eq. 5's mean (``kept``, :meth:`MemoryBank.passes`), i.e. how much the threshold filters."""
    stats = {}
    alpha = outputs.get("alpha")
    if alpha is not None:
        stats["alpha_mean"] = float(alpha.detach().float().mean())
    if updated is not None:
        stats["memory_update_rate"] = float(updated.float().mean())
        if kept is not None:
            stats["memory_kept_share"] = float(kept.float().mean())
    return stats
