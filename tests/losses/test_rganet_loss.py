"""Eq. 8 (stage 2) and the stage-1 loss, built from the config."""

import pytest
import torch
import torch.nn.functional as F

from rganet_reid.compat import torchreid_losses
from rganet_reid.config.defaults import get_default_config
from rganet_reid.losses import LOSSES, build_loss, build_stage1_loss

B, N, C, D = 8, 3, 4, 6


def _cfg(**rganet):
    cfg = get_default_config()
    cfg.rganet.num_regions = N
    for key, value in rganet.items():
        setattr(cfg.rganet, key, value)
    return cfg


def _outputs(regions=True, seg=False):
    torch.manual_seed(0)
    out = {"global_feat": torch.randn(B, D), "global_logits": torch.randn(B, C)}
    if regions:
        out.update(region_feats=torch.randn(B, N, D), region_logits=torch.randn(B, N, C),
                   weights=torch.rand(B, N).softmax(-1))
    if seg:
        out["mask_logits"] = torch.randn(B, N + 1, 4, 2)
    return out


PIDS = torch.arange(B) % (B // 2)  # 4 identities x 2 images


def test_total_is_eq8_id_triplet_on_global_plus_ram_and_triplet_per_region():
    cfg = _cfg()
    out = _outputs()
    total, parts = build_loss(cfg, C)(out, PIDS, None)
    tri = torchreid_losses.TripletLoss(margin=0.3)
    expected = {
        "loss_id": F.cross_entropy(out["global_logits"], PIDS, label_smoothing=0.1),
        "loss_tri": tri(out["global_feat"], PIDS),
        "loss_ram": LOSSES.get("ram")(0.1)(out["region_logits"], PIDS, out["weights"]),
        "loss_tri_region": sum(tri(out["region_feats"][:, j], PIDS) for j in range(N)),
    }
    assert set(parts) == set(expected)
    for key, value in expected.items():
        assert parts[key] == pytest.approx(float(value), rel=1e-5), key
    assert float(total) == pytest.approx(sum(float(v) for v in expected.values()), rel=1e-5)


def test_baseline_without_regions_is_id_plus_triplet():
    _, parts = build_loss(_cfg(regions="none"), C)(_outputs(regions=False), PIDS, None)
    assert set(parts) == {"loss_id", "loss_tri"}


def test_loss_weights_scale_id_and_triplet_terms():
    cfg = _cfg()
    cfg.loss.triplet.weight_x, cfg.loss.triplet.weight_t = 2.0, 0.5
    _, base = build_loss(_cfg(), C)(_outputs(), PIDS, None)
    _, scaled = build_loss(cfg, C)(_outputs(), PIDS, None)
    assert scaled["loss_id"] == pytest.approx(2 * base["loss_id"])
    assert scaled["loss_ram"] == pytest.approx(2 * base["loss_ram"])
    assert scaled["loss_tri_region"] == pytest.approx(0.5 * base["loss_tri_region"])


def test_stage2_seg_weight_adds_weighted_lseg_and_needs_masks():
    cfg = _cfg()
    cfg.rganet.seg.weight_stage2 = 0.5
    loss = build_loss(cfg, C)
    masks = torch.randint(0, N + 1, (B, 8, 4))
    out = _outputs(seg=True)
    _, parts = loss(out, PIDS, masks)
    seg = LOSSES.get("seg")(N)(out["mask_logits"], masks)
    assert parts["loss_seg"] == pytest.approx(0.5 * float(seg), rel=1e-5)
    with pytest.raises(ValueError, match="load_masks"):
        loss(out, PIDS, None)



def test_stage2_seg_weight_is_off_for_region_types_without_masks():
    """Table V rows without the RGM (none / stripes) share the RGM config; L_seg drops out."""
    cfg = _cfg(regions="stripes")
    cfg.rganet.seg.weight_stage2 = 0.5
    loss = build_loss(cfg, C)
    assert not loss.needs_masks
    _, parts = loss(_outputs(), PIDS, None)
    assert "loss_seg" not in parts


def test_stage1_loss_is_lseg_and_explains_missing_masks():
    loss = build_stage1_loss(_cfg())
    out = _outputs(regions=False, seg=True)
    masks = torch.randint(0, N + 1, (B, 8, 4))
    total, parts = loss(out, PIDS, masks)
    assert parts == {"loss_seg": pytest.approx(float(total))}
    with pytest.raises(ValueError, match="template"):
        loss(out, PIDS, None)


def test_registry_lists_the_losses():
    assert {"rganet", "rganet_stage1", "id", "triplet", "region_triplet", "ram", "seg"} <= set(
        LOSSES.names())
    with pytest.raises(KeyError, match="Valid names"):
        build_loss(_cfg(), C, name="arcface")


def test_weighted_region_triplet_weights_each_anchor_by_its_confidence():
    from rganet_reid.losses.triplet import RegionTripletLoss, hard_triplet_per_anchor

    out = _outputs()
    feats = out["region_feats"]
    tri = torchreid_losses.TripletLoss(margin=0.3)
    per_anchor = hard_triplet_per_anchor(feats[:, 0], PIDS, 0.3)
    assert float(per_anchor.mean()) == pytest.approx(float(tri(feats[:, 0], PIDS)), rel=1e-5)
    weighted = RegionTripletLoss(0.3, weighted=True)
    equal = weighted(feats, PIDS, torch.full((B, N), 0.7))
    assert float(equal) == pytest.approx(float(RegionTripletLoss(0.3)(feats, PIDS)), rel=1e-5)
    w = torch.zeros(B, N)
    w[0] = 1.0  # only anchor 0 counts
    expected = sum(float(hard_triplet_per_anchor(feats[:, j], PIDS, 0.3)[0]) for j in range(N))
    assert float(weighted(feats, PIDS, w)) == pytest.approx(expected, rel=1e-5)
    cfg = _cfg(region_triplet_weighted=True)
    _, parts = build_loss(cfg, C)(out, PIDS, None)
    assert parts["loss_tri_region"] == pytest.approx(float(weighted(feats, PIDS,
                                                                    out["weights"])), rel=1e-5)
