"""The template-method training/evaluation engine every rganet-reid engine derives from.

``ReIDEngine`` subclasses torchreid's ``Engine`` (so it is one of torchreid's engines and keeps
``register_model`` / ``get_model_names`` / ``update_lr`` …) and owns the loop:

``run()`` → [``resume``] → ``before_train()`` → per epoch ``train_epoch()`` (the pass itself:
:func:`rganet_reid.engine.loop.run_epoch`) → per batch ``train_step`` → ``forward_backward(data)``
→ checkpoint / evaluate → final ``test()``.

Subclasses override only the hooks: ``forward_backward`` (required), ``parse_data_for_train``,
``extract_features``, ``before_train``, ``extra_state`` / ``load_extra_state``.
What differs from torchreid's loop: one ``device`` instead of ``use_gpu`` flags, ``logging``
instead of ``print``, tqdm progress, atomic checkpoints with RNG states for exact resume,
optional autocast, a wall-time budget, and evaluation through
:func:`rganet_reid.evaluation.evaluate_retrieval` (streaming, region-aware).
"""

from __future__ import annotations

import abc
import contextlib
import functools
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tabulate import tabulate
from torch import nn
from tqdm import tqdm
from yacs.config import CfgNode

from rganet_reid.compat import torchreid_engine, torchreid_root
from rganet_reid.data.same_images import same_images
from rganet_reid.engine.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from rganet_reid.engine.distributed import DataParallel
from rganet_reid.engine.features import (
    AMP_DTYPES,
    FEATURE_KEYS,
    amp_autocast,
    eval_features,
    finish_features,
)
from rganet_reid.engine.loop import run_epoch
from rganet_reid.engine.resume_policy import check_resume_config
from rganet_reid.evaluation import (
    FeatureSet,
    RetrievalResult,
    RetrievalSettings,
    evaluate_retrieval,
)
from rganet_reid.evaluation.region_report import region_report
from rganet_reid.utils.distributed import is_main_process
from rganet_reid.utils.io import write_json_atomic
from rganet_reid.utils.rng import rng_state, set_rng_state

logger = logging.getLogger(__name__)

_AMP_DTYPES = AMP_DTYPES


