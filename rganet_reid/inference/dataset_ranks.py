"""Rank lists of one or more trained models on a registered dataset's query/gallery split
(the paper's Fig. 5: the same queries ranked by the baseline and by RGANet)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from yacs.config import CfgNode

from rganet_reid.evaluation import FeatureSet
from rganet_reid.inference.extractor import FeatureExtractor
from rganet_reid.visualization.ranklist import (
    RankRow,
    interleave_models,
    pick_queries,
    ranklists_from_features,
)

__all__ = ["dataset_ranklists"]


def _features(extractor: FeatureExtractor, items: list, progress: bool) -> FeatureSet:
    feats = extractor.extract([it[0] for it in items], progress=progress)
    return feats.to_feature_set([it[1] for it in items], [it[2] for it in items])


def dataset_ranklists(
    extractors: Mapping[str, FeatureExtractor],
    dataset: str,
    cfg: CfgNode,
    *,
    query_indices: Sequence[int] = (),
    num_queries: int = 5,
    seed: int = 0,
    topk: int = 10,
    progress: bool = False,
) -> list[RankRow]:
    """Rows of every model (labelled by the keys of ``extractors``) for the same queries of
    ``dataset`` (read with ``cfg``'s data settings): ``query_indices`` or ``num_queries``
    random queries with a correct match (``seed``). One model → its rows; several → rows
    grouped per query (:func:`interleave_models`)."""
    from rganet_reid.data.datamanager import init_dataset

    if not extractors:
        raise ValueError("Name at least one model.")
    ds = init_dataset(dataset, "query", cfg, verbose=False)
    rows_by_model: dict[str, list[RankRow]] = {}
    chosen: np.ndarray | None = None
    for label, extractor in extractors.items():
        query = _features(extractor, ds.query, progress)
        gallery = _features(extractor, ds.gallery, progress)
        if chosen is None:
            if len(query_indices):
                chosen = np.asarray(query_indices, dtype=np.int64)
                bad = [int(i) for i in chosen if not 0 <= i < len(query)]
                if bad:
                    raise ValueError(f"Query indices {bad} are outside 0..{len(query) - 1} "
                                     f"({dataset} has {len(query)} queries).")
            else:
                chosen = pick_queries(query, gallery, num_queries, seed)
        rows_by_model[label] = ranklists_from_features(
            query, gallery, [it[0] for it in ds.query], [it[0] for it in ds.gallery], chosen,
            topk, metric=extractor.metric)
    if len(rows_by_model) == 1:
        return next(iter(rows_by_model.values()))
    return interleave_models(rows_by_model)
