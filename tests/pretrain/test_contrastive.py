"""Contrastive pre-training of the tiny CLIP: one step's losses, and they go down."""

from __future__ import annotations

import open_clip
import pytest
import torch
from open_clip.loss import ClipLoss

from rganet_reid.data.caption_dataset import CaptionDataset
from rganet_reid.data.synthocc.corpus import ensure_corpus
from rganet_reid.losses.seg_loss import SegmentationLoss
from rganet_reid.modeling.pretrained_weights import SHIPPED, read_shipped, shipped_tags
from rganet_reid.pretrain.contrastive import (
    ContrastiveSettings,
    _collate,
    build_contrastive_model,
    contrastive_step,
    corpus_transform,
    parse_weights,
    part_alignment_loss,
    tag_settings,
)
from rganet_reid.pretrain.vocabulary import prompt_sentences, used_token_ids

SETTINGS = ContrastiveSettings(corpus_size="tiny", workers=0)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return ensure_corpus(tmp_path_factory.mktemp("corpus"), "tiny", 0)


def _batch(corpus, n=8):
    data = CaptionDataset(corpus, "train", corpus_transform(SETTINGS, train=False))
    return _collate([data[i] for i in range(0, 2 * n, 2)])  # one image per identity


def test_both_towers_train_and_the_losses_go_down_on_a_tiny_batch(corpus):
    torch.manual_seed(0)
    model = build_contrastive_model(SETTINGS)
    batch = _batch(corpus)
    assert batch["img"].shape == (8, 3, SETTINGS.height, SETTINGS.width)
    clip_loss, seg_loss = ClipLoss(), SegmentationLoss(num_parts=4)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4)
    text_before = model.clip.token_embedding.weight.detach().clone()
    first = None
    for _ in range(8):
        out = contrastive_step(model, batch, clip_loss, seg_loss, SETTINGS.seg_weight)
        first = first or {k: float(v.detach()) for k, v in out.items()}
        optimizer.zero_grad()
        out["total"].backward()
        optimizer.step()
    last = {k: float(v.detach()) for k, v in
            contrastive_step(model, batch, clip_loss, seg_loss, SETTINGS.seg_weight).items()}
    assert last["clip"] < 0.8 * first["clip"], (first, last)
    assert last["seg"] < first["seg"], (first, last)
    assert last["total"] == pytest.approx(last["clip"] + SETTINGS.seg_weight * last["seg"],
                                          rel=1e-5)
    assert not torch.equal(model.clip.token_embedding.weight, text_before)  # text tower too


def test_export_resamples_the_position_embedding_to_the_shipped_size():
    model = build_contrastive_model(SETTINGS)
    state = model.export_state_dict((SETTINGS.ship_height, SETTINGS.ship_width))
    grid = (SETTINGS.ship_height // 8) * (SETTINGS.ship_width // 8)
    assert state["visual.positional_embedding"].shape[0] == 1 + grid
    assert state["rganet.bg_prototype"].shape == (128,)


def test_the_stored_vocabulary_covers_captions_and_every_part_prompt(corpus):
    tokenizer = open_clip.get_tokenizer(SETTINGS.arch)
    ids = set(used_token_ids(tokenizer, corpus))
    for text in prompt_sentences() + ["a person with short black hair."]:
        assert set(tokenizer([text])[0].tolist()) - {0} <= ids, text
    assert 0 not in ids


def test_the_part_alignment_term_can_compare_at_image_resolution_with_class_weights(corpus):
    settings = ContrastiveSettings(corpus_size="tiny", workers=0, seg_resolution="image",
                                   seg_class_weights="0.5,2,1,1,3")
    seg_loss = part_alignment_loss(settings)
    assert seg_loss.resolution == "image"
    assert seg_loss.class_weights.tolist() == [0.5, 2.0, 1.0, 1.0, 3.0]
    torch.manual_seed(0)
    model = build_contrastive_model(settings)
    batch = _batch(corpus, n=4)
    out = contrastive_step(model, batch, ClipLoss(), seg_loss, settings.seg_weight)
    # the grid (8x4 at 64x32) is upsampled to the mask (64x32): pixel accuracy per pixel
    assert 0.0 <= float(out["pixel_acc"]) <= 1.0
    grid = contrastive_step(model, batch, ClipLoss(), part_alignment_loss(SETTINGS),
                            settings.seg_weight)
    assert float(out["seg"].detach()) != pytest.approx(float(grid["seg"].detach()))  # reached
    assert part_alignment_loss(SETTINGS).class_weights is None
    with pytest.raises(ValueError, match="comma-separated"):
        parse_weights("0.5;2")


@pytest.mark.parametrize("tag", shipped_tags())
def test_each_shipped_file_was_built_with_its_tags_recipe(tag):
    """``build_synthocc_clip.py --tag TAG`` rebuilds what ships: the settings stored in the
    file equal the recipe's (a setting the file predates is at its default in the recipe)."""
    _, _, meta = read_shipped(SHIPPED[tag].path, 49408)
    stored, recipe = meta["settings"], tag_settings(tag).to_dict()
    assert {k: v for k, v in recipe.items() if k in stored} == stored
    defaults = ContrastiveSettings().to_dict()
    assert {k: recipe[k] for k in recipe.keys() - stored} == {
        k: defaults[k] for k in recipe.keys() - stored}
    with pytest.raises(ValueError, match="No pre-training recipe"):
        tag_settings("no-such-tag")


@pytest.mark.parametrize("tag", shipped_tags())
def test_a_shipped_file_is_benched_with_the_settings_it_was_built_with(tag):
    """The bench reads the recipe from the file's own metadata (tag or plain file alike)."""
    from rganet_reid.pretrain.clip_bench import stored_settings, weights_file

    assert stored_settings(weights_file(tag)) == tag_settings(tag)
    assert stored_settings(SHIPPED[tag].path) == tag_settings(tag)
