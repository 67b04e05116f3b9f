"""The loss registry: name → loss class with a ``from_config(cfg, num_classes)`` builder."""

from rganet_reid.utils.registry import Registry

LOSSES: Registry = Registry("loss")
