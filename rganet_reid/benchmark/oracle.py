"""Oracle rows of a benchmark: matchers with no learning that read ground truth.

A spec entry ``{label: ..., oracle: colour_histogram}`` is evaluated, never trained, on the
spec's protocols with the datasets' *ground-truth* part masks
(:mod:`rganet_reid.evaluation.colour_oracle`), and stored like any run (``results.json`` +
``bench.json``), so leaderboards show it beside the learned models as the scale they should
reach. Only datasets that ship exact part masks (SynthOcc) can be scored.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import torch
from yacs.config import CfgNode

from rganet_reid.evaluation.colour_oracle import oracle_distance, part_histograms

logger = logging.getLogger(__name__)

ORACLES: tuple[str, ...] = ("colour_histogram",)


def _features(items: list, dataset) -> tuple[torch.Tensor, torch.Tensor]:
    from rganet_reid.data.image_io import read_rgb
    from rganet_reid.data.masks import mask_path_for, read_mask

    mask_root = Path(dataset.dataset_dir) / dataset.mask_subdir
    hists, visible = [], []
    for item in items:
        image = np.asarray(read_rgb(item[0]))
        mask = read_mask(mask_path_for(item[0], dataset.dataset_dir, mask_root),
                         expected_hw=image.shape[:2])
        h, v = part_histograms(image, mask)
        hists.append(h)
        visible.append(v)
    return torch.from_numpy(np.stack(hists)), torch.from_numpy(np.stack(visible))


def _column(items: list, k: int) -> np.ndarray:
    return np.asarray([it[k] for it in items])


def evaluate_oracle(cfg: CfgNode, oracle: str) -> dict[str, dict[str, float]]:
    """Metrics of ``oracle`` on every dataset of ``cfg.data.targets`` (results.json's shape)."""
    from rganet_reid.data.datamanager import init_dataset
    from rganet_reid.evaluation.ranking import evaluate_distmat

    if oracle not in ORACLES:
        raise ValueError(f"Unknown oracle {oracle!r}; valid: {', '.join(ORACLES)}")
    results = {}
    for name in cfg.data.targets:
        t0 = time.monotonic()
        ds = init_dataset(name, "query", cfg, verbose=False)
        if not getattr(ds, "mask_subdir", None):
            raise ValueError(f"The {oracle} oracle needs ground-truth part masks; dataset "
                             f"{name!r} ships none (only SynthOcc does).")
        qh, qv = _features(ds.query, ds)
        gh, gv = _features(ds.gallery, ds)
        res = evaluate_distmat(oracle_distance(qh, qv, gh, gv), _column(ds.query, 1),
                               _column(ds.gallery, 1), _column(ds.query, 2),
                               _column(ds.gallery, 2))
        ranks = tuple(getattr(ds, "eval_ranks", None) or cfg.test.ranks)
        metrics = {f"rank{r}": 100.0 * res.rank(min(r, len(res.cmc))) for r in ranks}
        metrics.update(mAP=100.0 * res.mAP, mINP=100.0 * res.mINP,
                       num_query=len(ds.query), num_gallery=len(ds.gallery),
                       num_valid_queries=res.num_valid_queries,
                       extract_s=time.monotonic() - t0)
        logger.info("%s oracle on %s: %s", oracle, name, "  ".join(
            f"{k}={v:.1f}" for k, v in metrics.items() if k.startswith(("rank", "mAP"))))
        results[name] = metrics
    return results
