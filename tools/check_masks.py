#!/usr/bin/env python
"""Check pseudo part masks against a dataset:
``python tools/check_masks.py --dataset NAME --root DATA --mask-root MASKS``.

Thin wrapper around :mod:`rganet_reid.cli.check_masks`; ``--help`` lists every option.
"""

import sys

from rganet_reid.cli.check_masks import main

if __name__ == "__main__":
    sys.exit(main())
