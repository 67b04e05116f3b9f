"""Train (or load) every entry of a spec, evaluate it and measure it: one run folder each.

Run folders: ``<out>/runs/<train group>/<model>-<config hash>/seed<k>/``. A train group is the
training data of one or more protocols (SynthOcc's three protocols share one training split,
so one model is trained once and evaluated on all three). Folders are keyed by the hash of
everything in the config that changes what is trained, not by the entry's label, so specs
that share an entry (Table VII and the leaderboard, Table VI's learnable prompt and Table V's
"RGM" row) share its runs, and relabelling an entry retrains nothing. Each folder holds what
``rganet-main`` writes (config.yaml, log.txt, results.json, train_summary.json, model.pth,
checkpoints/) plus ``bench.json``: config hash, seed, datasets, #params, inference and
training throughput, wall time, date and machine. Every entry goes through the same path —
:class:`~rganet_reid.data.datamanager.ReIDDataManager` → :func:`build_engine` →
``engine.run()`` — whatever its model.

Modes: ``train`` trains and evaluates; a folder whose bench.json has the same config hash is
reused unless ``force`` (protocols it lacks are evaluated from its saved weights, and
inference is re-measured when the throughput settings changed).
``evaluate`` re-evaluates the weights a folder already holds (no training). Entries with
``weights`` are evaluated, never trained. A ``seed<k>.lock`` beside each folder lets one
process at a time work on it (others wait, then reuse its result).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import platform
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from yacs.config import CfgNode

from rganet_reid.benchmark.protocols import PROTOCOLS
from rganet_reid.benchmark.spec import BenchmarkSpec, Entry, ThroughputSettings, slugify
from rganet_reid.benchmark.throughput import (
    count_parameters,
    measure_inference,
    training_throughput,
)
from rganet_reid.config.keys import get_key, set_key
from rganet_reid.utils.io import write_json_atomic
from rganet_reid.utils.locking import exclusive

logger = logging.getLogger(__name__)

BENCH_FILE = "bench.json"
RUN_FORMAT = "rganet-benchmark-run"
RUN_FORMAT_VERSION = 1
MODES = ("train", "evaluate")

#: torchreid built-ins whose training output only supports ``loss='softmax'`` in torchreid's
#: model zoo recipe (PCB's part classifiers); model-name entries for them default to softmax.
SOFTMAX_ONLY_MODELS: frozenset[str] = frozenset({"pcb_p4", "pcb_p6"})

#: Config values recorded with every run; table shapes read their columns from these.
DESCRIPTOR_KEYS: tuple[str, ...] = (
    "model.name", "loss.name", "rganet.regions", "rganet.dai", "rganet.iai",
    "rganet.prompt.mode", "rganet.prompt.template", "rganet.num_regions", "rganet.gamma",
    "rganet.prompt.n_ctx", "rganet.memory.momentum", "data.height", "data.width",
    "train.batch_size", "sampler.train_sampler", "sampler.num_instances", "train.max_epoch",
    "train.max_time",
)
#: Keys that do not change what is trained (left out of the config hash). The seed and the
#: evaluated targets are part of the folder layout and of results.json instead.
_HASH_IGNORED = ("data.save_dir", "data.root", "data.workers", "train.print_freq",
                 "model.resume", "seed", "data.targets")
# Keys that change only how a trained model is scored, never what it learns, each with the
# value config_hash reads in its place: a run whose config differs from a plan's only in these
# keeps its folder and weights and is re-evaluated, not retrained. The values are the ones
# every run folder made before this split was hashed with, so those folders keep their names;
# they are not the defaults and must never change.
EVALUATION_KEYS: dict[str, Any] = {
    "rganet.region_weight_scale": 4.0,  # c of Eq. 10 (the model scales its region_weights)
}


class BenchmarkRunError(RuntimeError):
    """A run cannot be done as asked (e.g. re-evaluation without trained weights)."""


@dataclass
class RunPlan:
    """One (entry, train group, seed): the frozen config it trains with and its folder."""

    entry: Entry
    protocols: tuple[str, ...]
    seed: int
    run_dir: Path
    cfg: CfgNode
    config_hash: str

    def descriptor(self) -> dict[str, Any]:
        """The config values table shapes read (Table V/VI columns, swept values ...)."""
        values = {k: get_key(self.cfg, k) for k in (*DESCRIPTOR_KEYS, *self.entry.sweep_keys)}
        return {k: list(v) if isinstance(v, (list, tuple)) else v for k, v in values.items()}


def default_loss(model_name: str) -> str:
    """The loss a model-name entry trains with: RGANet's own, softmax for PCB, else triplet."""
    from rganet_reid.engine.builder import rganet_model_names

    if model_name in rganet_model_names():
        return "rganet"
    return "softmax" if model_name in SOFTMAX_ONLY_MODELS else "triplet"


