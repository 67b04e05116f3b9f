"""Engines by ``loss.name``: each engine module registers itself here."""

from rganet_reid.utils.registry import Registry

ENGINES: Registry = Registry("engine (loss.name)")
