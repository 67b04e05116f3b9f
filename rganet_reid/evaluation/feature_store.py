"""Extracted features on disk: a directory of ``.npy`` arrays that any process can read in
part (memory-mapped) and several processes can write in parts.

Layout (the arrays of a :class:`~rganet_reid.evaluation.GalleryIndex` directory, so an index
directory is also a feature directory)::

    meta.json      format, num_items, dim, num_regions, region_dim (written last)
    pids.npy       (n,) int64          camids.npy (n,) int64
    global.npy     (n, d) float32
    regions.npy    (n, N, d_r) float32 or float16   (region models only)
    weights.npy    (n, N) float32                    (region models only)

:func:`write_features` writes a whole set; :func:`write_feature_rows` lets each process of a
sharded extraction write its own rows into files one process created (a shared file system
across machines); :func:`read_features` reads all rows or a range.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from rganet_reid.evaluation.features import FeatureSet
from rganet_reid.utils.io import write_json_atomic

__all__ = ["FORMAT", "read_feature_ids", "read_feature_meta", "read_features",
           "write_feature_rows", "write_features"]

FORMAT = "rganet-reid-features"


def _shapes(n: int, dim: int, num_regions: int, region_dim: int) -> dict[str, tuple]:
    shapes = {"pids": (n,), "camids": (n,), "global": (n, dim)}
    if num_regions:
        shapes.update(regions=(n, num_regions, region_dim), weights=(n, num_regions))
    return shapes


def _dtypes(region_dtype: str) -> dict[str, np.dtype]:
    return {"pids": np.dtype(np.int64), "camids": np.dtype(np.int64),
            "global": np.dtype(np.float32), "regions": np.dtype(region_dtype),
            "weights": np.dtype(np.float32)}


def _arrays(fs: FeatureSet, region_dtype: str) -> dict[str, np.ndarray]:
    dtypes = _dtypes(region_dtype)
    out = {"pids": fs.pids, "camids": fs.camids, "global": fs.global_feats}
    if fs.has_regions:
        out.update(regions=fs.region_feats, weights=fs.weights_or_ones())
    return {k: np.asarray(v.detach().float().cpu().numpy() if isinstance(v, torch.Tensor)
                          else v, dtype=dtypes[k]) for k, v in out.items()}


def write_features(fs: FeatureSet, directory: str | Path, region_dtype: str = "float32") -> Path:
    """Write ``fs`` as a feature directory (see the module docstring); returns its path."""
    return write_feature_rows(directory, fs, 0, len(fs), create=True, finish=True,
                              region_dtype=region_dtype, template=fs)


def write_feature_rows(
    directory: str | Path,
    part: FeatureSet | None,
    start: int,
    num_items: int,
    *,
    create: bool,
    finish: bool,
    template: FeatureSet,
    region_dtype: str = "float32",
    barrier: Callable[[], None] = lambda: None,
) -> Path:
    """Write rows ``start .. start + len(part) - 1`` of a set of ``num_items`` items.

    Every writer calls this with its part (``None``: no rows); the one with ``create`` makes
    the full-size files first, ``barrier`` (a collective) separates creating, writing and
    ``finish`` (``meta.json``, written by one writer when every part is in). ``template``
    gives the feature shapes (any set of the same model, e.g. the queries).
    """
    path = Path(directory)
    n_reg = template.num_regions
    shapes = _shapes(num_items, int(template.global_feats.shape[1]), n_reg,
                     int(template.region_feats.shape[2]) if n_reg else 0)
    dtypes = _dtypes(region_dtype)
    if create:
        path.mkdir(parents=True, exist_ok=True)
        (path / "meta.json").unlink(missing_ok=True)  # incomplete until finished
        for name, shape in shapes.items():
            np.lib.format.open_memmap(path / f"{name}.npy", mode="w+", dtype=dtypes[name],
                                      shape=shape).flush()
    barrier()
    if part is not None and len(part):
        for name, rows in _arrays(part, region_dtype).items():
            out = np.load(path / f"{name}.npy", mmap_mode="r+")
            out[start : start + len(rows)] = rows
            out.flush()
            del out
    barrier()
    if finish:
        write_json_atomic(path / "meta.json", {
            "format": FORMAT, "num_items": num_items, "dim": shapes["global"][1],
            "num_regions": n_reg, "region_dim": shapes["regions"][2] if n_reg else 0,
            "region_dtype": region_dtype if n_reg else None})
    return path


def read_feature_meta(directory: str | Path) -> dict:
    """``meta.json`` of a feature (or GalleryIndex) directory, checked for its arrays."""
    path = Path(directory)
    meta_file = path / "meta.json"
    if not meta_file.is_file():
        raise FileNotFoundError(
            f"{meta_file} not found: {path} is not a feature directory (or its writing did "
            "not finish).")
    meta = json.loads(meta_file.read_text())
    missing = [f"{k}.npy" for k in _shapes(1, 1, meta.get("num_regions", 0), 1)
               if not (path / f"{k}.npy").is_file()]
    if missing:
        raise FileNotFoundError(f"{path} lacks {', '.join(missing)}.")
    return meta


def read_feature_ids(directory: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """``(pids, camids)`` of every item of a feature directory (no features read)."""
    path = Path(directory)
    read_feature_meta(path)
    return (np.asarray(np.load(path / "pids.npy", mmap_mode="r"), dtype=np.int64),
            np.asarray(np.load(path / "camids.npy", mmap_mode="r"), dtype=np.int64))


def read_features(directory: str | Path, rows: slice | None = None) -> FeatureSet:
    """Rows ``rows`` (default: all) of a feature directory; only those rows are read."""
    path = Path(directory)
    meta = read_feature_meta(path)
    shapes = _shapes(meta["num_items"], meta["dim"], meta["num_regions"], meta["region_dim"])
    sl = rows if rows is not None else slice(0, meta["num_items"])
    arrays = {}
    for name, shape in shapes.items():
        arr = np.load(path / f"{name}.npy", mmap_mode="r")
        if arr.shape != shape:
            raise ValueError(f"{path / (name + '.npy')} has shape {arr.shape}; meta.json says "
                             f"{shape}.")
        arrays[name] = np.array(arr[sl])
    feats = {k: torch.from_numpy(arrays[k].astype(np.float32, copy=False))
             for k in ("global", "regions", "weights") if k in arrays}
    return FeatureSet(feats["global"], arrays["pids"], arrays["camids"], feats.get("regions"),
                      feats.get("weights"))
