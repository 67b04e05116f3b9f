"""The torch ``Dataset`` that turns ``(img_path, pid, camid, dsetid)`` items into tensors.

It reads the image (and, for training with ``data.load_masks``, its part-label mask), applies
the joint v2 transform, and returns torchreid's batch dict (``img``, ``pid``, ``camid``,
``impath``, ``dsetid``) plus ``mask`` when masks are loaded, so torchreid engines and ours
parse it the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch.utils.data import Dataset
from torchvision import tv_tensors
from torchvision.transforms.v2 import functional as TF

from rganet_reid.data.image_io import read_rgb
from rganet_reid.data.masks import read_mask


class ReIDSampleDataset(Dataset):
    """Items → ``{'img', 'pid', 'camid', 'impath', 'dsetid'[, 'mask']}``.

    Args:
        items: ``(img_path, pid, camid, dsetid)`` tuples (torchreid's format).
        transform: a v2 transform taking ``(Image, Mask)`` or ``Image``.
        mask_paths: one mask path per item, or ``None`` to load no masks.
    """

    def __init__(
        self,
        items: Sequence[tuple],
        transform: Callable | None,
        mask_paths: Sequence[Path] | None = None,
    ) -> None:
        if mask_paths is not None and len(mask_paths) != len(items):
            raise ValueError("mask_paths must have one entry per item")
        self.items = list(items)
        self.transform = transform
        self.mask_paths = None if mask_paths is None else list(mask_paths)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        img_path, pid, camid, dsetid = self.items[index]
        pil = read_rgb(img_path)
        image = tv_tensors.Image(TF.pil_to_tensor(pil))
        sample = {"pid": pid, "camid": camid, "impath": str(img_path), "dsetid": dsetid}
        if self.mask_paths is None:
            sample["img"] = self.transform(image) if self.transform else image
            return sample
        labels = read_mask(self.mask_paths[index], expected_hw=(pil.height, pil.width))
        mask = tv_tensors.Mask(torch.from_numpy(labels).long())
        if self.transform:
            image, mask = self.transform(image, mask)
        sample["img"] = image
        sample["mask"] = mask.as_subclass(torch.Tensor)
        return sample
