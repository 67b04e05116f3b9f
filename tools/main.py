#!/usr/bin/env python
"""Train / evaluate: ``python tools/main.py --config-file projects/RGANet/occ_duke.yaml``.

Thin wrapper around :mod:`rganet_reid.cli.main` (also installed as ``rganet-main``).
"""

import sys

from rganet_reid.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
