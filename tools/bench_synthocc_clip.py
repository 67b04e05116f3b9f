#!/usr/bin/env python
"""What tiny-CLIP weights know, without fine-tuning (:mod:`rganet_reid.pretrain.clip_bench`).

    python tools/bench_synthocc_clip.py [--weights synthocc-clip-v2 | FILE] [--root data]

Zero-shot caption -> image retrieval (Recall@1/5/10) on the corpus's held-out identities, with
GAP and with person pooling, and the part-mask mIoU of the raw prototypes (text tower's "a
[CLASS] part of a person." + the stored background prototype) on SynthOcc demo test images.
Generates the corpus and the demo dataset under ``--root`` if missing. ``--json`` writes the
numbers to a file too.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run from a clone without installing
    sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", default="synthocc-clip-v2",
                   help="shipped tag (synthocc-clip-v2, the default weights; synthocc-clip) or "
                        "shipped-format file")
    p.add_argument("--root", default="data", help="data root (corpus and SynthOcc cache)")
    p.add_argument("--json", default=None, help="also write the numbers to this file")
    args = p.parse_args(argv)

    from rganet_reid.pretrain.clip_bench import bench_weights, format_report

    report = bench_weights(args.weights, args.root)
    print("\n".join(format_report(report)))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
