"""The SynthOcc captioned corpus: images, part masks and captions for CLIP-style pre-training.

A split of its own, made by the SynthOcc renderer but from RNG streams that no benchmark uses
(every stream name starts with ``corpus/``; the benchmark's identities come from the
``identity`` stream), so no corpus identity is a benchmark identity. Each image keeps its
exact part mask and gets a caption (:mod:`~rganet_reid.data.synthocc.captions`) that describes
only the parts its ground-truth visibility shows. Two splits: ``train`` (``num_ids``
identities, ``images_per_id`` images each, for pre-training) and ``heldout`` (other
identities, one image each, for zero-shot caption → image retrieval).

Layout (written once, atomically, reused while ``manifest.json`` matches; a change of the
renderer's ``GENERATOR_VERSION`` or of :data:`CORPUS_VERSION` regenerates it)::

    <root>/synthocc_corpus/<size>_seed<seed>/
        manifest.json        header, counts, one record per image: split, id, cam, occluder,
                             keep, visibility, caption
        train/  heldout/     ``{id:05d}_c{cam:02d}_{k}.jpg`` (128x64)
        masks/<split>/...png part-label maps (0 background / occluder, 1 head .. 4 feet)
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

from rganet_reid.data.synthocc.appearance import Identity, sample_identity
from rganet_reid.data.synthocc.camera import camera_canvas, sample_camera
from rganet_reid.data.synthocc.captions import caption
from rganet_reid.data.synthocc.generate import _encode
from rganet_reid.data.synthocc.protocols import MASK_DIR, mask_file, resolve_preset, rng_for
from rganet_reid.data.synthocc.render import render_capture, sample_capture
from rganet_reid.data.synthocc.writer import (
    GENERATOR_VERSION,
    JPEG_QUALITY,
    dumps_manifest,
    ensure_generated,
    load_manifest,
)

CORPUS_GENERATOR = "rganet_reid.synthocc.corpus"
# Bump whenever a change alters the corpus's bytes or captions: cached corpora regenerate.
CORPUS_VERSION = 1
STREAM = "corpus"  # prefix of every RNG stream the corpus draws from
SPLITS = ("train", "heldout")


@dataclass(frozen=True)
class CorpusSize:
    """A corpus preset (see :data:`CORPUS_SIZES`)."""

    name: str
    num_ids: int  # training identities
    images_per_id: int
    heldout_ids: int  # held-out identities (one image each)
    num_cams: int = 12
    occluded: float = 0.5  # share of images with an occluder
    partial: float = 0.1  # share of images that keep only the top of the crop
    hidden_range: tuple[float, float] = (0.2, 0.6)
    partial_keep: tuple[float, float] = (0.4, 0.7)
    height: int = 128
    width: int = 64

    def to_dict(self) -> dict:
        """JSON-friendly parameters, stored in the manifest header."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


CORPUS_SIZES: dict[str, CorpusSize] = {
    "tiny": CorpusSize("tiny", num_ids=12, images_per_id=2, heldout_ids=6, num_cams=3),
    # the shipped synthocc-clip weights were pre-trained on this one
    "default": CorpusSize("default", num_ids=3000, images_per_id=2, heldout_ids=500),
}


def get_corpus_size(size: str | CorpusSize) -> CorpusSize:
    """A preset name (``tiny`` | ``default``) or a :class:`CorpusSize` passed through."""
    return resolve_preset(size, CORPUS_SIZES, CorpusSize, "corpus size")


def corpus_identities(size: str | CorpusSize, seed: int) -> dict[str, list[Identity]]:
    """``{"train": [...], "heldout": [...]}``: identity ``i`` is drawn from stream
    ``corpus/identity`` index ``i`` (held-out ones follow the training ones)."""
    sz = get_corpus_size(size)
    ids = [sample_identity(rng_for(seed, f"{STREAM}/identity", i))
           for i in range(sz.num_ids + sz.heldout_ids)]
    return {"train": ids[:sz.num_ids], "heldout": ids[sz.num_ids:]}


@dataclass(frozen=True)
class CorpusImage:
    """One planned corpus image."""

    relpath: str
    split: str
    identity: int  # index into the corpus identities (train first, then held-out)
    cam: int
    index: int  # RNG stream index of the capture
    occluded: bool
    keep: float


def plan_corpus(size: str | CorpusSize, seed: int) -> list[CorpusImage]:
    """Every corpus image with its camera and occlusion decision (draws ``corpus/plan``)."""
    sz = get_corpus_size(size)
    images = []
    counts = {"train": (range(sz.num_ids), sz.images_per_id),
              "heldout": (range(sz.num_ids, sz.num_ids + sz.heldout_ids), 1)}
    for split in SPLITS:
        ids, per_id = counts[split]
        for ident in ids:
            for k in range(per_id):
                index = len(images)
                rng = rng_for(seed, f"{STREAM}/plan", index)
                cam = int(rng.integers(1, sz.num_cams + 1))
                occluded = bool(rng.random() < sz.occluded)
                keep = float(rng.uniform(*sz.partial_keep)) if rng.random() < sz.partial else 1.0
                rel = f"{split}/{ident:05d}_c{cam:02d}_{k}.jpg"
                images.append(CorpusImage(rel, split, ident, cam, index, occluded, keep))
    return images


