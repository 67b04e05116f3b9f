"""Training/evaluation engines (torchreid ``Engine`` subclasses) and their builder."""

from rganet_reid.engine import softmax_triplet  # noqa: F401  (registers softmax/triplet)
from rganet_reid.engine.base import ReIDEngine
from rganet_reid.engine.registry import ENGINES
from rganet_reid.engine.softmax_triplet import SoftmaxTripletEngine

# Engines exposed next to torchreid's own (torchreid.engine.<Name>) on import.
PUBLIC_ENGINES = {"ReIDEngine": ReIDEngine, "SoftmaxTripletEngine": SoftmaxTripletEngine}

__all__ = ["ENGINES", "PUBLIC_ENGINES", "ReIDEngine", "SoftmaxTripletEngine"]
