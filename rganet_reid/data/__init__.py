"""Data: datasets (``datasets/``, SynthOcc in ``synthocc/``), the data manager, transforms,
part masks, the one image reader (:mod:`rganet_reid.data.image_io`) and the dataset checks.

Submodules are imported where they are used; importing this package loads nothing else.
"""
