"""FeatureExtractor: the engine's evaluation features, from every kind of input."""

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from rganet_reid.config import ConfigError
from rganet_reid.data.image_io import ImageReadError
from rganet_reid.engine.checkpoint import CheckpointError
from rganet_reid.evaluation import FeatureSet, region_weighted_distance_reference
from rganet_reid.inference import ExtractedFeatures, FeatureExtractor


@pytest.fixture(scope="module")
def rganet_extractor(rganet_run):
    return FeatureExtractor(model_path=rganet_run.weights, device="cpu", verbose=False)


@pytest.fixture(scope="module")
def osnet_extractor(osnet_run):
    return FeatureExtractor(run_dir=osnet_run.run_dir, device="cpu", verbose=False)


def test_rganet_features_equal_the_engines_evaluation_features(rganet_run, rganet_extractor):
    # weights file alone: the config comes from the checkpoint
    for paths, expected in ((rganet_run.query_paths, rganet_run.query),
                            (rganet_run.gallery_paths, rganet_run.gallery)):
        feats = rganet_extractor(paths)
        assert torch.equal(feats.global_feats, expected.global_feats)
        assert torch.equal(feats.region_feats, expected.region_feats)
        assert torch.equal(feats.region_weights, expected.region_weights)
    # the confidences are not all equal: a dropped or uniform w would show
    assert feats.region_weights.std() > 0


def test_torchreid_model_features_equal_the_engines(osnet_run, osnet_extractor):
    feats = osnet_extractor(osnet_run.query_paths)
    assert feats.region_feats is None and feats.region_weights is None
    assert torch.equal(feats.global_feats, osnet_run.query.global_feats)
    assert torch.allclose(feats.global_feats.norm(dim=1), torch.ones(len(feats)))  # normalised


def test_run_folder_and_config_sources_agree_with_the_weights_file(rganet_run, rganet_extractor):
    by_run = FeatureExtractor(run_dir=rganet_run.run_dir, device="cpu", verbose=False)
    by_cfg = FeatureExtractor(model_path=rganet_run.weights, config=rganet_run.cfg,
                              device="cpu", verbose=False)
    paths = rganet_run.query_paths[:3]
    expected = rganet_extractor(paths).global_feats
    assert torch.equal(by_run(paths).global_feats, expected)
    assert torch.equal(by_cfg(paths).global_feats, expected)
    assert by_run.fingerprint == by_cfg.fingerprint == rganet_extractor.fingerprint


def test_every_input_kind_gives_the_features_of_the_file(rganet_run, rganet_extractor):
    path = rganet_run.query_paths[0]
    expected = rganet_extractor(path).global_feats
    pil = Image.open(path).convert("RGB")
    arr = np.array(pil)
    chw = torch.from_numpy(arr).permute(2, 0, 1).contiguous()
    preprocessed = rganet_extractor.backend.normalize(rganet_extractor.preprocess(path))
    inputs = {
        "str": str(path), "Path": Path(path), "PIL": pil, "numpy HWC": arr,
        "uint8 CHW tensor": chw, "list": [path], "tuple": (pil,), "numpy batch": arr[None],
        "uint8 batch tensor": chw[None], "preprocessed float tensor": preprocessed,
        "preprocessed CHW": preprocessed[0],
    }
    for kind, value in inputs.items():
        out = rganet_extractor(value)
        assert isinstance(out, ExtractedFeatures), kind
        assert torch.equal(out.global_feats, expected), kind


def test_modes_and_sizes_are_converted(rganet_extractor, tmp_path):
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (90, 40), dtype=np.uint8)
    rgb = np.repeat(gray[..., None], 3, axis=2)
    expected = rganet_extractor(rgb).global_feats
    rgba = np.dstack([rgb, np.zeros_like(gray)])
    as_16_bit = gray.astype(np.uint16) * 257
    Image.fromarray(as_16_bit).save(tmp_path / "g16.png")
    Image.fromarray(gray).save(tmp_path / "gray.png")
    variants = {
        "L image": Image.fromarray(gray), "2-D array": gray, "H×W×1 array": gray[..., None],
        "RGBA array": rgba, "RGBA image": Image.fromarray(rgba), "16-bit array": as_16_bit,
        "16-bit PNG": tmp_path / "g16.png", "gray PNG": tmp_path / "gray.png",
        "float array": gray.astype(np.float64) / 255,
        "1-channel tensor": torch.from_numpy(gray)[None],
        "CMYK image": Image.fromarray(rgb).convert("CMYK"),
    }
    for kind, value in variants.items():
        assert torch.equal(rganet_extractor(value).global_feats, expected), kind
    # any size: a large landscape crop works and is resized like the evaluation resizes
    big = rng.integers(0, 256, (37, 301, 3), dtype=np.uint8)
    assert rganet_extractor(big).global_feats.shape == expected.shape


def test_a_batch_row_equals_the_single_image(rganet_run, rganet_extractor):
    paths = rganet_run.gallery_paths[:5]
    batch = rganet_extractor(paths)
    assert len(batch) == 5
    for i, p in enumerate(paths):
        single = rganet_extractor(p)
        assert torch.allclose(single.global_feats, batch[i].global_feats, atol=1e-6)
        assert torch.allclose(single.region_feats, batch[i].region_feats, atol=1e-6)
        assert torch.allclose(single.region_weights, batch[i].region_weights, atol=1e-6)


