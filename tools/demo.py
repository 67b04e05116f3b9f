#!/usr/bin/env python
"""The README's main job (``make demo``): SynthOcc is generated if it is not cached yet, RGANet,
the plain CLIP-ViT baseline and torchreid's OSNet are trained through the torchreid machinery
under the same budget, evaluated on SynthOcc's occluded, partial and holistic protocols, and
the leaderboard is printed (and written to ``output/demo/demo/``).

    python tools/demo.py [benchmark options, e.g. --max-epoch 2] [KEY VALUE ...]

It is ``rganet-benchmark --spec projects/RGANet/benchmarks/demo.yaml --out output/demo``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "projects" / "RGANet" / "benchmarks" / "demo.yaml"


def main(argv: list[str] | None = None) -> int:
    from rganet_reid.benchmark.cli import main as benchmark

    argv = list(sys.argv[1:] if argv is None else argv)
    t0 = time.monotonic()
    code = benchmark(["--spec", str(SPEC), "--out", "output/demo", *argv])
    print(f"Demo wall time: {time.monotonic() - t0:.0f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
