"""Leaderboard rows from stored runs: read run folders, merge seeds into mean ± std.

Nothing here trains or measures: it reads what :mod:`rganet_reid.benchmark.runner` left in
run folders (``bench.json`` + the engine's ``results.json``), from one benchmark output
folder or several (e.g. seeds run on different days or machines).
"""

from __future__ import annotations

import json
import logging
import math
import statistics
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rganet_reid.benchmark.protocols import PROTOCOLS
from rganet_reid.benchmark.runner import BENCH_FILE, RUN_FORMAT

logger = logging.getLogger(__name__)

#: Metric keys of results.json that leaderboards report (ranks vary by protocol).
METRIC_KEYS: tuple[str, ...] = ("rank1", "rank3", "rank5", "rank10", "mAP", "mINP")
#: Region measurements against part ground truth (evaluation/region_report.py), for region
#: models on datasets that have it; a spec's ``metrics`` may name them as table columns.
REGION_METRIC_KEYS: tuple[str, ...] = (
    "miou", "auroc_w", "auroc_alpha", "auroc_beta", "eq10_global_mAP", "eq10_uniform_mAP",
    "eq10_oracle_mAP", "eq10_global_rank1", "eq10_uniform_rank1", "eq10_oracle_rank1")
_STORED_KEYS = METRIC_KEYS + REGION_METRIC_KEYS


class LeaderboardError(ValueError):
    """Stored runs are missing or inconsistent."""


@dataclass(frozen=True)
class Stat:
    """Mean ± sample standard deviation (ddof=1) over ``n`` runs; ``std`` is None for n=1."""

    mean: float
    std: float | None
    n: int

    @classmethod
    def of(cls, values: Iterable[float | None]) -> Stat | None:
        vals = [float(v) for v in values if v is not None and not math.isnan(float(v))]
        if not vals:
            return None
        std = statistics.stdev(vals) if len(vals) > 1 else None
        return cls(statistics.fmean(vals), std, len(vals))

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "std": self.std, "n": self.n}


@dataclass
class RunResult:
    """One protocol's outcome of one stored run."""

    entry: str
    protocol: str
    dataset: str
    seed: int
    metrics: dict[str, float]
    params: int | None
    inference_ips: float | None
    training_ips: float | None
    descriptor: dict[str, Any] = field(default_factory=dict)
    override_keys: list[str] = field(default_factory=list)
    sweep_keys: list[str] = field(default_factory=list)
    run_dir: Path | None = None
    date: str = ""
    bench: dict[str, Any] = field(default_factory=dict)


@dataclass
class MergedRow:
    """All seeds of one (entry, protocol), merged."""

    entry: str
    protocol: str
    dataset: str
    seeds: list[int]
    metrics: dict[str, Stat]
    params: Stat | None
    inference_ips: Stat | None
    training_ips: Stat | None
    descriptor: dict[str, Any]
    override_keys: list[str]
    sweep_keys: list[str]
    runs: list[RunResult]


def find_run_dirs(roots: Iterable[str | Path]) -> list[Path]:
    """Folders under ``roots`` (recursively, roots included) that hold a ``bench.json``."""
    dirs: list[Path] = []
    for root in roots:
        root = Path(root)
        if not root.exists():
            raise LeaderboardError(f"Run folder {root} does not exist")
        found = sorted(p.parent for p in root.rglob(BENCH_FILE))
        if not found:
            logger.warning("No %s under %s", BENCH_FILE, root)
        dirs.extend(found)
    return dirs


def protocols_of(sources: Sequence[str], targets: Sequence[str]) -> dict[str, str]:
    """Protocol name → dataset for the targets a model trained on ``sources`` was tested on."""
    out = {}
    for target in targets:
        names = [p.name for p in PROTOCOLS.values()
                 if p.target == target and list(p.sources) == list(sources)]
        out[names[0] if names else target] = target
    return out


def load_run(run_dir: str | Path) -> list[RunResult]:
    """The per-protocol results of one run folder (``bench.json`` + ``results.json``).

    Labels and descriptors are those recorded by the run's creator; :func:`collect_runs`
    replaces them with a spec's own.
    """
    run_dir = Path(run_dir)
    bench = _read(run_dir / BENCH_FILE)
    if bench.get("format") != RUN_FORMAT:
        raise LeaderboardError(f"{run_dir / BENCH_FILE}: not a benchmark run record "
                               f"(format {bench.get('format')!r}, expected {RUN_FORMAT!r})")
    if bench.get("status") != "complete":
        raise LeaderboardError(f"{run_dir}: run is not complete")
    results = _read(run_dir / "results.json").get("results")
    if not isinstance(results, dict):
        raise LeaderboardError(f"{run_dir / 'results.json'}: no 'results' mapping")
    inference = bench.get("inference") or {}
    training = bench.get("training") or {}
    creator = bench.get("created_by") or {}
    out = []
    for protocol, dataset in protocols_of(bench.get("sources", []),
                                          bench.get("targets", [])).items():
        if dataset not in results:
            raise LeaderboardError(f"{run_dir / 'results.json'} has no results for {dataset!r} "
                                   f"(protocol {protocol}); it has {sorted(results)}")
        m = results[dataset]
        out.append(RunResult(
            entry=str(creator.get("entry", run_dir.parent.name)), protocol=protocol,
            dataset=dataset, seed=int(bench["seed"]),
            metrics={k: float(m[k]) for k in _STORED_KEYS if k in m},
            params=bench.get("params"), inference_ips=inference.get("images_per_s"),
            training_ips=training.get("images_per_s"),
            descriptor=dict(bench.get("descriptor") or {}),
            run_dir=run_dir, date=str(bench.get("date", "")), bench=bench,
        ))
    return out


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LeaderboardError(f"{path} is missing") from None
    except json.JSONDecodeError as err:
        raise LeaderboardError(f"{path}: not valid JSON ({err})") from err
    if not isinstance(data, dict):
        raise LeaderboardError(f"{path}: expected a JSON object")
    return data


