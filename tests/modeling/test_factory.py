"""Config → model, and the torchreid-style constructors."""

import pytest
import torch

from rganet_reid.modeling import MODEL_CONSTRUCTORS, build_rganet
from rganet_reid.modeling.clip_backbone import create_clip
from rganet_reid.modeling.factory import resolve_arch


def test_constructors_have_torchreid_names_and_signature():
    assert {"rganet", "rganet_vit_b16", "rganet_tiny"} <= set(MODEL_CONSTRUCTORS)
    model = MODEL_CONSTRUCTORS["rganet_tiny"](
        num_classes=7, loss="rganet", pretrained=False, use_gpu=False, height=64, width=32)
    assert model.global_head.classifier.out_features == 7
    assert model.image_encoder.image_size == (64, 32)


def test_pretrained_true_without_a_path_never_touches_the_network(caplog):
    model = MODEL_CONSTRUCTORS["rganet_tiny"](5, pretrained=True, height=64, width=32)
    assert model.num_classes == 5
    assert "no CLIP checkpoint path" in caplog.text


def test_pretrained_path_kwarg_loads_the_checkpoint(tmp_path):
    torch.manual_seed(3)
    clip = create_clip("RGANet-Tiny-ViT", (64, 64))
    path = tmp_path / "clip.pt"
    torch.save(clip.state_dict(), path)
    model = MODEL_CONSTRUCTORS["rganet_tiny"](5, pretrained=True, pretrained_path=str(path),
                                              height=64, width=32)
    assert torch.equal(model.image_encoder.visual.conv1.weight, clip.visual.conv1.weight)


def test_other_loss_names_are_refused():
    with pytest.raises(ValueError, match="loss='rganet'"):
        MODEL_CONSTRUCTORS["rganet_tiny"](5, loss="softmax", pretrained=False)


def test_arch_comes_from_the_model_name_unless_set(make_cfg):
    cfg = make_cfg()
    assert resolve_arch(cfg) == "RGANet-Tiny-ViT"
    cfg.model.name = "rganet_vit_b16"
    assert resolve_arch(cfg) == "ViT-B-16"
    cfg.rganet.clip_arch = "RGANet-Tiny-ViT"
    assert resolve_arch(cfg) == "RGANet-Tiny-ViT"


def test_build_rganet_rejects_unknown_region_modes(make_cfg):
    with pytest.raises(ValueError, match="rgm"):
        build_rganet(make_cfg(regions="parts"), 3)


def test_torchreid_build_model_finds_rganet_after_import():
    import rganet_reid  # noqa: F401  (registers the constructors)
    from rganet_reid.compat import torchreid_models

    model = torchreid_models.build_model("rganet_tiny", 4, loss="rganet", pretrained=False)
    assert model.image_encoder.image_size == (256, 128)
