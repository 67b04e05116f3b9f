#!/usr/bin/env python
"""Verify a downloaded benchmark tree:
``python tools/verify_dataset.py --dataset NAME --root DATA``.

Thin wrapper around :mod:`rganet_reid.cli.verify_dataset`; ``--help`` lists every option.
"""

import sys

from rganet_reid.cli.verify_dataset import main

if __name__ == "__main__":
    sys.exit(main())
