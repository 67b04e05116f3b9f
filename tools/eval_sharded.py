#!/usr/bin/env python
"""Exact evaluation with the gallery sharded over processes:
``torchrun --nproc_per_node=N tools/eval_sharded.py --query Q --gallery G``.

Thin wrapper around :mod:`rganet_reid.cli.eval_sharded` (also installed as
``rganet-eval-sharded``).
"""

import sys

from rganet_reid.cli.eval_sharded import main

if __name__ == "__main__":
    sys.exit(main())
