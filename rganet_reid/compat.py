"""One place that imports torchreid, whatever its packaging.

Two shapes of torchreid exist in the wild:

* the PyPI package ``torchreid==0.2.5`` ("Torchreid-Pip"), which ships upstream torchreid 1.4.0
  under ``torchreid.reid.*``;
* upstream torchreid installed from git, which exposes the same modules as ``torchreid.*``.

Everything in rganet-reid imports torchreid through this module, e.g.
``from rganet_reid.compat import torchreid_models``.
"""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType

__all__ = [
    "TORCHREID_LAYOUT",
    "resolve_torchreid",
    "torchreid_root",
    "torchreid_data",
    "torchreid_datasets",
    "torchreid_engine",
    "torchreid_losses",
    "torchreid_metrics",
    "torchreid_models",
    "torchreid_sampler",
    "register_image_dataset",
    "model_factory",
]


def resolve_torchreid(import_module=importlib.import_module) -> tuple[ModuleType, str]:
    """Return ``(root_module, layout)`` where layout is ``"pip"`` or ``"upstream"``.

    ``root_module`` is the package that holds ``models``, ``data``, ``engine``, ...:
    ``torchreid.reid`` for the PyPI build, ``torchreid`` for upstream.
    ``import_module`` is injectable so both shapes can be tested.
    """
    with warnings.catch_warnings():
        # The PyPI build lacks the Cython ranking kernel and warns on import; our own
        # evaluation (rganet_reid.evaluation) does not use it.
        warnings.filterwarnings("ignore", message="Cython evaluation")
        try:
            return import_module("torchreid.reid"), "pip"
        except ModuleNotFoundError as err:
            if err.name not in ("torchreid.reid", "torchreid"):
                raise
        try:
            root = import_module("torchreid")
        except ModuleNotFoundError as err:
            raise ImportError(
                "torchreid is not installed. Install it with `pip install torchreid` "
                "(PyPI build, torchreid.reid.*) or from "
                "https://github.com/KaiyangZhou/deep-person-reid (torchreid.*)."
            ) from err
        if not hasattr(root, "models") or not hasattr(root, "data"):
            raise ImportError(
                f"The installed torchreid at {getattr(root, '__file__', '?')} has neither "
                "torchreid.reid.models nor torchreid.models; it is not a known torchreid layout."
            )
        return root, "upstream"


_ROOT, TORCHREID_LAYOUT = resolve_torchreid()


def _sub(name: str) -> ModuleType:
    return importlib.import_module(f"{_ROOT.__name__}.{name}")


torchreid_root: ModuleType = _ROOT
torchreid_models: ModuleType = _sub("models")
torchreid_data: ModuleType = _sub("data")
torchreid_datasets: ModuleType = _sub("data.datasets")
torchreid_sampler: ModuleType = _sub("data.sampler")
torchreid_engine: ModuleType = _sub("engine")
torchreid_losses: ModuleType = _sub("losses")
torchreid_metrics: ModuleType = _sub("metrics")


def model_factory() -> dict:
    """torchreid's model name → constructor dict (``models.__model_factory``).

    torchreid has no public model registry; ``build_model`` looks names up in this
    module-level dict, so registering a model means inserting into it.
    """
    factory = getattr(torchreid_models, "__model_factory", None)
    if not isinstance(factory, dict):
        raise ImportError(
            f"{torchreid_models.__name__}.__model_factory is missing; this torchreid version "
            "cannot have models registered into it."
        )
    return factory


def image_dataset_factory() -> dict:
    """torchreid's dataset name → class dict (``data.datasets.__image_datasets``)."""
    factory = getattr(torchreid_datasets, "__image_datasets", None)
    if not isinstance(factory, dict):
        raise ImportError(f"{torchreid_datasets.__name__}.__image_datasets is missing.")
    return factory


def register_image_dataset(name: str, dataset_cls: type) -> None:
    """Register ``dataset_cls`` under ``name`` with torchreid; a repeat is harmless.

    torchreid's own ``register_image_dataset`` raises on a name it already holds. Registering the
    same class twice (e.g. a module re-import) is a no-op here; registering a *different* class
    under a taken name is an error naming both.
    """
    existing = image_dataset_factory().get(name)
    if existing is None:
        torchreid_data.register_image_dataset(name, dataset_cls)
    elif not _same_class(existing, dataset_cls):
        raise ValueError(
            f"torchreid already has an image dataset named {name!r} "
            f"({existing.__module__}.{existing.__qualname__}); refusing to replace it with "
            f"{dataset_cls.__module__}.{dataset_cls.__qualname__}."
        )


def register_model(name: str, constructor) -> None:
    """Insert ``constructor`` into torchreid's model factory under ``name`` (idempotent)."""
    factory = model_factory()
    existing = factory.get(name)
    if existing is not None and not _same_class(existing, constructor):
        raise ValueError(
            f"torchreid already has a model named {name!r} ({existing.__module__}."
            f"{existing.__qualname__}); refusing to replace it."
        )
    factory[name] = constructor


def _same_class(a, b) -> bool:
    """Same object, or the same qualified name (a re-imported module gives a new object)."""
    return a is b or (
        getattr(a, "__module__", None) == getattr(b, "__module__", None)
        and getattr(a, "__qualname__", None) == getattr(b, "__qualname__", None)
    )
