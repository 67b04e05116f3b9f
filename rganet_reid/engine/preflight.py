"""Pre-flight checks before a run builds its model: it starts clean or stops in seconds with
the full list of problems (:class:`PreflightError`), never at epoch k or after training.

Two steps, called by :func:`rganet_reid.engine.builder.build_run`:

1. :func:`check_config` — before any data is read: every choice key holds one of its values
   (optimizer, schedule, AMP, loss, metric, sampler, model, datasets, transforms, RGANet
   modes), the sampler arithmetic works (``train.batch_size`` a positive multiple of
   ``sampler.num_instances``), files and folders the config names exist
   (``model.load_weights``, ``model.resume``, ``data.mask_root``, a ``model.pretrained``
   file), the run folder ``data.save_dir`` is writable and the device exists here. Settings
   that run but probably not as meant are warnings (evaluating without trained weights, a
   prompt stage longer than ``train.max_epoch``).
2. :func:`check_images` — once the datasets are parsed: every image of every split (training,
   query, gallery) decodes as training reads it (:func:`rganet_reid.data.image_io.check_image`,
   a fast draft decode), with a progress bar; files that passed are remembered by size and
   modification time (a JSON cache under ``$XDG_CACHE_HOME/rganet_reid``), so a second run
   checks only what changed. ``data.preflight False`` skips this step; step 1 always runs.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm
from yacs.config import CfgNode

from rganet_reid.config.keys import get_key
from rganet_reid.data.verify import check_image as image_problem
from rganet_reid.utils.io import write_json_atomic
from rganet_reid.utils.seed import device_problem

logger = logging.getLogger(__name__)

__all__ = ["PreflightError", "check_config", "check_images", "config_problems"]

#: Problems listed in full before "... and N more".
_SHOWN = 20


class PreflightError(ValueError):
    """A run cannot start: the message lists every problem found (config keys, files, images)."""


def _raise(problems: list[str], what: str) -> None:
    if not problems:
        return
    shown = "\n".join(f"  - {p}" for p in problems[:_SHOWN])
    more = f"\n  ... and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
    raise PreflightError(f"Pre-flight check: {len(problems)} problem(s) in {what}; nothing was "
                         f"trained. Fix them and run again:\n{shown}{more}")


def _choices(cfg: CfgNode) -> dict[str, tuple[str, ...]]:
    from rganet_reid.compat import torchreid_root, torchreid_sampler
    from rganet_reid.engine.features import AMP_DTYPES
    from rganet_reid.engine.registry import RGANET_LOSS, TORCHREID_LOSSES
    from rganet_reid.modeling.prompt import PROMPT_MODES
    from rganet_reid.modeling.ram import CONFIDENCE_MODES
    from rganet_reid.modeling.rganet import REGION_MODES

    optim = importlib.import_module(f"{torchreid_root.__name__}.optim.optimizer")
    sched = importlib.import_module(f"{torchreid_root.__name__}.optim.lr_scheduler")
    return {
        "train.optim": tuple(optim.AVAI_OPTIMS),
        "rganet.stage1.optim": tuple(optim.AVAI_OPTIMS),
        "train.lr_scheduler": tuple(sched.AVAI_SCH),
        "train.amp": ("none", *AMP_DTYPES),
        "loss.name": (*TORCHREID_LOSSES, RGANET_LOSS),
        "test.dist_metric": ("cosine", "euclidean"),
        "sampler.train_sampler": tuple(torchreid_sampler.AVAI_SAMPLERS),
        "rganet.regions": REGION_MODES,
        "rganet.prompt.mode": PROMPT_MODES,
        "rganet.confidence": CONFIDENCE_MODES,
    }


def config_problems(cfg: CfgNode) -> list[str]:
    """Every problem of ``cfg`` that can be found without reading data (step 1)."""
    from rganet_reid.compat import model_factory, torchreid_datasets
    from rganet_reid.data.transforms import KNOWN_TRAIN_TRANSFORMS
    from rganet_reid.modeling import MODEL_CONSTRUCTORS

    problems = []
    for key, allowed in _choices(cfg).items():
        value = get_key(cfg, key)
        if value not in allowed:
            problems.append(f"{key} is {value!r}; choose one of: {', '.join(allowed)}.")
    models = set(model_factory()) | set(MODEL_CONSTRUCTORS)
    if cfg.model.name not in models:
        problems.append(f"model.name {cfg.model.name!r} is not a model; e.g. "
                        f"{', '.join(sorted(MODEL_CONSTRUCTORS))}, osnet_x1_0, resnet50.")
    datasets = set(getattr(torchreid_datasets, "__image_datasets", {}))
    for key in ("data.sources", "data.targets"):
        unknown = [n for n in get_key(cfg, key) if n not in datasets]
        if unknown:
            problems.append(f"{key} names unknown dataset(s) {unknown}; known: "
                            f"{', '.join(sorted(datasets))}.")
    unknown = [t for t in cfg.data.transforms if t not in KNOWN_TRAIN_TRANSFORMS]
    if unknown:
        problems.append(f"data.transforms has unknown {unknown}; valid: "
                        f"{', '.join(KNOWN_TRAIN_TRANSFORMS)}.")
    problems += _number_problems(cfg) + _path_problems(cfg)
    problem = _device_problem(cfg.device)
    return problems + ([problem] if problem else [])


def _device_problem(spec: str) -> str | None:
    if spec == "auto":
        return None
    import torch

    try:
        problem = device_problem(torch.device(spec))
    except (RuntimeError, TypeError):
        return f"device {spec!r} is not a device; use auto, cpu, cuda or cuda:N."
    return f"device {spec!r}: {problem}" if problem else None


def _number_problems(cfg: CfgNode) -> list[str]:
    problems = []
    for key in ("train.batch_size", "test.batch_size", "data.height", "data.width"):
        if get_key(cfg, key) <= 0:
            problems.append(f"{key} is {get_key(cfg, key)}; it must be a positive integer.")
    if cfg.data.workers < 0:
        problems.append(f"data.workers is {cfg.data.workers}; use 0 (load in the main process) "
                        "or more.")
    if cfg.train.max_epoch < 0:
        problems.append(f"train.max_epoch is {cfg.train.max_epoch}; use 0 or more.")
    if not cfg.train.lr > 0:
        problems.append(f"train.lr is {cfg.train.lr}; it must be positive.")
    batch, inst = cfg.train.batch_size, cfg.sampler.num_instances
    if cfg.sampler.train_sampler == "RandomIdentitySampler" and not cfg.test.evaluate:
        if inst <= 0:
            problems.append(f"sampler.num_instances is {inst}; RandomIdentitySampler needs at "
                            "least 1 image per identity in a batch (4 is usual).")
        elif batch < inst:
            problems.append(f"train.batch_size {batch} is smaller than sampler.num_instances "
                            f"{inst} (images of one identity per batch): raise train.batch_size "
                            f"to a multiple of {inst} or lower sampler.num_instances.")
        elif batch % inst:
            lower = batch - batch % inst
            problems.append(f"train.batch_size {batch} is not a multiple of "
                            f"sampler.num_instances {inst}, so batches would straddle "
                            f"identities: use {lower} or {lower + inst}.")
    return problems


def _path_problems(cfg: CfgNode) -> list[str]:
    problems = []
    for key in ("model.load_weights", "model.resume"):
        path = get_key(cfg, key)
        if path and not Path(path).is_file():
            problems.append(f"{key} {path} is not a file.")
    pretrained = cfg.model.pretrained
    if pretrained and Path(pretrained).suffix in (".pt", ".pth", ".bin", ".safetensors") \
            and not Path(pretrained).is_file():
        problems.append(f"model.pretrained {pretrained} is not a file.")
    if cfg.data.mask_root and not Path(cfg.data.mask_root).is_dir():
        problems.append(f"data.mask_root {cfg.data.mask_root} is not a folder; point it at the "
                        "folder of PNG part masks mirroring the dataset tree.")
    problem = _writable_problem(Path(cfg.data.save_dir), "data.save_dir")
    return problems + ([problem] if problem else [])


def _writable_problem(folder: Path, key: str) -> str | None:
    """Why ``folder`` (created if missing) cannot take files, or ``None``."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{key} {folder}: {existing} is a file, not a folder; choose another folder."
    if not os.access(existing, os.W_OK | os.X_OK):
        return (f"{key} {folder}: {existing} is not writable by this user; choose a writable "
                "folder or fix its permissions.")
    return None


