#!/usr/bin/env python
"""Rebuild the shipped ``synthocc-clip`` weights from scratch, then report what they know.

    python tools/build_synthocc_clip.py [--tag synthocc-clip-v2] [--root data] [--threads 2]

``--tag`` picks the recipe a shipped tag was built with (``TAG_RECIPES`` in
:mod:`rganet_reid.pretrain.contrastive`) and its file as the output; any setting given on the
command line (``--epochs 4`` ...) overrides the recipe.

1. generates (or reuses) the SynthOcc captioned corpus under ``<root>/synthocc_corpus/``;
2. pre-trains the tiny CLIP, both towers, with open_clip's ClipLoss plus the dense
   part-alignment term (:mod:`rganet_reid.pretrain.contrastive`);
3. writes the shipped file (fp16 safetensors, the token rows the corpus and the part prompts
   use) to ``--out`` (default: the package's own file) and prints its sha256 — register it in
   ``rganet_reid/modeling/pretrained_weights.py`` when you replace the shipped file;
4. benchmarks the written file (``tools/bench_synthocc_clip.py``): zero-shot caption → image
   retrieval on held-out corpus identities, part-mask mIoU of the raw prototypes on SynthOcc
   test images. Log and JSON summary go to ``--log-dir``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import fields
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run from a clone without installing
    sys.path.insert(0, str(REPO))


def _flag(text: str) -> bool:
    """``true/false/1/0/yes/no`` → bool (``bool("False")`` would be True)."""
    value = text.strip().lower()
    if value not in ("true", "false", "1", "0", "yes", "no"):
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return value in ("true", "1", "yes")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from rganet_reid.pretrain.contrastive import TAG_RECIPES, ContrastiveSettings

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", default="data", help="data root (corpus and SynthOcc cache)")
    p.add_argument("--tag", default="synthocc-clip", choices=sorted(TAG_RECIPES),
                   help="shipped tag whose recipe to follow and whose file to write")
    p.add_argument("--out", default=None, help="output file (default: the tag's shipped file)")
    p.add_argument("--log-dir", default="output/synthocc_clip", help="log.txt, summary.json")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    p.add_argument("--device", default="cpu")
    for f in fields(ContrastiveSettings):
        kind = _flag if isinstance(f.default, bool) else type(f.default)
        p.add_argument(f"--{f.name.replace('_', '-')}", type=kind, default=None,
                       help=f"(default: the tag's recipe, else {f.default!r})")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    import torch

    from rganet_reid.data.synthocc.corpus import ensure_corpus
    from rganet_reid.modeling.pretrained_weights import SHIPPED, pack_state_dict, write_shipped
    from rganet_reid.pretrain.clip_bench import bench_weights, format_report
    from rganet_reid.pretrain.contrastive import (
        ContrastiveSettings,
        pretrain_contrastive,
        tag_settings,
    )
    from rganet_reid.pretrain.vocabulary import used_token_ids
    from rganet_reid.utils.logging import setup_logging

    args = parse_args(argv)
    settings = tag_settings(args.tag, **{f.name: getattr(args, f.name)
                                         for f in fields(ContrastiveSettings)
                                         if getattr(args, f.name) is not None})
    log_dir = Path(args.log_dir)
    setup_logging(log_dir)
    log = logging.getLogger("rganet_reid.tools.build_synthocc_clip")
    if args.threads:
        torch.set_num_threads(args.threads)
    shipped = SHIPPED[args.tag]
    out = Path(args.out) if args.out else shipped.path
    t0 = time.monotonic()
    corpus = ensure_corpus(args.root, settings.corpus_size, settings.corpus_seed)
    t_corpus = time.monotonic() - t0
    log.info("Corpus %s ready in %.0f s", corpus, t_corpus)
    model, summary = pretrain_contrastive(settings, corpus, args.device)
    state = model.export_state_dict((settings.ship_height, settings.ship_width))
    tokens = used_token_ids(model.tokenizer, corpus)
    metadata = {"arch": settings.arch, "settings": settings.to_dict(),
                "unstored_token_rows": "zero", "stored_token_rows": len(tokens),
                "train_summary": summary}
    sha = write_shipped(out, pack_state_dict(state, tokens), metadata)
    log.info("Wrote %s (%.2f MB, %d token rows), sha256 %s", out, out.stat().st_size / 1e6,
             len(tokens), sha)
    t_total = time.monotonic() - t0
    bench = bench_weights(out, args.root, settings)
    report = {"file": str(out), "sha256": sha, "bytes": out.stat().st_size,
              "build_time_s": t_total, "corpus_time_s": t_corpus, "train": summary,
              **bench, "settings": settings.to_dict(), "threads": torch.get_num_threads()}
    (log_dir / "summary.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    log.info("Build wall time %.0f s (corpus %.0f s, pre-training %.0f s)", t_total, t_corpus,
             summary.get("time_s", 0.0))
    for line in format_report(bench):
        log.info("%s", line)
    if out == shipped.path and sha != shipped.sha256:
        log.warning("The shipped file changed: set sha256=%r for %s in "
                    "rganet_reid/modeling/pretrained_weights.py", sha, args.tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
