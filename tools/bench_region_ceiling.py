#!/usr/bin/env python
"""The region IoU reachable on a feature grid (``python tools/bench_region_ceiling.py``).

Thin wrapper around :mod:`rganet_reid.cli.bench_region_ceiling`.
"""

import sys

from rganet_reid.cli.bench_region_ceiling import main

if __name__ == "__main__":
    sys.exit(main())
