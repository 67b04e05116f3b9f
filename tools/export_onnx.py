#!/usr/bin/env python
"""Export a trained model to ONNX and check it: ``python tools/export_onnx.py --model RUN --out
model.onnx`` (prints parity and throughput against PyTorch).

Thin wrapper around :mod:`rganet_reid.cli.export` (also installed as ``rganet-export``).
"""

import sys

from rganet_reid.cli.export import main

if __name__ == "__main__":
    sys.exit(main())
