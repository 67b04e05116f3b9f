"""A torch dataset over one split of the SynthOcc captioned corpus: image, part mask, caption.

Items are :class:`~rganet_reid.data.sample_dataset.ReIDSampleDataset`'s (``img``, ``mask``,
``pid`` = the corpus identity, ``camid`` ...) plus ``caption``; the image and its mask go
through one joint ``torchvision.transforms.v2`` pipeline, so flips and crops move both.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from rganet_reid.data.sample_dataset import ReIDSampleDataset
from rganet_reid.data.synthocc.corpus import corpus_records
from rganet_reid.data.synthocc.protocols import mask_file


class CaptionDataset(ReIDSampleDataset):
    """Images, masks and captions of ``split`` (``train`` | ``heldout``) of a generated corpus.

    Args:
        corpus_dir: a folder made by :func:`~rganet_reid.data.synthocc.corpus.ensure_corpus`.
        split: which split to read.
        transform: a joint image + mask transform (``v2``); ``None`` keeps uint8 tensors.
    """

    def __init__(self, corpus_dir: str | os.PathLike, split: str,
                 transform: Callable | None = None) -> None:
        root = Path(corpus_dir)
        records = corpus_records(root, split)
        super().__init__([(root / rel, rec["id"], rec["cam"], 0) for rel, rec in records],
                         transform, [mask_file(root, rel) for rel, _ in records])
        self.captions = [rec["caption"] for _, rec in records]

    def __getitem__(self, index: int) -> dict:
        sample = super().__getitem__(index)
        sample["caption"] = self.captions[index]
        return sample
