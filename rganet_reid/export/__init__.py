"""Shipping a trained model to a runtime: ONNX export with parity and throughput checks.

Layer: above ``inference/`` (it exports what a :class:`~rganet_reid.inference.FeatureExtractor`
runs, and checks it with the extractor's ONNX backend), below ``cli/``. Needs the ``onnx``
extra (onnx, onnxscript, onnxruntime), imported only here. See :mod:`rganet_reid.export.onnx`.
"""
