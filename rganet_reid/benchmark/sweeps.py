"""Sweeps (Fig. 3): one base entry and, per swept config key, one entry per other value."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rganet_reid.benchmark.spec import Entry, SpecError, parse_overrides

#: Short names of the hyper-parameters of Fig. 3 (used in labels, table rows and plots).
SWEEP_SYMBOLS: dict[str, str] = {
    "rganet.num_regions": "N",
    "rganet.gamma": "γ",
    "rganet.prompt.n_ctx": "K",
    "rganet.memory.momentum": "m_u",
}


def sweep_entries(base: Entry, values: Mapping[str, Any], fixed: Mapping[str, Any],
                  base_config: Path | None, where: str) -> list[Entry]:
    """The entries of one sweep group besides ``base``: one per swept value that differs from
    the value ``base`` trains with (its config, its overrides, the spec's ``fixed`` ones).

    ``values`` maps config keys to lists of points (see :func:`sweep_point`).
    """
    from rganet_reid.config import load_config
    from rganet_reid.config.keys import get_key

    base_cfg = load_config(base.config or base_config or None, freeze=False)
    known = {**base.overrides, **fixed}
    entries: list[Entry] = []
    for key, points in values.items():
        if not isinstance(points, list) or not points:
            raise SpecError(f"{where}.values.{key} must be a non-empty list")
        default = known[key] if key in known else get_key(base_cfg, key, f"{where}.values")
        symbol = SWEEP_SYMBOLS.get(key, key.rsplit(".", 1)[-1])
        for item in points:
            value, extra = sweep_point(item, f"{where}.values.{key}")
            if _same(value, default):
                continue  # the base entry is this point of the curve
            entries.append(Entry(label=f"{base.label}, {symbol}={value}",
                                 config=base.config, model=base.model,
                                 overrides={**base.overrides, **extra, key: value},
                                 weights=None, sweep_keys=(key,)))
    return entries


def sweep_point(item: Any, where: str) -> tuple[Any, dict[str, Any]]:
    """A swept value: a scalar, or ``{value: V, overrides: {...}}`` when a point needs more
    keys changed with it (e.g. ``rganet.seg.label_map`` for another region count)."""
    if isinstance(item, Mapping):
        if "value" not in item or set(item) - {"value", "overrides"}:
            raise SpecError(f"{where}: a point is a value or {{value: V, overrides: {{...}}}}, "
                            f"got {dict(item)!r}")
        return item["value"], parse_overrides(item.get("overrides"), where)
    return item, {}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return a == b
