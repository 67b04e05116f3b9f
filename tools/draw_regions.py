#!/usr/bin/env python
"""Fig. 4 for a trained RGANet: images, their N regions and α, β, w per region (PNG).

Thin wrapper around :mod:`rganet_reid.cli.draw_regions`.
"""

import sys

from rganet_reid.cli.draw_regions import main

if __name__ == "__main__":
    sys.exit(main())
