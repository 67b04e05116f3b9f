"""Re-score a trained RGANet's features under other readings of the confidence, no retraining.

The distance side of RAM — how β is read from the region-to-centre cosines (Eq. 6), how α and
β combine into w (§III-D) and hence Eq. 10 — does not change the trained weights, so one
extraction of a saved run (its α, its cos(F_j^r, C_k) against the memory bank, its features)
answers for every reading:

    features = extract_run("output/run")                    # once: the slow part
    rescore(features, {"text": Reading(), "fig4": Reading("mean", "centres", 0.1)})

Each reading gets the metrics of :func:`~rganet_reid.evaluation.region_report.region_report`
(AUROC of α / β / w against the true visibility, Eq. 10 with the reading's w next to global,
uniform and oracle weights). ``tools/rescore_readings.py`` is the command line.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from rganet_reid.engine.saved_run import load_saved_run
from rganet_reid.evaluation import FeatureSet, RetrievalSettings, evaluate_retrieval
from rganet_reid.evaluation.region_report import region_report
from rganet_reid.modeling.ram import combine_confidence, invariance_from_similarity

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reading:
    """One reading of the confidence: ``rganet.confidence``, ``rganet.iai_mode``, τ and the
    scale c of the weights Eq. 10 receives (``rganet.region_weight_scale``; ``None`` = the
    run's)."""

    confidence: str = "softmax_sum"
    iai_mode: str = "regions"
    iai_temperature: float = 1.0
    weight_scale: float | None = None

    def scale(self, run_scale: float) -> float:
        """The c this reading hands Eq. 10: its own ``weight_scale``, else the run's."""
        return run_scale if self.weight_scale is None else self.weight_scale

    def apply(self, fs: FeatureSet, weight_scale: float = 1.0) -> FeatureSet:
        """``fs`` with β and w recomputed from its ``alpha`` and ``iai_similarity`` extras;
        Eq. 10 receives c × w, c = the reading's own scale, else ``weight_scale``."""
        if not fs.has_regions:
            raise ValueError("A confidence reading needs region features")
        alpha = fs.extras.get("alpha")
        similarity = fs.extras.get("iai_similarity")
        beta = (None if similarity is None else
                invariance_from_similarity(similarity, self.iai_mode, self.iai_temperature))
        weights = combine_confidence(alpha, beta, self.confidence, fs.num_regions,
                                     reference=fs.region_feats)
        extras = dict(fs.extras, confidence=weights)
        if beta is not None:
            extras["beta"] = beta
        return replace(fs, region_weights=self.scale(weight_scale) * weights, extras=extras)


@dataclass
class ExtractedSplit:
    """One target dataset of a saved run: features with extras, and its part ground truth."""

    name: str
    query: FeatureSet
    gallery: FeatureSet
    query_truth: object
    gallery_truth: object
    settings: dict
    label_map: list
    weight_scale: float = 1.0  # rganet.region_weight_scale of the run


def extract_run(run_dir: str | Path, data_root: str | None = None, weights: str | None = None,
                overrides: Sequence[str] = ()) -> list[ExtractedSplit]:
    """Load a run folder (``config.yaml`` + ``model.pth``, config ``overrides`` merged) and
    extract every target dataset that has part ground truth, keeping α, β, the IAI cosines
    and the mask logits."""
    engine = load_saved_run(run_dir, data_root, weights, "rescore", overrides)
    cfg = engine.cfg
    out = []
    for name, split in engine.datamanager.test_splits.items():
        if split.query_truth is None:
            logger.info("%s has no part ground truth: not re-scored", name)
            continue
        settings = dict(settings=RetrievalSettings.from_config(cfg, device=engine.device),
                        max_rank=max(max(split.eval_ranks), 10))
        out.append(ExtractedSplit(
            name, engine.extract(split.query_loader, split.query, extras=True),
            engine.extract(split.gallery_loader, split.gallery, extras=True),
            split.query_truth, split.gallery_truth, settings, list(cfg.rganet.seg.label_map),
            float(cfg.rganet.region_weight_scale)))
    return out


def rescore(splits: list[ExtractedSplit], readings: dict[str, Reading]
            ) -> dict[str, dict[str, dict[str, float]]]:
    """``{dataset: {reading name: metrics}}``: Eq. 10 (``rank1``/``mAP``) with each reading's
    w, and the region report (AUROC of α, β, w; global / uniform / oracle weights; mIoU)."""
    results: dict[str, dict[str, dict[str, float]]] = {}
    for split in splits:
        evaluate = functools.partial(evaluate_retrieval, **split.settings)
        per: dict[str, dict[str, float]] = {}
        for name, reading in readings.items():
            query = reading.apply(split.query, split.weight_scale)
            gallery = reading.apply(split.gallery, split.weight_scale)
            scale = split.weight_scale if reading.weight_scale is None else reading.weight_scale
            res = evaluate(query, gallery)
            per[name] = {"rank1": 100.0 * res.rank(1), "mAP": 100.0 * res.mAP,
                         **region_report(query, gallery, split.query_truth,
                                         split.gallery_truth, evaluate, split.label_map,
                                         scale)}
        results[split.name] = per
    return results
