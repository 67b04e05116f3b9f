"""Register rganet-reid's datasets, models, engines and losses with torchreid (idempotent).

After ``import rganet_reid``:

* ``torchreid.data.ImageDataManager(sources="occluded_duke")`` and
  ``torchreid.data.datasets.init_image_dataset("synthocc_occluded", ...)`` find our datasets;
* ``torchreid.models.build_model("rganet_vit_b16", num_classes)`` builds RGANet;
* ``torchreid.engine.RGANetEngine`` and the RGANet losses sit next to torchreid's own.
"""

from __future__ import annotations

from rganet_reid import compat


def register_all() -> None:
    """Register everything; calling it again changes nothing."""
    from rganet_reid.data.datasets import DATASETS
    from rganet_reid.engine import PUBLIC_ENGINES
    from rganet_reid.losses import PUBLIC_LOSSES
    from rganet_reid.modeling import MODEL_CONSTRUCTORS

    for name in DATASETS:
        compat.register_image_dataset(name, DATASETS.get(name))
    for name, constructor in MODEL_CONSTRUCTORS.items():
        compat.register_model(name, constructor)
    _expose(compat.torchreid_engine, PUBLIC_ENGINES)
    _expose(compat.torchreid_losses, PUBLIC_LOSSES)


def _expose(module, objects: dict[str, object]) -> None:
    for name, obj in objects.items():
        existing = getattr(module, name, None)
        if existing is not None and not compat._same_class(existing, obj):
            raise ValueError(f"{module.__name__}.{name} already exists; refusing to replace it.")
        setattr(module, name, obj)