def build_run_config(spec: BenchmarkSpec, entry: Entry, protocols: tuple[str, ...], seed: int,
                     run_dir: Path, root: str | Path | None = None) -> CfgNode:
    """defaults → entry config (or the spec's base config) → model name → entry overrides →
    shared overrides + budget → protocol data → seed, run folder, data root, weights."""
    from rganet_reid.config import load_config

    cfg = load_config(entry.config or spec.base_config or None, freeze=False)
    if entry.oracle:  # no model: the name keeps its runs apart from every model's
        cfg.model.name = f"oracle-{entry.oracle}"
    if entry.model:
        cfg.model.name = entry.model
        if entry.config is None and "loss.name" not in entry.overrides:
            cfg.loss.name = default_loss(entry.model)
    for source, overrides in ((f"overrides of entry {entry.label!r}", entry.overrides),
                              (f"shared overrides of spec {spec.name!r}", spec.fixed_overrides())):
        for key, value in overrides.items():
            set_key(cfg, key, value, source)
    sources = {PROTOCOLS[p].sources for p in protocols}
    if len(sources) != 1:
        raise ValueError(f"Protocols {protocols} do not share their training data")
    cfg.data.sources = list(sources.pop())
    cfg.data.targets = [PROTOCOLS[p].target for p in protocols]
    if root:
        cfg.data.root = str(root)
    cfg.seed = int(seed)
    cfg.data.save_dir = str(run_dir)
    if entry.weights is not None:
        cfg.test.evaluate = True
        cfg.model.load_weights = str(entry.weights)
    cfg.freeze()
    return cfg


def config_hash(cfg: CfgNode) -> str:
    """Hash of everything in ``cfg`` that changes what a run trains (its folder's name).

    Keys that only change the evaluation (:data:`EVALUATION_KEYS`) are hashed at fixed values;
    :func:`evaluation_settings` tells whether a trained run must be re-evaluated.
    """
    clone = cfg.clone()
    clone.defrost()
    for key in _HASH_IGNORED:
        set_key(clone, key, type(get_key(clone, key))(), "config_hash")
    for key, value in EVALUATION_KEYS.items():
        set_key(clone, key, value, "config_hash")
    return hashlib.sha1(clone.dump().encode("utf-8")).hexdigest()[:16]


def evaluation_settings(cfg: CfgNode) -> dict[str, Any]:
    """The values of :data:`EVALUATION_KEYS` in ``cfg`` (stored in each run's bench record)."""
    return {key: get_key(cfg, key) for key in EVALUATION_KEYS}


def _same_evaluation(bench: dict[str, Any], cfg: CfgNode) -> bool:
    """The stored results were scored with ``cfg``'s evaluation settings. A record without
    them predates the split; its config hash then matched only at the fixed values."""
    return bench.get("evaluation", EVALUATION_KEYS) == evaluation_settings(cfg)


def train_groups(protocols: tuple[str, ...]) -> OrderedDict[str, tuple[str, ...]]:
    """Protocols grouped by their training data, in the spec's order."""
    groups: OrderedDict[str, list[str]] = OrderedDict()
    for name in protocols:
        groups.setdefault(PROTOCOLS[name].train_group, []).append(name)
    return OrderedDict((k, tuple(v)) for k, v in groups.items())


def plan_runs(spec: BenchmarkSpec, runs_root: str | Path,
              root: str | Path | None = None) -> list[RunPlan]:
    """Every (entry, train group, seed) of ``spec`` with its config and run folder."""
    plans = []
    for entry in spec.entries:
        for group, protocols in train_groups(spec.protocols).items():
            for seed in spec.seeds:
                cfg = build_run_config(spec, entry, protocols, seed, Path(), root)
                digest = config_hash(cfg)
                run_dir = (Path(runs_root) / group / f"{slugify(cfg.model.name)}-{digest}"
                           / f"seed{seed}")
                plans.append(RunPlan(entry, protocols, seed, run_dir,
                                     _with(cfg, {"data.save_dir": str(run_dir)}), digest))
    return plans


def stored_targets(run_dir: Path, digest: str) -> list[str] | None:
    """Datasets a complete run of config ``digest`` in ``run_dir`` has results for."""
    bench = read_json(run_dir / BENCH_FILE)
    results = read_json(run_dir / "results.json")
    if not (bench and results and bench.get("status") == "complete"
            and bench.get("config_hash") == digest):
        return None
    return list(results.get("results", {}))


