"""The region confidences travel from the model to Eq. 10 and the region report (tiny SynthOcc).

A model whose w varies strongly between regions and images is evaluated through the engine;
the w that reaches the distance must be the model's, and Eq. 10 must rank differently with it
than with uniform weights. Dropping ``region_weights`` anywhere on the way (model output, the
engine's extraction, the FeatureSet, the embedding of Eq. 10) fails here.
"""

import numpy as np
import pytest
import torch

from rganet_reid.config.defaults import get_default_config
from rganet_reid.evaluation import evaluate_retrieval
from rganet_reid.modeling.ram import combine_confidence


@pytest.fixture(scope="module")
def engine(synthocc_root, tmp_path_factory):
    from rganet_reid.cli.main import build

    cfg = get_default_config()
    cfg.model.name, cfg.loss.name, cfg.model.pretrained = "rganet_tiny", "rganet", ""
    cfg.data.root, cfg.data.synthocc.size = str(synthocc_root), "tiny"
    cfg.data.sources = cfg.data.targets = ["synthocc_occluded"]
    cfg.data.height, cfg.data.width, cfg.data.workers = 64, 32, 0
    cfg.data.save_dir = str(tmp_path_factory.mktemp("handoff"))
    cfg.test.evaluate, cfg.test.batch_size = True, 64
    cfg.rganet.prompt.mode, cfg.rganet.confidence = "template", "mean"
    cfg.freeze()
    engine = build(cfg)
    torch.manual_seed(0)
    with torch.no_grad():  # α spread over (0, 1): w differs between regions and images
        engine.model.dai.fc.weight.normal_(0.0, 2.0)
    return engine


def test_the_models_confidences_reach_the_feature_set(engine):
    split = engine.datamanager.test_splits["synthocc_occluded"]
    query = engine.extract(split.query_loader, split.query, extras=True)
    engine.model.eval()
    with torch.no_grad():
        out = engine.model(torch.stack([split.query_loader.dataset[i]["img"]
                                        for i in range(len(split.query))]))
    expected = combine_confidence(out["alpha"], out["beta"], "mean", 4)
    scale = engine.cfg.rganet.region_weight_scale  # Eq. 10 receives c·w
    assert scale != 1.0
    assert query.region_weights is not None
    assert torch.allclose(query.region_weights, scale * expected, atol=1e-5)
    assert torch.allclose(query.extras["confidence"], expected, atol=1e-5)
    assert float(query.region_weights.std()) > 0.05  # not a uniform stand-in
    assert set(query.extras) == {"alpha", "beta", "confidence", "iai_similarity",
                                 "mask_logits"}


def test_eq10_with_the_learned_confidences_differs_from_uniform_weights(engine):
    results = engine.test()["synthocc_occluded"]
    split = engine.datamanager.test_splits["synthocc_occluded"]
    query = engine.extract(split.query_loader, split.query)
    gallery = engine.extract(split.gallery_loader, split.gallery)
    assert results["mAP"] == pytest.approx(100.0 * evaluate_retrieval(query, gallery).mAP)
    assert results["mAP"] != pytest.approx(results["eq10_uniform_mAP"], abs=1e-6)
    assert results["mAP"] != pytest.approx(results["eq10_uniform_scaled_mAP"], abs=1e-6)
    for key in ("miou", "auroc_alpha", "auroc_beta", "auroc_w", "eq10_oracle_mAP"):
        assert np.isfinite(results[key]), key
