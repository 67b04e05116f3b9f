#!/usr/bin/env python
"""Leaderboards: ``python tools/benchmark.py --spec projects/RGANet/benchmarks/table_v.yaml``.

Thin wrapper around :mod:`rganet_reid.benchmark.cli` (also installed as
``rganet-benchmark``); ``--help`` lists every option.
"""

import sys

from rganet_reid.benchmark.cli import main

if __name__ == "__main__":
    sys.exit(main())
