#!/usr/bin/env python
"""1 vs N torchrun processes: sharded evaluation and training throughput
(``python tools/bench_distributed.py``).

Thin wrapper around :mod:`rganet_reid.cli.bench_distributed`.
"""

import sys

from rganet_reid.cli.bench_distributed import main

if __name__ == "__main__":
    sys.exit(main())
