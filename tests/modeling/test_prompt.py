"""Text prototypes: prompt assembly, frozen text encoder, cached prototypes."""

import open_clip
import pytest
import torch

from rganet_reid.modeling.clip_backbone import create_clip
from rganet_reid.modeling.prompt import (
    PART_NAMES,
    TABLE_VI_TEMPLATES,
    PromptLearner,
    TextEncoder,
    resolve_part_names,
)

TINY = "RGANet-Tiny-ViT"


@pytest.fixture(scope="module")
def clip():
    torch.manual_seed(0)
    return create_clip(TINY, (64, 32)).eval()


@pytest.fixture(scope="module")
def tokenizer():
    return open_clip.get_tokenizer(TINY)


def _learner(clip, tokenizer, **kwargs):
    return PromptLearner(TextEncoder(clip), tokenizer, PART_NAMES[4], **kwargs)


def test_text_encoder_matches_clip_encode_text(clip, tokenizer):
    tokens = tokenizer(["a head part of a person.", "a photo of a foot."])
    expected = clip.encode_text(tokens)
    assert torch.allclose(TextEncoder(clip).encode_text(tokens), expected, atol=1e-5)


@pytest.mark.parametrize("template", TABLE_VI_TEMPLATES)
def test_template_prototypes_are_clip_text_embeddings_of_the_sentences(clip, tokenizer, template):
    learner = _learner(clip, tokenizer, mode="template", template=template)
    sentences = [template.replace("[CLASS]", n) for n in PART_NAMES[4]]
    assert learner.sentences == sentences
    with torch.no_grad():
        assert torch.allclose(learner(), clip.encode_text(tokenizer(sentences)), atol=1e-5)


def test_learnable_context_sits_before_the_class_name(clip, tokenizer):
    # Context vectors initialised from "a photo of a" (K=4) must reproduce the hand-written
    # sentence "a photo of a <name>." exactly: the prompt is [V]_1..[V]_K [CLASS].
    learner = _learner(clip, tokenizer, mode="learnable", n_ctx=4, ctx_init="a photo of a")
    expected = clip.encode_text(tokenizer([f"a photo of a {n}." for n in PART_NAMES[4]]))
    with torch.no_grad():
        assert torch.allclose(learner(), expected, atol=1e-5)
    assert learner.ctx.shape == (4, 128)


def test_default_context_is_k_random_vectors(clip, tokenizer):
    learner = _learner(clip, tokenizer)
    assert learner.ctx.shape == (8, 128)
    assert 0.01 < float(learner.ctx.std()) < 0.03
    assert all(not p.requires_grad for p in learner.text_encoder.parameters())


def test_cached_prototypes_equal_freshly_encoded_ones_and_need_no_text_encoder(clip, tokenizer):
    torch.manual_seed(1)
    learner = _learner(clip, tokenizer)
    with torch.no_grad():
        fresh = learner.encode()
    learner.freeze()
    assert learner.is_frozen and learner.text_encoder is None
    assert torch.equal(learner(), learner.cached)
    assert torch.allclose(learner.cached, fresh, atol=1e-6)
    state = learner.state_dict()
    assert not any(k.startswith("text_encoder") for k in state)
    assert {"ctx", "cached", "frozen"} <= set(state)

    # A frozen state dict loads (strictly) into a fresh, unfrozen learner.
    other = _learner(clip, tokenizer)
    other.load_state_dict(state)
    assert other.is_frozen and other.text_encoder is None
    assert torch.equal(other(), learner.cached)


def test_learnable_prompts_loaded_into_other_text_weights_encode_like_the_original(
        clip, tokenizer):
    # A checkpoint saved before the prototypes were frozen, loaded into a model built with other
    # (e.g. random) text weights: the start/class/end token embeddings must follow the loaded
    # weights, or the prototypes (and every Eq. 1 mask) differ from the trained model's.
    original = _learner(clip, tokenizer)
    torch.manual_seed(123)
    other = _learner(create_clip(TINY, (64, 32)).eval(), tokenizer)
    other.load_state_dict(original.state_dict())
    with torch.no_grad():
        assert torch.equal(other(), original())


def test_part_names_follow_the_paper_per_region_count():
    assert resolve_part_names(2) == ["upper body", "lower body"]
    assert resolve_part_names(4) == ["head", "upper body", "lower body", "foot"]
    assert resolve_part_names(5)[-1] == "bags"
    assert resolve_part_names(2, ["a", "b"]) == ["a", "b"]
    with pytest.raises(ValueError, match="num_regions"):
        resolve_part_names(3, ["a", "b"])
    with pytest.raises(ValueError, match="part_names"):
        resolve_part_names(7)


def test_bad_prompt_settings_are_clear_errors(clip, tokenizer):
    with pytest.raises(ValueError, match=r"\[CLASS\]"):
        _learner(clip, tokenizer, mode="template", template="a person.")
    with pytest.raises(ValueError, match="n_ctx"):
        _learner(clip, tokenizer, n_ctx=8, ctx_init="a photo of a")
    with pytest.raises(ValueError, match="learnable"):
        _learner(clip, tokenizer, mode="coop")
