"""Helpers for the model tests: the tiny CLIP architecture everywhere (fast on CPU)."""

from __future__ import annotations

import pytest

TINY = "RGANet-Tiny-ViT"


def tiny_cfg(height: int = 64, width: int = 32, **rganet):
    """Default config for ``rganet_tiny`` at ``height×width`` with ``rganet`` overrides.

    Nested keys use dots: ``tiny_cfg(**{"prompt.mode": "template"})``.
    """
    from rganet_reid.config.defaults import get_default_config

    cfg = get_default_config()
    cfg.model.name = "rganet_tiny"
    cfg.data.height, cfg.data.width = height, width
    for key, value in rganet.items():
        node = cfg.rganet
        *path, leaf = key.split(".")
        for part in path:
            node = getattr(node, part)
        setattr(node, leaf, value)
    return cfg


@pytest.fixture
def make_cfg():
    return tiny_cfg
