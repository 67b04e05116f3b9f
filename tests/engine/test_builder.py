"""Config → model: trained-on-first-use weights are resolved before any model is built, and the
engine comes from the model family."""

import pytest
import torch

from rganet_reid.config.clip_pretrain import LOCAL_TAG
from rganet_reid.config.defaults import get_default_config
from rganet_reid.engine import builder
from rganet_reid.modeling import MODEL_CONSTRUCTORS, PretrainedWeightsError, build_rganet
from rganet_reid.modeling.clip_backbone import create_clip

ARCH = "RGANet-Tiny-ViT"


def _rganet_cfg(tmp_path, pretrained=LOCAL_TAG):
    cfg = get_default_config()
    cfg.model.name, cfg.loss.name, cfg.model.pretrained = "rganet_tiny", "rganet", pretrained
    cfg.data.root = str(tmp_path)
    cfg.data.height, cfg.data.width = 64, 32
    cfg.rganet.regions = "stripes"
    cfg.freeze()
    return cfg


@pytest.fixture
def fake_pretraining(tmp_path, monkeypatch):
    """``resolve_pretrained`` without the minutes of training: saves a seeded tiny CLIP."""
    calls = []

    def resolve(cfg, arch):
        calls.append(arch)
        torch.manual_seed(11)
        path = tmp_path / "pretrained" / f"{arch}-{LOCAL_TAG}.pt"
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(create_clip(arch, (64, 32)).state_dict(), path)
        return str(path)

    monkeypatch.setattr("rganet_reid.pretrain.resolve_pretrained", resolve)
    return calls


def test_the_local_tag_becomes_its_file_in_a_copy_of_the_config(tmp_path, fake_pretraining):
    cfg = _rganet_cfg(tmp_path)
    resolved = builder.resolve_model_weights(cfg)
    assert fake_pretraining == [ARCH]
    assert resolved.model.pretrained == str(tmp_path / "pretrained" / f"{ARCH}-{LOCAL_TAG}.pt")
    assert cfg.model.pretrained == LOCAL_TAG  # the run's own config keeps the tag
    assert resolved.is_frozen()


def test_other_weight_values_pass_through_without_resolution(tmp_path, fake_pretraining):
    for value in ("", "openai", str(tmp_path / "w.pt")):
        cfg = _rganet_cfg(tmp_path, value)
        assert builder.resolve_model_weights(cfg) is cfg
    assert fake_pretraining == []


def test_build_model_loads_the_resolved_weights(tmp_path, fake_pretraining):
    model = builder.build_model(_rganet_cfg(tmp_path), 5)
    torch.manual_seed(11)
    expected = create_clip(ARCH, (64, 32)).visual.conv1.weight
    assert fake_pretraining == [ARCH]
    assert torch.equal(model.image_encoder.visual.conv1.weight, expected)


def test_model_building_refuses_the_tag_and_says_how_to_resolve_it(tmp_path, fake_pretraining):
    cfg = _rganet_cfg(tmp_path)
    with pytest.raises(PretrainedWeightsError, match="resolve_model_weights"):
        build_rganet(cfg, 5)
    with pytest.raises(PretrainedWeightsError, match="resolve_model_weights"):
        MODEL_CONSTRUCTORS["rganet_tiny"](5, pretrained=LOCAL_TAG, height=64, width=32)
    with pytest.raises(PretrainedWeightsError, match="never trains"):
        MODEL_CONSTRUCTORS["rganet_tiny"](5, cfg=cfg)
    assert fake_pretraining == []  # nothing was trained on the way


def test_the_tag_is_refused_for_torchreid_models(tmp_path):
    cfg = get_default_config()
    cfg.model.pretrained = LOCAL_TAG
    with pytest.raises(ValueError, match="CLIP weights for the RGANet models"):
        builder.resolve_model_weights(cfg)


def _pair(model, loss):
    cfg = get_default_config()
    cfg.model.name, cfg.loss.name = model, loss
    return cfg


@pytest.mark.parametrize("model, loss, engine", [
    ("rganet_tiny", "rganet", "rganet"),
    ("rganet_vit_b16", "rganet", "rganet"),
    ("osnet_x0_25", "softmax", "softmax_triplet"),
    ("resnet50", "triplet", "softmax_triplet"),
])
def test_the_engine_follows_the_model_family(model, loss, engine):
    assert builder.engine_name(_pair(model, loss)) == engine
    assert engine in builder.ENGINES


def test_build_model_alone_needs_no_engine():
    """Building a model for inference does not check the training loss of an RGANet model."""
    cfg = _pair("rganet_tiny", "triplet")
    cfg.data.height, cfg.data.width = 64, 32
    assert builder.build_model(cfg, 3).num_classes == 3
    with pytest.raises(ValueError, match="needs an RGANet model"):
        builder.build_model(_pair("osnet_x0_25", "rganet"), 3)


@pytest.mark.parametrize("model, loss, message", [
    ("rganet_tiny", "triplet", "RGANet model: it trains with loss.name rganet"),
    ("osnet_x0_25", "rganet", "needs an RGANet model"),
    ("osnet_x0_25", "arcface", "loss.name must be one of softmax, triplet, rganet"),
])
def test_model_and_loss_pairs_no_engine_trains_are_errors(model, loss, message):
    cfg = _pair(model, loss)
    with pytest.raises(ValueError, match=message):
        builder.engine_name(cfg)
    with pytest.raises(ValueError, match=message):  # before data or model are touched
        builder.build_engine(cfg, datamanager=None, device=torch.device("cpu"))