def generate_corpus(out_dir: str | os.PathLike, size: str | CorpusSize, seed: int,
                    progress: bool = False) -> dict:
    """Render the corpus into ``out_dir`` (which must not exist yet); returns the manifest."""
    sz = get_corpus_size(size)
    out_dir = Path(out_dir)
    for split in SPLITS:
        (out_dir / split).mkdir(parents=True)
        (out_dir / MASK_DIR / split).mkdir(parents=True)
    identities = corpus_identities(sz, seed)
    everyone = identities["train"] + identities["heldout"]
    cameras = {c: sample_camera(rng_for(seed, f"{STREAM}/camera", c), c)
               for c in range(1, sz.num_cams + 1)}
    canvases = {c: camera_canvas(s, sz.height, sz.width) for c, s in cameras.items()}
    records: dict[str, dict] = {}
    plan = plan_corpus(sz, seed)
    for img in tqdm(plan, desc=f"SynthOcc corpus {sz.name}", unit="img", disable=not progress):
        person = everyone[img.identity]
        pool = identities[img.split]
        kwargs: dict = {"keep": img.keep}
        if img.occluded:
            kwargs.update(occluder_rng=rng_for(seed, f"{STREAM}/occluder", img.index),
                          hidden_range=sz.hidden_range,
                          others=[p for p in pool if p is not person])
        out = render_capture(person, sample_capture(rng_for(seed, f"{STREAM}/capture", img.index)),
                             cameras[img.cam], canvases[img.cam], sz.height, sz.width, **kwargs)
        img_bytes, mask_bytes = _encode(out.image, out.mask)
        (out_dir / img.relpath).write_bytes(img_bytes)
        mask_file(out_dir, img.relpath).write_bytes(mask_bytes)
        occ = out.occluder
        records[img.relpath] = {
            "split": img.split, "id": img.identity, "cam": img.cam,
            "occluder": occ.kind if occ else None, "occluder_style": occ.style if occ else None,
            "keep": round(img.keep, 4),
            "visibility": [round(float(v), 4) for v in out.visibility],
            "caption": caption(person, out.visibility, occ.kind if occ else None,
                               occ.style if occ else None, img.keep),
        }
    counts: dict[str, int] = {}
    for rec in records.values():
        counts[rec["split"]] = counts.get(rec["split"], 0) + 1
    manifest = {**corpus_header(sz, seed), "counts": counts, "images": records}
    (out_dir / "manifest.json").write_text(dumps_manifest(manifest), encoding="utf-8")
    return manifest


def corpus_header(size: str | CorpusSize, seed: int) -> dict:
    """The manifest fields that must match for a cached corpus to be reused."""
    sz = get_corpus_size(size)
    return {"generator": CORPUS_GENERATOR, "version": [CORPUS_VERSION, GENERATOR_VERSION],
            "size": sz.name, "seed": int(seed),
            "params": {**sz.to_dict(), "jpeg_quality": JPEG_QUALITY}}


def corpus_dir_for(root: str | os.PathLike, size: str | CorpusSize = "default",
                   seed: int = 0) -> Path:
    """``<root>/synthocc_corpus/<size>_seed<seed>`` (absolute; nothing is created)."""
    name = get_corpus_size(size).name
    return Path(root).expanduser().resolve() / "synthocc_corpus" / f"{name}_seed{int(seed)}"


def ensure_corpus(root: str | os.PathLike, size: str | CorpusSize = "default",
                  seed: int = 0) -> Path:
    """The corpus folder for ``(size, seed)`` under ``root``, generated if missing or stale."""
    sz = get_corpus_size(size)
    return ensure_generated(
        corpus_dir_for(root, sz, seed), corpus_header(sz, seed),
        lambda tmp: generate_corpus(tmp, sz, seed, progress=sz.name != "tiny"),
        f"SynthOcc corpus {sz.name} (seed {seed})")


def corpus_records(corpus_dir: str | os.PathLike, split: str) -> list[tuple[str, dict]]:
    """``(relative path, record)`` of every image of ``split``, sorted by path."""
    if split not in SPLITS:
        raise ValueError(f"Corpus split must be one of {SPLITS}, got {split!r}")
    images = load_manifest(corpus_dir)["images"]
    return sorted((rel, rec) for rel, rec in images.items() if rec["split"] == split)
