"""Part-aligned CLIP pre-training (the offline stand-in for CLIP weights) and its local tag."""

import random
import threading

import numpy as np
import pytest
import torch
from filelock import FileLock

from rganet_reid.config.defaults import get_default_config
from rganet_reid.modeling.clip_backbone import create_clip, load_clip_weights, read_clip_checkpoint
from rganet_reid.pretrain import LOCAL_TAG, local_weights, resolve_pretrained
from rganet_reid.pretrain.part_alignment import build_part_alignment_model, pretrain_part_alignment
from rganet_reid.utils.locking import lock_path
from rganet_reid.utils.seed import seed_everything

ARCH = "RGANet-Tiny-ViT"


def _cfg(root, tmp_path, **extra):
    cfg = get_default_config()
    cfg.data.root = str(root)
    cfg.data.synthocc.size = "tiny"
    cfg.data.height, cfg.data.width = 64, 32
    cfg.data.workers = 0
    cfg.data.load_masks = True
    cfg.data.save_dir = str(tmp_path / "run")
    cfg.train.batch_size, cfg.sampler.num_instances = 16, 4
    cfg.test.batch_size = 32
    cfg.clip_pretrain.max_epoch = 1
    cfg.model.pretrained = LOCAL_TAG
    for key, value in extra.items():
        section, leaf = key.split(".")
        setattr(getattr(cfg, section), leaf, value)
    return cfg


def test_only_the_image_tower_trains_and_the_text_prototypes_are_fixed():
    cfg = get_default_config()
    cfg.data.height, cfg.data.width = 64, 32
    model = build_part_alignment_model(cfg, ARCH)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith(("encoder.", "clip.visual.", "rgm.")) for n in trainable)
    assert not any(p.requires_grad for n, p in model.clip.named_parameters()
                   if not n.startswith("visual."))
    assert model.prototypes.shape[0] == 4 and not model.prototypes.requires_grad
    logits = model(torch.randn(2, 3, 64, 32))
    assert logits.shape == (2, 5, 8, 4)


def test_pretraining_writes_a_clip_checkpoint_that_loads_strictly(synthocc_root, tmp_path):
    cfg = _cfg(synthocc_root, tmp_path)
    torch.manual_seed(int(cfg.clip_pretrain.seed))
    out = tmp_path / "clip.pt"
    summary = pretrain_part_alignment(cfg, ARCH, out)
    assert out.is_file() and summary["loss_seg"] > 0 and 0 <= summary["pixel_acc"] <= 1
    state = read_clip_checkpoint(out)
    fresh = create_clip(ARCH, (64, 32))
    before = {k: v.clone() for k, v in fresh.state_dict().items()}
    load_clip_weights(fresh, ARCH, str(out))  # strict: every key of the architecture
    after = fresh.state_dict()
    assert set(state) == set(after)
    assert not torch.equal(after["visual.conv1.weight"], before["visual.conv1.weight"])
    # the text tower is the seeded random initialisation, untouched by pre-training
    torch.manual_seed(int(cfg.clip_pretrain.seed))
    reference = create_clip(ARCH, (64, 32)).state_dict()
    for key in ("token_embedding.weight", "text_projection", "ln_final.weight"):
        assert torch.equal(state[key], reference[key]), key


def test_local_tag_builds_once_then_reuses_the_cached_file(synthocc_root, tmp_path, monkeypatch):
    cfg = _cfg(synthocc_root, tmp_path)
    calls = []

    def fake_pretrain(pre_cfg, arch, path, device):
        calls.append((pre_cfg.seed, pre_cfg.data.load_masks, arch))
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({}, path)
        return {"time_s": 0.0}

    monkeypatch.setattr("rganet_reid.pretrain.part_alignment.pretrain_part_alignment",
                        fake_pretrain)
    cfg.seed = 7
    first = resolve_pretrained(cfg, ARCH)
    second = resolve_pretrained(cfg, ARCH)
    assert first == second and len(calls) == 1
    assert calls[0] == (cfg.clip_pretrain.seed, True, ARCH)  # its own seed, masks on
    cfg.seed = 8  # another training seed shares the weights
    assert resolve_pretrained(cfg, ARCH) == first and len(calls) == 1
    cfg.clip_pretrain.max_epoch = 3  # other pre-training settings → another file
    assert resolve_pretrained(cfg, ARCH) != first and len(calls) == 2


def test_building_the_weights_leaves_the_runs_random_streams_untouched(synthocc_root, tmp_path):
    """A run that pre-trains first must continue exactly like one that found the file cached."""
    cfg = _cfg(synthocc_root, tmp_path)

    def draws():
        return torch.rand(3).tolist(), np.random.rand(3).tolist(), random.random()

    seed_everything(5)
    cached = draws()
    seed_everything(5)
    resolve_pretrained(cfg, ARCH)  # builds (1 tiny epoch): consumes and reseeds RNGs inside
    assert local_weights.local_weights_path(cfg, ARCH).is_file()
    assert draws() == cached


def test_a_build_in_progress_elsewhere_is_waited_for_not_repeated(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, tmp_path)
    path = local_weights.local_weights_path(cfg, ARCH)
    calls = []
    monkeypatch.setattr("rganet_reid.pretrain.part_alignment.pretrain_part_alignment",
                        lambda *args: calls.append(args))
    returned = []
    path.parent.mkdir(parents=True)
    with FileLock(str(lock_path(path))):  # another process is pre-training this file
        waiter = threading.Thread(target=lambda: returned.append(resolve_pretrained(cfg, ARCH)))
        waiter.start()
        waiter.join(timeout=1.0)
        assert waiter.is_alive() and returned == []
        torch.save({}, path)  # ... and finishes
    waiter.join(timeout=60)
    assert returned == [str(path)] and calls == []


def test_other_values_pass_through_unchanged(tmp_path):
    cfg = get_default_config()
    for value in ("", "openai", str(tmp_path / "w.pt")):
        cfg.model.pretrained = value
        assert resolve_pretrained(cfg, ARCH) == value


def test_cache_path_lives_under_the_data_root(tmp_path):
    cfg = get_default_config()
    cfg.data.root = str(tmp_path)
    path = local_weights.local_weights_path(cfg, ARCH)
    assert path.parent == tmp_path / "pretrained" and path.name.startswith(ARCH)


def test_pretraining_without_masks_is_an_error(tmp_path):
    cfg = get_default_config()
    cfg.data.load_masks = False
    with pytest.raises(ValueError, match="load_masks"):
        pretrain_part_alignment(cfg, ARCH, tmp_path / "x.pt")
