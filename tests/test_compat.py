"""rganet_reid.compat imports torchreid in both of its published shapes."""

import types

import pytest

from rganet_reid import compat


def fake_importer(modules: dict):
    def import_module(name):
        if name in modules:
            return modules[name]
        err = ModuleNotFoundError(f"No module named {name!r}")
        err.name = name
        raise err

    return import_module


def test_pip_layout_resolves_to_torchreid_reid():
    reid = types.ModuleType("torchreid.reid")
    root, layout = compat.resolve_torchreid(fake_importer({"torchreid.reid": reid}))
    assert root is reid and layout == "pip"


def test_upstream_layout_resolves_to_torchreid():
    top = types.ModuleType("torchreid")
    top.models = types.ModuleType("torchreid.models")
    top.data = types.ModuleType("torchreid.data")
    root, layout = compat.resolve_torchreid(fake_importer({"torchreid": top}))
    assert root is top and layout == "upstream"


def test_missing_torchreid_is_a_clear_import_error():
    with pytest.raises(ImportError, match="pip install torchreid"):
        compat.resolve_torchreid(fake_importer({}))


def test_unknown_torchreid_shape_is_rejected():
    with pytest.raises(ImportError, match="not a known torchreid layout"):
        compat.resolve_torchreid(fake_importer({"torchreid": types.ModuleType("torchreid")}))


def test_installed_torchreid_is_the_pip_layout_with_its_factories():
    assert compat.TORCHREID_LAYOUT == "pip"
    assert "resnet50" in compat.model_factory()
    assert "market1501" in compat.image_dataset_factory()


def test_registering_the_same_dataset_twice_is_harmless_and_a_clash_is_an_error():
    class Tiny:  # stands in for a dataset class
        pass

    compat.register_image_dataset("test_compat_tiny", Tiny)
    compat.register_image_dataset("test_compat_tiny", Tiny)
    assert compat.image_dataset_factory()["test_compat_tiny"] is Tiny

    class Other:
        pass

    with pytest.raises(ValueError, match="refusing to replace"):
        compat.register_image_dataset("test_compat_tiny", Other)
    with pytest.raises(ValueError, match="refusing to replace"):
        compat.register_image_dataset("market1501", Tiny)
