"""Benchmark specs: one YAML file (or one command line) describes one table.

A spec names the table (``name``, ``title``, ``shape``), what it is measured on
(``protocols``, ``seeds``), the shared training ``budget`` and the ``overrides`` every entry
gets, and the ``entries`` (rows): each a ``label`` plus a ``config`` file (RGANet and its
ablations) and/or a ``model`` name (any torchreid built-in or RGANet preset), per-entry
``overrides`` and optional ``weights`` to evaluate instead of training. File format::

    name: leaderboard                     # output file stem and README marker name
    title: RGANet vs torchreid on SynthOcc
    shape: leaderboard                    # see SHAPES
    protocols: [synthocc_occluded, synthocc_partial, synthocc_holistic]
    seeds: [1]
    budget: {max_epoch: 24}               # train.max_epoch and/or train.max_time (seconds)
    base_config: ../../../configs/Base-SynthOcc.yaml   # for entries given by model name
    overrides: {data.height: 128, data.width: 64, train.batch_size: 64}
    throughput: {batch_size: 128, warmup: 5, repeats: 20}
    metrics: [rank1, mAP]                 # columns of the per-protocol table shapes
    entries:
      - {label: RGANet, config: ../synth_occ.yaml}
      - {label: ViT baseline, config: ../synth_occ.yaml, overrides: {rganet.regions: none}}
      - {label: ResNet-50, model: resnet50}
      - {label: PCB (p4), model: pcb_p4}  # softmax-only models get loss.name softmax
    sweeps:                               # shape sweep only: entries generated per value
      - base: {label: RGM only, config: ../synth_occ.yaml, overrides: {rganet.dai: false}}
        values:
          rganet.gamma: [5, 10, 20, 50]       # the base's own value (20) is the base entry
          rganet.num_regions:                 # a point may change more keys with it
            - {value: 2, overrides: {rganet.seg.label_map: [0, 1, 1, 2, 2]}}

Relative paths are resolved against the spec file's folder, then the current directory.
Shared ``overrides`` and the ``budget`` are applied after each entry's own config and
overrides, so every entry trains with the same sampler, input size and budget; an entry that
overrides a key the spec fixes for all is an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SHAPES: tuple[str, ...] = ("leaderboard", "accuracy", "ablation", "prompts", "sweep",
                           "complexity")
"""Table shapes: ``leaderboard`` (one row per model × protocol, every metric, #params and
throughput), ``accuracy`` (Tables I–III: one row per model, chosen metrics per protocol),
``ablation`` (Table V: regions / DAI / IAI from each entry's config), ``prompts`` (Table VI),
``sweep`` (Fig. 3: one row per swept value, plus a PNG plot), ``complexity`` (Table VII:
FPS, #params, Rank-1, mAP)."""

#: torchreid built-ins whose training output only supports ``loss='softmax'`` in torchreid's
#: model zoo recipe (PCB's part classifiers); model-name entries for them default to softmax.
SOFTMAX_ONLY_MODELS: frozenset[str] = frozenset({"pcb_p4", "pcb_p6"})

#: Short names of the hyper-parameters of Fig. 3 (used in labels, table rows and plots).
SWEEP_SYMBOLS: dict[str, str] = {
    "rganet.num_regions": "N",
    "rganet.gamma": "γ",
    "rganet.prompt.n_ctx": "K",
    "rganet.memory.momentum": "m_u",
}

BUDGET_KEYS: dict[str, str] = {"max_epoch": "train.max_epoch", "max_time": "train.max_time"}
_SPEC_KEYS = {"name", "title", "shape", "protocols", "seeds", "budget", "base_config",
              "overrides", "throughput", "metrics", "entries", "sweeps", "description"}
_ENTRY_KEYS = {"label", "config", "model", "overrides", "weights", "oracle"}


class SpecError(ValueError):
    """A benchmark spec (file or command line) is malformed."""


@dataclass(frozen=True)
class Protocol:
    """An evaluation protocol: the datasets a model trains on and the one it is tested on."""

    name: str
    sources: tuple[str, ...]
    target: str
    title: str
    needs_root: bool = True

    @property
    def train_group(self) -> str:
        """Folder name shared by all protocols that train on the same data."""
        return "train-" + "+".join(self.sources)


#: Built-in protocols. SynthOcc's three protocols share one training split, so one trained
#: model is evaluated on all three; the real benchmarks follow the paper (Occluded-REID and
#: the partial sets are test-only and are evaluated with the Market-1501 model).
PROTOCOLS: dict[str, Protocol] = {p.name: p for p in (
    Protocol("synthocc_occluded", ("synthocc_occluded",), "synthocc_occluded",
             "SynthOcc occluded", needs_root=False),
    Protocol("synthocc_partial", ("synthocc_occluded",), "synthocc_partial",
             "SynthOcc partial", needs_root=False),
    Protocol("synthocc_holistic", ("synthocc_occluded",), "synthocc_holistic",
             "SynthOcc holistic", needs_root=False),
    Protocol("occluded_duke", ("occluded_duke",), "occluded_duke", "Occluded-Duke"),
    Protocol("occluded_reid", ("market1501_strict",), "occluded_reid", "Occluded-REID"),
    Protocol("partial_reid", ("market1501_strict",), "partial_reid", "Partial-REID"),
    Protocol("partial_ilids", ("market1501_strict",), "partial_ilids", "Partial-iLIDS"),
    Protocol("market1501", ("market1501_strict",), "market1501_strict", "Market-1501"),
    Protocol("msmt17", ("msmt17_strict",), "msmt17_strict", "MSMT17"),
)}


@dataclass(frozen=True)
class ThroughputSettings:
    """How inference throughput is measured (see :mod:`rganet_reid.benchmark.throughput`)."""

    batch_size: int = 128  # the paper's Table VII setting
    warmup: int = 5
    repeats: int = 20


@dataclass(frozen=True)
class Entry:
    """One row source: a config file and/or a model name, overrides, optional weights.

    ``sweep_keys``: for ``sweep`` tables, the hyper-parameters whose curve this entry is a
    point of (a sweep's base entry belongs to all of its group's keys).
    """

    label: str
    config: Path | None = None
    model: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    weights: Path | None = None
    sweep_keys: tuple[str, ...] = ()
    oracle: str | None = None  # a matcher with no learning (benchmark/oracle.py), not a model

    @property
    def slug(self) -> str:
        return slugify(self.label)


@dataclass(frozen=True)
class BenchmarkSpec:
    """A parsed spec; see the module docstring for the file format."""

    name: str
    shape: str
    protocols: tuple[str, ...]
    entries: tuple[Entry, ...]
    title: str = ""
    seeds: tuple[int, ...] = (1,)
    budget: dict[str, float] = field(default_factory=dict)
    base_config: Path | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    throughput: ThroughputSettings = field(default_factory=ThroughputSettings)
    metrics: tuple[str, ...] = ("rank1", "mAP")
    sweep_keys: tuple[str, ...] = ()
    source: Path | None = None

    def protocol(self, name: str) -> Protocol:
        return PROTOCOLS[name]

    def fixed_overrides(self) -> dict[str, Any]:
        """Shared overrides plus the budget as config keys: applied to every entry last."""
        fixed = dict(self.overrides)
        for key, value in self.budget.items():
            fixed[BUDGET_KEYS[key]] = value
        return fixed


def slugify(text: str) -> str:
    """A file-system friendly name: ``"PCB (p4)"`` → ``"pcb-p4"``."""
    slug = re.sub(r"[^A-Za-z0-9._=-]+", "-", text.strip()).strip("-").lower()
    return slug or "entry"


def parse_overrides(obj: Any, where: str) -> dict[str, Any]:
    """Overrides as ``{dotted.key: value}`` from a mapping or a flat ``[KEY, VALUE, ...]`` list.

    Nested mappings (``{train: {lr: 0.1}}``) are flattened to dotted keys.
    """
    if obj is None:
        return {}
    if isinstance(obj, Mapping):
        flat: dict[str, Any] = {}
        for key, value in obj.items():
            if isinstance(value, Mapping):
                for sub, sub_value in parse_overrides(value, where).items():
                    flat[f"{key}.{sub}"] = sub_value
            else:
                flat[str(key)] = value
        return flat
    if isinstance(obj, Sequence) and not isinstance(obj, str):
        items = list(obj)
        if len(items) % 2:
            raise SpecError(f"{where}: overrides must be KEY VALUE pairs, got {items}")
        return {str(k): v for k, v in zip(items[0::2], items[1::2])}
    raise SpecError(f"{where}: overrides must be a mapping or a KEY VALUE list, got {obj!r}")


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1}`` → ``{"a": {"b": 1}}`` (the shape :func:`merge_dict` takes)."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        node = nested
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise SpecError(f"Override {key!r} conflicts with a value set for {part!r}")
        node[parts[-1]] = value
    return nested


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


def check_protocols(names: Sequence[str], where: str) -> tuple[str, ...]:
    unknown = [n for n in names if n not in PROTOCOLS]
    if unknown:
        raise SpecError(f"{where}: unknown protocol(s) {unknown}. Valid: {', '.join(PROTOCOLS)}")
    if not names:
        raise SpecError(f"{where}: name at least one protocol ({', '.join(PROTOCOLS)})")
    return tuple(names)


def check_budget(budget: Mapping[str, Any], where: str) -> dict[str, float]:
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


def _entry(raw: Any, index: int, base_dir: Path | None, where: str,
           sweep_keys: tuple[str, ...] = ()) -> Entry:
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


def _expand_sweeps(raw: Any, base_dir: Path | None, fixed: Mapping[str, Any],
                   base_config: Path | None, where: str) -> tuple[list[Entry], list[str]]:
    """Turn ``sweeps`` groups into entries: the base, plus one entry per non-default value."""
    from rganet_reid.config import load_config

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
        base = _entry(group["base"], gi, base_dir, gwhere, sweep_keys=keys)
        base_cfg = load_config(base.config or base_config or None, freeze=False)
        entries.append(base)
        for key, vals in values.items():
            if not isinstance(vals, list) or not vals:
                raise SpecError(f"{gwhere}.values.{key} must be a non-empty list")
            default = _cfg_value(base_cfg, key, {**base.overrides, **fixed})
            symbol = SWEEP_SYMBOLS.get(key, key.rsplit(".", 1)[-1])
            for item in vals:
                value, extra = _sweep_point(item, f"{gwhere}.values.{key}")
                if _same(value, default):
                    continue  # the base entry is this point of the curve
                entries.append(Entry(label=f"{base.label}, {symbol}={value}",
                                     config=base.config, model=base.model,
                                     overrides={**base.overrides, **extra, key: value},
                                     weights=None, sweep_keys=(key,)))
            if key not in keys_seen:
                keys_seen.append(key)
    return entries, keys_seen


def _sweep_point(item: Any, where: str) -> tuple[Any, dict[str, Any]]:
    """A swept value: a scalar, or ``{value: V, overrides: {...}}`` when a point needs more
    keys changed with it (e.g. ``rganet.seg.label_map`` for another region count)."""
    if isinstance(item, Mapping):
        if "value" not in item or set(item) - {"value", "overrides"}:
            raise SpecError(f"{where}: a point is a value or {{value: V, overrides: {{...}}}}, "
                            f"got {dict(item)!r}")
        return item["value"], parse_overrides(item.get("overrides"), where)
    return item, {}


def _cfg_value(cfg, key: str, overrides: Mapping[str, Any]) -> Any:
    if key in overrides:
        return overrides[key]
    node = cfg
    for part in key.split("."):
        if part not in node:
            raise SpecError(f"Sweep key {key!r} is not a config key")
        node = node[part]
    return node


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return a == b


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
    fixed = {**overrides, **{BUDGET_KEYS[k]: v for k, v in budget.items()}}
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
    entries = [_entry(e, i, base_dir, where) for i, e in enumerate(data.get("entries") or [])]
    sweep_keys: list[str] = []
    if data.get("sweeps"):
        if shape != "sweep":
            raise SpecError(f"{where}: 'sweeps' is only used by shape: sweep")
        more, sweep_keys = _expand_sweeps(data["sweeps"], base_dir, fixed, base_config, where)
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


def validate_entries(entries: Sequence[Entry], fixed: Mapping[str, Any], where: str) -> None:
    """Labels are unique and no entry changes a key the spec fixes for every entry."""
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


def load_spec(path: str | Path) -> BenchmarkSpec:
    """Read and validate a spec YAML file."""
    from rganet_reid.config.loader import read_yaml_mapping

    path = Path(path).resolve()
    data = read_yaml_mapping(path, SpecError, what="Benchmark spec")
    return spec_from_dict(data, source=path)


def entry_from_token(token: str, weights: Mapping[str, str] | None = None) -> Entry:
    """A command-line model: a ``*.yaml`` config path, or a model name (torchreid/RGANet)."""
    weights = weights or {}
    if token.endswith((".yaml", ".yml")):
        config = resolve_path(token, None, "model config")
        label = config.stem
        return Entry(label=label, config=config, weights=_weights(weights, label))
    return Entry(label=token, model=token, weights=_weights(weights, token))


def _weights(weights: Mapping[str, str], label: str) -> Path | None:
    return resolve_path(weights[label], None, f"weights of {label}") if label in weights else None


def spec_from_models(
    models: Sequence[str],
    protocols: Sequence[str],
    *,
    name: str = "leaderboard",
    shape: str = "leaderboard",
    seeds: Sequence[int] = (1,),
    budget: Mapping[str, float] | None = None,
    overrides: Mapping[str, Any] | None = None,
    base_config: str | Path | None = None,
    weights: Mapping[str, str] | None = None,
    throughput: ThroughputSettings | None = None,
    metrics: Sequence[str] = ("rank1", "mAP"),
) -> BenchmarkSpec:
    """A spec from a command-line list of models (config paths or model names)."""
    where = "command line"
    if shape not in SHAPES or shape == "sweep":
        raise SpecError(f"{where}: --shape must be one of {[s for s in SHAPES if s != 'sweep']}"
                        " (sweeps need a spec file)")
    entries = [entry_from_token(m, weights) for m in models]
    if not entries:
        raise SpecError(f"{where}: name at least one model (--models)")
    unknown = set(weights or {}) - {e.label for e in entries}
    if unknown:
        raise SpecError(f"{where}: --weights for unknown model(s) {sorted(unknown)}")
    budget = check_budget(dict(budget or {}), where)
    overrides = dict(overrides or {})
    validate_entries(entries, {**overrides, **{BUDGET_KEYS[k]: v for k, v in budget.items()}},
                     where)
    return BenchmarkSpec(
        name=name, shape=shape, protocols=check_protocols(list(protocols), where),
        entries=tuple(entries), title=name, seeds=tuple(seeds), budget=budget,
        base_config=resolve_path(base_config, None, "--base-config") if base_config else None,
        overrides=overrides, throughput=throughput or ThroughputSettings(),
        metrics=tuple(metrics),
    )
