"""The assembled RGANet: forward contract, stages, memory bank, ablations."""

import pytest
import torch

from rganet_reid.compat import torchreid_root
from rganet_reid.losses import build_loss, build_stage1_loss
from rganet_reid.modeling import build_rganet, stripe_features
from rganet_reid.modeling.prompt import TABLE_VI_TEMPLATES

NUM_CLASSES = 3


def _batch(n=6, h=64, w=32):
    torch.manual_seed(0)
    return torch.randn(n, 3, h, w), torch.arange(n) % NUM_CLASSES


def test_train_outputs_follow_the_contract(make_cfg):
    model = build_rganet(make_cfg(), NUM_CLASSES).train()
    imgs, _ = _batch()
    out = model(imgs)
    b, n, d = 6, 4, 128
    assert out["global_feat"].shape == (b, d)
    assert out["global_logits"].shape == (b, NUM_CLASSES)
    assert out["region_feats"].shape == (b, n, d)
    assert out["region_logits"].shape == (b, n, NUM_CLASSES)
    for key in ("alpha", "beta", "weights"):
        assert out[key].shape == (b, n), key
    assert out["mask_logits"].shape == (b, n + 1, 8, 4)
    # the default reading: w = (α + β) / 2, β over the class centres (see config/rganet.py)
    assert torch.allclose(out["weights"], (out["alpha"] + out["beta"]) / 2, atol=1e-6)
    assert out["iai_similarity"].shape == (b, n, n)
    assert torch.allclose(out["global_feat"], model.image_encoder(imgs).mean(dim=(2, 3)),
                          atol=1e-5)


def test_eval_outputs_follow_the_contract(make_cfg):
    model = build_rganet(make_cfg(), NUM_CLASSES).eval()
    with torch.no_grad():
        out = model(_batch()[0])
    assert out["global_feat"].shape == (6, 128)
    assert out["region_feats"].shape == (6, 4, 128)
    assert out["region_weights"].shape == (6, 4)
    # w = (α + β) / 2 is output as ``confidence``; Eq. 10 receives c·w (region_weight_scale)
    assert torch.allclose(out["confidence"], (out["alpha"] + out["beta"]) / 2, atol=1e-6)
    scale = make_cfg().rganet.region_weight_scale
    assert scale != 1.0
    assert torch.allclose(out["region_weights"], scale * out["confidence"], atol=1e-6)
    assert "global_logits" not in out


def test_region_weight_scale_reaches_eq10_but_not_the_training_weights(make_cfg):
    """c scales only the eval output that Eq. 10 reads; L_ram trains on the unscaled w."""
    torch.manual_seed(0)
    outs = {}
    for scale in (1.0, 3.0):
        cfg = make_cfg()
        cfg.defrost()
        cfg.rganet.region_weight_scale = scale
        torch.manual_seed(0)
        model = build_rganet(cfg, NUM_CLASSES)
        with torch.no_grad():
            outs[scale] = (model.eval()(_batch()[0]), model.train()(_batch()[0]))
    (eval1, train1), (eval3, train3) = outs[1.0], outs[3.0]
    assert torch.allclose(eval3["region_weights"], 3.0 * eval1["region_weights"], atol=1e-6)
    assert torch.allclose(eval3["confidence"], eval1["confidence"], atol=1e-6)
    assert torch.allclose(train3["weights"], train1["weights"], atol=1e-6)
    cfg = make_cfg()
    cfg.defrost()
    cfg.rganet.region_weight_scale = 0.0
    with pytest.raises(ValueError, match="region_weight_scale"):
        build_rganet(cfg, NUM_CLASSES)


@pytest.mark.parametrize("per_region", [False, True])
def test_dai_per_region_gives_each_region_its_own_layer(make_cfg, per_region):
    cfg = make_cfg(dai_per_region=per_region)
    model = build_rganet(cfg, NUM_CLASSES)
    n = cfg.rganet.num_regions
    assert model.dai.num_regions == (n if per_region else 0)
    expected = n * (model.feat_dim + 1) if per_region else model.feat_dim + 1
    assert sum(p.numel() for p in model.dai.parameters()) == expected


