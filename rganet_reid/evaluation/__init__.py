"""Retrieval evaluation at scale: fused region-weighted distance (paper Eq. 10), exact streaming
CMC / mAP / mINP, k-reciprocal re-ranking, and a FAISS-backed gallery index.

Public API::

    from rganet_reid.evaluation import FeatureSet, RetrievalSettings, evaluate_retrieval

See docs/retrieval.md for the math, the tie rule and the saved-index file format.
"""

from rganet_reid.evaluation.distance import (
    DistanceKernel,
    Embedding,
    embed,
    region_weighted_distance,
    region_weighted_distance_reference,
)
from rganet_reid.evaluation.features import FeatureSet, RetrievalResult
from rganet_reid.evaluation.index import GalleryIndex, SearchResult
from rganet_reid.evaluation.knn import exact_topk, recall_at_k
from rganet_reid.evaluation.ranking import StreamingRanker, evaluate_distmat
from rganet_reid.evaluation.rerank import rerank_distance
from rganet_reid.evaluation.retrieval import evaluate_retrieval
from rganet_reid.evaluation.settings import RetrievalSettings

__all__ = [
    "DistanceKernel",
    "Embedding",
    "FeatureSet",
    "GalleryIndex",
    "RetrievalResult",
    "RetrievalSettings",
    "SearchResult",
    "StreamingRanker",
    "embed",
    "evaluate_distmat",
    "evaluate_retrieval",
    "exact_topk",
    "recall_at_k",
    "region_weighted_distance",
    "region_weighted_distance_reference",
    "rerank_distance",
]
