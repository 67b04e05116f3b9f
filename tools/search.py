#!/usr/bin/env python
"""Gallery search and rank-list figures: ``python tools/search.py {index,query,ranklist} ...``.

Thin wrapper around :mod:`rganet_reid.cli.search` (also installed as ``rganet-search``).
"""

import sys

from rganet_reid.cli.search import main

if __name__ == "__main__":
    sys.exit(main())