def test_stage1_trains_only_the_context_vectors_and_never_the_text_encoder(make_cfg):
    cfg = make_cfg()
    model = build_rganet(cfg, NUM_CLASSES).train()
    model.set_stage(1)
    assert model.prompt_parameters() == [model.prompt.ctx]
    imgs, pids = _batch()
    masks = torch.randint(0, 5, (6, 64, 32))
    loss, parts = build_stage1_loss(cfg)(model(imgs), pids, masks)
    loss.backward()
    with_grad = {name for name, p in model.named_parameters() if p.grad is not None}
    assert with_grad == {"prompt.ctx"}
    assert float(model.prompt.ctx.grad.abs().sum()) > 0
    assert all(p.grad is None and not p.requires_grad
               for p in model.prompt.text_encoder.parameters())
    assert parts["loss_seg"] > 0


def test_stage1_can_also_train_the_background_prototype(make_cfg):
    cfg = make_cfg(**{"stage1.train_background": True})
    model = build_rganet(cfg, NUM_CLASSES).train()
    model.set_stage(1)
    loss, _ = build_stage1_loss(cfg)(model(_batch()[0]), None, torch.randint(0, 5, (6, 64, 32)))
    loss.backward()
    assert {n for n, p in model.named_parameters() if p.grad is not None} == {
        "prompt.ctx", "rgm.bg_prototype"}


def test_stage2_caches_prototypes_drops_the_text_encoder_and_trains_the_rest(make_cfg):
    cfg = make_cfg()
    model = build_rganet(cfg, NUM_CLASSES).train()
    with torch.no_grad():
        fresh = model.prompt.encode()
    model.set_stage(2)
    assert model.prompt.text_encoder is None
    assert torch.allclose(model.prototypes(), fresh, atol=1e-6)
    assert not model.prompt.ctx.requires_grad
    imgs, pids = _batch()
    loss, _ = build_loss(cfg, NUM_CLASSES)(model(imgs), pids, None)
    loss.backward()
    assert model.image_encoder.visual.conv1.weight.grad is not None
    assert model.dai.fc.weight.grad is not None  # L_ram trains the DAI through w
    assert model.rgm.bg_prototype.grad is not None
    assert model.prompt.ctx.grad is None
    assert model.global_head.bottleneck.bias.grad is None


def test_state_dict_after_stage2_loads_into_a_freshly_built_model(make_cfg):
    cfg = make_cfg()
    model = build_rganet(cfg, NUM_CLASSES)
    model.set_stage(2)
    model.init_memory_bank([_batch()[0]])
    state = model.state_dict()
    assert not any(".text_encoder." in k for k in state)
    fresh = build_rganet(cfg, NUM_CLASSES)
    assert set(fresh.state_dict()) != set(state)
    fresh.adapt_to_state_dict(state)  # for key-by-key loaders: drop the text encoder first
    assert set(fresh.state_dict()) == set(state)
    fresh.load_state_dict(state)
    model.eval(), fresh.eval()
    with torch.no_grad():
        a, b = model(_batch()[0]), fresh(_batch()[0])
    for key in ("global_feat", "region_feats", "region_weights"):
        assert torch.allclose(a[key], b[key], atol=1e-5), key


def test_torchreid_open_all_layers_then_apply_trainability_refreezes(make_cfg):
    model = build_rganet(make_cfg(), NUM_CLASSES)
    torchreid_root.utils.open_all_layers(model)
    assert model.prompt.ctx.requires_grad
    model.apply_trainability()
    assert not model.prompt.ctx.requires_grad
    assert not any(p.requires_grad for p in model.prompt.text_encoder.parameters())
    assert not model.global_head.bottleneck.bias.requires_grad
    assert model.image_encoder.visual.conv1.weight.requires_grad


