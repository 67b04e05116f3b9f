"""The two ways the extractor runs a model on a batch of resized uint8 images.

* :class:`TorchBackend`: normalises on the host with the evaluation transform's
  ``ToDtype + Normalize`` (:func:`rganet_reid.data.transforms.build_input_normalize`), then the
  engine's feature path (:func:`rganet_reid.engine.features.eval_features`) under the run's
  autocast setting.
* :class:`OnnxBackend`: an exported ONNX file on onnxruntime; the graph normalises its uint8
  input and the global feature itself (:mod:`rganet_reid.inference.onnx_format`).

Both return the per-batch feature dict that
:func:`rganet_reid.engine.features.finish_features` concatenates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn
from yacs.config import CfgNode

from rganet_reid.data.transforms import build_input_normalize
from rganet_reid.engine.features import AMP_DTYPES, amp_autocast, eval_features
from rganet_reid.inference import onnx_format as fmt

__all__ = ["OnnxBackend", "TorchBackend", "import_onnxruntime", "onnx_config"]


class TorchBackend:
    """A PyTorch model in eval mode on ``device`` (autocast per ``cfg.train.amp``)."""

    #: the global feature is normalised by the caller (``finish_features``), as in the engine
    normalizes_global = False

    def __init__(self, model: nn.Module, cfg: CfgNode, device: torch.device) -> None:
        if cfg.train.amp not in ("none", *AMP_DTYPES):
            raise ValueError(f"train.amp must be none, bf16 or fp16, got {cfg.train.amp!r}")
        self.model = model.to(device).eval()
        self.device = device
        self.amp_dtype = AMP_DTYPES.get(cfg.train.amp)
        self.normalize = build_input_normalize(cfg)

    def __call__(self, images: torch.Tensor) -> dict[str, torch.Tensor | None]:
        """Features of a uint8 ``(B, 3, H, W)`` batch at the model's input size."""
        return self.forward_preprocessed(self.normalize(images))

    @torch.no_grad()
    def forward_preprocessed(self, batch: torch.Tensor) -> dict[str, torch.Tensor | None]:
        """Features of a normalised float ``(B, 3, H, W)`` batch."""
        with amp_autocast(self.device, self.amp_dtype):
            return eval_features(self.model, batch.to(self.device, non_blocking=True))

    @torch.no_grad()
    def raw_outputs(self, images: torch.Tensor) -> dict | torch.Tensor:
        """The model's whole eval-mode output for a uint8 batch (RGANet: also ``alpha``,
        ``beta`` and ``mask_logits`` = γ·cos(F, p_k) of Eq. 1)."""
        with amp_autocast(self.device, self.amp_dtype):
            return self.model(self.normalize(images).to(self.device))


def import_onnxruntime():
    """``onnxruntime``, or an ImportError saying how to install it."""
    try:
        import onnxruntime
    except ImportError as err:
        raise ImportError("The ONNX backend needs onnxruntime: pip install 'rganet-reid[onnx]' "
                          "(or pip install onnxruntime).") from err
    return onnxruntime


def _session(path: Path, device: torch.device | None = None, threads: int = 0):
    ort = import_onnxruntime()
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = int(threads)
    providers = ["CPUExecutionProvider"]
    if device is not None and device.type == "cuda" and \
            "CUDAExecutionProvider" in ort.get_available_providers():
        providers.insert(0, "CUDAExecutionProvider")
    try:
        return ort.InferenceSession(str(path), options, providers=providers)
    except Exception as err:  # onnxruntime raises its own exception types
        raise ValueError(f"onnxruntime cannot load {path}: {err}") from err


def _metadata(session, path: Path) -> dict[str, str]:
    meta = dict(session.get_modelmeta().custom_metadata_map)
    expected = f"{fmt.FORMAT}/{fmt.FORMAT_VERSION}"
    if meta.get(fmt.META_FORMAT) != expected:
        raise ValueError(
            f"{path} was not exported by rganet-reid's exporter (metadata {fmt.META_FORMAT} is "
            f"{meta.get(fmt.META_FORMAT)!r}, expected {expected!r}); export it with "
            "rganet-export."
        )
    return meta


def onnx_config(path: str | Path) -> CfgNode:
    """The config stored in an exported ONNX file's metadata."""
    from rganet_reid.config.dump import config_from_dump

    path = Path(path)
    meta = _metadata(_session(path), path)
    return config_from_dump(meta[fmt.META_CONFIG], f"{path} (metadata)")


class OnnxBackend:
    """An ONNX file exported by :mod:`rganet_reid.export`, run by onnxruntime.

    Args:
        path: the ``.onnx`` file.
        device: CUDA uses onnxruntime's CUDA provider when it is installed, else the CPU.
        threads: onnxruntime intra-op threads (0 = its default).
    """

    #: the graph already normalises the global feature (test.normalize_feature)
    normalizes_global = True

    def __init__(self, path: str | Path, device: torch.device | None = None,
                 threads: int = 0) -> None:
        self.path = Path(path)
        self.session = _session(self.path, device, threads)
        meta = _metadata(self.session, self.path)
        self.fingerprint = meta[fmt.META_FINGERPRINT]
        self.output_names = [o.name for o in self.session.get_outputs()]

    def __call__(self, images: torch.Tensor) -> dict[str, torch.Tensor | None]:
        """Features of a uint8 ``(B, 3, H, W)`` batch at the model's input size."""
        if images.dtype != torch.uint8:
            raise TypeError(f"The ONNX graph takes uint8 images (it normalises them itself); "
                            f"got {images.dtype}.")
        arrays = self.session.run(None, {fmt.INPUT_NAME: np.ascontiguousarray(images.numpy())})
        out = dict.fromkeys(fmt.OUTPUT_NAMES)
        out.update({name: torch.from_numpy(a) for name, a in zip(self.output_names, arrays)})
        return out
