"""Reading a spec file: YAML → checked :class:`~rganet_reid.benchmark.spec.BenchmarkSpec`.

The file format is described in :mod:`rganet_reid.benchmark.spec`. Every problem is a
:class:`~rganet_reid.benchmark.spec.SpecError` naming the file and what was expected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rganet_reid.benchmark.protocols import check_protocols
from rganet_reid.benchmark.spec import (
    BUDGET_KEYS,
    SHAPES,
    BenchmarkSpec,
    Entry,
    SpecError,
    ThroughputSettings,
    fixed_overrides,
    parse_overrides,
)
from rganet_reid.benchmark.sweeps import SWEEP_SYMBOLS, sweep_entries

_SPEC_KEYS = {"name", "title", "shape", "protocols", "seeds", "budget", "base_config",
              "overrides", "throughput", "metrics", "entries", "sweeps", "description"}
_ENTRY_KEYS = {"label", "config", "model", "overrides", "weights", "oracle"}


def resolve_path(value: str | Path, base_dir: Path | None, what: str) -> Path:
    """Resolve ``value`` against ``base_dir`` (the spec's folder), then the current directory."""
    path = Path(value).expanduser()
    if path.is_absolute():
        candidates = [path]
    else:
        candidates = ([base_dir / path] if base_dir is not None else []) + [Path.cwd() / path]
    for candidate in candidates:
        if candidate.exists():
            return candidate.resolve()
    tried = ", ".join(str(c) for c in candidates)
    raise SpecError(f"{what}: {value} not found (tried {tried})")


def check_budget(budget: Mapping[str, Any], where: str) -> dict[str, float]:
    """A budget with known keys (``max_epoch``, ``max_time``) and numbers >= 0."""
    unknown = set(budget) - set(BUDGET_KEYS)
    if unknown:
        raise SpecError(f"{where}: budget keys must be {sorted(BUDGET_KEYS)}, "
                        f"got {sorted(unknown)}")
    out: dict[str, float] = {}
    for key, value in budget.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise SpecError(f"{where}: budget.{key} must be a number >= 0, got {value!r}")
        out[key] = int(value) if key == "max_epoch" else float(value)
    return out


def validate_entries(entries: Sequence[Entry], fixed: Mapping[str, Any], where: str) -> None:
    """Labels are unique, model names exist and no entry changes a key the spec fixes for
    every entry — checked before any data is read or model built."""
    from rganet_reid.compat import model_factory
    from rganet_reid.engine.builder import rganet_model_names

    known = set(model_factory()) | set(rganet_model_names())
    seen: dict[str, str] = {}
    for entry in entries:
        if entry.slug in seen:
            raise SpecError(f"{where}: entry labels {seen[entry.slug]!r} and {entry.label!r} "
                            "collide; labels must be unique")
        seen[entry.slug] = entry.label
        clash = sorted(set(entry.overrides) & set(fixed))
        clash += [k for k in ("data.sources", "data.targets") if k in entry.overrides]
        if clash:
            raise SpecError(
                f"{where}: entry {entry.label!r} overrides {clash}, which the spec sets for "
                "every entry (shared overrides, budget, protocols); remove them from the entry "
                "so all entries are compared under the same settings.")
    for entry in entries:
        model = entry.overrides.get("model.name", entry.model)
        if model and model not in known:
            raise SpecError(f"{where}: entry {entry.label!r} names model {model!r}, which is not "
                            f"a model; e.g. {', '.join(rganet_model_names())}, osnet_x1_0, "
                            "resnet50 (or a config file).")


def parse_entry(raw: Any, index: int, base_dir: Path | None, where: str,
                sweep_keys: tuple[str, ...] = ()) -> Entry:
    """One item of ``entries`` (or a sweep's ``base``) as an :class:`Entry`."""
    if not isinstance(raw, Mapping):
        raise SpecError(f"{where}: entries[{index}] must be a mapping, got {raw!r}")
    unknown = set(raw) - _ENTRY_KEYS
    if unknown:
        raise SpecError(f"{where}: entries[{index}] has unknown keys {sorted(unknown)}; "
                        f"valid: {sorted(_ENTRY_KEYS)}")
    if not raw.get("config") and not raw.get("model") and not raw.get("oracle"):
        raise SpecError(f"{where}: entries[{index}] needs a config file or a model name "
                        "(or an oracle)")
    if raw.get("oracle"):
        from rganet_reid.benchmark.oracle import ORACLES

        if raw["oracle"] not in ORACLES or raw.get("model") or raw.get("weights"):
            raise SpecError(f"{where}: entries[{index}] oracle must be one of {ORACLES}, "
                            "without a model or weights")
    label = str(raw.get("label") or raw.get("model") or raw.get("oracle")
                or Path(str(raw["config"])).stem)
    config = (resolve_path(raw["config"], base_dir, f"{where}: entry {label!r} config")
              if raw.get("config") else None)
    weights = (resolve_path(raw["weights"], base_dir, f"{where}: entry {label!r} weights")
               if raw.get("weights") else None)
    overrides = parse_overrides(raw.get("overrides"), f"{where}: entry {label!r}")
    return Entry(label=label, config=config, model=raw.get("model") or None,
                 overrides=overrides, weights=weights, sweep_keys=sweep_keys,
                 oracle=raw.get("oracle") or None)


def _sweeps(raw: Any, base_dir: Path | None, fixed: Mapping[str, Any],
            base_config: Path | None, where: str) -> tuple[list[Entry], list[str]]:
    """The ``sweeps`` groups as entries (each base, then its points), and the swept keys."""
    groups = raw if isinstance(raw, list) else [raw]
    entries: list[Entry] = []
    keys_seen: list[str] = []
    for gi, group in enumerate(groups):
        gwhere = f"{where}: sweeps[{gi}]"
        if not isinstance(group, Mapping) or "base" not in group or "values" not in group:
            raise SpecError(f"{gwhere} must be a mapping with 'base' (an entry) and 'values' "
                            "({config.key: [v1, v2, ...]})")
        values = group["values"]
        if not isinstance(values, Mapping) or not values:
            raise SpecError(f"{gwhere}.values must map config keys to lists of values")
        keys = tuple(str(k) for k in values)
        base = parse_entry(group["base"], gi, base_dir, gwhere, sweep_keys=keys)
        entries += [base, *sweep_entries(base, values, fixed, base_config, gwhere)]
        keys_seen += [k for k in keys if k not in keys_seen]
    return entries, keys_seen


def spec_from_dict(data: Mapping[str, Any], source: Path | None = None) -> BenchmarkSpec:
    """Validate a spec mapping (as read from YAML) into a :class:`BenchmarkSpec`."""
    where = str(source) if source else "benchmark spec"
    base_dir = source.parent if source else None
    unknown = set(data) - _SPEC_KEYS
    if unknown:
        raise SpecError(f"{where}: unknown keys {sorted(unknown)}; valid: {sorted(_SPEC_KEYS)}")
    name = str(data.get("name") or (source.stem if source else ""))
    if not name:
        raise SpecError(f"{where}: a spec needs a name")
    shape = str(data.get("shape", "leaderboard"))
    if shape not in SHAPES:
        raise SpecError(f"{where}: shape must be one of {SHAPES}, got {shape!r}")
    protocols = check_protocols(list(data.get("protocols") or []), where)
    seeds = data.get("seeds", [1])
    seeds = [seeds] if isinstance(seeds, int) else list(seeds)
    if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise SpecError(f"{where}: seeds must be a list of integers, got {data.get('seeds')!r}")
    budget = check_budget(data.get("budget") or {}, where)
    overrides = parse_overrides(data.get("overrides"), f"{where}: overrides")
    fixed = fixed_overrides(overrides, budget)
    base_config = (resolve_path(data["base_config"], base_dir, f"{where}: base_config")
                   if data.get("base_config") else None)
    tp = data.get("throughput") or {}
    try:
        throughput = ThroughputSettings(**tp)
    except TypeError as err:
        raise SpecError(f"{where}: throughput takes batch_size, warmup, repeats: {err}") from None
    if throughput.batch_size < 1 or throughput.repeats < 1 or throughput.warmup < 0:
        raise SpecError(f"{where}: throughput needs batch_size >= 1, repeats >= 1, warmup >= 0")
    metrics = tuple(data.get("metrics") or ("rank1", "mAP"))
    entries = [parse_entry(e, i, base_dir, where)
               for i, e in enumerate(data.get("entries") or [])]
    sweep_keys: list[str] = []
    if data.get("sweeps"):
        if shape != "sweep":
            raise SpecError(f"{where}: 'sweeps' is only used by shape: sweep")
        more, sweep_keys = _sweeps(data["sweeps"], base_dir, fixed, base_config, where)
        entries.extend(more)
    if shape == "sweep":
        sweep_keys = sweep_keys or sorted({k for e in entries for k in e.overrides
                                           if k in SWEEP_SYMBOLS})
        entries = [e if e.sweep_keys else
                   Entry(e.label, e.config, e.model, e.overrides, e.weights,
                         tuple(k for k in sweep_keys if k in e.overrides) or tuple(sweep_keys))
                   for e in entries]
        if not sweep_keys:
            raise SpecError(f"{where}: a sweep needs 'sweeps' or entries overriding a swept key")
    if not entries:
        raise SpecError(f"{where}: no entries")
    validate_entries(entries, fixed, where)
    return BenchmarkSpec(
        name=name, shape=shape, protocols=protocols, entries=tuple(entries),
        title=str(data.get("title") or name), seeds=tuple(seeds), budget=budget,
        base_config=base_config, overrides=overrides, throughput=throughput, metrics=metrics,
        sweep_keys=tuple(sweep_keys), source=source,
    )


def load_spec(path: str | Path) -> BenchmarkSpec:
    """Read and validate a spec YAML file."""
    from rganet_reid.config.loader import read_yaml_mapping

    path = Path(path).resolve()
    data = read_yaml_mapping(path, SpecError, what="Benchmark spec")
    return spec_from_dict(data, source=path)
