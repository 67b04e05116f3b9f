"""region_report: every region metric of a test set from features + part ground truth."""

from pathlib import Path

import numpy as np
import pytest
import torch

from rganet_reid.data.masks import write_mask
from rganet_reid.data.part_truth import PartTruth
from rganet_reid.evaluation import FeatureSet, evaluate_retrieval
from rganet_reid.evaluation.region_report import region_report, reweighted

PARTS = ("head", "upper_body", "lower_body", "feet")
IDS, D = 6, 8  # identities, global feature size


def _truth(vis, paths=None):
    vis = np.asarray(vis, dtype=np.float32)
    paths = paths or tuple(Path(f"/nonexistent/{i}.png") for i in range(len(vis)))
    return PartTruth(vis, tuple(paths), PARTS)


def _sets():
    """Queries whose three lower regions are hidden and pooled from the next person (a false
    match); an unoccluded gallery; a global feature that carries no identity."""
    basis = torch.eye(IDS * 4).view(IDS, 4, IDS * 4)  # orthogonal region features
    g_pids = np.tile(np.arange(IDS), 2)  # two gallery images per identity
    q_regions = basis.clone()
    q_regions[:, 1:] = basis[(torch.arange(IDS) + 1) % IDS, 1:]  # hidden: another person
    noise = torch.Generator().manual_seed(1)
    glob = torch.ones(3 * IDS, D) + 0.01 * torch.randn(3 * IDS, D, generator=noise)
    gallery = FeatureSet(glob[IDS:], g_pids, np.ones(2 * IDS, dtype=np.int64),
                         basis.repeat(2, 1, 1), region_weights=torch.full((2 * IDS, 4), 0.5),
                         extras={"alpha": torch.full((2 * IDS, 4), 0.9)})
    w = torch.tensor([[0.9, 0.2, 0.15, 0.1]]).repeat(IDS, 1)  # learned w: sees the occlusion
    query = FeatureSet(glob[:IDS], np.arange(IDS), np.zeros(IDS, dtype=np.int64), q_regions,
                       region_weights=w,
                       extras={"alpha": torch.tensor([[0.8, 0.95, 0.9, 0.9]]).repeat(IDS, 1)})
    q_truth = _truth([[1.0, 0.0, 0.0, 0.0]] * IDS)
    g_truth = _truth([[1.0, 1.0, 1.0, 1.0]] * (2 * IDS))
    return query, gallery, q_truth, g_truth


def test_report_compares_learned_weights_with_global_uniform_and_oracle():
    query, gallery, q_truth, g_truth = _sets()
    m = region_report(query, gallery, q_truth, g_truth, evaluate_retrieval)
    learned = 100.0 * evaluate_retrieval(query, gallery).mAP
    # uniform weights let the hidden regions' false match decide; oracle weights drop them
    assert m["eq10_oracle_mAP"] == pytest.approx(100.0) == learned
    assert m["eq10_uniform_mAP"] == pytest.approx(100.0 * (1 / 3 + 2 / 4) / 2)  # false first
    assert m["eq10_global_mAP"] < 60.0
    # AUROC over query + gallery: w of visible parts (0.9, 0.5) vs hidden ones (≤ 0.2)
    assert m["auroc_w"] == 1.0
    assert m["auroc_visible_pairs"] == IDS + 2 * IDS * 4 and m["auroc_hidden_pairs"] == 3 * IDS
    # α: visible 0.8 (query heads), 0.9 (gallery) vs hidden 0.95, 0.9, 0.9 → inverted
    vis_scores = [0.8] * IDS + [0.9] * (8 * IDS)
    expected = sum((v > h) + 0.5 * (v == h) for v in vis_scores
                   for h in [0.95] * IDS + [0.9] * (2 * IDS)) / (9 * IDS * 3 * IDS)
    assert m["auroc_alpha"] == pytest.approx(expected) and expected < 0.5
    assert "auroc_beta" not in m and "miou" not in m
    assert m["w_mean"] == pytest.approx(float(torch.cat([query.region_weights,
                                                         gallery.region_weights]).mean()))


