"""The model → features → distance hand-off: the confidences w the model computes for each region
are the ones Eq. 10 weighs with, through the engine's feature extraction and ``test()``.

Eq. 10 is computed here by hand from the model's own eval outputs, region by region, and the
engine's metrics must equal the metrics of that distance matrix. Each test also checks that it
could fail: uniform, swapped or permuted confidences give other metrics on these inputs.
"""

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rganet_reid.config.defaults import get_default_config
from rganet_reid.engine.rganet_engine import RGANetEngine
from rganet_reid.evaluation import evaluate_distmat
from rganet_reid.modeling import build_rganet

NUM_IDS, Q_PER_ID, G_PER_ID = 6, 2, 5
RANKS = [1, 3, 5]


def _split():
    """Query and gallery images of NUM_IDS identities: an identity pattern plus noise."""
    g = torch.Generator().manual_seed(0)
    patterns = torch.randn(NUM_IDS, 3, 64, 32, generator=g)

    def images(per_id, camid):
        pids = np.repeat(np.arange(NUM_IDS), per_id)
        imgs = patterns[pids] + 1.5 * torch.randn(len(pids), 3, 64, 32, generator=g)
        items = [(f"{camid}-{i}.png", int(p), camid) for i, p in enumerate(pids)]
        return imgs, items

    q_imgs, query = images(Q_PER_ID, 0)
    g_imgs, gallery = images(G_PER_ID, 1)
    return SimpleNamespace(
        query=query, gallery=gallery, eval_ranks=RANKS,
        query_loader=[{"img": q_imgs[:7]}, {"img": q_imgs[7:]}],  # two batches
        gallery_loader=[{"img": g_imgs[:16]}, {"img": g_imgs[16:]}],
        q_imgs=q_imgs, g_imgs=g_imgs, query_truth=None, gallery_truth=None,
    )


class EvalOnly:
    num_train_pids = 4
    train_loader: list = []
    test_loader: dict = {}

    def __init__(self, split):
        self.test_splits = {"toy": split}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    cfg = get_default_config()
    cfg.model.name, cfg.loss.name = "rganet_tiny", "rganet"
    cfg.data.height, cfg.data.width = 64, 32
    cfg.data.save_dir = str(tmp_path_factory.mktemp("run"))
    cfg.rganet.regions = "stripes"
    torch.manual_seed(0)
    model = build_rganet(cfg, 4)
    split = _split()
    with torch.no_grad():
        model.dai.fc.weight.mul_(30.0)  # α spread over (0, 1): confidences far from uniform
    model.init_memory_bank([split.g_imgs], max_batches=1)  # β needs centres (Eq. 5 init)
    engine = RGANetEngine(cfg, EvalOnly(split), model, None, device=torch.device("cpu"))
    model.eval()
    with torch.no_grad():
        out_q, out_g = model(split.q_imgs), model(split.g_imgs)
    return SimpleNamespace(engine=engine, split=split, out_q=out_q, out_g=out_g)


def _cos_dist(a, b):
    return 1 - F.normalize(a.double(), dim=-1) @ F.normalize(b.double(), dim=-1).t()


def eq10(out_q, out_g, wq=None, wg=None):
    """d = (Σ_j w_j^q w_j^g d_j + d_g) / (Σ_j w_j^q w_j^g + 1), cosine d (paper Eq. 9–10)."""
    wq = out_q["region_weights"] if wq is None else wq
    wg = out_g["region_weights"] if wg is None else wg
    num = _cos_dist(out_q["global_feat"], out_g["global_feat"])
    den = torch.ones_like(num)
    for j in range(wq.shape[1]):
        ww = wq[:, j, None].double() * wg[None, :, j].double()
        num = num + ww * _cos_dist(out_q["region_feats"][:, j], out_g["region_feats"][:, j])
        den = den + ww
    return num / den


def metrics(split, distmat):
    ids = lambda items, k: np.array([it[k] for it in items])  # noqa: E731
    res = evaluate_distmat(distmat, ids(split.query, 1), ids(split.gallery, 1),
                           ids(split.query, 2), ids(split.gallery, 2), max_rank=10)
    return {"mAP": 100 * res.mAP, "mINP": 100 * res.mINP,
            **{f"rank{r}": 100 * res.rank(r) for r in RANKS}}


def test_extracted_features_carry_the_models_eval_outputs(setup):
    engine, split, out_q = setup.engine, setup.split, setup.out_q
    feats = engine.extract(split.query_loader, split.query)
    assert feats.region_weights is not None, "the region confidences w were dropped"
    assert torch.allclose(feats.region_weights, out_q["region_weights"], atol=1e-6)
    # stored as unit vectors (Eq. 10 uses only their direction)
    assert torch.allclose(feats.region_feats, F.normalize(out_q["region_feats"], dim=-1),
                          atol=1e-6)
    assert torch.allclose(feats.global_feats, F.normalize(out_q["global_feat"], dim=-1),
                          atol=1e-5)
    assert feats.pids.tolist() == [it[1] for it in split.query]
    assert feats.camids.tolist() == [it[2] for it in split.query]
    w = out_q["region_weights"]
    assert (w.max(1).values / w.min(1).values).median() > 1.5  # far from uniform: w matters


def test_engine_metrics_equal_eq10_computed_by_hand_from_the_model(setup):
    split, out_q, out_g = setup.split, setup.out_q, setup.out_g
    results = setup.engine.test()["toy"]
    expected = metrics(split, eq10(out_q, out_g))
    for key, value in expected.items():
        assert results[key] == pytest.approx(value, abs=1e-6), key
    saved = json.loads((setup.engine.save_dir / "results.json").read_text())
    assert saved["results"]["toy"]["mAP"] == pytest.approx(expected["mAP"], abs=1e-6)


def test_the_inputs_tell_right_confidences_from_wrong_ones(setup):
    """Power check: on these inputs each broken hand-off gives other metrics than Eq. 10."""
    split, out_q, out_g = setup.split, setup.out_q, setup.out_g
    right = metrics(split, eq10(out_q, out_g))
    wq, wg = out_q["region_weights"], out_g["region_weights"]
    wrong = {
        "uniform (weights dropped)": eq10(out_q, out_g, torch.ones_like(wq), torch.ones_like(wg)),
        "regions permuted": eq10(out_q, out_g, wq.flip(1), wg.flip(1)),
        "query weights zeroed": eq10(out_q, out_g, torch.zeros_like(wq), wg),
        "query weights for the gallery": eq10(out_q, out_g, wq, wq[:1].expand_as(wg)),
    }
    for name, distmat in wrong.items():
        assert metrics(split, distmat)["mAP"] != pytest.approx(right["mAP"], abs=1e-6), name