class ReIDEngine(torchreid_engine.Engine, abc.ABC):
    """Base engine. See the module docstring for the template and its hooks."""

    def __init__(
        self,
        cfg: CfgNode,
        datamanager,
        model: nn.Module,
        optimizer: torch.optim.Optimizer | None,
        scheduler: Any = None,
        device: torch.device | None = None,
    ) -> None:
        device = device or torch.device("cpu")
        super().__init__(datamanager, use_gpu=device.type == "cuda")
        self.cfg = cfg
        self.device = device
        self.model = model.to(device)
        self.parallel = DataParallel(self.model, device, cfg)  # torchrun; no-op for 1 process
        self.parallel.check_same_data(datamanager)
        # called as sink(name, query, gallery_part, gallery_start, num_gallery) after each
        # target's extraction (rganet-eval-sharded --save-features); None: features not kept
        self.feature_sink: Any = None
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.register_model("model", self.model, optimizer, scheduler)
        self.save_dir = Path(cfg.data.save_dir)
        self.start_epoch = 0
        self.global_step = 0
        if cfg.train.amp not in ("none", *_AMP_DTYPES):
            raise ValueError(f"train.amp must be none, bf16 or fp16, got {cfg.train.amp!r}")
        self.amp_dtype = _AMP_DTYPES.get(cfg.train.amp)
        self.scaler = torch.amp.GradScaler(device.type, enabled=cfg.train.amp == "fp16")
        self._deadline: float | None = None
        self.history: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ hooks
    @abc.abstractmethod
    def forward_backward(self, data: dict) -> dict[str, float]:
        """One optimisation step on a batch; returns the loss terms as floats."""

    def parse_data_for_train(self, data: dict) -> tuple[torch.Tensor, torch.Tensor]:
        return data["img"].to(self.device, non_blocking=True), data["pid"].to(self.device)

    def before_train(self) -> None:
        """Called once before the first training epoch (not on resume past it)."""

    def extra_state(self) -> dict[str, Any]:
        """Engine state beyond model/optimizer/scheduler/RNG to put in checkpoints."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`extra_state` returned."""

    @torch.no_grad()
    def extract_features(self, imgs: torch.Tensor, extras: bool = False
                         ) -> dict[str, torch.Tensor | None]:
        """Eval-mode features of a batch: ``global_feat`` and optional region outputs
        (:func:`rganet_reid.engine.features.eval_features`, shared with the extractor); with
        ``extras`` also α, β, the region-to-centre cosines and Eq. 1's mask logits."""
        return eval_features(self.model, imgs, extras=extras)

    # ------------------------------------------------------------------ helpers
    def forward_train(self, images: torch.Tensor) -> Any:
        """The model's forward in a training step (through DDP under torchrun: the one call
        that must be used for anything that back-propagates)."""
        return self.parallel.forward(images)

    def autocast(self) -> contextlib.AbstractContextManager:
        return amp_autocast(self.device, self.amp_dtype)

    def step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer | None = None) -> None:
        """Backward + optimizer step (with the fp16 grad scaler when enabled)."""
        optimizer = optimizer or self.optimizer
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"Loss became {loss.item()} at step {self.global_step}; lower train.lr or "
                "disable train.amp."
            )
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)
        self.scaler.update()

    def out_of_time(self) -> bool:
        return self._deadline is not None and time.monotonic() > self._deadline

    @property
    def writer_(self):
        """TensorBoard writer in ``save_dir/tensorboard`` (created on first use; rank 0 only,
        the other ranks get one that writes nothing)."""
        if not is_main_process():
            return _NullWriter()
        if self.writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(log_dir=str(self.save_dir / "tensorboard"))
        return self.writer

    # ------------------------------------------------------------------ training loop
    def run(self) -> dict[str, dict[str, float]]:
        """Train (unless ``test.evaluate``) then evaluate on every target; returns metrics."""
        cfg = self.cfg
        if cfg.model.resume:
            self.resume(cfg.model.resume)
        if cfg.test.evaluate:
            return self.test()
        if cfg.train.max_time > 0:
            self._deadline = time.monotonic() + cfg.train.max_time
        if self.start_epoch >= cfg.train.max_epoch > 0:  # a finished run: nothing to train
            logger.warning("%s finished at epoch %d (train.max_epoch %d): nothing to train; "
                           "evaluating its weights. Raise train.max_epoch to train further.",
                           cfg.model.resume, self.start_epoch, cfg.train.max_epoch)
            return self.test(epoch=self.start_epoch)
        if self.start_epoch == 0:
            self.before_train()
        train_start = time.monotonic()
        for epoch in range(self.start_epoch, cfg.train.max_epoch):
            self.epoch = epoch
            self.train_epoch(epoch)
            self.update_lr()
            last = epoch + 1 == cfg.train.max_epoch or self.out_of_time()
            if (not last and cfg.test.eval_freq > 0 and (epoch + 1) % cfg.test.eval_freq == 0
                    and epoch + 1 >= cfg.test.start_eval):
                self.test(epoch=epoch + 1)
            if (epoch + 1) % max(cfg.train.checkpoint_freq, 1) == 0 or last:
                self.save(epoch + 1)
            if self.out_of_time():
                logger.info("Wall-time budget train.max_time=%.0fs reached after epoch %d.",
                            cfg.train.max_time, epoch + 1)
                break
        train_time = time.monotonic() - train_start
        logger.info("Training took %.1f s", train_time)
        results = self.test(epoch=self.epoch + 1 if cfg.train.max_epoch else None)
        if is_main_process():
            write_json_atomic(self.save_dir / "train_summary.json",
                              {"train_time_s": train_time, "epochs": self.history})
        if self.writer is not None:
            self.writer.close()
        return results

    def train_epoch(self, epoch: int) -> dict[str, float]:
        """One pass over the training loader; logs averaged losses and throughput."""
        cfg = self.cfg
        self.set_model_mode("train")
        if cfg.train.fixbase_epoch > 0:  # torchreid's "train only new layers first" recipe
            utils = torchreid_root.utils
            if epoch < cfg.train.fixbase_epoch:
                utils.open_specified_layers(self.model, cfg.train.open_layers)
            else:
                utils.open_all_layers(self.model)
                self.after_open_layers()
        stats = self.parallel.reduce_epoch(run_epoch(
            self.train_loader, self.train_step, f"epoch {epoch + 1}/{cfg.train.max_epoch}",
            self.out_of_time))
        self.parallel.average_batchnorm_statistics()
        record = stats.record(epoch + 1, lr=self.get_current_lr())
        self.history.append(record)
        logger.info("epoch %d/%d  %s  lr %.2e  %.1f img/s", epoch + 1, cfg.train.max_epoch,
                    "  ".join(f"{k} {v:.4f}" for k, v in stats.means.items()), record["lr"],
                    record["images_per_s"])
        return stats.means

    def train_step(self, data: dict) -> dict[str, float]:
        """:meth:`forward_backward` on one batch, counted and logged to TensorBoard."""
        losses = self.forward_backward(data)
        self.global_step += 1
        if self.global_step % max(self.cfg.train.print_freq, 1) == 0:
            for k, v in losses.items():
                self.writer_.add_scalar(f"train/{k}", v, self.global_step)
            self.writer_.add_scalar("train/lr", self.get_current_lr(), self.global_step)
        return losses

    def after_open_layers(self) -> None:
        """Called after ``open_all_layers`` each epoch; re-freeze what must stay frozen."""

    # ------------------------------------------------------------------ checkpoints
    def checkpoint_state(self, epoch: int) -> dict[str, Any]:
        return {
            "model_name": self.cfg.model.name,
            "num_classes": int(self.datamanager.num_train_pids),
            "epoch": epoch,
            "global_step": self.global_step,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict() if self.optimizer else {},
            "scheduler": self.scheduler.state_dict() if self.scheduler else {},
            "scaler": self.scaler.state_dict(),
            "rng": rng_state(),
            "engine": self.extra_state(),
            "history": json.dumps(self.history),
            "config": self.cfg.dump(),
        }

    def save(self, epoch: int) -> Path:
        """Write ``save_dir/checkpoints/last.pth`` atomically (and ``model.pth`` at the end).

        Under torchrun every rank calls this (it gathers the ranks' RNG states) and rank 0
        alone writes; the others return ``None``."""
        extras = self.parallel.checkpoint_extras(self.train_loader)
        if not is_main_process():
            return None
        state = {**self.checkpoint_state(epoch), **extras}
        ckpt_dir = self.save_dir / "checkpoints"
        path = save_checkpoint(ckpt_dir / "last.pth", state)
        if epoch == self.cfg.train.max_epoch or self.out_of_time():
            save_checkpoint(self.save_dir / "model.pth", state)
        logger.info("Saved checkpoint %s (epoch %d)", path, epoch)
        return path

    def resume(self, path: str | Path) -> None:
        """Restore model, optimizer, scheduler, RNG and engine state from ``path``."""
        ckpt = load_checkpoint(path, map_location=self.device)
        if "rng" not in ckpt or "optimizer" not in ckpt:
            raise CheckpointError(
                f"{path} holds weights only; model.resume needs a training checkpoint written by "
                "rganet-reid (checkpoints/last.pth). Use model.load_weights for weights."
            )
        if ckpt.get("model_name") != self.cfg.model.name:
            raise CheckpointError(
                f"{path} was trained as model.name={ckpt.get('model_name')!r}, but this run "
                f"builds {self.cfg.model.name!r}."
            )
        check_resume_config(ckpt.get("config"), self.cfg, path)
        try:
            self.model.load_state_dict(ckpt["model"])
        except RuntimeError as err:
            raise CheckpointError(f"{path} does not fit the model being built: {err}") from err
        if self.optimizer and ckpt["optimizer"]:
            self.optimizer.load_state_dict(ckpt["optimizer"])
        if self.scheduler and ckpt["scheduler"]:
            self.scheduler.load_state_dict(ckpt["scheduler"])
        self.scaler.load_state_dict(ckpt["scaler"])
        self.load_extra_state(ckpt.get("engine", {}))
        self.start_epoch = int(ckpt["epoch"])
        self.epoch = self.start_epoch
        self.global_step = int(ckpt.get("global_step", 0))
        self.history = json.loads(ckpt.get("history", "[]"))
        set_rng_state(ckpt["rng"])
        self.parallel.restore(ckpt, self.train_loader, path)  # per-rank RNG, sampler (torchrun)
        logger.info("Resumed from %s at epoch %d", path, self.start_epoch)

    # ------------------------------------------------------------------ evaluation
    @torch.no_grad()
    def extract(self, loader, items: list, extras: bool = False) -> FeatureSet:
        """Run :meth:`extract_features` over ``loader`` into a :class:`FeatureSet`; with
        ``extras`` the other per-image outputs (α, β, mask logits ...) go to its ``extras``."""
        self.set_model_mode("eval")
        batches = []
        for data in tqdm(loader, desc="extract", leave=False, mininterval=2.0):
            with self.autocast():
                batches.append(self.extract_features(
                    data["img"].to(self.device, non_blocking=True), extras=extras))
        cat = finish_features(batches, bool(self.cfg.test.normalize_feature))
        return FeatureSet(
            global_feats=cat["global_feat"],
            pids=np.asarray([it[1] for it in items], dtype=np.int64),
            camids=np.asarray([it[2] for it in items], dtype=np.int64),
            region_feats=cat["region_feats"],
            region_weights=cat["region_weights"],
            extras={k: v for k, v in cat.items() if k not in FEATURE_KEYS and v is not None},
        )

    def test(self, epoch: int | None = None, **_: Any) -> dict[str, dict[str, float]]:
        """Evaluate on every target dataset; logs a table, writes ``results.json``."""
        results: dict[str, dict[str, float]] = {}
        settings = RetrievalSettings.from_config(self.cfg, device=self.device)
        previous: tuple[list, FeatureSet, bool] | None = None  # last gallery, for reuse
        for name, split in self.datamanager.test_splits.items():
            t0 = time.monotonic()
            truth = split.query_truth is not None and split.gallery_truth is not None
            max_rank = max(max(split.eval_ranks), 10)
            if self.parallel.enabled:  # shards of the query and the gallery per rank
                query, gallery, g_start, res = self.parallel.extract_and_evaluate(
                    self, split, settings, max_rank)
                extract_s = self.parallel.extract_s  # this rank's extraction and gathering
                if truth:  # the region report needs every item's extras: whole sets per rank
                    query = self.extract(split.query_loader, split.query, extras=True)
                    gallery, g_start = self.extract(split.gallery_loader, split.gallery,
                                                    extras=True), 0
            else:
                query = self.extract(split.query_loader, split.query, extras=truth)
                if previous is not None and (previous[2] or not truth) \
                        and same_images(previous[0], split.gallery):
                    gallery = previous[1]  # the same images as the last target's gallery
                    logger.info("%s: the gallery holds the previous target's images; its "
                                "features are reused", name)
                else:
                    gallery = self.extract(split.gallery_loader, split.gallery, extras=truth)
                previous, g_start = (split.gallery, gallery, truth), 0
                extract_s = time.monotonic() - t0
                res: RetrievalResult = evaluate_retrieval(query, gallery, settings,
                                                          max_rank=max_rank)
            # a rank past the gallery size retrieves the whole gallery: CMC at G
            metrics = {f"rank{r}": 100.0 * res.rank(min(r, len(res.cmc)))
                       for r in split.eval_ranks}
            metrics.update(mAP=100.0 * res.mAP, mINP=100.0 * res.mINP,
                           num_query=len(split.query), num_gallery=len(split.gallery),
                           num_valid_queries=res.num_valid_queries, extract_s=extract_s)
            regions = {}
            if truth:  # region masks, confidences and Eq. 10 weightings vs the ground truth
                regions = region_report(
                    query, gallery, split.query_truth, split.gallery_truth,
                    functools.partial(evaluate_retrieval, settings=settings, max_rank=max_rank),
                    list(self.cfg.rganet.seg.label_map),
                    float(self.cfg.rganet.region_weight_scale))
                metrics.update(regions)
            results[name] = metrics
            if self.feature_sink is not None:
                self.feature_sink(name, query, gallery, g_start, len(split.gallery))
            if self.cfg.test.visrank:
                if self.parallel.enabled and not truth:  # truth: already the whole gallery
                    gallery = self.parallel.gather_gallery(gallery, split.gallery)
                if is_main_process():
                    self.visualize_ranks(name, split, query, gallery, epoch)
            for key, value in metrics.items():
                if (key.startswith(("rank", "mAP", "mINP")) or key in regions) \
                        and epoch is not None:
                    self.writer_.add_scalar(f"test/{name}/{key}", value, epoch)
            if regions:  # fractions (IoU, AUROC, w) with 3 decimals, percentages with 1
                logger.info("%s regions  %s", name, "  ".join(
                    f"{k}={v:.1f}" if k.startswith("eq10") else f"{k}={v:.3g}"
                    for k, v in regions.items()))
            if res.num_valid_queries == 0:
                logger.warning("%s: no query has a valid gallery match", name)
            logger.info("%s  %s", name, "  ".join(
                f"{k}={v:.1f}" for k, v in metrics.items() if k.startswith(("rank", "mAP", "mI"))))
        logger.info("Results (epoch %s, model %s):\n%s", epoch, self.cfg.model.name,
                    results_table(results))
        if is_main_process():
            write_json_atomic(self.save_dir / "results.json",
                              {"model": self.cfg.model.name, "epoch": epoch, "results": results})
        return results


    def visualize_ranks(self, name: str, split, query: FeatureSet, gallery: FeatureSet,
                        epoch: int | None = None) -> Path:
        """``test.visrank``: rank lists of ``test.visrank_queries`` random queries (paper
        Fig. 5 form, top ``test.visrank_topk``) → ``save_dir/visrank/<dataset>[_e<epoch>].png``.
        """
        from rganet_reid.visualization.ranklist import (
            draw_ranklists,
            pick_queries,
            ranklists_from_features,
        )

        chosen = pick_queries(query, gallery, int(self.cfg.test.visrank_queries),
                              seed=int(self.cfg.seed))
        rows = ranklists_from_features(
            query, gallery, [it[0] for it in split.query], [it[0] for it in split.gallery],
            chosen, int(self.cfg.test.visrank_topk), metric=self.cfg.test.dist_metric)
        suffix = f"_e{epoch}" if epoch is not None else ""
        out = draw_ranklists(rows, self.save_dir / "visrank" / f"{name}{suffix}.png",
                             title=f"{self.cfg.model.name} on {name}" + (
                                 f", epoch {epoch}" if epoch is not None else ""))
        logger.info("Rank lists of %d queries: %s", len(rows), out)
        return out


