"""Joint image + mask augmentation keeps masks aligned with the pixels they label."""

import pytest
import torch
from torchvision import tv_tensors

from rganet_reid.config import load_config
from rganet_reid.data.transforms import (
    JointRandomErasing,
    JointRandomOcclusion,
    build_train_transform,
)

PALETTE = torch.tensor([[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]],
                       dtype=torch.uint8)


def labelled_pair(h=64, w=32):
    """A mask with 5 horizontal bands and an image whose colour encodes the label."""
    labels = torch.zeros(h, w, dtype=torch.long)
    for k in range(1, 5):
        labels[k * h // 5:(k + 1) * h // 5, : w // 2] = k
    img = PALETTE[labels].permute(2, 0, 1).contiguous()
    return tv_tensors.Image(img), tv_tensors.Mask(labels)


def decode(img: torch.Tensor, mean, std) -> torch.Tensor:
    """Normalised float image → nearest palette label per pixel."""
    pix = img * torch.tensor(std)[:, None, None] + torch.tensor(mean)[:, None, None]
    pix = (pix * 255).permute(1, 2, 0).reshape(-1, 1, 3)
    d = (pix - PALETTE.float()[None]).abs().sum(-1)
    return d.argmin(-1).reshape(img.shape[1:])


def test_flip_pad_crop_move_image_and_mask_together():
    cfg = load_config(None, ["data.height", "64", "data.width", "32", "data.transforms",
                             "['random_flip', 'pad_crop']"])
    tf = build_train_transform(cfg)
    torch.manual_seed(0)
    for _ in range(10):
        img, mask = tf(*labelled_pair())
        assert img.shape == (3, 64, 32) and mask.shape == (64, 32)
        assert torch.equal(decode(img, cfg.data.norm_mean, cfg.data.norm_std), mask)


def test_resize_uses_nearest_for_masks():
    cfg = load_config(None, ["data.height", "128", "data.width", "64", "data.transforms", "[]"])
    _, mask = build_train_transform(cfg)(*labelled_pair())
    assert set(mask.unique().tolist()) <= {0, 1, 2, 3, 4}


def test_random_erasing_labels_the_erased_box_as_occluder():
    img, mask = labelled_pair()
    img = img.float() / 255
    torch.manual_seed(3)
    out_img, out_mask = JointRandomErasing(p=1.0, value=0)(tv_tensors.Image(img), mask)
    erased = (out_img == 0).all(0) & (img != 0).any(0)
    assert erased.any()
    assert (out_mask[erased] == 0).all()
    assert torch.equal(out_mask[~erased & (mask != 0)], mask[~erased & (mask != 0)])


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_random_occlusion_labels_exactly_the_pasted_pixels_as_occluder(dtype):
    img, mask = labelled_pair()
    img = tv_tensors.Image(img if dtype == torch.uint8 else img.float() / 255)
    torch.manual_seed(0)
    bottom_seen = band_seen = 0
    for _ in range(40):
        out_img, out_mask = JointRandomOcclusion(p=1.0, extent=(0.2, 0.5))(img, mask)
        assert out_img.dtype == dtype and out_img.shape == img.shape
        changed = (out_img != img).any(0)
        relabelled = out_mask != mask
        assert changed.any()
        assert (out_mask[relabelled] == 0).all()
        # every pixel whose label changed was painted over (a pasted pixel may keep its
        # colour by chance, never its part label)
        assert not (relabelled & ~changed).any()
        assert not (changed & (out_mask != 0)).any()
        _, geometry = JointRandomOcclusion(p=1.0, extent=(0.2, 0.5))(
            img, tv_tensors.Mask(torch.ones(64, 32, dtype=torch.long)))
        rows = (geometry == 0).any(1)
        if rows.all():  # a full-height band
            band_seen += 1
            assert 0.2 * 32 - 1 <= (geometry == 0).any(0).sum() <= 0.4 * 32 + 1
        else:  # a block rising from the bottom edge
            bottom_seen += 1
            assert rows[-1] and 0.2 * 64 - 1 <= rows.sum() <= 0.5 * 64 + 1
            assert torch.equal(rows, rows.sort().values)  # contiguous down to the last row
    assert bottom_seen and band_seen


def test_random_occlusion_is_off_at_p0_and_in_the_pipeline_only_when_named():
    img, mask = labelled_pair()
    out_img, out_mask = JointRandomOcclusion(p=0.0)(img, mask)
    assert torch.equal(out_img, img) and torch.equal(out_mask, mask)
    named = load_config(None, ["data.transforms", "['random_occlude']"])
    assert any(isinstance(t, JointRandomOcclusion) for t in build_train_transform(named).transforms)
    default = load_config(None, [])
    assert not any(isinstance(t, JointRandomOcclusion)
                   for t in build_train_transform(default).transforms)
    with pytest.raises(ValueError, match="occlude_extent"):
        JointRandomOcclusion(extent=(0.6, 0.2))
