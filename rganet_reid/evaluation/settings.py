"""``RetrievalSettings``: every choice an evaluation makes, in one frozen object.

Built from keywords (``RetrievalSettings(metric="euclidean")``) or from a configuration
(:meth:`RetrievalSettings.from_config`, the one place that maps config keys onto evaluation
choices), and handed to :func:`rganet_reid.evaluation.evaluate_retrieval`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from yacs.config import CfgNode

from rganet_reid.evaluation.index import index_options_from_config

__all__ = ["RetrievalSettings", "resolve_dtype"]

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_dtype(dtype: torch.dtype | str) -> torch.dtype:
    """A GEMM dtype from a torch dtype or one of the names "float32", "bfloat16", "float16"."""
    if isinstance(dtype, str):
        if dtype not in _DTYPES:
            raise ValueError(f"Unknown dtype {dtype!r}; choose one of {sorted(_DTYPES)}.")
        return _DTYPES[dtype]
    if dtype not in _DTYPES.values():
        raise ValueError(f"dtype must be float32, bfloat16 or float16; got {dtype}.")
    return dtype


@dataclass(frozen=True)
class RetrievalSettings:
    """How :func:`~rganet_reid.evaluation.evaluate_retrieval` computes distances and ranks.

    Attributes:
        metric: "cosine" | "euclidean" (torchreid's squared euclidean; global-feature models
            only). Region features always use Eq. 10 with cosine region distances.
        max_rank: CMC length (cut to the gallery size, as torchreid does).
        use_metric_cuhk03: CUHK03 single-gallery-shot CMC (exact expectation of torchreid's
            10-draw estimate); mAP is unchanged.
        device: where the GEMMs run; ``None`` / ``"auto"`` = CUDA when available, else CPU.
        memory_budget_mb: working memory for distance blocks (the embedded gallery, ``G × K``
            in ``dtype``, comes on top).
        dtype: GEMM input dtype: float32 (default, exact to float32 rounding), bfloat16 or
            float16 (faster on hardware with such units; distances lose precision, see
            docs/retrieval.md); a torch dtype or its name, stored as the torch dtype.
        rerank: k-reciprocal re-ranking (Zhong et al. 2017, torchreid's ``re_ranking``) with
            ``rerank_k1``, ``rerank_k2``, ``rerank_lambda``.
        rerank_neighbours: re-ranking's neighbour lists from a streamed exact k-NN pass
            ("exact", equals torchreid) or from a FAISS index ("index", approximate, for very
            large sets); see :mod:`rganet_reid.evaluation.rerank`.
        rerank_index_options: ``GalleryIndex.build`` / ``search`` keywords for
            ``rerank_neighbours="index"`` (``None``: re-ranking's defaults).
    """

    metric: str = "cosine"
    max_rank: int = 50
    use_metric_cuhk03: bool = False
    device: str | torch.device | None = None
    memory_budget_mb: int = 512
    dtype: torch.dtype | str = torch.float32
    rerank: bool = False
    rerank_k1: int = 20
    rerank_k2: int = 6
    rerank_lambda: float = 0.3
    rerank_neighbours: str = "exact"
    rerank_index_options: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", resolve_dtype(self.dtype))

    @classmethod
    def from_config(cls, cfg: CfgNode, **overrides: Any) -> RetrievalSettings:
        """The settings a configuration asks for.

        Reads ``device``, ``test.dist_metric``, ``test.rerank``, ``cuhk03.use_metric_cuhk03``
        and ``retrieval.{memory_budget_mb, dtype, rerank_k1, rerank_k2, rerank_lambda,
        rerank_neighbours}`` and ``retrieval.index.*`` (the re-ranking index's options,
        :func:`~rganet_reid.evaluation.index.index_options_from_config`); ``overrides`` set
        fields directly (e.g. the engine's device, or
        ``max_rank``, which the dataset's protocol decides).
        """
        ret = cfg.retrieval
        values = dict(
            metric=cfg.test.dist_metric,
            use_metric_cuhk03=cfg.cuhk03.use_metric_cuhk03,
            device=cfg.device,
            memory_budget_mb=ret.memory_budget_mb,
            dtype=ret.dtype,
            rerank=cfg.test.rerank,
            rerank_k1=ret.rerank_k1,
            rerank_k2=ret.rerank_k2,
            rerank_lambda=ret.rerank_lambda,
            rerank_neighbours=ret.rerank_neighbours,
            rerank_index_options=index_options_from_config(cfg),
        )
        return cls(**{**values, **overrides})

    def replace(self, **changes: Any) -> RetrievalSettings:
        """A copy with ``changes`` applied (field names as keywords)."""
        return dataclasses.replace(self, **changes)
