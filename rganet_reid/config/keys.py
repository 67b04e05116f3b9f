"""Dotted config keys (``"train.lr"``): the one place that walks a config by a key path.

A key path names a leaf (``train.lr``) or a section (``rganet.seg``) of the defaults. Every
lookup of an unknown key raises :class:`ConfigError` naming the key, where it came from and
the closest valid keys; every assignment coerces the value to the type of the value it
replaces (int → float allowed, tuple → list, one string for a list key).
"""

from __future__ import annotations

import difflib
from typing import Any

from yacs.config import CfgNode as CN


class ConfigError(ValueError):
    """A configuration file or override does not fit the defaults."""


def valid_keys(node: CN, prefix: str = "") -> list[str]:
    """Every key path of ``node`` (sections and leaves), depth first."""
    keys = []
    for k, v in node.items():
        full = f"{prefix}{k}"
        keys.append(full)
        if isinstance(v, CN):
            keys.extend(valid_keys(v, full + "."))
    return keys


def unknown_key_error(cfg: CN, key: str, source: str) -> ConfigError:
    """The error for ``key`` (not in ``cfg``), with the closest valid keys as a hint."""
    close = difflib.get_close_matches(key, valid_keys(cfg), n=3, cutoff=0.6)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    return ConfigError(f"Unknown config key '{key}' in {source}.{hint}")


def coerce(value: Any, default: Any, key: str, source: str) -> Any:
    """``value`` as the type of ``default`` (int→float allowed, tuples→lists), else an error."""
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(default, float) and isinstance(value, (int, float)) and not isinstance(
        value, bool
    ):
        return float(value)
    elif isinstance(default, (list, tuple)) and isinstance(value, (list, tuple)):
        return list(value)
    elif isinstance(default, (list, tuple)) and isinstance(value, str):
        return [value]  # "-s market1501" style single name for a list key
    elif isinstance(default, str) and isinstance(value, str):
        return value
    elif isinstance(default, int) and isinstance(value, int) and not isinstance(value, bool):
        return value
    elif default is None:
        return value
    raise ConfigError(
        f"Config key '{key}' in {source} expects {type(default).__name__} "
        f"(default {default!r}), got {type(value).__name__} {value!r}."
    )


def _parent(cfg: CN, key: str, source: str) -> tuple[CN, str]:
    """The section holding ``key``'s last part, and that part."""
    *parents, leaf = key.split(".")
    node = cfg
    for part in parents:
        if part not in node or not isinstance(node[part], CN):
            raise unknown_key_error(cfg, key, source)
        node = node[part]
    if leaf not in node:
        raise unknown_key_error(cfg, key, source)
    return node, leaf


def has_key(cfg: CN, key: str) -> bool:
    """Whether ``key`` names a section or a leaf of ``cfg``."""
    try:
        _parent(cfg, key, "")
    except ConfigError:
        return False
    return True


def get_key(cfg: CN, key: str, source: str = "a key lookup") -> Any:
    """The value (or section) at ``key``; unknown keys raise :class:`ConfigError`."""
    node, leaf = _parent(cfg, key, source)
    return node[leaf]


def set_key(cfg: CN, key: str, value: Any, source: str) -> None:
    """Set the leaf ``key`` of the (unfrozen) ``cfg`` to ``value``, coerced to its type.

    Raises :class:`ConfigError` for an unknown key, a section, or a value of the wrong type;
    ``source`` (a file, "the command line", …) is named in the message.
    """
    node, leaf = _parent(cfg, key, source)
    if isinstance(node[leaf], CN):
        raise ConfigError(f"Config key '{key}' in {source} is a section; name one of its keys "
                          f"({', '.join(node[leaf])}).")
    node[leaf] = coerce(value, node[leaf], key, source)
