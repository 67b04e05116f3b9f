"""CLIP weights: local checkpoints (.pt state dict, TorchScript, .safetensors), resizing, tags."""

import open_clip
import pytest
import torch
import torch.nn.functional as F

from rganet_reid.modeling.clip_backbone import (
    PretrainedWeightsError,
    create_clip,
    load_clip_weights,
    read_clip_checkpoint,
)

TINY = "RGANet-Tiny-ViT"


def test_tiny_architecture_is_registered_with_open_clip():
    assert TINY in open_clip.list_models()
    cfg = open_clip.get_model_config(TINY)
    assert cfg["vision_cfg"]["width"] == 192 and cfg["vision_cfg"]["patch_size"] == 8
    assert cfg["embed_dim"] == 128


def test_create_clip_builds_the_reid_grid():
    model = create_clip(TINY, (256, 128))
    assert tuple(model.visual.grid_size) == (32, 16)
    assert model.visual.positional_embedding.shape == (32 * 16 + 1, 192)


def _save(model, path):
    state = {k: v.clone() for k, v in model.state_dict().items()}
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    else:
        torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}}, path)
    return state


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_checkpoint_at_native_size_loads_at_256x128_with_resized_position_embedding(
    tmp_path, suffix
):
    torch.manual_seed(0)
    native = create_clip(TINY, (64, 64))  # 8x8 grid, the architecture's native size
    path = tmp_path / f"tiny{suffix}"
    saved = _save(native, path)

    model = create_clip(TINY, (256, 128))
    assert load_clip_weights(model, TINY, str(path)) == str(path)
    loaded = model.state_dict()
    for key, value in saved.items():
        if key != "visual.positional_embedding":
            assert torch.equal(loaded[key], value), key
    old = saved["visual.positional_embedding"]
    grid = old[1:].reshape(1, 8, 8, -1).permute(0, 3, 1, 2)
    expected = F.interpolate(grid, size=(32, 16), mode="bicubic", align_corners=False,
                             antialias=True).permute(0, 2, 3, 1).reshape(32 * 16, -1)
    new = loaded["visual.positional_embedding"]
    assert new.shape == (32 * 16 + 1, 192)
    assert torch.equal(new[0], old[0])  # class-token position untouched
    assert torch.allclose(new[1:], expected, atol=1e-6)


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning", "ignore::FutureWarning")
def test_torchscript_archive_loads_like_openai_checkpoints(tmp_path):
    torch.manual_seed(0)
    native = create_clip(TINY, (64, 64)).eval()
    traced = torch.jit.trace(
        native, (torch.randn(1, 3, 64, 64), torch.zeros(1, 77, dtype=torch.long)),
        check_trace=False,
    )
    path = tmp_path / "tiny_torchscript.pt"
    traced.save(str(path))
    state = read_clip_checkpoint(path)
    assert set(state) == set(native.state_dict())
    model = create_clip(TINY, (128, 64))
    load_clip_weights(model, TINY, str(path))
    assert torch.equal(model.visual.conv1.weight, native.visual.conv1.weight)
    assert torch.equal(model.token_embedding.weight, native.token_embedding.weight)


def test_checkpoint_of_another_architecture_is_a_clear_error(tmp_path):
    other = tmp_path / "other.pt"
    torch.save({"visual.conv1.weight": torch.zeros(3, 3)}, other)
    model = create_clip(TINY, (64, 32))
    with pytest.raises(PretrainedWeightsError, match="clip_arch"):
        load_clip_weights(model, TINY, str(other))


def test_unreadable_checkpoint_names_the_file(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(PretrainedWeightsError, match="bad.pt"):
        read_clip_checkpoint(bad)


def test_offline_tag_error_says_how_to_get_the_file_and_where_to_point_the_config(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = create_clip(TINY, (64, 32))
    with pytest.raises(PretrainedWeightsError) as info:
        load_clip_weights(model, "ViT-B-16", "openai")
    message = str(info.value)
    assert "ViT-B-16" in message and "'openai'" in message
    assert "open_clip.create_model('ViT-B-16', pretrained='openai')" in message
    assert "model.pretrained" in message
    assert "openaipublic" in message or "vit_base_patch16_clip_224.openai" in message


def test_unknown_tag_or_missing_file_lists_the_valid_tags():
    model = create_clip(TINY, (64, 32))
    with pytest.raises(PretrainedWeightsError, match="laion2b_s34b_b88k"):
        load_clip_weights(model, "ViT-B-16", "/no/such/file.pt")


def test_empty_source_keeps_random_weights_with_a_warning(caplog):
    model = create_clip(TINY, (64, 32))
    before = model.visual.conv1.weight.clone()
    assert load_clip_weights(model, TINY, "") == ""
    assert torch.equal(model.visual.conv1.weight, before)
    assert "random weights" in caplog.text
