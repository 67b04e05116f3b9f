"""Shipped pretrained tags: a sha256-checked file inside the package, loaded offline."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from rganet_reid.modeling import build_rganet
from rganet_reid.modeling.clip_backbone import PretrainedWeightsError, create_clip
from rganet_reid.modeling.pretrained_weights import (
    SHIPPED,
    load_shipped,
    pack_state_dict,
    read_shipped,
    sha256_of,
    shipped_tags,
    unpack_state_dict,
    verified_path,
    write_shipped,
)

TINY = "RGANet-Tiny-ViT"
TAG = "synthocc-clip"


@pytest.fixture(scope="module")
def clip_state():
    torch.manual_seed(0)
    return create_clip(TINY, (128, 64)).state_dict()


@pytest.fixture
def shipped_copy(tmp_path, clip_state):
    """A shipped-format file of a random tiny CLIP and a registry entry that points at it."""
    path = tmp_path / "w.safetensors"
    extras = {"rganet.bg_prototype": torch.randn(128)}
    sha = write_shipped(path, pack_state_dict({**clip_state, **extras}, [3, 7, 49406]),
                        {"arch": TINY})
    return replace(SHIPPED[TAG], sha256=sha), path


def test_packing_keeps_the_used_token_rows_and_zeroes_the_others(clip_state):
    packed = pack_state_dict(clip_state, [49407, 5, 5, 320])
    assert packed["token_embedding.rows"].tolist() == [5, 320, 49407]
    assert "token_embedding.weight" not in packed
    assert packed["visual.conv1.weight"].dtype == torch.float16
    state, extras = unpack_state_dict(packed, 49408)
    table = state["token_embedding.weight"]
    assert table.shape == clip_state["token_embedding.weight"].shape
    torch.testing.assert_close(table[[5, 320, 49407]],
                               clip_state["token_embedding.weight"][[5, 320, 49407]],
                               atol=1e-3, rtol=1e-3)
    assert not table[[0, 6, 1000]].any()
    torch.testing.assert_close(state["visual.conv1.weight"], clip_state["visual.conv1.weight"],
                               atol=1e-3, rtol=1e-3)
    assert extras == {}


def test_a_verified_copy_loads_with_its_extras(shipped_copy):
    entry, path = shipped_copy
    state, extras, meta = read_shipped(verified_path(entry, TINY, path), 49408)
    assert set(extras) == {"bg_prototype"} and meta == {"arch": TINY}
    assert state["token_embedding.weight"][3].any() and not state["token_embedding.weight"][4].any()


def test_a_corrupted_copy_is_refused_naming_the_file_and_the_rebuild_command(shipped_copy):
    entry, path = shipped_copy
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit in the weights
    path.write_bytes(bytes(data))
    with pytest.raises(PretrainedWeightsError) as err:
        verified_path(entry, TINY, path)
    message = str(err.value)
    assert str(path) in message and "python tools/build_synthocc_clip.py" in message
    assert "sha256" in message


def test_a_missing_file_or_another_architecture_is_refused(shipped_copy, tmp_path):
    entry, path = shipped_copy
    with pytest.raises(PretrainedWeightsError, match="does not exist"):
        verified_path(entry, TINY, tmp_path / "gone.safetensors")
    with pytest.raises(PretrainedWeightsError, match="RGANet-Tiny-ViT architecture"):
        verified_path(entry, "ViT-B-16", path)


@pytest.mark.parametrize("tag", shipped_tags())
def test_the_shipped_file_is_registered_small_and_intact(tag):
    entry = SHIPPED[tag]
    assert entry.path.is_file(), f"{entry.path} must ship with the package"
    assert entry.path.stat().st_size <= 10 * 1024 * 1024
    assert sha256_of(entry.path) == entry.sha256


@pytest.mark.parametrize("tag", shipped_tags())
@pytest.mark.parametrize("regions", ["rgm", "none"])
def test_the_tag_loads_offline_into_rganet_and_the_vit_baseline(regions, tag, monkeypatch,
                                                                  make_cfg):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cfg = make_cfg(128, 64, regions=regions, **{"prompt.mode": "template"})
    cfg.model.pretrained = tag
    model = build_rganet(cfg, num_classes=5)
    state, extras, _ = load_shipped(tag, TINY, 49408)
    visual = model.image_encoder.visual
    torch.testing.assert_close(visual.conv1.weight, state["visual.conv1.weight"])
    torch.testing.assert_close(visual.transformer.resblocks[-1].mlp.c_fc.weight,
                               state["visual.transformer.resblocks.3.mlp.c_fc.weight"])
    if regions == "rgm":  # the prototypes come from the shipped text tower
        from rganet_reid.pretrain.clip_bench import load_contrastive_model

        with torch.no_grad():
            expected = load_contrastive_model(tag).prompt.encode()
        torch.testing.assert_close(model.prompt(), expected)
