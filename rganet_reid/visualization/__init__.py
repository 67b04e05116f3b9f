"""Figures of what a model does (matplotlib, PNG).

Layer: uses ``evaluation/`` and ``data/image_io``; used by ``engine/`` (``test.visrank``),
``inference/`` and ``cli/``. Modules:

* :mod:`rganet_reid.visualization.ranklist` — rank lists in the paper's Fig. 5 form (query +
  top-k, green correct / red wrong), one model or several on the same queries;
* :mod:`rganet_reid.visualization.regions` — region figures in the paper's Fig. 4 form (image,
  region masks, α / β / w per region, ground-truth visibility beside w where known); their
  per-image inputs come from the engine's evaluation extras or from
  :meth:`rganet_reid.inference.FeatureExtractor.region_outputs`.

Import the submodules directly; this package imports nothing on its own.
"""
