"""Synthetic ReID features with a real benchmark's sizes and id / camera structure.

:func:`synthetic_split` stands in for extracted features in the retrieval benchmark
(:mod:`rganet_reid.benchmark.retrieval`, ``tools/bench_retrieval.py``): identity centres built
from shared attributes, camera shifts, noise and randomly occluded regions with low confidence,
so that Eq. 10's weighting matters and the ranking is about as hard as a trained model's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from rganet_reid.evaluation import FeatureSet

__all__ = ["PRESETS", "Preset", "synthetic_split"]


@dataclass(frozen=True)
class Preset:
    """Sizes and id / camera structure of a synthetic query / gallery split."""

    num_query: int
    num_gallery: int
    num_ids: int  # identities in the test split (all appear in the gallery)
    num_cams: int
    dim: int
    regions: int


# Per-image noise norm relative to the unit identity centres, and the weight of each
# identity's own component against its two shared attributes: together they set the ranking
# difficulty (tuned so that Eq. 10 at MSMT17 size scores like a decent trained model).
NOISE = 1.0
OWN = 0.4
ATTRIBUTES = 64
OCCLUSION_IN_GLOBAL = 0.6  # how much an occluder corrupts the global feature

PRESETS = {
    # MSMT17 test split: 11,659 query / 82,161 gallery images, 3,060 ids, 15 cameras
    "msmt17": Preset(11659, 82161, 3060, 15, 512, 4),
    # Occluded-Duke: 2,210 query / 17,661 gallery images, 1,110 ids, 8 cameras
    "occluded_duke": Preset(2210, 17661, 1110, 8, 512, 4),
    "small": Preset(500, 5000, 200, 6, 256, 4),
}


def synthetic_split(
    preset: Preset, seed: int = 0, noise: float = NOISE
) -> tuple[FeatureSet, FeatureSet]:
    """Query and gallery FeatureSets with the preset's sizes and id/camera structure.

    Each identity is seen by 2-6 cameras; features are an identity centre plus a camera shift
    plus noise, and each image has each region occluded with probability 0.25 (an occluded
    region's feature is unrelated noise and its confidence is low), so Eq. 10's weighting
    matters and the ranking difficulty resembles a trained model's.
    """
    rng = np.random.default_rng(seed)
    g = torch.Generator().manual_seed(seed)
    cams_per_id = [
        rng.choice(
            preset.num_cams, size=rng.integers(2, min(6, preset.num_cams) + 1), replace=False
        )
        for _ in range(preset.num_ids)
    ]

    def ids_and_cams(n: int, query: bool) -> tuple[np.ndarray, np.ndarray]:
        if query:  # queries: a subset of ids, like the real splits
            pids = rng.integers(0, preset.num_ids, n)
        else:  # every id appears in the gallery at least once
            pids = np.concatenate(
                [np.arange(preset.num_ids), rng.integers(0, preset.num_ids, n - preset.num_ids)]
            )
        cams = np.array([rng.choice(cams_per_id[p]) for p in pids])
        return pids.astype(np.int64), cams.astype(np.int64)

    # Identity centres built from shared "attributes" (clothing, colours): people who share
    # attributes look alike, which is where real ranking errors come from.
    attributes = torch.randn(ATTRIBUTES, preset.regions + 1, preset.dim, generator=g)
    picks = torch.randint(0, ATTRIBUTES, (preset.num_ids, 2), generator=g)
    own = torch.randn(preset.num_ids, preset.regions + 1, preset.dim, generator=g)
    centres = F.normalize(attributes[picks[:, 0]] + attributes[picks[:, 1]] + OWN * own, dim=2)
    cam_shift = 0.35 * F.normalize(torch.randn(preset.num_cams, preset.dim, generator=g), dim=1)

    noise_scale = noise / preset.dim**0.5  # noise vectors of norm ~noise, centres of norm 1

    def features(pids: np.ndarray, cams: np.ndarray) -> FeatureSet:
        n = len(pids)
        glob = torch.empty(n, preset.dim)
        regions = torch.empty(n, preset.regions, preset.dim)
        weights = torch.empty(n, preset.regions)
        for s in range(0, n, 8192):
            sl = slice(s, min(n, s + 8192))
            p = torch.from_numpy(pids[sl])
            c = torch.from_numpy(cams[sl])
            m = len(p)
            noise = torch.randn(m, preset.regions + 1, preset.dim, generator=g)
            f = centres[p] + cam_shift[c].unsqueeze(1) + noise_scale * noise
            occluded = torch.rand(m, preset.regions, generator=g) < 0.25
            junk = F.normalize(torch.randn(m, preset.regions, preset.dim, generator=g), dim=2)
            r = torch.where(occluded.unsqueeze(2), junk, f[:, 1:])
            logits = torch.randn(m, preset.regions, generator=g) - 3.0 * occluded
            glob[sl] = f[:, 0] + OCCLUSION_IN_GLOBAL * (junk * occluded.unsqueeze(2)).sum(1)
            regions[sl] = r
            weights[sl] = torch.softmax(logits, dim=1)
        return FeatureSet(glob, pids, cams, regions, weights)

    qp, qc = ids_and_cams(preset.num_query, query=True)
    gp, gc_ = ids_and_cams(preset.num_gallery, query=False)
    return features(qp, qc), features(gp, gc_)
