"""A configuration saved by a run (``config.yaml``, a checkpoint's or an exported file's dump),
read back over the current defaults."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import yaml
from yacs.config import CfgNode

from rganet_reid.config.defaults import get_default_config
from rganet_reid.config.loader import ConfigError, merge_dict

logger = logging.getLogger(__name__)

__all__ = ["config_from_dump"]


def config_from_dump(text: str, origin: str) -> CfgNode:
    """A config saved by a run (``config.yaml`` or a checkpoint's ``config``) over the defaults.

    Keys this version no longer has are dropped with a warning naming them; wrong types are
    :class:`~rganet_reid.config.ConfigError`.
    """
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{origin}: not valid YAML: {err}") from err
    if not isinstance(data, Mapping):
        raise ConfigError(f"{origin}: top level must be a mapping, got {type(data).__name__}")
    cfg = get_default_config()
    dropped: list[str] = []
    merge_dict(cfg, _known_only(data, cfg, "", dropped), origin)
    if dropped:
        logger.warning("%s: ignoring %d key(s) this version does not have: %s", origin,
                       len(dropped), ", ".join(dropped))
    return cfg


def _known_only(data: Mapping, node: CfgNode, prefix: str, dropped: list[str]) -> dict:
    out = {}
    for key, value in data.items():
        if key not in node:
            dropped.append(f"{prefix}{key}")
        elif isinstance(node[key], CfgNode) and isinstance(value, Mapping):
            out[key] = _known_only(value, node[key], f"{prefix}{key}.", dropped)
        else:
            out[key] = value
    return out
