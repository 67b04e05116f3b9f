"""Engines by name; each engine module registers itself here.

``rganet`` trains the RGANet models, ``softmax_triplet`` torchreid's built-ins; which one a
config gets is decided by its model (:func:`rganet_reid.engine.builder.engine_name`).
"""

from rganet_reid.utils.registry import Registry

ENGINES: Registry = Registry("engine")

#: ``loss.name`` values of torchreid's built-in models: ID loss only, or ID + triplet
#: (torchreid's ``loss='triplet'``); RGANet models train with ``rganet`` (Eq. 8).
TORCHREID_LOSSES = ("softmax", "triplet")
RGANET_LOSS = "rganet"
