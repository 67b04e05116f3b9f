"""Builds the train and test loaders from registered torchreid datasets.

Datasets are looked up in torchreid's dataset registry (``init_image_dataset``), so every
torchreid dataset and every dataset rganet-reid registers works. Sampling uses torchreid's
samplers (``RandomIdentitySampler`` = P identities × K images). What differs from torchreid's
``ImageDataManager``: joint image+mask transforms (torchvision v2), masks for L_seg, test-only
target datasets (no training split), an image reader that names a corrupt file instead of
retrying forever, and per-dataset evaluation ranks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from yacs.config import CfgNode

from rganet_reid.compat import torchreid_datasets, torchreid_sampler
from rganet_reid.data.distributed import GlobalBatchSplitSampler
from rganet_reid.data.masks import mask_path_for
from rganet_reid.data.part_truth import PartTruth
from rganet_reid.data.sample_dataset import ReIDSampleDataset
from rganet_reid.data.transforms import build_test_transform, build_train_transform

logger = logging.getLogger(__name__)


@dataclass
class TestSplit:
    """Query and gallery of one target dataset, with the ranks its protocol reports and, for
    datasets that know their body parts (SynthOcc), the part ground truth of every item."""

    name: str
    query: list
    gallery: list
    query_loader: DataLoader
    gallery_loader: DataLoader
    eval_ranks: tuple[int, ...]
    query_truth: PartTruth | None = None
    gallery_truth: PartTruth | None = None


def dataset_kwargs(cfg: CfgNode) -> dict:
    """Keyword arguments passed to every dataset constructor (others ignore what they don't use)."""
    return {
        "root": cfg.data.root,
        "split_id": cfg.data.split_id,
        "combineall": cfg.data.combineall,
        "market1501_500k": cfg.market1501.use_500k_distractors,
        "cuhk03_labeled": cfg.cuhk03.labeled_images,
        "cuhk03_classic_split": cfg.cuhk03.classic_split,
        "msmt17_version": cfg.msmt17.version,
        "synthocc_size": cfg.data.synthocc.size,
        "synthocc_seed": cfg.data.synthocc.seed,
        "mask_root": cfg.data.mask_root,
    }


def init_dataset(name: str, mode: str, cfg: CfgNode, verbose: bool = True):
    """Instantiate the registered torchreid image dataset ``name`` in ``mode``."""
    return torchreid_datasets.init_image_dataset(
        name, mode=mode, transform=None, verbose=verbose, **dataset_kwargs(cfg)
    )


def _mask_paths(dataset, items: list, cfg: CfgNode) -> list[Path]:
    if cfg.data.mask_root:
        mask_root = Path(cfg.data.mask_root)
    elif getattr(dataset, "mask_subdir", None):
        mask_root = Path(dataset.dataset_dir) / dataset.mask_subdir
    else:
        raise ValueError(
            f"data.load_masks is on but {type(dataset).__name__} ships no part masks; set "
            "data.mask_root to a folder of PNG label maps (see docs/datasets.md)."
        )
    return [mask_path_for(it[0], dataset.dataset_dir, mask_root) for it in items]


class ReIDDataManager:
    """torchreid-style data manager: ``train_loader``, ``test_loader``, ``num_train_pids``.

    ``test_loader[name]`` is ``{'query': loader, 'gallery': loader}`` as in torchreid;
    ``test_splits[name]`` adds the raw items and the protocol's ranks.

    Under torchrun (``world_size`` > 1) ``train.batch_size`` is the global batch: this rank's
    train loader yields its ``1 / world_size`` share of each one
    (:class:`rganet_reid.data.distributed.GlobalBatchSplitSampler`).
    """

    def __init__(self, cfg: CfgNode, build_train: bool = True, rank: int = 0,
                 world_size: int = 1) -> None:
        self.cfg = cfg
        self.rank, self.world_size = rank, world_size
        self.sources = list(cfg.data.sources)
        self.targets = list(cfg.data.targets) or list(cfg.data.sources)
        self.height, self.width = cfg.data.height, cfg.data.width
        self.train_set = None
        self._parsed: dict = {}  # source datasets, reused when they are also targets
        self.train_loader = None
        self.num_train_pids = 0
        self.num_train_cams = 0
        self._build_train_set(cfg)
        if build_train:
            self.train_loader = self._build_train_loader(cfg)
        self.test_splits = {name: self._build_test_split(name, cfg) for name in self.targets}
        self.test_loader = {
            name: {"query": s.query_loader, "gallery": s.gallery_loader}
            for name, s in self.test_splits.items()
        }

    def splits_to_read(self) -> dict[str, list]:
        """Every split this run reads images of (training when built, each target's query and
        gallery): name → items, for the pre-flight image check."""
        splits = {"train": self.train_set.items} if self.train_loader is not None else {}
        for name, s in self.test_splits.items():
            splits[f"{name} query"], splits[f"{name} gallery"] = s.query, s.gallery
        return splits

    # -- training -------------------------------------------------------------------------
    def _build_train_set(self, cfg: CfgNode) -> None:
        if not self.sources:
            raise ValueError("data.sources is empty: name at least one training dataset.")
        datasets = [init_dataset(name, "train", cfg) for name in self.sources]
        self._parsed = dict(zip(self.sources, datasets))
        mask_paths: list[Path] | None = [] if cfg.data.load_masks else None
        if mask_paths is not None:
            for ds in datasets:
                mask_paths.extend(_mask_paths(ds, ds.train, cfg))
        combined = datasets[0] if len(datasets) == 1 else sum(datasets)
        self.num_train_pids = combined.num_train_pids
        self.num_train_cams = combined.num_train_cams
        self.train_set = ReIDSampleDataset(combined.train, build_train_transform(cfg), mask_paths)

    def _build_train_loader(self, cfg: CfgNode) -> DataLoader:
        if cfg.sampler.train_sampler == "RandomIdentitySampler":
            per_batch = cfg.train.batch_size // max(cfg.sampler.num_instances, 1)
            if cfg.train.batch_size < cfg.sampler.num_instances:
                raise ValueError(
                    f"train.batch_size {cfg.train.batch_size} is smaller than "
                    f"sampler.num_instances {cfg.sampler.num_instances}: raise train.batch_size "
                    "or lower sampler.num_instances.")
            if per_batch > self.num_train_pids:
                raise ValueError(
                    f"RandomIdentitySampler draws train.batch_size / sampler.num_instances = "
                    f"{cfg.train.batch_size} / {cfg.sampler.num_instances} identities per batch, "
                    f"but the training set has {self.num_train_pids}; lower train.batch_size or "
                    "raise sampler.num_instances."
                )
        sampler = torchreid_sampler.build_train_sampler(
            self.train_set.items,
            cfg.sampler.train_sampler,
            batch_size=cfg.train.batch_size,
            num_instances=cfg.sampler.num_instances,
            num_cams=cfg.sampler.num_cams,
            num_datasets=cfg.sampler.num_datasets,
        )
        batch_size = cfg.train.batch_size
        if self.world_size > 1:
            identities = cfg.sampler.train_sampler == "RandomIdentitySampler"
            sampler = GlobalBatchSplitSampler(
                sampler, batch_size, self.rank, self.world_size, cfg.seed,
                unit=cfg.sampler.num_instances if identities else 1)
            batch_size = sampler.per_rank
        loader = DataLoader(
            self.train_set,
            sampler=sampler,
            batch_size=batch_size,
            num_workers=cfg.data.workers,
            pin_memory=torch.cuda.is_available(),
            drop_last=True,
            persistent_workers=False,
        )
        if len(loader) == 0:
            raise ValueError(
                f"The training set has {len(self.train_set)} images, fewer than one batch of "
                f"train.batch_size={cfg.train.batch_size}; lower the batch size."
            )
        return loader

    # -- testing --------------------------------------------------------------------------
    def _test_loader(self, items: list, cfg: CfgNode) -> DataLoader:
        return DataLoader(
            ReIDSampleDataset(items, build_test_transform(cfg)),
            batch_size=cfg.test.batch_size,
            shuffle=False,
            num_workers=cfg.data.workers,
            # own generator: evaluation must not consume the training RNG (exact resume)
            generator=torch.Generator().manual_seed(0),
            pin_memory=torch.cuda.is_available(),
            drop_last=False,
        )

    def _build_test_split(self, name: str, cfg: CfgNode) -> TestSplit:
        ds = self._parsed.get(name) or init_dataset(name, "query", cfg)
        if not ds.query:
            raise ValueError(f"Target dataset {name!r} has an empty query set.")
        if not ds.gallery:
            raise ValueError(f"Target dataset {name!r} has an empty gallery set.")
        ranks = tuple(getattr(ds, "eval_ranks", None) or cfg.test.ranks)
        return TestSplit(
            name=name,
            query=ds.query,
            gallery=ds.gallery,
            query_loader=self._test_loader(ds.query, cfg),
            gallery_loader=self._test_loader(ds.gallery, cfg),
            eval_ranks=ranks,
            query_truth=ds.part_truth(ds.query) if hasattr(ds, "part_truth") else None,
            gallery_truth=ds.part_truth(ds.gallery) if hasattr(ds, "part_truth") else None,
        )
