"""The local pretrained tag ``synthocc-parts``: CLIP weights made here, cached, reused.

``model.pretrained: synthocc-parts`` works like an open_clip pretrained tag, except that the
weights come from :func:`~rganet_reid.pretrain.part_alignment.pretrain_part_alignment` on the
run's own training data instead of a download. The file is
``<data.root>/pretrained/<arch>-synthocc-parts-<key>.pt`` where ``key`` hashes everything the
weights depend on (architecture, input size, training data, augmentation, batch,
``clip_pretrain.*``); it is built on first use (minutes on a CPU; logged) and then shared by
every model and training seed with the same settings. Processes that need the same file
at once build it once: the others wait for it (:func:`~rganet_reid.utils.locking.exclusive`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from yacs.config import CfgNode

from rganet_reid.config.clip_pretrain import LOCAL_TAG
from rganet_reid.utils.locking import exclusive
from rganet_reid.utils.rng import preserved_rng_state

logger = logging.getLogger(__name__)


def _pretrain_config(cfg: CfgNode) -> CfgNode:
    """``cfg`` as the pre-training sees it (masks on, its own seed, one evaluation target)."""
    pre = cfg.clone()
    pre.defrost()
    pre.data.load_masks = True
    pre.data.targets = list(cfg.data.sources[:1])
    pre.seed = int(cfg.clip_pretrain.seed)
    pre.freeze()
    return pre


def _key(cfg: CfgNode, arch: str) -> str:
    d = cfg.data
    fields = {
        "arch": arch, "quick_gelu": bool(cfg.rganet.quick_gelu),
        "size": [int(d.height), int(d.width)], "sources": list(d.sources),
        "synthocc": [d.synthocc.size, int(d.synthocc.seed)], "mask_root": d.mask_root,
        "transforms": list(d.transforms), "pad": int(d.pad), "erase_prob": float(d.erase_prob),
        "norm": [list(d.norm_mean), list(d.norm_std)],
        "batch": [int(cfg.train.batch_size), cfg.sampler.train_sampler,
                  int(cfg.sampler.num_instances)],
        "clip_pretrain": {k: cfg.clip_pretrain[k] for k in sorted(cfg.clip_pretrain)},
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]


def local_weights_path(cfg: CfgNode, arch: str) -> Path:
    """Where the ``synthocc-parts`` weights for ``cfg`` and ``arch`` are cached."""
    return Path(cfg.data.root) / "pretrained" / f"{arch}-{LOCAL_TAG}-{_key(cfg, arch)}.pt"


def resolve_pretrained(cfg: CfgNode, arch: str) -> str:
    """``cfg.model.pretrained``, with the local tag replaced by its (built if needed) file."""
    if cfg.model.pretrained != LOCAL_TAG:
        return cfg.model.pretrained
    path = local_weights_path(cfg, arch)
    if not path.is_file():
        # another process may be building the same file: wait for it and use its result
        with exclusive(path, f"model.pretrained={LOCAL_TAG} ({path.name})"):
            if not path.is_file():
                return _build(cfg, arch, path)
    logger.info("model.pretrained=%s: using %s", LOCAL_TAG, path)
    return str(path)


def _build(cfg: CfgNode, arch: str, path: Path) -> str:
    from rganet_reid.pretrain.part_alignment import pretrain_part_alignment
    from rganet_reid.utils.seed import resolve_device

    logger.info("model.pretrained=%s: %s is missing; pre-training %s on %s for %d epochs "
                "(once; cached for later runs)", LOCAL_TAG, path, arch, list(cfg.data.sources),
                int(cfg.clip_pretrain.max_epoch))
    # the calling run was seeded already: leave its RNG streams as if the file had been cached,
    # so a run gives the same result whether or not it had to build the weights first
    with preserved_rng_state():
        summary = pretrain_part_alignment(_pretrain_config(cfg), arch, path,
                                          resolve_device(cfg.device))
    logger.info("Part-aligned pre-training done in %.0f s: loss_seg %.3f, pixel accuracy %.3f",
                summary["time_s"], summary.get("loss_seg", float("nan")),
                summary.get("pixel_acc", float("nan")))
    return str(path)