def check_config(cfg: CfgNode) -> None:
    """Step 1 (module docstring): :class:`PreflightError` listing every problem; warnings for
    settings that run but probably not as meant."""
    _raise(config_problems(cfg), "the config")
    if cfg.test.evaluate and not (cfg.model.load_weights or cfg.model.resume):
        logger.warning("test.evaluate True without model.load_weights: evaluating untrained "
                       "weights (model.pretrained %r only). Name the trained model with "
                       "model.load_weights PATH.", cfg.model.pretrained or "none")
    stage1 = int(cfg.rganet.stage1.max_epoch)
    if (not cfg.test.evaluate and cfg.loss.name == "rganet" and cfg.rganet.regions == "rgm"
            and stage1 > cfg.train.max_epoch):
        logger.warning("The prompt stage runs rganet.stage1.max_epoch=%d epochs before the %d "
                       "of train.max_epoch; set rganet.stage1.max_epoch too for a short run.",
                       stage1, cfg.train.max_epoch)


def sampler_warnings(items: list, cfg: CfgNode) -> None:
    """Warn when identities have fewer images than ``sampler.num_instances`` (they are drawn
    with repetition)."""
    if cfg.sampler.train_sampler != "RandomIdentitySampler":
        return
    counts = Counter(item[1] for item in items)
    short = sorted(pid for pid, n in counts.items() if n < cfg.sampler.num_instances)
    if short:
        logger.warning("%d of %d training identities have fewer than sampler.num_instances=%d "
                       "images (e.g. id %s: %d); their images repeat within a batch.",
                       len(short), len(counts), cfg.sampler.num_instances, short[0],
                       counts[short[0]])