def test_distance_is_eq10_between_two_results(rganet_run, rganet_extractor, osnet_extractor):
    q = rganet_extractor(rganet_run.query_paths[:4])
    g = rganet_extractor(rganet_run.gallery_paths[:6])

    def fs(x):
        return FeatureSet(x.global_feats, np.zeros(len(x), np.int64), np.zeros(len(x), np.int64),
                          x.region_feats, x.region_weights)

    expected = region_weighted_distance_reference(fs(q), fs(g)).float()
    assert torch.allclose(q.distance(g), expected, atol=1e-5)
    plain = fs(q)
    plain.region_weights = None  # uniform w is a different distance: the test would see it
    assert not torch.allclose(region_weighted_distance_reference(plain, fs(g)).float(), expected,
                              atol=1e-5)
    gq, gg = osnet_extractor(rganet_run.query_paths[:2]), osnet_extractor(rganet_run.query_paths)
    cos = 1 - gq.global_feats @ gg.global_feats.t()
    assert torch.allclose(gq.distance(gg), cos, atol=1e-5)
    with pytest.raises(ValueError, match="same kind of model"):
        q.distance(gg)


def test_torchreid_style_construction_ports(osnet_run, tmp_path):
    # torchreid's FeatureExtractor(model_name, model_path, image_size, ..., device) with
    # torchreid-format weights (no config inside)
    state = torch.load(osnet_run.weights, weights_only=True)["model"]
    torch.save({"state_dict": state}, tmp_path / "osnet.pth.tar")
    ex = FeatureExtractor("osnet_x0_25", str(tmp_path / "osnet.pth.tar"), (64, 32),
                          device="cpu", verbose=False)
    feats = ex(osnet_run.query_paths[:2])
    # torchreid's default normalisation is ImageNet's, as this run's config: same features
    # (a batch of 2 here, of 8 in the evaluation: equal to float32 rounding)
    assert torch.allclose(feats.global_feats, osnet_run.query.global_feats[:2], atol=1e-6)


def test_region_outputs_hook(rganet_run, rganet_extractor):
    out = rganet_extractor.region_outputs(rganet_run.query_paths[:2])
    n = rganet_run.query.num_regions
    assert out["mask_logits"].shape[:2] == (2, n + 1)
    assert out["alpha"].shape == out["beta"].shape == out["region_weights"].shape == (2, n)
    assert torch.equal(out["region_weights"], rganet_run.query.region_weights[:2])


def test_fingerprint_changes_with_weights_and_feature_settings(rganet_run, rganet_extractor,
                                                               tmp_path):
    other = FeatureExtractor(model_path=rganet_run.weights, device="cpu", verbose=False,
                             opts=["test.normalize_feature", "False"])
    assert other.fingerprint != rganet_extractor.fingerprint
    ckpt = torch.load(rganet_run.weights, weights_only=True)
    ckpt["model"]["global_head.bottleneck.weight"][0] += 1e-3
    torch.save(ckpt, tmp_path / "changed.pth")
    changed = FeatureExtractor(model_path=tmp_path / "changed.pth", device="cpu", verbose=False)
    assert changed.fingerprint != rganet_extractor.fingerprint


def test_bad_inputs_are_clear_errors(rganet_run, rganet_extractor, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"no image here")
    with pytest.raises(ImageReadError, match=re.escape(str(bad))):
        rganet_extractor([rganet_run.query_paths[0], bad])
    with pytest.raises(ValueError, match="No images"):
        rganet_extractor([])
    with pytest.raises(TypeError, match=r"inputs\[1\]: unsupported input type dict"):
        rganet_extractor([rganet_run.query_paths[0], {}])
    with pytest.raises(ValueError, match="preprocessed model input"):
        rganet_extractor(torch.zeros(2, 3, 128, 64))
    with pytest.raises(ValueError, match="channel-first"):
        rganet_extractor(np.zeros((3, 64, 32), np.uint8))


def test_bad_model_sources_are_clear_errors(rganet_run, osnet_run, tmp_path):
    with pytest.raises(ConfigError, match="No model given"):
        FeatureExtractor(device="cpu")
    with pytest.raises(FileNotFoundError, match="Weights file not found"):
        FeatureExtractor(model_path=tmp_path / "nope.pth", device="cpu")
    with pytest.raises(FileNotFoundError, match="holds no weights"):
        FeatureExtractor(run_dir=tmp_path, device="cpu")
    with pytest.raises(ConfigError, match="model_name='osnet_x0_25' but"):
        FeatureExtractor("osnet_x0_25", rganet_run.weights, device="cpu")
    with pytest.raises(CheckpointError, match="does not fit the model"):
        FeatureExtractor(model_path=osnet_run.weights, config=rganet_run.cfg, device="cpu")


def test_configs_saved_by_older_versions_drop_unknown_keys(rganet_run, tmp_path, caplog):
    text = (rganet_run.run_dir / "config.yaml").read_text()
    run = tmp_path / "old_run"
    run.mkdir()
    (run / "config.yaml").write_text(text.replace("test:\n", "test:\n  gone_key: 3\n", 1))
    (run / "model.pth").symlink_to(rganet_run.weights)
    ex = FeatureExtractor(run_dir=run, device="cpu", verbose=False)
    assert "test.gone_key" in caplog.text
    assert ex.cfg.model.name == "rganet_tiny"
