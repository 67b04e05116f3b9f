"""ONNX export of the inference graph, with checker, parity and throughput measurements.

The exported graph is :class:`InferenceGraph`: **uint8 RGB images** ``(batch, 3, H, W)`` at the
model's input size → normalisation *inside the graph* (``x / 255``, then ``(x − mean) / std``
with the model's ``data.norm_mean`` / ``data.norm_std``, the very torchvision functions the
evaluation transform uses) → the model's evaluation features (the engine's
:func:`~rganet_reid.engine.features.eval_features`) → ``global_feat`` (L2-normalised in the
graph when ``test.normalize_feature``), ``region_feats`` (always L2-normalised, as the
evaluation stores them: :func:`~rganet_reid.engine.features.unit_regions`), ``region_weights``.
The batch axis is dynamic. RGANet's part prototypes are computed once and baked in as constants
(no text encoder). The input contract and metadata keys:
:mod:`rganet_reid.inference.onnx_format`.

Exported with ``torch.onnx.export(dynamo=True)`` (needs ``onnxscript``), checked with
``onnx.checker.check_model(full_check=True)``.
"""

from __future__ import annotations

import copy
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.transforms.v2 import functional as TF
from yacs.config import CfgNode

from rganet_reid.engine.features import FEATURE_KEYS, eval_features, unit_regions
from rganet_reid.inference import ExtractedFeatures, FeatureExtractor
from rganet_reid.inference import onnx_format as fmt
from rganet_reid.inference.backends import OnnxBackend

__all__ = ["InferenceGraph", "Parity", "Throughput", "export_onnx", "measure_parity",
           "measure_throughput"]

logger = logging.getLogger(__name__)


def _import_onnx():
    try:
        import onnx
    except ImportError as err:
        raise ImportError("ONNX export needs onnx, onnxscript and onnxruntime: pip install "
                          "'rganet-reid[onnx]'.") from err
    return onnx


class InferenceGraph(nn.Module):
    """What the ONNX file computes: uint8 images → normalised input → features.

    Args:
        model: the eval-mode model (RGANet or a torchreid model); it is copied, with RGANet's
            prototypes replaced by the constant tensor they evaluate to.
        cfg: its config (input normalisation, ``test.normalize_feature``).
    """

    def __init__(self, model: nn.Module, cfg: CfgNode) -> None:
        super().__init__()
        model = copy.deepcopy(model).eval()
        if getattr(model, "prompt", None) is not None:
            with torch.no_grad():
                constant = model.prototypes().detach().clone()
            self.register_buffer("prototypes", constant)
            model.prototypes = lambda: self.prototypes  # constants: no text encoder in the graph
        self.model = model
        self.mean = [float(v) for v in cfg.data.norm_mean]
        self.std = [float(v) for v in cfg.data.norm_std]
        self.normalize_global = bool(cfg.test.normalize_feature)
        with torch.no_grad():
            probe = eval_features(model, torch.zeros(1, 3, int(cfg.data.height),
                                                     int(cfg.data.width)))
        self.output_names = [k for k in FEATURE_KEYS if probe[k] is not None]

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = TF.to_dtype_image(images, torch.float32, scale=True)
        x = TF.normalize_image(x, self.mean, self.std)
        out = eval_features(self.model, x)
        g = out["global_feat"].float()
        if self.normalize_global:
            g = F.normalize(g, dim=-1)
        rest = {k: out[k].float() for k in self.output_names[1:]}
        if "region_feats" in rest:
            rest["region_feats"] = unit_regions(rest["region_feats"])
        return (g, *rest.values())


def export_onnx(extractor: FeatureExtractor, out: str | Path, *, opset: int = 18,
                check: bool = True) -> Path:
    """Export the PyTorch ``extractor``'s model to ``out`` (written atomically) with the
    metadata of :mod:`rganet_reid.inference.onnx_format`; returns the path."""
    onnx = _import_onnx()
    if extractor.model is None:
        raise ValueError("The extractor already runs an ONNX file; export from PyTorch weights.")
    cfg = extractor.cfg
    graph = InferenceGraph(extractor.model.cpu(), cfg).eval()
    h, w = extractor.input_size
    example = torch.randint(0, 256, (2, 3, h, w), dtype=torch.uint8,
                            generator=torch.Generator().manual_seed(0))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        raw = Path(tmp) / "raw.onnx"
        with torch.no_grad():
            torch.onnx.export(
                graph, (example,), str(raw), dynamo=True, opset_version=opset,
                input_names=[fmt.INPUT_NAME], output_names=graph.output_names,
                dynamic_shapes=({0: torch.export.Dim("batch", min=1, max=65536)},),
                external_data=False, verbose=False,
            )
        proto = onnx.load(str(raw))
        onnx.helper.set_model_props(proto, {
            fmt.META_FORMAT: f"{fmt.FORMAT}/{fmt.FORMAT_VERSION}",
            fmt.META_CONFIG: cfg.dump(),
            fmt.META_FINGERPRINT: extractor.fingerprint,
            fmt.META_INPUT: f"uint8 RGB (batch, 3, {h}, {w}), resized, NOT normalised",
            fmt.META_NORMALIZATION: "inside_graph",
        })
        final = Path(tmp) / "final.onnx"
        onnx.save(proto, str(final))
        if check:
            onnx.checker.check_model(str(final), full_check=True)
        os.replace(final, out)
    logger.info("Exported %s (%s, outputs %s) to %s", cfg.model.name, extractor.fingerprint,
                ", ".join(graph.output_names), out)
    return out


