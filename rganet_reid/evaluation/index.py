"""A FAISS-backed gallery index: candidate search, then exact Eq. 10 re-scoring.

Build once from extracted gallery features, save, load (memory-mapped), search in batches:

1. FAISS finds ``candidates`` gallery items per query by inner product over the *search
   vectors* (by default the fused Eq. 10 embedding ``e = [ĝ | w_1 ĝ_1 | … | w_N ĝ_N]``, whose
   inner product is the numerator of ``1 - d``; or the normalised global feature alone,
   5x smaller). ``flat`` is exhaustive; ``ivf`` / ``hnsw`` (or any FAISS factory string) are
   approximate.
2. The candidates are re-scored with the exact region-weighted distance (Eq. 10) from the
   stored features, and the best ``k`` returned.

Saved layout (a directory, see docs/retrieval.md)::

    meta.json      format version, metric, sizes, index settings
    faiss.index    faiss.write_index of the search index
    pids.npy       (n,) int64          camids.npy (n,) int64
    global.npy     (n, d) float32
    regions.npy    (n, N, d_r) float16 | float32   (region models only)
    weights.npy    (n, N) float32                  (region models only)

With ``shards`` > 1 the search index is a ``faiss.IndexShards`` of that many contiguous parts
of the gallery (one trained index cloned per part, so IVF parts share their coarse quantiser),
searched in parallel and merged by FAISS; the directory then holds ``faiss.shard-NNNN.index``
files instead of ``faiss.index``. Re-scoring is the same exact Eq. 10.

faiss is imported lazily (``pip install faiss-cpu`` or ``faiss-gpu``); faiss-gpu is used for
flat and IVF indexes when CUDA is available and ``use_gpu`` is set: an unsharded index on one
GPU, the parts of a sharded one spread over every visible GPU.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from rganet_reid.evaluation.distance import embed
from rganet_reid.evaluation.features import FeatureSet, check_pair

if TYPE_CHECKING:
    from yacs.config import CfgNode

__all__ = [
    "GalleryIndex", "SearchResult", "FORMAT_VERSION", "index_options_from_config",
    "split_index_options",
]

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1

#: Options of :meth:`GalleryIndex.search`; the others of an options mapping go to ``build``.
SEARCH_OPTIONS = ("candidates", "nprobe", "ef_search")


def index_options_from_config(cfg: CfgNode) -> dict[str, Any]:
    """:meth:`GalleryIndex.build` and :meth:`GalleryIndex.search` options from the config's
    ``retrieval.index`` section (split them with :func:`split_index_options`)."""
    ix = cfg.retrieval.index
    return {
        "index_type": ix.type, "search_vectors": ix.search_vectors, "nlist": ix.nlist,
        "hnsw_m": ix.hnsw_m, "ef_construction": ix.ef_construction,
        "region_dtype": ix.region_dtype, "use_gpu": ix.use_gpu, "shards": ix.shards,
        "candidates": ix.candidates, "nprobe": ix.nprobe, "ef_search": ix.ef_search,
    }


def split_index_options(options: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(build options, search options)`` of one options mapping."""
    build = {k: v for k, v in options.items() if k not in SEARCH_OPTIONS}
    return build, {k: v for k, v in options.items() if k in SEARCH_OPTIONS}


def _faiss():
    try:
        import faiss
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "GalleryIndex needs FAISS: `pip install faiss-cpu` (or faiss-gpu with CUDA)."
        ) from err
    return faiss


@dataclass
class SearchResult:
    """The ``k`` best gallery items per query, ascending by exact distance.

    Attributes:
        distances: ``(Q, k)`` float32 exact distances (Eq. 10 with regions).
        indices: ``(Q, k)`` int64 gallery indices (``-1`` where fewer than ``k`` were found).
        pids, camids: ``(Q, k)`` int64 ids of those items (``-1`` for missing ones).
    """

    distances: np.ndarray
    indices: np.ndarray
    pids: np.ndarray
    camids: np.ndarray


