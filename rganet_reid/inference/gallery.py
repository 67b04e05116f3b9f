"""A searchable gallery of person crops: a folder tree indexed once, queried many times.

:func:`build_gallery` extracts every image of one or more folder trees with a
:class:`~rganet_reid.inference.FeatureExtractor` and stores a FAISS
:class:`~rganet_reid.evaluation.GalleryIndex` (exact Eq. 10 re-scoring) plus a manifest.
Extraction runs in chunks saved as they finish, so an interrupted run resumes where it
stopped; running it again on a grown folder (or another folder) appends the new images only.
:meth:`SearchGallery.query` ranks the gallery for query images exactly as the evaluation
ranks (Eq. 10, ties by gallery index; torchreid's same-identity-same-camera rule optional).

Directory layout::

    gallery.json      manifest (written last, atomically): format, model fingerprint and
                      description, the model's config, items [path, pid, camid], the index
                      folder's name and the size and SHA-256 of each of its files
    index-NNNN/       GalleryIndex.save (docs/retrieval.md §5)
    pending/          chunks of an unfinished run (plan.json + part-NNNNN.npz)

Identities come from Market-style names (``0002_c1s1_000451_03.jpg``: pid 2, camera 0);
other names have none (``None`` in the manifest).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rganet_reid.data.image_io import ImageReadError, read_rgb
from rganet_reid.evaluation import FeatureSet, GalleryIndex
from rganet_reid.inference.extractor import FeatureExtractor
from rganet_reid.inference.folders import identity_of, list_images
from rganet_reid.inference.result import ExtractedFeatures
from rganet_reid.utils.io import write_atomic, write_json_atomic

__all__ = ["GalleryError", "Match", "SearchGallery", "build_gallery"]

logger = logging.getLogger(__name__)

FORMAT = "rganet-reid-gallery"
FORMAT_VERSION = 1
MANIFEST = "gallery.json"
UNKNOWN_ID = -1  # pid / camid stored in the index arrays for names without an identity


class GalleryError(ValueError):
    """A gallery folder is missing, corrupt, or was built by another model."""


@dataclass
class Match:
    """One search result."""

    rank: int
    path: str
    distance: float
    pid: int | None
    camid: int | None
    correct: bool | None  # same pid as the query; None when either identity is unknown


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class SearchGallery:
    """An opened gallery folder: its manifest, items and FAISS index."""

    def __init__(self, directory: Path, manifest: dict, index: GalleryIndex) -> None:
        self.directory = directory
        self.manifest = manifest
        self.index = index
        self.items: list[tuple[str, int | None, int | None]] = [tuple(i) for i in
                                                                manifest["items"]]

    def __len__(self) -> int:
        return len(self.items)

    @property
    def fingerprint(self) -> str:
        return self.manifest["fingerprint"]

    @staticmethod
    def exists(directory: str | Path) -> bool:
        return (Path(directory) / MANIFEST).is_file()

    @classmethod
    def open(cls, directory: str | Path, verify: bool = True) -> SearchGallery:
        """Read a gallery folder; every way it can be broken is a :class:`GalleryError`.

        ``verify`` checks the SHA-256 of the index files (reads them once; off for galleries
        too large to hash at every start — sizes are always checked).
        """
        directory = Path(directory)
        path = directory / MANIFEST
        if not path.is_file():
            raise GalleryError(f"{directory} is not a gallery index: {MANIFEST} not found (build "
                               "one with `rganet-search index`).")
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            if manifest.get("format") != FORMAT or manifest.get("format_version") != \
                    FORMAT_VERSION:
                raise GalleryError(
                    f"{path}: format {manifest.get('format')!r} version "
                    f"{manifest.get('format_version')!r}; this code reads {FORMAT!r} version "
                    f"{FORMAT_VERSION}.")
            index_dir = directory / manifest["index_dir"]
            files, items = manifest["files"], manifest["items"]
            fingerprint = manifest["fingerprint"]
            if not isinstance(fingerprint, str) or not isinstance(items, list):
                raise KeyError("fingerprint / items")
        except GalleryError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise GalleryError(f"{path} is corrupt ({type(err).__name__}: {err}); rebuild the "
                               "gallery with `rganet-search index`.") from err
        for name, (size, digest) in files.items():
            f = index_dir / name
            if not f.is_file() or f.stat().st_size != size or (verify and _sha256(f) != digest):
                state = "missing" if not f.is_file() else "changed since it was written"
                raise GalleryError(f"{f} is {state}: the gallery is corrupt; rebuild it with "
                                   "`rganet-search index`.")
        try:
            index = GalleryIndex.load(index_dir)
        except Exception as err:  # faiss raises RuntimeError, numpy ValueError, ...
            raise GalleryError(f"{index_dir}: cannot load the index ({err}); rebuild it with "
                               "`rganet-search index`.") from err
        if len(index) != len(items):
            raise GalleryError(f"{path} lists {len(items)} images but {index_dir} holds "
                               f"{len(index)}; the gallery is corrupt.")
        return cls(directory, manifest, index)

    def check_model(self, extractor: FeatureExtractor) -> None:
        """Refuse an extractor whose model is not the one the gallery was built with."""
        if extractor.fingerprint != self.fingerprint:
            built = self.manifest.get("model", {})
            raise GalleryError(
                f"{self.directory} was built by another model: fingerprint {self.fingerprint} "
                f"({built.get('model')}, {built.get('weights') or built.get('onnx')}), the "
                f"given model has {extractor.fingerprint} ({extractor.cfg.model.name}, "
                f"{extractor.source.weights or extractor.source.onnx}). Query with the model "
                "the gallery was built with, or build a new gallery."
            )

    def extractor(self, device: str = "auto", **kwargs) -> FeatureExtractor:
        """A feature extractor for the model the gallery was built with (its weights or ONNX
        file and its stored config)."""
        from rganet_reid.config.dump import config_from_dump

        model = self.manifest.get("model", {})
        source = model.get("onnx") or model.get("weights")
        if not source:
            raise GalleryError(f"{self.directory} was built by a model without a weights file; "
                               "name the model.")
        cfg = config_from_dump(self.manifest["config"], f"{self.directory / MANIFEST} (config)")
        ex = FeatureExtractor(model_path=source, config=None if model.get("onnx") else cfg,
                              device=device, **kwargs)
        self.check_model(ex)
        return ex

    def query(self, feats: ExtractedFeatures, identities: Sequence[tuple[int, int] | None],
              k: int = 10, *, exclude_same_camera: bool = False, candidates: int = 0,
              ) -> list[list[Match]]:
        """The ``k`` nearest gallery images of each query (exact Eq. 10; ties by gallery
        index). ``identities`` gives each query's ``(pid, camid)`` or ``None``.
        ``exclude_same_camera`` drops gallery images of the query's identity *and* camera
        (torchreid's protocol). ``candidates`` > 0 re-scores only that many FAISS candidates
        (approximate for non-flat indexes); 0 = the whole gallery (exact)."""
        if len(identities) != len(feats):
            raise ValueError(f"{len(feats)} queries but {len(identities)} identities.")
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        known = np.array([it[1] is not None for it in self.items])
        pids, camids = np.asarray(self.index.pids), np.asarray(self.index.camids)
        extra = 0
        if exclude_same_camera:
            extra = max((int(((pids == q[0]) & (camids == q[1]) & known).sum())
                         for q in identities if q is not None), default=0)
        depth = min(len(self), k + extra)
        cand = len(self) if candidates <= 0 else max(candidates, depth)
        found = self.index.search(feats.to_feature_set(), depth, candidates=cand)
        results = []
        for qi, ident in enumerate(identities):
            matches = []
            for d, g in zip(found.distances[qi], found.indices[qi]):
                if g < 0 or len(matches) == k:
                    continue
                path, pid, camid = self.items[g]
                if exclude_same_camera and ident is not None and pid is not None and \
                        (pid, camid) == tuple(ident):
                    continue
                correct = None if ident is None or pid is None else pid == ident[0]
                matches.append(Match(len(matches) + 1, path, float(d), pid, camid, correct))
            results.append(matches)
        return results


# ---------------------------------------------------------------------- building
def build_gallery(
    extractor: FeatureExtractor,
    folders: Sequence[str | Path],
    directory: str | Path,
    *,
    chunk_size: int = 512,
    region_dtype: str = "float32",
    index_type: str = "flat",
    skip_unreadable: bool = False,
    progress: bool = True,
) -> SearchGallery:
    """Index the images of ``folders`` (recursively) into the gallery folder ``directory``.

    An existing gallery must have been built by the same model (fingerprint) and gets the
    images it does not hold yet appended; chunks of ``chunk_size`` images are saved under
    ``pending/`` as they finish, so a run interrupted at any point resumes without redoing
    them. An unreadable image is an error naming it, or is skipped (logged) with
    ``skip_unreadable``. ``region_dtype="float16"`` halves the stored region features (then
    re-scoring sees fp16-rounded ones).
    """
    directory = Path(directory)
    paths = [str(p.resolve()) for p in list_images(*folders)]
    existing = SearchGallery.open(directory) if SearchGallery.exists(directory) else None
    if existing is not None:
        existing.check_model(extractor)
        held = {it[0] for it in existing.items}
        paths = [p for p in paths if p not in held]
        if not paths:
            logger.info("%s already holds every image of %s (%d images).", directory,
                        ", ".join(map(str, folders)), len(existing))
            shutil.rmtree(directory / "pending", ignore_errors=True)
            return existing
        logger.info("Appending %d new images to %s (%d held).", len(paths), directory,
                    len(existing))
    if extractor.metric == "euclidean":
        logger.warning("%s evaluates with test.dist_metric euclidean; the gallery ranks by cosine "
                       "distance (GalleryIndex's inner-product search).", extractor.cfg.model.name)
    pending = _Pending(directory / "pending", extractor.fingerprint, paths, chunk_size)
    new_items, new_feats = pending.run(extractor, skip_unreadable, progress)
    if not new_items:
        raise GalleryError("None of the new images could be read; nothing to index.")
    items = (list(existing.items) if existing else []) + new_items
    feats = _features_of(existing, new_feats)
    ids = [(UNKNOWN_ID, UNKNOWN_ID) if pid is None else (pid, camid) for _, pid, camid in items]
    gallery = FeatureSet(feats.global_feats, np.array([i[0] for i in ids], np.int64),
                         np.array([i[1] for i in ids], np.int64), feats.region_feats,
                         feats.region_weights)
    index = GalleryIndex.build(gallery, index_type=index_type, region_dtype=region_dtype,
                               use_gpu=False)
    number = int(existing.manifest["index_dir"].split("-")[1]) + 1 if existing else 1
    index_dir = directory / f"index-{number:04d}"
    if index_dir.exists():
        shutil.rmtree(index_dir)
    index.save(index_dir)
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "fingerprint": extractor.fingerprint, "model": extractor.describe(),
        "config": extractor.cfg.dump(), "index_dir": index_dir.name,
        "index_type": index_type, "region_dtype": region_dtype,
        "files": {f.name: [f.stat().st_size, _sha256(f)] for f in sorted(index_dir.iterdir())},
        "items": [list(it) for it in items],
    }
    write_json_atomic(directory / MANIFEST, manifest)
    if existing is not None and existing.manifest["index_dir"] != index_dir.name:
        shutil.rmtree(directory / existing.manifest["index_dir"], ignore_errors=True)
    shutil.rmtree(pending.directory, ignore_errors=True)
    logger.info("Gallery %s: %d images (%d new), model %s (fingerprint %s)", directory,
                len(items), len(new_items), extractor.cfg.model.name, extractor.fingerprint)
    return SearchGallery.open(directory, verify=False)


def _features_of(existing: SearchGallery | None, new: ExtractedFeatures) -> ExtractedFeatures:
    if existing is None:
        return new
    old = existing.index.rows(slice(None))
    return ExtractedFeatures.cat([
        ExtractedFeatures(old.global_feats, old.region_feats, old.region_weights, new.metric),
        new,
    ])


class _Pending:
    """The chunks of one indexing run under ``pending/`` (resumable)."""

    def __init__(self, directory: Path, fingerprint: str, paths: list[str], chunk_size: int
                 ) -> None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.directory = directory
        self.paths = paths
        self.chunk_size = chunk_size
        plan = {"fingerprint": fingerprint, "chunk_size": chunk_size, "paths": paths}
        plan_file = directory / "plan.json"
        if plan_file.is_file():
            try:
                same = json.loads(plan_file.read_text(encoding="utf-8")) == plan
            except ValueError:
                same = False
            if not same:
                logger.info("%s holds chunks of another run; starting over.", directory)
                shutil.rmtree(directory)
        if not plan_file.is_file():
            directory.mkdir(parents=True, exist_ok=True)
            write_json_atomic(plan_file, plan)

    def run(self, extractor: FeatureExtractor, skip_unreadable: bool, progress: bool
            ) -> tuple[list, ExtractedFeatures]:
        from tqdm import tqdm

        items, parts = [], []
        bar = tqdm(total=len(self.paths), desc="index", unit="img", disable=not progress,
                   mininterval=1.0, dynamic_ncols=True)
        for number, start in enumerate(range(0, len(self.paths), self.chunk_size)):
            chunk = self.paths[start:start + self.chunk_size]
            file = self.directory / f"part-{number:05d}.npz"
            loaded = _load_chunk(file)
            if loaded is not None and not set(loaded[0]) <= set(chunk):
                loaded = None  # not this chunk's images
            if loaded is None:
                loaded = _extract_chunk(extractor, chunk, skip_unreadable)
                _save_chunk(file, *loaded)
            kept, feats = loaded
            items += [(p, *(identity_of(p) or (None, None))) for p in kept]
            if feats is not None:
                parts.append(feats)
            bar.update(len(chunk))
        bar.close()
        return items, ExtractedFeatures.cat(parts) if parts else None


def _extract_chunk(extractor: FeatureExtractor, chunk: list[str], skip_unreadable: bool
                   ) -> tuple[list[str], ExtractedFeatures | None]:
    if not skip_unreadable:
        return chunk, extractor(chunk)
    kept, images = [], []
    for p in chunk:
        try:
            images.append(read_rgb(p))
            kept.append(p)
        except ImageReadError as err:
            logger.warning("Skipped: %s", err)
    return kept, extractor(images) if images else None


def _save_chunk(file: Path, paths: list[str], feats: ExtractedFeatures | None) -> None:
    arrays = {"paths": np.array(json.dumps(paths))}
    if feats is not None:
        arrays["global"] = feats.global_feats.numpy()
        if feats.has_regions:
            arrays["regions"] = feats.region_feats.numpy()
            arrays["weights"] = feats.region_weights.numpy()
    write_atomic(file, lambda fh: np.savez(fh, **arrays))


def _load_chunk(file: Path) -> tuple[list[str], ExtractedFeatures | None] | None:
    """A saved chunk, or None when it is missing or unreadable (then it is redone)."""
    if not file.is_file():
        return None
    try:
        with np.load(file) as data:
            paths = json.loads(str(data["paths"]))
            if "global" not in data:
                return paths, None
            regions = torch.from_numpy(data["regions"]) if "regions" in data else None
            weights = torch.from_numpy(data["weights"]) if "weights" in data else None
            return paths, ExtractedFeatures(torch.from_numpy(data["global"]), regions, weights)
    except (OSError, ValueError, KeyError) as err:
        logger.warning("%s is unreadable (%s); extracting it again.", file, err)
        return None
