"""The contract of an ONNX file exported by :mod:`rganet_reid.export`: its input, its outputs
and the metadata the ONNX backend reads.

Input ``images``: **uint8** RGB, ``(batch, 3, H, W)``, already resized to the model's
``data.height × data.width`` (the batch axis is dynamic). **Normalisation is inside the
graph**: it scales to [0, 1] and applies ``(x − data.norm_mean) / data.norm_std`` itself, so a
caller must *not* normalise (feeding normalised floats is refused by the input type).

Outputs: ``global_feat`` ``(batch, d)`` float32 (L2-normalised inside the graph when the
model's ``test.normalize_feature`` is on); for region models also ``region_feats`` ``(batch, N,
d)`` (unit length: Eq. 10 uses their cosine) and ``region_weights`` ``(batch, N)`` (the w of
paper Eq. 10). The part prototypes are constants of the graph (no text encoder).

Metadata (``metadata_props``): the keys below.
"""

from __future__ import annotations

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "INPUT_NAME",
    "META_CONFIG",
    "META_FINGERPRINT",
    "META_FORMAT",
    "META_INPUT",
    "META_NORMALIZATION",
    "OUTPUT_NAMES",
]

FORMAT = "rganet-reid-onnx"
FORMAT_VERSION = 2  # 2: region_feats are unit length
INPUT_NAME = "images"
OUTPUT_NAMES = ("global_feat", "region_feats", "region_weights")

META_FORMAT = "rganet_reid.format"  # "rganet-reid-onnx/1"
META_CONFIG = "rganet_reid.config"  # the model's config (YAML dump)
META_FINGERPRINT = "rganet_reid.fingerprint"  # model_fingerprint of the exported model
META_INPUT = "rganet_reid.input"  # human-readable input description
META_NORMALIZATION = "rganet_reid.input_normalization"  # "inside_graph"