class GalleryIndex:
    """Gallery features plus a FAISS search index over them.

    Use :meth:`build` (from a :class:`FeatureSet`) or :meth:`load`; then :meth:`search`.
    """

    def __init__(
        self, arrays: dict[str, np.ndarray], faiss_index, meta: dict, use_gpu: bool = True
    ) -> None:
        self.arrays = arrays  # pids, camids, global[, regions, weights]; maybe memory-mapped
        self.faiss_index = faiss_index
        self.meta = meta
        self.use_gpu = use_gpu
        self._gpu_index = None
        self._gpu_res: list = []

    @property
    def pids(self) -> np.ndarray:
        return self.arrays["pids"]

    @property
    def camids(self) -> np.ndarray:
        return self.arrays["camids"]

    def rows(self, index: np.ndarray | slice) -> FeatureSet:
        """Gallery items ``index`` as a FeatureSet (read from the memory map if loaded so)."""
        a = self.arrays

        def feats(name):
            if name not in a:
                return None
            # a copy: a slice of a read-only memory map would give a tensor over read-only memory
            return torch.from_numpy(np.array(a[name][index], dtype=np.float32))

        return FeatureSet(
            feats("global"),
            np.asarray(a["pids"][index]),
            np.asarray(a["camids"][index]),
            feats("regions"),
            feats("weights"),
        )

    # ------------------------------------------------------------------ build
    @classmethod
    def build(
        cls,
        gallery: FeatureSet,
        *,
        index_type: str = "flat",
        search_vectors: str = "fused",
        nlist: int = 0,
        hnsw_m: int = 32,
        ef_construction: int = 80,
        train_size: int = 0,
        region_dtype: str = "float16",
        use_gpu: bool = True,
        batch_size: int = 16384,
        seed: int = 0,
        shards: int = 1,
    ) -> GalleryIndex:
        """Index ``gallery``.

        Args:
            index_type: "flat" (exact inner product), "ivf" (IVF-Flat, ``nlist`` lists,
                0 = ``4·sqrt(n)``), "hnsw" (``hnsw_m`` neighbours per node), or any FAISS
                ``index_factory`` string (e.g. "IVF1024,SQ8").
            search_vectors: "fused" (Eq. 10 embedding; best recall) or "global" (the
                normalised global feature; 1/(N+1) of the memory).
            train_size: vectors used to train IVF/quantisers (0 = ``max(50·nlist, 10000)``).
            region_dtype: storage dtype of region features ("float16" halves the index on
                disk; re-scoring then sees fp16-rounded region features).
            batch_size: rows embedded and added per FAISS call.
            shards: split the index into this many contiguous parts of the gallery
                (``faiss.IndexShards``); 1 = one index.
        """
        faiss = _faiss()
        if len(gallery) == 0:
            raise ValueError("Cannot index an empty gallery.")
        if search_vectors not in ("fused", "global"):
            raise ValueError(f"search_vectors must be 'fused' or 'global'; got {search_vectors!r}.")
        if region_dtype not in ("float16", "float32"):
            raise ValueError(f"region_dtype must be 'float16' or 'float32'; got {region_dtype!r}.")
        if not 1 <= shards <= len(gallery):
            raise ValueError(f"shards must be between 1 and the gallery size {len(gallery)}; "
                             f"got {shards}.")
        arrays = _arrays_of(gallery, region_dtype)
        has_regions = "regions" in arrays
        dim = gallery.global_feats.shape[1]
        if search_vectors == "fused" and has_regions:
            dim += arrays["regions"].shape[1] * arrays["regions"].shape[2]
        factory = _factory_string(index_type, len(gallery), nlist, hnsw_m)
        index = faiss.index_factory(int(dim), factory, faiss.METRIC_INNER_PRODUCT)
        hnsw = _hnsw_of(faiss, index)
        if hnsw is not None:
            hnsw.efConstruction = ef_construction
        meta = {
            "format_version": FORMAT_VERSION,
            "metric": "eq10" if has_regions else "cosine",
            "num_items": len(gallery),
            "dim": int(gallery.global_feats.shape[1]),
            "num_regions": int(arrays["regions"].shape[1]) if has_regions else 0,
            "region_dim": int(arrays["regions"].shape[2]) if has_regions else 0,
            "region_dtype": region_dtype if has_regions else None,
            "index_factory": factory,
            "search_vectors": search_vectors,
        }
        if shards > 1:
            meta["shards"] = shards
        out = cls(arrays, index, meta, use_gpu)
        if not index.is_trained:
            n_train = train_size or max(50 * _nlist_of(faiss, index), 10_000)
            rng = np.random.default_rng(seed)
            sample = np.sort(rng.choice(len(gallery), min(n_train, len(gallery)), replace=False))
            logger.info("Training %s on %d vectors", factory, len(sample))
            index.train(_search_vectors(out.rows(sample), search_vectors))
        if shards == 1:
            out._add(index, 0, len(gallery), batch_size)
            return out
        parts = faiss.IndexShards(int(dim), True, True)  # threaded, ids numbered across parts
        for p in range(shards):
            part = faiss.clone_index(index)  # the trained, empty index
            out._add(part, p * len(gallery) // shards, (p + 1) * len(gallery) // shards,
                     batch_size)
            parts.add_shard(part)
        out.faiss_index = parts
        return out

    def _add(self, index, start: int, stop: int, batch_size: int) -> None:
        """Add gallery items ``start..stop-1`` to the FAISS ``index``, in batches."""
        for b0 in range(start, stop, batch_size):
            rows = slice(b0, min(stop, b0 + batch_size))
            index.add(_search_vectors(self.rows(rows), self.meta["search_vectors"]))

    @property
    def num_shards(self) -> int:
        """Parts of the search index (1: one FAISS index)."""
        return int(self.meta.get("shards", 1))

    # ------------------------------------------------------------------ save / load
    def save(self, directory: str | Path) -> Path:
        """Write the index directory (layout in the module docstring); returns its path."""
        faiss = _faiss()
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        for name, arr in self.arrays.items():
            np.save(path / f"{name}.npy", arr)
        for name, part in zip(_index_files(self.num_shards), _parts_of(self.faiss_index)):
            faiss.write_index(part, str(path / name))
        (path / "meta.json").write_text(json.dumps(self.meta, indent=2) + "\n")
        return path

    @classmethod
    def load(
        cls, directory: str | Path, *, mmap: bool = True, use_gpu: bool = True
    ) -> GalleryIndex:
        """Read an index directory written by :meth:`save`; arrays are memory-mapped when
        ``mmap`` (galleries larger than memory)."""
        faiss = _faiss()
        path = Path(directory)
        meta_file = path / "meta.json"
        if not meta_file.is_file():
            raise FileNotFoundError(f"{meta_file} not found: not a GalleryIndex directory.")
        meta = json.loads(meta_file.read_text())
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{meta_file}: format_version {meta.get('format_version')!r}, this code reads "
                f"{FORMAT_VERSION}."
            )
        n, r = meta["num_items"], meta["num_regions"]
        expected = {"pids": (n,), "camids": (n,), "global": (n, meta["dim"])}
        if r:
            expected.update(regions=(n, r, meta["region_dim"]), weights=(n, r))
        missing = [f"{k}.npy" for k in expected if not (path / f"{k}.npy").is_file()]
        files = _index_files(int(meta.get("shards", 1)))
        missing += [f for f in files if not (path / f).is_file()]
        if missing:
            raise FileNotFoundError(f"{path} lacks {', '.join(missing)} (see docs/retrieval.md).")
        arrays = {}
        for name, shape in expected.items():
            arrays[name] = np.load(path / f"{name}.npy", mmap_mode="r" if mmap else None)
            if arrays[name].shape != shape:
                raise ValueError(
                    f"{path / (name + '.npy')} has shape {arrays[name].shape}; meta.json says "
                    f"{shape}."
                )
        parts = [faiss.read_index(str(path / f)) for f in files]
        if len(parts) == 1:
            index = parts[0]
        else:
            index = faiss.IndexShards(int(parts[0].d), True, True)
            for part in parts:
                index.add_shard(part)
        if index.ntotal != n:
            raise ValueError(f"{path}/{', '.join(files)} hold {index.ntotal} vectors, "
                             f"meta says {n}.")
        return cls(arrays, index, meta, use_gpu)

    # ------------------------------------------------------------------ search
    def __len__(self) -> int:
        return int(self.meta["num_items"])

    def search(
        self,
        query: FeatureSet,
        k: int = 10,
        *,
        candidates: int = 100,
        nprobe: int = 32,
        ef_search: int = 128,
        batch_size: int = 256,
    ) -> SearchResult:
        """The ``k`` nearest gallery items of each query by exact Eq. 10 distance among the
        ``candidates`` returned by the FAISS search (``candidates >= len(self)`` with a flat
        index is an exhaustive, exact search).

        ``nprobe`` (IVF) and ``ef_search`` (HNSW) trade speed for candidate recall.
        """
        if k < 1 or candidates < 1:
            raise ValueError(f"GalleryIndex.search: k={k} and candidates={candidates} must be "
                             "at least 1 (k is the number of matches returned per query).")
        faiss = _faiss()
        if len(query) == 0:
            raise ValueError("The query set is empty: nothing to search.")
        check_pair(query, self.rows(np.arange(1)))
        k = min(k, len(self))
        candidates = min(max(candidates, k), len(self))
        index = self._search_index(faiss)
        _set_search_params(faiss, self.faiss_index, nprobe, ef_search)
        if index is not self.faiss_index:  # a GPU copy keeps the parameters it was made with
            _set_gpu_search_params(faiss, index, nprobe)
        nq = len(query)
        out_d = np.full((nq, k), np.inf, dtype=np.float32)
        out_i = np.full((nq, k), -1, dtype=np.int64)
        sv = self.meta["search_vectors"]
        for start in range(0, nq, batch_size):
            sub = query.subset(slice(start, start + batch_size))
            _, cand = index.search(_search_vectors(sub, sv), candidates)
            d, i = self._rescore(sub, cand, k)
            out_d[start : start + len(sub)], out_i[start : start + len(sub)] = d, i
        found = out_i >= 0
        safe = np.maximum(out_i, 0)
        pids = np.where(found, np.asarray(self.pids)[safe], -1)
        camids = np.where(found, np.asarray(self.camids)[safe], -1)
        return SearchResult(out_d, out_i, pids, camids)

    def _rescore(self, sub: FeatureSet, cand: np.ndarray, k: int):
        """Exact distances of each query to its candidates, best ``k`` kept."""
        valid = cand >= 0
        uniq, inverse = np.unique(np.where(valid, cand, 0), return_inverse=True)
        eq, eg = embed(sub, "cosine", "cpu"), embed(self.rows(uniq), "cosine", "cpu")
        rows = torch.from_numpy(inverse.reshape(cand.shape))
        e_g = eg.vecs[rows]  # (B, C, K)
        s = torch.bmm(e_g, eq.vecs.unsqueeze(2)).squeeze(2)
        if eq.weights is not None:
            den = torch.bmm(eg.weights[rows], eq.weights.unsqueeze(2)).squeeze(2) + 1
            dist = 1 - s / den
        else:
            dist = 1 - s
        dist[torch.from_numpy(~valid)] = float("inf")
        # order by (distance, gallery index), as the evaluation's tie rule
        idx = torch.from_numpy(np.where(valid, cand, np.iinfo(np.int64).max))
        order = torch.argsort(idx, dim=1, stable=True)
        dist, idx = dist.gather(1, order), idx.gather(1, order)
        best = torch.sort(dist, dim=1, stable=True).indices[:, :k]
        d, i = dist.gather(1, best).numpy(), idx.gather(1, best).numpy()
        i[~np.isfinite(d)] = -1
        return d, i

    def _search_index(self, faiss):
        if not self.use_gpu or not torch.cuda.is_available():
            return self.faiss_index
        if not hasattr(faiss, "StandardGpuResources") or "HNSW" in self.meta["index_factory"]:
            return self.faiss_index
        if self._gpu_index is None:
            if self.num_shards == 1:
                self._gpu_res = [faiss.StandardGpuResources()]
                self._gpu_index = faiss.index_cpu_to_gpu(self._gpu_res[0], 0, self.faiss_index)
            else:  # part i on GPU i mod #GPUs, merged by a GPU-side IndexShards
                ngpu = max(1, faiss.get_num_gpus())
                self._gpu_res = [faiss.StandardGpuResources() for _ in range(ngpu)]
                parts = faiss.IndexShards(int(self.faiss_index.d), True, True)
                for i, part in enumerate(_parts_of(self.faiss_index)):
                    parts.add_shard(faiss.index_cpu_to_gpu(self._gpu_res[i % ngpu], i % ngpu,
                                                           part))
                self._gpu_index = parts
        return self._gpu_index


