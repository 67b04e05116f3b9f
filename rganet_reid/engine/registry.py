"""Engines by name; each engine module registers itself here.

``rganet`` trains the RGANet models, ``softmax_triplet`` torchreid's built-ins; which one a
config gets is decided by its model (:func:`rganet_reid.engine.builder.engine_name`).
"""

from rganet_reid.utils.registry import Registry

ENGINES: Registry = Registry("engine")