def _dedupe(results: Iterable[RunResult]) -> list[RunResult]:
    """One result per (entry, protocol, seed): the newest, with a warning for the others."""
    chosen: dict[tuple[str, str, int], RunResult] = {}
    for res in results:
        key = (res.entry, res.protocol, res.seed)
        other = chosen.get(key)
        if other is not None:
            if other.run_dir == res.run_dir:
                continue
            if other.date > res.date:
                res, other = other, res
            logger.warning("%s seed %d %s found in %s and %s; keeping the newer %s",
                           res.entry, res.seed, res.protocol, other.run_dir, res.run_dir,
                           res.run_dir)
        chosen[key] = res
    return list(chosen.values())


def load_runs(roots: Iterable[str | Path]) -> list[RunResult]:
    """Every per-protocol result under ``roots``, labelled as their creators named them."""
    return _dedupe(res for run_dir in find_run_dirs(roots) for res in load_run(run_dir))


def collect_runs(plans: Sequence[Any], merge_roots: Iterable[str | Path] = ()) -> list[RunResult]:
    """A spec's results: its planned run folders plus runs of the same configs (any seed)
    found under ``merge_roots``, labelled with the spec's entries.

    ``plans``: :class:`rganet_reid.benchmark.runner.RunPlan` objects. A stored run belongs to a
    plan when it has the plan's config hash and training data; missing folders are skipped
    with a warning (``--mode collect`` before every run finished).
    """
    by_hash: dict[tuple[str, tuple[str, ...]], list[Path]] = {}
    for run_dir in find_run_dirs(merge_roots):
        bench = _read(run_dir / BENCH_FILE)
        key = (str(bench.get("config_hash")), tuple(bench.get("sources", [])))
        by_hash.setdefault(key, []).append(run_dir)
    out: list[RunResult] = []
    seen_groups: set[tuple[str, str]] = set()
    for plan in plans:
        dirs = []
        if (plan.run_dir / BENCH_FILE).is_file():
            dirs.append(plan.run_dir)
        else:
            logger.warning("No finished run for %r seed %d in %s", plan.entry.label, plan.seed,
                           plan.run_dir)
        group = (plan.entry.label, plan.config_hash)
        if group not in seen_groups:  # merged folders: every seed, once per entry
            dirs += by_hash.get((plan.config_hash, tuple(plan.cfg.data.sources)), [])
            seen_groups.add(group)
        for run_dir in dirs:
            for res in load_run(run_dir):
                if res.protocol in plan.protocols:
                    out.append(replace(res, entry=plan.entry.label,
                                       descriptor=plan.descriptor(),
                                       override_keys=sorted(plan.entry.overrides),
                                       sweep_keys=list(plan.entry.sweep_keys)))
    return _dedupe(out)


def merge_seeds(runs: Sequence[RunResult], entry_order: Sequence[str] | None = None,
                protocol_order: Sequence[str] | None = None) -> list[MergedRow]:
    """Group runs by (entry, protocol) and reduce each value to mean ± std over seeds.

    Rows come in ``entry_order`` × ``protocol_order`` (first appearance for the rest).
    """
    groups: OrderedDict[tuple[str, str], list[RunResult]] = OrderedDict()
    for res in runs:
        groups.setdefault((res.entry, res.protocol), []).append(res)

    def rank(order: Sequence[str] | None, value: str, fallback: int) -> tuple[int, int]:
        if order and value in order:
            return (0, list(order).index(value))
        return (1, fallback)

    firsts_e = {k[0]: i for i, k in reversed(list(enumerate(groups)))}
    firsts_p = {k[1]: i for i, k in reversed(list(enumerate(groups)))}
    keys = sorted(groups, key=lambda k: (rank(entry_order, k[0], firsts_e[k[0]]),
                                         rank(protocol_order, k[1], firsts_p[k[1]])))
    rows = []
    for entry, protocol in keys:
        group = sorted(groups[(entry, protocol)], key=lambda r: r.seed)
        metric_names = [k for k in _STORED_KEYS if any(k in r.metrics for r in group)]
        first = group[0]
        _check_consistent(group)
        rows.append(MergedRow(
            entry=entry, protocol=protocol, dataset=first.dataset,
            seeds=[r.seed for r in group],
            metrics={k: Stat.of(r.metrics.get(k) for r in group) for k in metric_names},
            params=_constant(Stat.of(r.params for r in group)),
            inference_ips=Stat.of(r.inference_ips for r in group),
            training_ips=Stat.of(r.training_ips for r in group),
            descriptor=first.descriptor, override_keys=first.override_keys,
            sweep_keys=first.sweep_keys, runs=group,
        ))
    return rows


def _constant(stat: Stat | None) -> Stat | None:
    """A value every seed shares (e.g. #params) is shown without a ± 0."""
    return Stat(stat.mean, None, stat.n) if stat is not None and stat.std == 0 else stat


def _check_consistent(group: Sequence[RunResult]) -> None:
    """Seeds of one entry must be the same model (same descriptor) to be averaged."""
    first = group[0]
    for other in group[1:]:
        diff = sorted(k for k in set(first.descriptor) | set(other.descriptor)
                      if first.descriptor.get(k) != other.descriptor.get(k))
        if diff:
            raise LeaderboardError(
                f"Entry {first.entry!r} ({first.protocol}): runs {first.run_dir} (seed "
                f"{first.seed}) and {other.run_dir} (seed {other.seed}) differ in {diff}; "
                "runs merged into one row must share their settings. Rename one entry.")