def _arrays_of(gallery: FeatureSet, region_dtype: str) -> dict[str, np.ndarray]:
    """The arrays an index stores (region features in ``region_dtype``)."""
    arrays = {
        "pids": np.ascontiguousarray(gallery.pids, dtype=np.int64),
        "camids": np.ascontiguousarray(gallery.camids, dtype=np.int64),
        "global": _np(gallery.global_feats, np.float32),
    }
    if gallery.has_regions:
        arrays["regions"] = _np(gallery.region_feats, np.dtype(region_dtype))
        arrays["weights"] = _np(gallery.weights_or_ones(), np.float32)
    return arrays


def _search_vectors(fs: FeatureSet, search_vectors: str) -> np.ndarray:
    """float32 C-contiguous rows FAISS searches over (inner product)."""
    if search_vectors == "global" or not fs.has_regions:
        fs = FeatureSet(fs.global_feats, fs.pids, fs.camids)
    return np.ascontiguousarray(embed(fs, "cosine", "cpu").vecs.numpy(), dtype=np.float32)


def _factory_string(index_type: str, n: int, nlist: int, hnsw_m: int) -> str:
    if index_type == "flat":
        return "Flat"
    if index_type == "ivf":
        lists = nlist or max(1, int(4 * math.sqrt(n)))
        return f"IVF{min(lists, n)},Flat"
    if index_type == "hnsw":
        return f"HNSW{hnsw_m},Flat"
    return index_type  # any FAISS index_factory string


