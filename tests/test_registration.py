"""`import rganet_reid` registers datasets, models, engines and losses with torchreid."""

import rganet_reid
from rganet_reid import compat
from rganet_reid.data.datasets import DATASETS

EXPECTED_DATASETS = {"synthocc_occluded", "synthocc_partial", "synthocc_holistic",
                     "occluded_duke", "occluded_reid", "partial_reid", "partial_ilids"}


def test_every_dataset_is_in_torchreids_dataset_factory():
    factory = compat.image_dataset_factory()
    assert EXPECTED_DATASETS <= set(DATASETS.names())
    for name in DATASETS:
        assert factory[name] is DATASETS.get(name)


def test_torchreid_build_model_builds_rganet():
    model = compat.torchreid_models.build_model("rganet_tiny", 7, loss="rganet", pretrained=False)
    assert isinstance(model, rganet_reid.modeling.RGANet)


def test_engines_and_losses_sit_next_to_torchreids():
    assert compat.torchreid_engine.ReIDEngine is rganet_reid.engine.ReIDEngine
    assert issubclass(compat.torchreid_engine.ReIDEngine, compat.torchreid_engine.Engine)
    assert hasattr(compat.torchreid_losses, "RGANetLoss")


def test_registering_twice_is_harmless():
    before = dict(compat.image_dataset_factory())
    rganet_reid.register_all()
    rganet_reid.register_all()
    assert compat.image_dataset_factory() == before
