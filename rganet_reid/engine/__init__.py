"""Training/evaluation engines (torchreid ``Engine`` subclasses) and their builder."""

from rganet_reid.engine import rganet_engine, softmax_triplet  # noqa: F401  (register)
from rganet_reid.engine.base import ReIDEngine
from rganet_reid.engine.registry import ENGINES
from rganet_reid.engine.rganet_engine import RGANetEngine
from rganet_reid.engine.softmax_triplet import SoftmaxTripletEngine

# Engines exposed next to torchreid's own (torchreid.engine.<Name>) on import.
PUBLIC_ENGINES = {
    "ReIDEngine": ReIDEngine,
    "SoftmaxTripletEngine": SoftmaxTripletEngine,
    "RGANetEngine": RGANetEngine,
}

__all__ = ["ENGINES", "PUBLIC_ENGINES", "RGANetEngine", "ReIDEngine", "SoftmaxTripletEngine"]
