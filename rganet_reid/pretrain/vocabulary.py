"""The tokens a shipped tiny CLIP needs rows for: corpus captions and the part prompts."""

from __future__ import annotations

import os

import torch

from rganet_reid.data.synthocc.corpus import corpus_records
from rganet_reid.modeling.prompt import PART_NAMES, TABLE_VI_TEMPLATES


def prompt_sentences() -> list[str]:
    """Every Table VI template filled with every part name RGANet may use."""
    names = sorted({n for parts in PART_NAMES.values() for n in parts})
    return [t.replace("[CLASS]", n) for t in TABLE_VI_TEMPLATES for n in names]


def used_token_ids(tokenizer, corpus_dir: str | os.PathLike, batch: int = 512) -> list[int]:
    """Sorted ids of every token in the corpus's training captions and the part prompts
    (start / end of text included; the padding id 0 is not a token)."""
    texts = [rec["caption"] for _, rec in corpus_records(corpus_dir, "train")]
    texts += prompt_sentences()
    ids: set[int] = set()
    for start in range(0, len(texts), batch):
        tokens: torch.Tensor = tokenizer(texts[start:start + batch])
        ids.update(int(t) for t in torch.unique(tokens))
    ids.discard(0)
    return sorted(ids)
