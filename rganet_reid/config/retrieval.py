"""The ``retrieval`` configuration section: streaming evaluation and the gallery index.

Keys map onto :class:`rganet_reid.evaluation.RetrievalSettings` (``from_config``) and
:class:`rganet_reid.evaluation.index.GalleryIndex` (see docs/retrieval.md).
"""

from __future__ import annotations

from yacs.config import CfgNode as CN


def add_retrieval_config(cfg: CN) -> None:
    """Add the ``retrieval`` section to ``cfg``."""
    cfg.retrieval = CN()
    # Working memory (MB) for distance blocks; the embedded gallery (G x K values) comes on top.
    cfg.retrieval.memory_budget_mb = 512
    # GEMM input dtype: "float32" (default, exact to fp32 rounding) | "bfloat16" | "float16".
    cfg.retrieval.dtype = "float32"
    # k-reciprocal re-ranking parameters (used when test.rerank is True); torchreid's defaults.
    cfg.retrieval.rerank_k1 = 20
    cfg.retrieval.rerank_k2 = 6
    cfg.retrieval.rerank_lambda = 0.3
    # Re-ranking neighbour lists: "exact" (streamed (Q+G)^2 pass; equals torchreid's re_ranking)
    # | "index" (FAISS candidates re-scored exactly; approximate, for MSMT17 scale and beyond).
    cfg.retrieval.rerank_neighbours = "exact"

    # ---- gallery index (FAISS): how the index of rerank_neighbours "index" (and of
    # tools/bench_retrieval.py) is built and searched; see evaluation/index.py.
    cfg.retrieval.index = CN()
    # "flat": exact inner-product search | "ivf": IVF-Flat | "hnsw": HNSW graph | any FAISS
    # index_factory string.
    cfg.retrieval.index.type = "ivf"
    # What FAISS searches: "global" (normalised global features; 1/(N+1) of the memory) or
    # "fused" (the Eq. 10 embedding; best candidate recall).
    cfg.retrieval.index.search_vectors = "global"
    # Candidates per query from the FAISS search, re-scored exactly with Eq. 10.
    cfg.retrieval.index.candidates = 64
    cfg.retrieval.index.nlist = 0  # IVF lists; 0 = 4 * sqrt(gallery size)
    cfg.retrieval.index.nprobe = 32  # IVF lists visited per query
    cfg.retrieval.index.hnsw_m = 32  # HNSW graph degree
    cfg.retrieval.index.ef_construction = 80  # HNSW build-time beam width
    cfg.retrieval.index.ef_search = 128  # HNSW search-time beam width
    # Dtype in which region features are stored in a saved index: "float32" | "float16".
    cfg.retrieval.index.region_dtype = "float16"
    cfg.retrieval.index.use_gpu = True  # use faiss-gpu when it is installed and CUDA is present
