#!/usr/bin/env python
"""Retrieval evaluation benchmark: ``python tools/bench_retrieval.py --preset msmt17``.

Thin wrapper around :mod:`rganet_reid.cli.bench_retrieval`; ``--help`` lists every option.
"""

import sys

from rganet_reid.cli.bench_retrieval import main

if __name__ == "__main__":
    sys.exit(main())