def find_weights(run_dir: Path) -> Path | None:
    """The final weights of a run: ``model.pth``, else the last checkpoint (wall-time stop)."""
    for candidate in (run_dir / "model.pth", run_dir / "checkpoints" / "last.pth"):
        if candidate.is_file():
            return candidate
    return None


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except json.JSONDecodeError as err:
        raise BenchmarkRunError(f"{path}: not valid JSON ({err})") from err


def machine_info(device: torch.device | str | None = None) -> dict[str, Any]:
    """The hardware and software a measurement ran on."""
    device = torch.device(device) if device is not None else torch.device("cpu")
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        name = _cpu_model() or platform.processor() or platform.machine()
    return {"device": str(device), "device_name": name, "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
            "platform": platform.platform()}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def prepare_for_inference(model: torch.nn.Module) -> torch.nn.Module:
    """Eval mode, in its deployed form (RGANet: prototypes cached, text encoder dropped)."""
    freeze = getattr(model, "freeze_prototypes", None)
    if callable(freeze):
        freeze()
    return model.eval()


def execute(plan: RunPlan, mode: str = "train",
            throughput: ThroughputSettings | None = None, force: bool = False,
            spec_name: str = "") -> dict[str, Any]:
    """Train-or-load, evaluate and measure one run; writes and returns its bench record.

    One process at a time per run folder: a second benchmark that needs the same run (two
    specs sharing an entry, run side by side) waits for the first and then reuses its result.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    with exclusive(plan.run_dir, f"Run folder {plan.run_dir}"):
        return _execute(plan, mode, throughput or ThroughputSettings(), force, spec_name)


def _execute(plan: RunPlan, mode: str, throughput: ThroughputSettings, force: bool,
             spec_name: str) -> dict[str, Any]:
    run_dir = plan.run_dir
    needed = list(plan.cfg.data.targets)
    have = None if force else stored_targets(run_dir, plan.config_hash)
    previous = read_json(run_dir / BENCH_FILE) or {}
    if (have is not None and mode == "train" and set(needed) <= set(have)
            and (plan.entry.oracle or _same_throughput(previous, throughput))
            and _same_evaluation(previous, plan.cfg)):
        logger.info("%s: up to date (config %s), not retrained", run_dir, plan.config_hash)
        return previous
    targets = list(dict.fromkeys([*(have or []), *needed]))
    cfg = _with(plan.cfg, {"data.targets": targets})
    if plan.entry.oracle:
        return _execute_oracle(plan, cfg, previous, spec_name)
    if plan.entry.weights is not None:
        action = "weights"
    elif mode == "evaluate" or have is not None:
        weights = find_weights(run_dir)
        if weights is None:
            raise BenchmarkRunError(
                f"{run_dir} holds no trained weights (model.pth or checkpoints/last.pth) to "
                "re-evaluate; train it first (--mode train).")
        cfg = _with(cfg, {"test.evaluate": True, "model.load_weights": str(weights)})
        action = "evaluate"
    else:
        action = "train"
        last = run_dir / "checkpoints" / "last.pth"
        if not force and last.is_file() and cfg.train.max_time <= 0:
            logger.info("%s: resuming the interrupted run from %s", run_dir, last)
            cfg = _with(cfg, {"model.resume": str(last)})
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / BENCH_FILE).unlink(missing_ok=True)  # an interrupted run is never collected

    from rganet_reid.utils.logging import setup_logging

    setup_logging(run_dir)
    logger.info("Benchmark run %s | entry %r | targets %s | seed %d | %s", run_dir,
                plan.entry.label, ", ".join(targets), plan.seed, action)
    t0 = time.monotonic()
    engine = train_and_evaluate(cfg)
    wall = time.monotonic() - t0

    model = prepare_for_inference(engine.model)
    inference = measure_inference(
        model, throughput.batch_size, (int(cfg.data.height), int(cfg.data.width)),
        engine.device, warmup=throughput.warmup, repeats=throughput.repeats)
    if action == "train":
        training = _training_block(read_json(run_dir / "train_summary.json") or {})
    else:
        training = previous.get("training")
    record = {
        "format": RUN_FORMAT, "version": RUN_FORMAT_VERSION, "status": "complete",
        "config_hash": plan.config_hash, "evaluation": evaluation_settings(cfg),
        "seed": plan.seed, "sources": list(cfg.data.sources), "targets": targets,
        "action": action,
        "created_by": previous.get("created_by") or {"spec": spec_name,
                                                     "entry": plan.entry.label},
        "descriptor": plan.descriptor(),
        "weights": cfg.model.load_weights or str(find_weights(run_dir) or ""),
        "params": count_parameters(model),
        "inference": inference.to_dict(),
        "training": training,
        "wall_time_s": wall + (float(previous.get("wall_time_s", 0.0))
                               if action == "evaluate" else 0.0),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(engine.device),
    }
    write_json_atomic(run_dir / BENCH_FILE, record)
    logger.info("%s: %.2fM params, inference %.1f img/s (batch %d, %s), wall %.0f s",
                plan.entry.label, record["params"] / 1e6, inference.images_per_s,
                inference.batch_size, inference.device, wall)
    return record


def _execute_oracle(plan: RunPlan, cfg: CfgNode, previous: dict[str, Any],
                    spec_name: str) -> dict[str, Any]:
    """Evaluate an oracle entry (no model, nothing trained) and store it like a run."""
    from rganet_reid.benchmark.oracle import evaluate_oracle

    plan.run_dir.mkdir(parents=True, exist_ok=True)
    (plan.run_dir / BENCH_FILE).unlink(missing_ok=True)
    t0 = time.monotonic()
    results = evaluate_oracle(cfg, plan.entry.oracle)
    write_json_atomic(plan.run_dir / "results.json",
                      {"model": cfg.model.name, "epoch": None, "results": results})
    record = {
        "format": RUN_FORMAT, "version": RUN_FORMAT_VERSION, "status": "complete",
        "config_hash": plan.config_hash, "evaluation": evaluation_settings(cfg),
        "seed": plan.seed, "sources": list(cfg.data.sources), "targets": list(cfg.data.targets),
        "action": "oracle", "oracle": plan.entry.oracle,
        "created_by": previous.get("created_by") or {"spec": spec_name,
                                                     "entry": plan.entry.label},
        "descriptor": plan.descriptor(), "weights": "", "params": None, "inference": {},
        "training": None, "wall_time_s": time.monotonic() - t0,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
    }
    write_json_atomic(plan.run_dir / BENCH_FILE, record)
    return record


def _same_throughput(bench: dict[str, Any], settings: ThroughputSettings) -> bool:
    """The stored inference measurement used these settings (else it is re-measured)."""
    inf = bench.get("inference") or {}
    return (inf.get("batch_size"), inf.get("warmup"), inf.get("repeats")) == (
        settings.batch_size, settings.warmup, settings.repeats)


def _training_block(summary: dict[str, Any]) -> dict[str, Any] | None:
    epochs = summary.get("epochs") or []
    if not epochs:
        return None
    return {"images_per_s": training_throughput(epochs), "epochs": len(epochs),
            "train_time_s": summary.get("train_time_s")}


def _with(cfg: CfgNode, values: dict[str, Any]) -> CfgNode:
    clone = cfg.clone()
    clone.defrost()
    for key, value in values.items():
        set_key(clone, key, value, "the benchmark runner")
    clone.freeze()
    return clone


def train_and_evaluate(cfg: CfgNode):
    """What ``rganet-main`` does for ``cfg``, returning the engine so its trained model can be
    measured."""
    from rganet_reid.cli.main import build

    engine = build(cfg)
    engine.run()
    return engine


def check_trainable(plans: list[RunPlan]) -> None:
    """Build the losses of every model run before anything trains, so a config that cannot
    train (an engine/loss pair no engine takes, L_seg class weights or a label map for another
    N) stops the benchmark at once, naming every such entry, instead of hours into it."""
    from rganet_reid.engine.builder import engine_name
    from rganet_reid.losses import build_loss

    problems = []
    for plan in plans:
        if plan.entry.oracle:
            continue
        try:
            if engine_name(plan.cfg) == "rganet":
                build_loss(plan.cfg, num_classes=2)
        except ValueError as err:
            problems.append(f"entry {plan.entry.label!r}, seed {plan.seed}: {err}")
    if problems:
        raise BenchmarkRunError("These runs cannot train; nothing was started:\n  "
                                + "\n  ".join(problems))


def run_benchmark(spec: BenchmarkSpec, runs_root: str | Path, mode: str = "train",
                  root: str | Path | None = None, force: bool = False) -> list[RunPlan]:
    """Execute every run of ``spec`` under ``runs_root``; returns the plans it ran."""
    plans = plan_runs(spec, runs_root, root)
    check_trainable(plans)
    logger.info("Benchmark %r: %d runs (%d entries x %d train groups x %d seeds), mode %s",
                spec.name, len(plans), len(spec.entries), len(train_groups(spec.protocols)),
                len(spec.seeds), mode)
    done: set[Path] = set()
    for plan in plans:
        if plan.run_dir in done:  # two entries of one spec with the same config
            continue
        execute(plan, mode, spec.throughput, force, spec.name)
        done.add(plan.run_dir)
    return plans
