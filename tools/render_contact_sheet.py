#!/usr/bin/env python
"""Draw SynthOcc's contact sheet:
``python tools/render_contact_sheet.py --root data --out output/synthocc_contact_sheet.png``.

Thin wrapper around :mod:`rganet_reid.cli.render_contact_sheet`; ``--help`` lists every option.
"""

import sys

from rganet_reid.cli.render_contact_sheet import main

if __name__ == "__main__":
    sys.exit(main())
