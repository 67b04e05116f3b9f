"""Datasets rganet-reid adds to torchreid.

Each dataset module registers its classes in :data:`DATASETS` with ``@DATASETS.register(name)``;
:func:`rganet_reid.register_all` then registers them with torchreid
(``torchreid.data.register_image_dataset``), so ``torchreid.data.ImageDataManager(sources=name)``
finds them too.
"""
# ruff: noqa: E402, F401  (DATASETS must exist before the dataset modules that fill it)

from rganet_reid.utils.registry import Registry

DATASETS: Registry = Registry("dataset")

from rganet_reid.data.datasets import (
    base,
    holistic,
    occluded_duke,
    occluded_reid,
    partial,
    synthocc,
)

__all__ = ["DATASETS"]