class _NullWriter:
    """TensorBoard writer of ranks other than 0: writes nothing."""

    def add_scalar(self, *args: Any, **kwargs: Any) -> None:
        pass


def results_table(results: dict[str, dict[str, float]], tablefmt: str = "github") -> str:
    """One row per dataset: its protocol's ranks, mAP, mINP (a rank a protocol omits is -) and
    the queries evaluated (with a valid gallery match) / gallery size."""
    ranks = sorted({int(k[4:]) for m in results.values() for k in m if k.startswith("rank")})
    rows = [[name, *(f"{m[f'rank{r}']:.1f}" if f"rank{r}" in m else "-" for r in ranks),
             f"{m['mAP']:.1f}", f"{m['mINP']:.1f}", _queries(m)]
            for name, m in results.items()]
    return tabulate(rows, headers=["dataset", *(f"R{r}" for r in ranks), "mAP", "mINP",
                                   "query/gallery"], tablefmt=tablefmt)


def _queries(m: dict[str, float]) -> str:
    """``evaluated queries/gallery``, saying how many queries were skipped (no valid match)."""
    valid, total = int(m.get("num_valid_queries", m["num_query"])), int(m["num_query"])
    cell = f"{valid}/{int(m['num_gallery'])}"
    return cell if valid == total else f"{cell} ({total - valid} of {total} queries skipped: " \
        "no valid match)"