@dataclass
class Parity:
    """Max absolute difference of each output, ONNX vs PyTorch, for one batch size, and of what
    retrieval computes from them: the Eq. 10 distances among the batch (``derived``; not an
    output, so not part of :attr:`worst`)."""

    batch_size: int
    max_abs_diff: dict[str, float]
    derived: dict[str, float] = field(default_factory=dict)

    @property
    def worst(self) -> float:
        return max(self.max_abs_diff.values())


def measure_parity(extractor: FeatureExtractor, onnx_path: str | Path,
                   images: Sequence, batch_sizes: Sequence[int] = (1, 7)) -> list[Parity]:
    """Features of the first ``b`` of ``images`` (any extractor input) from PyTorch and from
    the ONNX file, for each ``b`` of ``batch_sizes``."""
    backend = OnnxBackend(onnx_path)
    results = []
    for b in batch_sizes:
        if b > len(images):
            raise ValueError(f"Parity at batch {b} needs {b} images; got {len(images)}.")
        batch = extractor.preprocess(list(images[:b]))
        reference = extractor.extract(batch)
        onnx_out = backend(batch)
        diffs = {}
        for key, attr in zip(FEATURE_KEYS, ("global_feats", "region_feats", "region_weights")):
            ref = getattr(reference, attr)
            if ref is None:
                continue
            if onnx_out[key] is None or onnx_out[key].shape != ref.shape:
                raise ValueError(f"{onnx_path}: output {key} missing or of another shape.")
            diffs[key] = float((onnx_out[key] - ref).abs().max())
        ort_feats = ExtractedFeatures(*(onnx_out[k] for k in FEATURE_KEYS), reference.metric)
        derived = {"eq10_distance": float((ort_feats.distance(ort_feats)
                                           - reference.distance(reference)).abs().max())}
        results.append(Parity(b, diffs, derived))
    return results


@dataclass
class Throughput:
    """Images per second of one runtime on one batch (median of ``repeats`` timed runs)."""

    runtime: str
    batch_size: int
    threads: int
    images_per_s: float
    seconds_per_batch: list[float]


def _time(fn: Callable[[], object], batch_size: int, warmup: int, repeats: int
          ) -> tuple[float, list[float]]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return batch_size / statistics.median(times), times


def measure_throughput(extractor: FeatureExtractor, onnx_path: str | Path, images: Sequence,
                       batch_size: int = 32, threads: int = 0, warmup: int = 2,
                       repeats: int = 5) -> list[Throughput]:
    """PyTorch (the extractor's backend) vs onnxruntime (CPU provider) on the same resized
    uint8 batch of ``batch_size`` images (cycled from ``images``), ``threads`` intra-op
    threads each (0 = torch's current setting). Preprocessing (reading, resizing) is not
    timed; normalisation is (it is part of both graphs)."""
    threads = threads or torch.get_num_threads()
    items = [images[i % len(images)] for i in range(batch_size)]
    batch = extractor.preprocess(items)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        torch_rate, torch_times = _time(lambda: extractor.backend(batch), batch_size, warmup,
                                        repeats)
    finally:
        torch.set_num_threads(previous)
    ort = OnnxBackend(onnx_path, threads=threads)
    array = np.ascontiguousarray(batch.numpy())
    ort_rate, ort_times = _time(lambda: ort.session.run(None, {fmt.INPUT_NAME: array}),
                                batch_size, warmup, repeats)
    return [Throughput("PyTorch", batch_size, threads, torch_rate, torch_times),
            Throughput("onnxruntime", batch_size, threads, ort_rate, ort_times)]
