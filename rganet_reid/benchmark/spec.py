"""Benchmark specs: one YAML file (or one command line) describes one table.

This module holds what a spec *is* (:class:`BenchmarkSpec`, :class:`Entry`); reading and
checking a file is :mod:`~rganet_reid.benchmark.spec_file`, sweep expansion
:mod:`~rganet_reid.benchmark.sweeps`, the protocols :mod:`~rganet_reid.benchmark.protocols`,
a spec from a command line :mod:`~rganet_reid.benchmark.cli`.

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

#: A spec's ``budget`` keys and the config keys they set.
BUDGET_KEYS: dict[str, str] = {"max_epoch": "train.max_epoch", "max_time": "train.max_time"}


class SpecError(ValueError):
    """A benchmark spec (file or command line) is malformed."""


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

    def fixed_overrides(self) -> dict[str, Any]:
        """Shared overrides plus the budget as config keys: applied to every entry last."""
        return fixed_overrides(self.overrides, self.budget)


def fixed_overrides(overrides: Mapping[str, Any], budget: Mapping[str, float]) -> dict[str, Any]:
    """A spec's shared ``overrides`` plus its ``budget`` as config keys (``train.max_epoch``
    ...): what every entry gets last, and so what no entry may override."""
    return {**overrides, **{BUDGET_KEYS[key]: value for key, value in budget.items()}}


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
