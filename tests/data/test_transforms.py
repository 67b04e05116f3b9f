"""Joint image + mask augmentation keeps masks aligned with the pixels they label."""

import torch
from torchvision import tv_tensors

from rganet_reid.config import load_config
from rganet_reid.data.transforms import JointRandomErasing, build_train_transform

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