def test_init_memory_bank_uses_fixed_stripe_features_of_the_training_set(make_cfg):
    model = build_rganet(make_cfg(), NUM_CLASSES).train()
    imgs, pids = _batch(8)
    loader = [{"img": imgs[:5], "pid": pids[:5]}, {"img": imgs[5:], "pid": pids[5:]}]
    assert model.init_memory_bank(loader, "cpu") == 8
    assert model.training  # mode restored
    model.eval()
    with torch.no_grad():
        expected = stripe_features(model.image_encoder(imgs), 4).mean(dim=0)
    assert model.memory.is_initialized
    assert torch.allclose(model.memory.centers, expected, atol=1e-5)
    assert model.init_memory_bank(loader, "cpu", max_batches=1) == 5


def test_update_memory_applies_eq5_with_the_step_outputs(make_cfg):
    model = build_rganet(make_cfg(), NUM_CLASSES).train()
    model.memory.initialize(torch.zeros(4, 128))
    out = model(_batch()[0])
    out["alpha"] = torch.tensor([[0.9, 0.1, 0.1, 0.1]] * 3 + [[0.1] * 4] * 3)
    updated = model.update_memory(out)
    assert updated.tolist() == [True, False, False, False]
    expected = 0.7 * out["region_feats"][:3, 0].mean(0).detach()
    assert torch.allclose(model.memory.centers[0], expected, atol=1e-6)
    assert torch.equal(model.memory.centers[1:], torch.zeros(3, 128))


@pytest.mark.parametrize(
    "overrides, has_regions, keys_absent",
    [
        ({"regions": "none"}, False, {"region_feats", "alpha", "beta", "mask_logits"}),
        ({"regions": "stripes"}, True, {"mask_logits"}),
        ({"regions": "stripes", "dai": False, "iai": False}, True, {"alpha", "beta"}),
        ({"dai": False}, True, {"alpha"}),
        ({"iai": False}, True, {"beta"}),
        ({"dai": False, "iai": False}, True, {"alpha", "beta"}),
        ({"num_regions": 2}, True, set()),
        ({"num_regions": 3}, True, set()),
        ({"num_regions": 5}, True, set()),
        ({"confidence": "softmax_sum", "iai_mode": "regions", "iai_temperature": 1.0,
          "dai_target": "weight", "detach_weights": False}, True, set()),  # the text's reading
        ({"confidence": "softmax_sum", "dai": False, "iai": False}, True, {"alpha", "beta"}),
        ({"patch_stride": 6}, True, set()),
        *[({"prompt.mode": "template", "prompt.template": t}, True, set())
          for t in TABLE_VI_TEMPLATES],
    ],
    ids=lambda v: ",".join(f"{k}={x}" for k, x in v.items()) if isinstance(v, dict) else "",
)
def test_ablation_configs_build_and_run_a_training_step(make_cfg, overrides, has_regions,
                                                         keys_absent):
    cfg = make_cfg(**overrides)
    model = build_rganet(cfg, NUM_CLASSES).train()
    model.set_stage(2)
    imgs, pids = _batch()
    out = model(imgs)
    assert keys_absent.isdisjoint(out)
    n = cfg.rganet.num_regions
    if has_regions:
        assert out["region_feats"].shape == (6, n, 128)
        if not (cfg.rganet.dai or cfg.rganet.iai):  # uniform on the reading's own scale
            uniform = 1.0 / n if cfg.rganet.confidence == "softmax_sum" else 1.0
            assert torch.allclose(out["weights"], torch.full((6, n), uniform))
    if cfg.rganet.regions == "rgm":
        assert out["mask_logits"].shape[1] == n + 1
    loss, parts = build_loss(cfg, NUM_CLASSES)(out, pids, None)
    loss.backward()
    assert ("loss_ram" in parts) == has_regions
    model.update_memory(out)
    model.eval()
    with torch.no_grad():
        ev = model(imgs)
    assert (ev["region_feats"] is not None) == has_regions


def test_template_prompts_need_no_stage1(make_cfg):
    model = build_rganet(make_cfg(**{"prompt.mode": "template"}), NUM_CLASSES)
    assert model.prompt.is_frozen and model.prompt_parameters() == []
    with pytest.raises(ValueError, match="Stage 1"):
        model.set_stage(1)
