"""``FeatureExtractor``: features of person images from a trained model, torchreid-style.

Shaped like torchreid's ``torchreid.utils.FeatureExtractor`` (same constructor arguments, same
call), so code written for it ports by changing the import; what differs is what it returns —
an :class:`~rganet_reid.inference.ExtractedFeatures` with the global features (torchreid's
tensor: ``.global_feats``), the region features and their confidences — and that it is built
from a run folder, a weights file written by rganet-reid (it embeds its config), a config, or
an exported ONNX file::

    from rganet_reid.inference import FeatureExtractor
    extractor = FeatureExtractor(run_dir="output/run")          # config.yaml + model.pth
    feats = extractor(["a.jpg", "b.jpg"])                       # paths, PIL, numpy, tensors
    feats.global_feats.shape, feats.region_weights              # (2, d), (2, N)
    feats[0:1].distance(feats[1:2])                             # paper Eq. 10

Preprocessing and the forward pass are the engine's evaluation path (same reader, same
resize, same normalisation, same :mod:`rganet_reid.engine.features`), so the features equal
the ones ``tools/main.py`` evaluates with.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import torch
from tqdm import tqdm
from yacs.config import CfgNode

from rganet_reid.data.transforms import build_test_resize
from rganet_reid.engine.features import finish_features
from rganet_reid.inference.backends import OnnxBackend, TorchBackend
from rganet_reid.inference.inputs import (
    as_preprocessed_batch,
    is_preprocessed,
    split_batch,
    to_uint8_chw,
)
from rganet_reid.inference.model_source import (
    build_inference_model,
    model_fingerprint,
    resolve_model_source,
)
from rganet_reid.inference.result import ExtractedFeatures
from rganet_reid.utils.seed import resolve_device

__all__ = ["FeatureExtractor"]

logger = logging.getLogger(__name__)


class FeatureExtractor:
    """Extract ReID features with a trained model (PyTorch or ONNX backend).

    Args (torchreid's, in torchreid's order):
        model_name: torchreid or rganet-reid model name; needed only without a config.
        model_path: weights (``.pth`` written by the engine, or torchreid's) or an ``.onnx``
            file exported by ``rganet-export`` (then the ONNX backend runs it).
        image_size: (H, W) override of ``data.height, data.width``.
        pixel_mean, pixel_std: overrides of ``data.norm_mean`` / ``data.norm_std``.
        pixel_norm: ``False`` = no normalisation (mean 0, std 1).
        device: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda:1"`` ….
        verbose: log the model, its source and its parameter count.

    Keyword-only:
        config: a ``CfgNode`` or a YAML file (strict keys); overrides a run folder's.
        run_dir: a training run folder (``config.yaml``, ``model.pth``).
        batch_size: images per forward pass (0 = ``test.batch_size``, as the evaluation).
        opts: ``KEY VALUE`` config overrides, applied last.
        onnx_threads: onnxruntime intra-op threads (0 = its default).
    """

    def __init__(
        self,
        model_name: str = "",
        model_path: str | Path = "",
        image_size: Sequence[int] | None = None,
        pixel_mean: Sequence[float] | None = None,
        pixel_std: Sequence[float] | None = None,
        pixel_norm: bool = True,
        device: str | torch.device = "auto",
        verbose: bool = True,
        *,
        config: CfgNode | str | Path | None = None,
        run_dir: str | Path | None = None,
        batch_size: int = 0,
        opts: Sequence[str] = (),
        onnx_threads: int = 0,
    ) -> None:
        self.source = resolve_model_source(
            model_path, config=config, run_dir=run_dir, model_name=model_name,
            image_size=image_size, pixel_mean=pixel_mean, pixel_std=pixel_std,
            pixel_norm=pixel_norm, opts=opts,
        )
        cfg = self.cfg = self.source.cfg
        self.device = resolve_device(device)
        self.resize = build_test_resize(cfg)
        self.batch_size = int(batch_size or cfg.test.batch_size)
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        self._fingerprint: str | None = None
        if self.source.onnx is not None:
            self.model = None
            self.backend = OnnxBackend(self.source.onnx, self.device, onnx_threads)
            self._fingerprint = self.backend.fingerprint
        else:
            self.model = build_inference_model(self.source)
            self.backend = TorchBackend(self.model, cfg, self.device)
        if verbose:
            params = sum(p.numel() for p in self.model.parameters()) if self.model else None
            logger.info("FeatureExtractor: %s (%s) from %s, input %dx%d, %s on %s%s",
                        cfg.model.name, "ONNX" if self.model is None else "PyTorch",
                        self.source.onnx or self.source.weights or "initial weights",
                        cfg.data.height, cfg.data.width, f"config {self.source.origin}",
                        self.device, f", {params:,} parameters" if params else "")

    # ------------------------------------------------------------------ properties
    @property
    def input_size(self) -> tuple[int, int]:
        """(H, W) every image is resized to."""
        return int(self.cfg.data.height), int(self.cfg.data.width)

    @property
    def metric(self) -> str:
        """Global-feature distance of models without regions (``test.dist_metric``)."""
        return self.cfg.test.dist_metric

    @property
    def fingerprint(self) -> str:
        """Hash of the weights and feature settings (:func:`model_fingerprint`); an ONNX file
        carries the fingerprint of the model it was exported from."""
        if self._fingerprint is None:
            self._fingerprint = model_fingerprint(self.model, self.cfg)
        return self._fingerprint

    def describe(self) -> dict:
        """What the extractor runs, for an index's metadata and messages."""
        return {
            "model": self.cfg.model.name,
            "weights": str(self.source.weights) if self.source.weights else None,
            "onnx": str(self.source.onnx) if self.source.onnx else None,
            "config_origin": self.source.origin,
            "fingerprint": self.fingerprint,
        }

    # ------------------------------------------------------------------ extraction
    def preprocess(self, inputs) -> torch.Tensor:
        """Raw images (see :mod:`rganet_reid.inference.inputs`) → a uint8 ``(B, 3, H, W)``
        batch resized like the evaluation does."""
        items = split_batch(inputs)
        if not items:
            raise ValueError("No images given.")
        return self._resized(items, 0)

    def _resized(self, items: list, offset: int) -> torch.Tensor:
        return torch.stack([self.resize(to_uint8_chw(item, where=f"inputs[{offset + i}]"))
                            for i, item in enumerate(items)])

    def __call__(self, inputs) -> ExtractedFeatures:
        """Features of one image or a batch (every kind of :mod:`rganet_reid.inference.inputs`);
        the result always has a batch axis."""
        return self.extract(inputs)

    def extract(self, inputs, progress: bool = False, desc: str = "extract"
                ) -> ExtractedFeatures:
        """Like calling the extractor; ``progress`` shows a tqdm bar over the images."""
        batches = []
        if is_preprocessed(inputs):
            if self.model is None:
                raise TypeError("The ONNX backend takes raw uint8 images (the graph normalises "
                                "them); got a float tensor of preprocessed input.")
            batch = as_preprocessed_batch(inputs, self.input_size)
            for start in range(0, len(batch), self.batch_size):
                batches.append(self.backend.forward_preprocessed(
                    batch[start:start + self.batch_size]))
        else:
            items = split_batch(inputs)
            if not items:
                raise ValueError("No images given.")
            bar = tqdm(total=len(items), desc=desc, unit="img", disable=not progress,
                       mininterval=1.0, dynamic_ncols=True)
            for start in range(0, len(items), self.batch_size):
                chunk = items[start:start + self.batch_size]
                batches.append(self.backend(self._resized(chunk, start)))
                bar.update(len(chunk))
            bar.close()
        normalize = bool(self.cfg.test.normalize_feature) and not self.backend.normalizes_global
        feats = finish_features(batches, normalize)
        return ExtractedFeatures(feats["global_feat"], feats["region_feats"],
                                 feats["region_weights"], self.metric)

    def region_outputs(self, inputs) -> dict[str, torch.Tensor]:
        """Per-region quantities for region figures (paper Fig. 4), PyTorch backend only:
        ``mask_logits`` (B, N+1, h, w) = Eq. 1's S before the softmax over the prototypes
        (k = 0 background; RGM models), ``alpha`` (Eq. 4), ``beta`` (Eq. 6),
        ``confidence`` w and ``region_weights`` (c·w, what Eq. 10 receives) — each present
        when the model has it. The input of
        :func:`rganet_reid.visualization.regions.views_from_outputs`.
        """
        if self.model is None:
            raise TypeError("region_outputs needs the PyTorch backend (ONNX graphs output "
                            "features only).")
        out = self.backend.raw_outputs(self.preprocess(inputs))
        if not isinstance(out, dict):
            raise TypeError(f"{self.cfg.model.name} has no regions (it returns one feature).")
        return {k: out[k].float().cpu() for k in ("mask_logits", "alpha", "beta", "confidence",
                                                   "region_weights") if out.get(k) is not None}