def _cache_file(root: str) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    key = hashlib.sha1(str(Path(root).resolve()).encode()).hexdigest()[:16]
    return base / "rganet_reid" / f"image_check-{key}.json"


def _load_cache(path: Path) -> dict[str, list[int]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def check_images(splits: dict[str, list], cfg: CfgNode) -> None:
    """Step 2 (module docstring): decode every image of ``splits`` (name → items whose first
    field is the path); :class:`PreflightError` listing every unreadable file."""
    if not cfg.data.preflight:
        return
    cache_path = _cache_file(cfg.data.root)
    cache = _load_cache(cache_path)
    paths = sorted({str(Path(item[0]).resolve()) for items in splits.values() for item in items})
    stamps: dict[str, list[int]] = {}
    todo, problems = [], []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            problems.append(f"{path}: image file not found.")
            continue
        stamps[path] = [st.st_size, st.st_mtime_ns]
        if cache.get(path) != stamps[path]:
            todo.append(path)

    if todo:
        workers = max(1, min(8, int(cfg.data.workers) or 1))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(tqdm(pool.map(image_problem, todo), total=len(todo),
                                desc="pre-flight images", leave=False, mininterval=1.0))
        for path, problem in zip(todo, results):
            if problem:
                problems.append(problem)
                stamps.pop(path, None)
            else:
                cache[path] = stamps[path]
        try:
            write_json_atomic(cache_path, cache)
        except OSError as err:  # a cache we cannot write only costs time
            logger.info("Pre-flight image cache not written (%s).", err)
    logger.info("Pre-flight: %d images of %s checked (%d decoded, %d from the cache).",
                len(paths), ", ".join(splits), len(todo), len(paths) - len(todo))
    _raise(problems, f"the images of {', '.join(splits)}")
