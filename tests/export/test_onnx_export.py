"""ONNX export: checker, parity with PyTorch at dynamic batch sizes 1 and 7 on real SynthOcc
images, normalisation inside the graph, and the extractor's ONNX backend."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from rganet_reid.cli.export import main  # noqa: E402
from rganet_reid.export.onnx import measure_parity  # noqa: E402
from rganet_reid.inference import FeatureExtractor  # noqa: E402
from rganet_reid.inference import onnx_format as fmt  # noqa: E402
from rganet_reid.inference.gallery import build_gallery  # noqa: E402


@pytest.fixture(scope="module")
def exported(rganet_run, tmp_path_factory):
    """``rganet-export`` run once: (onnx path, printed report)."""
    import contextlib
    import io

    out = tmp_path_factory.mktemp("onnx") / "rganet.onnx"
    images = str(Path(rganet_run.query_paths[0]).parent)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(["--model", str(rganet_run.run_dir), "--out", str(out), "--images", images,
                     "--benchmark-batch", "4", "--repeats", "1", "--threads", "1"])
    assert code == 0, buffer.getvalue()
    return out, buffer.getvalue()


@pytest.fixture(scope="module")
def torch_extractor(rganet_run):
    return FeatureExtractor(model_path=rganet_run.weights, device="cpu", verbose=False)


def test_the_cli_reports_checker_contract_parity_and_throughput(exported):
    _, report = exported
    assert "check_model(full_check=True): passed" in report
    assert "Normalisation is INSIDE the graph" in report
    assert "| runtime" in report and "PyTorch" in report and "onnxruntime" in report
    assert "Parity check passed" in report


def test_the_graph_is_valid_takes_uint8_and_has_a_dynamic_batch(exported, torch_extractor):
    path, _ = exported
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta[fmt.META_NORMALIZATION] == "inside_graph"
    assert meta[fmt.META_FINGERPRINT] == torch_extractor.fingerprint
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    [inp] = session.get_inputs()
    assert inp.name == "images" and inp.type == "tensor(uint8)"
    assert isinstance(inp.shape[0], str) and inp.shape[1:] == [3, 64, 32]
    assert [o.name for o in session.get_outputs()] == list(fmt.OUTPUT_NAMES)


def test_parity_with_pytorch_at_batch_1_and_7_on_real_images(exported, torch_extractor,
                                                              rganet_run):
    path, _ = exported
    parity = measure_parity(torch_extractor, path, rganet_run.query_paths, (1, 7))
    for p in parity:
        assert set(p.max_abs_diff) == {"global_feat", "region_feats", "region_weights"}
        assert p.worst <= 1e-4, p
    # the parity is not vacuous: features of another image differ by far more
    a, b = torch_extractor(rganet_run.query_paths[:2]).global_feats
    assert (a - b).abs().max() > 1e-2


def test_the_extractor_runs_the_onnx_file(exported, torch_extractor, rganet_run):
    path, _ = exported
    onnx_ex = FeatureExtractor(model_path=path, device="cpu", verbose=False)
    assert onnx_ex.model is None and onnx_ex.cfg.model.name == "rganet_tiny"
    assert onnx_ex.fingerprint == torch_extractor.fingerprint
    paths = rganet_run.gallery_paths[:9]
    a, b = onnx_ex(paths), torch_extractor(paths)
    for attr in ("global_feats", "region_feats", "region_weights"):
        assert torch.allclose(getattr(a, attr), getattr(b, attr), atol=1e-4), attr
    # a gallery built with PyTorch answers queries computed with ONNX (same fingerprint)
    gallery = build_gallery(torch_extractor, [Path(paths[0]).parent], path.parent / "gallery",
                            progress=False)
    gallery.check_model(onnx_ex)
    with pytest.raises(TypeError, match="uint8"):
        onnx_ex(torch.zeros(1, 3, 64, 32))
    with pytest.raises(TypeError, match="PyTorch backend"):
        onnx_ex.region_outputs(paths[0])


def test_a_foreign_onnx_file_is_refused(exported, tmp_path):
    path, _ = exported
    model = onnx.load(str(path))
    del model.metadata_props[:]
    onnx.save(model, str(tmp_path / "foreign.onnx"))
    with pytest.raises(ValueError, match="not exported by rganet-reid"):
        FeatureExtractor(model_path=tmp_path / "foreign.onnx", device="cpu")
    shutil.copy(path, tmp_path / "cut.onnx")
    data = (tmp_path / "cut.onnx").read_bytes()
    (tmp_path / "cut.onnx").write_bytes(data[: len(data) // 3])
    with pytest.raises(ValueError, match="onnxruntime cannot load"):
        FeatureExtractor(model_path=tmp_path / "cut.onnx", device="cpu")


def test_onnx_inputs_are_not_normalised_twice(exported, torch_extractor, rganet_run):
    # feeding the graph an image the caller normalised itself is refused by the input type,
    # and the uint8 path equals PyTorch on the same pixels
    path, _ = exported
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    batch = torch_extractor.preprocess(rganet_run.query_paths[:3])
    normalised = torch_extractor.backend.normalize(batch).numpy()
    with pytest.raises(Exception, match="(?i)type"):
        session.run(None, {"images": normalised.astype(np.float32)})
    g = session.run(None, {"images": batch.numpy()})[0]
    assert np.abs(g - torch_extractor(batch).global_feats.numpy()).max() <= 1e-4
