"""Load a configuration: defaults → YAML files (with ``_BASE_``) → command-line overrides.

Every key must already exist in :func:`rganet_reid.config.defaults.get_default_config`; an
unknown key is an error that names the key, the file it came from and the closest valid keys.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from yacs.config import CfgNode as CN

from rganet_reid.config.defaults import get_default_config
from rganet_reid.config.keys import ConfigError, coerce, set_key, unknown_key_error

BASE_KEY = "_BASE_"


def read_yaml_mapping(path: str | Path, error: type[Exception] = ConfigError,
                      what: str = "Config file") -> dict:
    """Read a YAML file whose top level is a mapping; ``error`` names the file on any problem."""
    path = Path(path).resolve()
    if not path.is_file():
        raise error(f"{what} not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise error(f"{path}: not valid YAML: {' '.join(str(err).split())}") from err
    if not isinstance(data, dict):
        raise error(f"{path}: top level must be a mapping, got {type(data).__name__}")
    return data


def load_yaml_with_base(path: str | Path, _seen: tuple[Path, ...] = ()) -> dict:
    """Read ``path`` and recursively merge the files named by its ``_BASE_`` key underneath it.

    ``_BASE_`` may be one path or a list, relative to the file that names it. Later bases and
    the file itself override earlier ones.
    """
    path = Path(path).resolve()
    if path in _seen:
        chain = " -> ".join(str(p) for p in (*_seen, path))
        raise ConfigError(f"_BASE_ cycle: {chain}")
    data = read_yaml_mapping(path)
    bases = data.pop(BASE_KEY, None)
    if bases is None:
        return _tag_origin(data, path)
    merged = _tag_origin({}, path)
    for base in [bases] if isinstance(bases, str) else list(bases):
        base_path = (path.parent / base).resolve()
        if not base_path.is_file():
            raise ConfigError(f"{path}: its _BASE_ {base!r} is not a file ({base_path}); paths "
                              "are relative to the file that names them.")
        _deep_update(merged, load_yaml_with_base(base_path, (*_seen, path)))
    _deep_update(merged, _tag_origin(data, path))
    return merged


class _Origin(dict):
    """A dict that remembers which file each of its keys was read from (for error messages:
    a key a child file adds to a section of its ``_BASE_`` is the child's)."""

    origin: Path
    origins: dict[str, Path]


def _tag_origin(data: dict, path: Path) -> dict:
    tagged = _Origin()
    tagged.origin, tagged.origins = path, {}
    for key, value in data.items():
        tagged[key] = _tag_origin(value, path) if isinstance(value, dict) else value
        tagged.origins[key] = path
    return tagged


def _deep_update(dst: dict, src: Mapping) -> None:
    for key, value in src.items():
        if isinstance(value, Mapping) and isinstance(dst.get(key), dict):
            _deep_update(dst[key], value)
        else:
            dst[key] = value
            if isinstance(dst, _Origin) and isinstance(src, _Origin):
                dst.origins[key] = src.origins[key]


def merge_dict(
    cfg: CN, data: Mapping, source: str, prefix: str = "", root: CN | None = None
) -> None:
    """Merge ``data`` into ``cfg`` in place, rejecting unknown keys and wrong types."""
    root = cfg if root is None else root
    for key, value in data.items():
        full_key = f"{prefix}{key}"
        where = str(getattr(data, "origins", {}).get(key) or getattr(data, "origin", source))
        if key not in cfg:
            raise unknown_key_error(root, full_key, where)
        current = cfg[key]
        if isinstance(current, CN):
            if not isinstance(value, Mapping):
                raise ConfigError(f"Config key '{full_key}' in {where} is a section; "
                                  f"expected a mapping, got {value!r}.")
            merge_dict(current, value, source, full_key + ".", root)
        else:
            cfg[key] = coerce(value, current, full_key, where)


def parse_value(text: str) -> Any:
    """Parse a command-line value like yacs does (Python literal, else the raw string); a
    bracketed list of bare names (``[synthocc_holistic, synthocc_partial]``) is read as YAML."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        if text.startswith("[") and text.endswith("]"):
            try:
                return yaml.safe_load(text)
            except yaml.YAMLError:
                return text
        return text


def merge_opts(cfg: CN, opts: Sequence[str]) -> None:
    """Merge ``KEY VALUE`` pairs (``train.lr 0.001 model.name resnet50``) into ``cfg``."""
    if len(opts) % 2:
        raise ConfigError(f"Command-line overrides must be KEY VALUE pairs, got {list(opts)}")
    for key, raw in zip(opts[0::2], opts[1::2]):
        set_key(cfg, key, parse_value(raw), "the command line")


def load_config(
    config_file: str | Path | None = None, opts: Sequence[str] = (), freeze: bool = True
) -> CN:
    """Defaults, then ``config_file`` (with its ``_BASE_`` chain), then ``opts``."""
    cfg = get_default_config()
    if config_file:
        merge_dict(cfg, load_yaml_with_base(config_file), str(config_file))
    merge_opts(cfg, list(opts))
    if freeze:
        cfg.freeze()
    return cfg