def _nlist_of(faiss, index) -> int:
    try:
        return int(faiss.extract_index_ivf(index).nlist)
    except RuntimeError:
        return 1


def _hnsw_of(faiss, index):
    idx = faiss.downcast_index(index)
    return getattr(idx, "hnsw", None)


def _index_files(shards: int) -> list[str]:
    """File names of the search index in a saved directory."""
    if shards == 1:
        return ["faiss.index"]
    return [f"faiss.shard-{i:04d}.index" for i in range(shards)]


def _parts_of(index) -> list:
    """The sub-indexes of a ``faiss.IndexShards``, or ``[index]``."""
    if hasattr(index, "add_shard"):
        return [index.at(i) for i in range(index.count())]
    return [index]


def _set_gpu_search_params(faiss, index, nprobe: int) -> None:
    """``nprobe`` of GPU IVF indexes (a GPU copy does not follow its CPU original's)."""
    space = faiss.GpuParameterSpace()
    try:
        space.set_index_parameter(index, "nprobe", nprobe)
    except RuntimeError:  # not an IVF index
        pass


def _set_search_params(faiss, index, nprobe: int, ef_search: int) -> None:
    if hasattr(index, "add_shard"):  # IndexShards: every part
        for part in _parts_of(index):
            _set_search_params(faiss, faiss.downcast_index(part), nprobe, ef_search)
        return
    try:
        faiss.extract_index_ivf(index).nprobe = nprobe
    except RuntimeError:
        pass
    hnsw = _hnsw_of(faiss, index)
    if hnsw is not None:
        hnsw.efSearch = ef_search


def _np(t, dtype) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        t = t.detach().cpu()
        if t.dtype == torch.bfloat16:
            t = t.float()
        t = t.numpy()
    return np.ascontiguousarray(t, dtype=dtype)
