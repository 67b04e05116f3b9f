#!/usr/bin/env python
"""Re-score a trained RGANet run under several readings of the confidence (no retraining).

Thin wrapper around :mod:`rganet_reid.cli.rescore_readings`.
"""

import sys

from rganet_reid.cli.rescore_readings import main

if __name__ == "__main__":
    sys.exit(main())
