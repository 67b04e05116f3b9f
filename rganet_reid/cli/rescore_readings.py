"""Re-score a trained RGANet run under several readings of the confidence (no retraining).

    python tools/rescore_readings.py RUN_DIR [--root DATA] [--reading NAME=CONF,IAI_MODE,TAU[,C]
        ...] [-- KEY VALUE ...]

RUN_DIR holds ``config.yaml`` and ``model.pth`` (a ``tools/main.py`` run folder). Each reading
is ``rganet.confidence``, ``rganet.iai_mode``, ``rganet.iai_temperature`` and optionally
``rganet.region_weight_scale`` C (default: the run's), e.g. ``fig4=mean,centres,0.1`` or
``c1=mean,centres,0.1,1``. ``KEY VALUE`` pairs after ``--`` change the run's config, e.g.
``-- data.synthocc.seed 1`` re-scores on another SynthOcc world (identities the run never
saw: the held-out set on which rganet.region_weight_scale was chosen). Prints one table per
target dataset with part ground truth and writes ``RUN_DIR/rescore/readings.json``.
Library: :mod:`rganet_reid.engine.readings`.
"""

from __future__ import annotations

import argparse

DEFAULT_READINGS = (
    "text=softmax_sum,regions,1",
    "mean-regions=mean,regions,1",
    "mean-centres-t1=mean,centres,1",
    "mean-centres-t0.1=mean,centres,0.1",
    "mean-centres-t0.05=mean,centres,0.05",
    "softmax-centres-t0.1=softmax_sum,centres,0.1",
)
COLUMNS = ("rank1", "mAP", "eq10_global_mAP", "eq10_uniform_mAP", "eq10_uniform_scaled_mAP",
           "eq10_oracle_mAP", "auroc_alpha", "auroc_beta", "auroc_w", "w_mean", "w_std", "miou")


def parse_reading(text: str):
    from rganet_reid.engine.readings import Reading

    try:
        name, spec = text.split("=", 1)
        confidence, mode, tau, *scale = spec.split(",")
        if len(scale) > 1 or (scale and not float(scale[0]) > 0):
            raise ValueError
        return name, Reading(confidence, mode, float(tau), float(scale[0]) if scale else None)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--reading {text!r}: expected NAME=CONFIDENCE,IAI_MODE,TAU[,SCALE] (SCALE > 0), "
            "e.g. fig4=mean,centres,0.1 or c1=mean,centres,0.1,1") from None


def main(argv: list[str] | None = None) -> int:
    """Rescore the readings; faults exit with status 2 (:mod:`rganet_reid.cli.errors`)."""
    from rganet_reid.cli.errors import run_command
    from rganet_reid.cli.run_folder import parse_run_folder_args, run_folder_parser

    parser = run_folder_parser(__doc__)
    parser.add_argument("--reading", action="append", type=parse_reading,
                        help="NAME=CONFIDENCE,IAI_MODE,TAU[,SCALE] (repeatable; default: a "
                        "standard set)")
    args = parse_run_folder_args(parser, argv)
    return run_command(lambda: _rescore(args), debug=args.debug)


def _rescore(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from rganet_reid.engine.readings import extract_run, rescore
    from rganet_reid.utils.io import write_json_atomic

    readings = dict(args.reading or [parse_reading(r) for r in DEFAULT_READINGS])
    results = rescore(extract_run(args.run_dir, args.root, args.weights, args.opts),
                      readings)
    for dataset, per in results.items():
        rows = [[name, *(f"{m[c]:.3f}" if c in m else "-" for c in COLUMNS)]
                for name, m in per.items()]
        print(f"\n{dataset}\n" + tabulate(rows, headers=["reading", *COLUMNS]))
    write_json_atomic(f"{args.run_dir}/rescore/readings.json",
                      {"readings": {k: vars(v) for k, v in readings.items()},
                       "results": results})
    return 0