def test_reweighted_sets_the_weights_eq10_reads():
    query, *_ = _sets()
    assert reweighted(query, "global").region_feats is None
    assert torch.equal(reweighted(query, "uniform").region_weights, torch.ones(IDS, 4))
    vis = np.full((IDS, 4), 0.25, dtype=np.float32)
    assert torch.equal(reweighted(query, "oracle", vis).region_weights, torch.full((IDS, 4), 0.25))
    with pytest.raises(ValueError, match="visibility"):
        reweighted(query, "oracle", np.full((IDS, 4), np.nan))


def test_report_measures_mask_iou_at_image_resolution(tmp_path):
    # one image 4x2: truth rows = head, upper, lower, feet; the logits (2x1 grid) say
    # top half = head, bottom half = lower body
    truth_mask = np.array([[1, 1], [2, 2], [3, 3], [4, 4]], dtype=np.uint8)
    path = write_mask(tmp_path / "m.png", truth_mask)
    logits = torch.zeros(1, 5, 2, 1)
    logits[0, 1, 0, 0] = logits[0, 3, 1, 0] = 9.0
    fs = FeatureSet(torch.randn(1, D), np.array([0]), np.array([0]), torch.randn(1, 4, D),
                    torch.ones(1, 4), extras={"mask_logits": logits})
    truth = _truth([[1.0, 1.0, 1.0, 1.0]], (path,))
    other_camera = FeatureSet(fs.global_feats, fs.pids, np.array([1]), fs.region_feats,
                              fs.region_weights, dict(fs.extras))
    m = region_report(fs, other_camera, truth, truth, evaluate_retrieval)
    # head: predicted rows 0-1, true row 0 → 2/4; upper: 0/2; lower: 2/4; feet: 0/2
    assert [m[f"iou_{p}"] for p in PARTS] == pytest.approx([0.5, 0.0, 0.5, 0.0])
    assert m["miou"] == pytest.approx(0.25)


def test_report_at_a_weight_scale_scales_the_comparisons_and_reads_w_unscaled():
    """With c = rganet.region_weight_scale the features carry c·w: the uniform-scaled and
    oracle weightings use the same c, w_mean / w_std / AUROC read w itself (``confidence``)."""
    query, gallery, q_truth, g_truth = _sets()
    c = 3.0
    for fs in (query, gallery):
        fs.extras["confidence"] = fs.region_weights.clone()
        fs.region_weights = c * fs.region_weights
    scaled = region_report(query, gallery, q_truth, g_truth, evaluate_retrieval, weight_scale=c)
    for fs in (query, gallery):
        fs.region_weights = fs.extras.pop("confidence")
    plain = region_report(query, gallery, q_truth, g_truth, evaluate_retrieval)
    assert "eq10_uniform_scaled_mAP" not in plain
    assert scaled["w_mean"] == pytest.approx(plain["w_mean"])
    assert scaled["auroc_w"] == plain["auroc_w"]
    assert scaled["eq10_uniform_mAP"] == pytest.approx(plain["eq10_uniform_mAP"])
    # the global term carries no identity here, so only the regions rank: the same order at
    # every uniform scale, and the oracle (c × visibility) still drops the false regions
    assert scaled["eq10_uniform_scaled_mAP"] == pytest.approx(scaled["eq10_uniform_mAP"])
    assert scaled["eq10_oracle_mAP"] == pytest.approx(100.0)
    assert torch.equal(reweighted(query, "uniform_scaled", None, c).region_weights,
                       torch.full((IDS, 4), c))
    vis = np.full((IDS, 4), 0.5)
    assert torch.equal(reweighted(query, "oracle", vis, c).region_weights,
                       torch.full((IDS, 4), 1.5))
