"""Using a trained model: feature extraction, gallery search (and the ONNX backend).

Layer: above ``engine/`` (it builds models with ``engine.builder`` and shares the engine's
evaluation feature path, ``engine/features.py``), below ``export/`` and ``cli/``.

* :class:`FeatureExtractor` — torchreid-style extractor → :class:`ExtractedFeatures`;
* :func:`list_images`, :func:`identity_of` — folders of crops, Market-style identities;
* :class:`SearchGallery` — a saved, appendable gallery index of a folder tree
  (:mod:`rganet_reid.inference.gallery`).
"""

from rganet_reid.inference.extractor import FeatureExtractor
from rganet_reid.inference.folders import NoImagesError, identity_of, list_images
from rganet_reid.inference.model_source import ModelSource, model_fingerprint, resolve_model_source
from rganet_reid.inference.result import ExtractedFeatures

__all__ = [
    "ExtractedFeatures",
    "FeatureExtractor",
    "ModelSource",
    "NoImagesError",
    "identity_of",
    "list_images",
    "model_fingerprint",
    "resolve_model_source",
]
