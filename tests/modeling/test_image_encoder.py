"""The CLIP ViT image encoder: dense projected patch features, overlapping patches."""

import pytest
import torch

from rganet_reid.modeling.clip_backbone import create_clip
from rganet_reid.modeling.image_encoder import CLIPImageEncoder, resample_pos_embed

TINY = "RGANet-Tiny-ViT"


def test_feature_map_is_every_patch_token_through_ln_post_and_proj():
    torch.manual_seed(0)
    clip = create_clip(TINY, (64, 32)).eval()
    encoder = CLIPImageEncoder(clip.visual)
    x = torch.randn(2, 3, 64, 32)
    fmap = encoder(x)
    assert fmap.shape == (2, 128, 8, 4)
    clip.visual.output_tokens = True
    pooled, tokens = clip.visual(x)  # tokens: ln_post'ed patch tokens, not projected
    expected = (tokens @ clip.visual.proj).transpose(1, 2).reshape(2, 128, 8, 4)
    assert torch.allclose(fmap, expected, atol=1e-5)


def test_overlapping_patch_stride_enlarges_the_grid_and_keeps_conv_weights():
    clip = create_clip(TINY, (64, 32))
    conv = clip.visual.conv1.weight.clone()
    encoder = CLIPImageEncoder(clip.visual, patch_stride=4)
    assert encoder.grid_size == (15, 7)  # (64-8)/4+1, (32-8)/4+1
    assert clip.visual.positional_embedding.shape == (15 * 7 + 1, 192)
    assert torch.equal(clip.visual.conv1.weight, conv)
    assert encoder(torch.randn(1, 3, 64, 32)).shape == (1, 128, 15, 7)


def test_resample_pos_embed_keeps_the_class_row_and_is_identity_on_the_same_grid():
    pos = torch.randn(1 + 4 * 2, 6)
    assert torch.allclose(resample_pos_embed(pos, (4, 2), (4, 2)), pos, atol=1e-5)
    out = resample_pos_embed(pos, (4, 2), (8, 3))
    assert out.shape == (25, 6) and torch.equal(out[0], pos[0])


def test_wrong_input_size_is_a_clear_error():
    encoder = CLIPImageEncoder(create_clip(TINY, (64, 32)).visual)
    with pytest.raises(ValueError, match="64x32"):
        encoder(torch.randn(1, 3, 128, 64))
    with pytest.raises(ValueError, match="patch_stride"):
        CLIPImageEncoder(create_clip(TINY, (64, 32)).visual, patch_stride=9)
