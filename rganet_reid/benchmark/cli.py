r"""``tools/benchmark.py`` / ``rganet-benchmark``: leaderboards from the project's own runs.

    # every table of projects/RGANet/README.md, regenerated in place (= make tables; the
    # demo.yaml spec in that folder is the README demo's, written by tools/demo.py)
    rganet-benchmark --readme projects/RGANet/README.md --spec \
        projects/RGANet/benchmarks/{leaderboard,tables_i_iii,table_v,regions,table_vi,fig3,table_vii}.yaml

    # ad-hoc leaderboard: configs and torchreid model names, same budget for all
    rganet-benchmark --models projects/RGANet/synth_occ.yaml resnet50 osnet_x1_0 pcb_p4 \
        --base-config configs/Base-SynthOcc.yaml --max-epoch 24 \
        --protocols synthocc_occluded synthocc_partial synthocc_holistic

    # re-evaluate the saved weights (no training); merge seeds run elsewhere; tables only
    rganet-benchmark --spec SPEC --mode evaluate
    rganet-benchmark --spec SPEC --mode collect --merge other_machine/output/benchmark/NAME

Outputs per table in ``<out>/<name>/``: ``<name>.txt`` (the terminal table), ``.md``,
``.csv``, ``.json`` (and ``.png`` for sweeps). Runs live in ``<out>/runs/`` (one folder per
training config and seed, shared by every table that uses that config). Trailing
``KEY VALUE`` pairs (last, or after ``--``) are shared overrides for every entry.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import shlex
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rganet_reid.benchmark.protocols import PROTOCOLS, check_protocols
from rganet_reid.benchmark.spec import (
    SHAPES,
    BenchmarkSpec,
    Entry,
    SpecError,
    ThroughputSettings,
)
from rganet_reid.benchmark.spec_file import check_budget, load_spec, resolve_path, validate_entries
from rganet_reid.cli.errors import add_debug_flag, run_command

logger = logging.getLogger("rganet_reid.benchmark")

DEFAULT_PROTOCOLS = ("synthocc_occluded", "synthocc_partial", "synthocc_holistic")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rganet-benchmark", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--spec", nargs="+", metavar="YAML", help="benchmark spec file(s)")
    src.add_argument("--models", nargs="+", metavar="MODEL",
                     help="config files (*.yaml) and/or model names (torchreid built-ins, "
                          "rganet presets)")
    p.add_argument("--protocols", nargs="+", choices=sorted(PROTOCOLS), metavar="PROTOCOL",
                   help=f"with --models (default: {' '.join(DEFAULT_PROTOCOLS)}); "
                        f"one of {', '.join(PROTOCOLS)}")
    p.add_argument("--name", default="leaderboard", help="table name with --models")
    p.add_argument("--shape", default="leaderboard", choices=[s for s in SHAPES if s != "sweep"],
                   help="table shape with --models")
    p.add_argument("--base-config", help="config under model-name entries (--models)")
    p.add_argument("--weights", nargs="+", default=[], metavar="LABEL=PATH",
                   help="evaluate these weights for an entry instead of training it")
    p.add_argument("--seeds", nargs="+", type=int, help="training seeds (overrides the spec)")
    p.add_argument("--max-epoch", type=int, help="budget: epochs (overrides the spec)")
    p.add_argument("--max-time", type=float, help="budget: training wall time in seconds")
    p.add_argument("--throughput-batch", type=int, help="inference batch size (default 128)")
    p.add_argument("--warmup", type=int, help="untimed inference batches (default 5)")
    p.add_argument("--repeats", type=int, help="timed inference batches (default 20)")
    p.add_argument("--root", help="data root (data.root); needed for the real datasets")
    p.add_argument("--out", default="output/benchmark", help="output folder (one per table)")
    p.add_argument("--mode", default="train", choices=["train", "evaluate", "collect"],
                   help="train: train+evaluate (complete runs with an unchanged config are "
                        "reused); evaluate: re-evaluate saved weights, no training; collect: "
                        "only assemble tables from stored runs")
    p.add_argument("--force", action="store_true", help="retrain even up-to-date runs")
    p.add_argument("--merge", nargs="+", default=[], metavar="DIR",
                   help="more folders of stored runs to merge in (e.g. other seeds)")
    p.add_argument("--readme", help="rewrite this file's <!-- table:NAME --> sections")
    add_debug_flag(p)
    p.add_argument("opts", nargs=argparse.REMAINDER, help="KEY VALUE overrides for every entry")
    return p


def _parse_weights(items: Sequence[str]) -> dict[str, str]:
    out = {}
    for item in items:
        label, sep, path = item.partition("=")
        if not sep or not label or not path:
            raise SpecError(f"--weights expects LABEL=PATH, got {item!r}")
        out[label] = path
    return out


def _parse_opts(opts: Sequence[str]) -> dict[str, Any]:
    from rganet_reid.config.loader import parse_value

    opts = [o for o in opts if o != "--"]
    if len(opts) % 2:
        raise SpecError(f"Trailing overrides must be KEY VALUE pairs, got {opts}")
    return {k: parse_value(v) for k, v in zip(opts[0::2], opts[1::2])}


def _split_trailing(tokens: Sequence[str]) -> tuple[list[str], list[str]]:
    """``--spec``/``--models`` swallow trailing ``KEY VALUE`` pairs (argparse is greedy): the
    first token that is a dotted config key, not a YAML file or model name, starts them."""
    for i, token in enumerate(tokens):
        if i and "." in token and not token.endswith((".yaml", ".yml")):
            return list(tokens[:i]), list(tokens[i:])
    return list(tokens), []


def entry_from_token(token: str, weights: Mapping[str, str] | None = None) -> Entry:
    """A command-line model: a ``*.yaml`` config path, or a model name (torchreid/RGANet)."""
    weights = weights or {}
    label = token
    config = None
    if token.endswith((".yaml", ".yml")):
        config = resolve_path(token, None, "model config")
        label = config.stem
    path = resolve_path(weights[label], None, f"weights of {label}") if label in weights else None
    return Entry(label=label, config=config, model=None if config else token, weights=path)


def spec_from_models(
    models: Sequence[str],
    protocols: Sequence[str],
    *,
    name: str = "leaderboard",
    shape: str = "leaderboard",
    seeds: Sequence[int] = (1,),
    budget: Mapping[str, float] | None = None,
    overrides: Mapping[str, Any] | None = None,
    base_config: str | Path | None = None,
    weights: Mapping[str, str] | None = None,
    throughput: ThroughputSettings | None = None,
    metrics: Sequence[str] = ("rank1", "mAP"),
) -> BenchmarkSpec:
    """A spec from a command-line list of models (config paths or model names)."""
    where = "command line"
    if shape not in SHAPES or shape == "sweep":
        raise SpecError(f"{where}: --shape must be one of {[s for s in SHAPES if s != 'sweep']}"
                        " (sweeps need a spec file)")
    entries = [entry_from_token(m, weights) for m in models]
    if not entries:
        raise SpecError(f"{where}: name at least one model (--models)")
    unknown = set(weights or {}) - {e.label for e in entries}
    if unknown:
        raise SpecError(f"{where}: --weights for unknown model(s) {sorted(unknown)}")
    spec = BenchmarkSpec(
        name=name, shape=shape, protocols=check_protocols(list(protocols), where),
        entries=tuple(entries), title=name, seeds=tuple(seeds),
        budget=check_budget(dict(budget or {}), where),
        base_config=resolve_path(base_config, None, "--base-config") if base_config else None,
        overrides=dict(overrides or {}), throughput=throughput or ThroughputSettings(),
        metrics=tuple(metrics),
    )
    validate_entries(spec.entries, spec.fixed_overrides(), where)
    return spec


def specs_from_args(args: argparse.Namespace) -> list[BenchmarkSpec]:
    """The specs to run, with the command line's seeds, budget, throughput and overrides."""
    items, trailing = _split_trailing(args.spec or args.models)
    extra = _parse_opts([*trailing, *(args.opts or [])])
    budget = {k: v for k, v in (("max_epoch", args.max_epoch), ("max_time", args.max_time))
              if v is not None}
    if args.models:
        specs = [spec_from_models(
            items, args.protocols or DEFAULT_PROTOCOLS, name=args.name, shape=args.shape,
            base_config=args.base_config, weights=_parse_weights(args.weights))]
    else:
        specs = [load_spec(path) for path in items]
    out = []
    for spec in specs:
        tp = spec.throughput
        throughput = ThroughputSettings(
            batch_size=args.throughput_batch or tp.batch_size,
            warmup=tp.warmup if args.warmup is None else args.warmup,
            repeats=args.repeats or tp.repeats)
        spec = dataclasses.replace(
            spec, seeds=tuple(args.seeds or spec.seeds),
            budget=check_budget({**spec.budget, **budget}, "command line"),
            overrides={**spec.overrides, **extra}, throughput=throughput)
        validate_entries(spec.entries, spec.fixed_overrides(), str(spec.source or "command line"))
        out.append(spec)
    names = [s.name for s in out]
    if len(set(names)) != len(names):
        raise ValueError(f"Two specs share a name: {names}")
    return out


def make_table(spec, plans, out_dir: Path, merge: Sequence[str], command: str):
    """Assemble, write (and plot) the table of ``spec`` from its stored runs."""
    from rganet_reid.benchmark.leaderboard import collect_runs, merge_seeds
    from rganet_reid.benchmark.tables import build_table, write_table

    runs = collect_runs(plans, merge)
    rows = merge_seeds(runs, [e.label for e in spec.entries], spec.protocols)
    table = build_table(spec.shape, rows, spec)
    benches = list({str(r.run_dir): r.bench for r in runs}.values())
    table.meta = {
        "command": command, "spec": str(spec.source or ""),
        "machine": benches[0].get("machine", {}) if benches else {},
        "run_wall_time_s": sum(float(b.get("wall_time_s", 0.0)) for b in benches),
        "date": max((str(b.get("date", "")) for b in benches), default=""),
        "runs": sorted({str(r.run_dir) for r in runs}),
    }
    paths = write_table(table, out_dir)
    if spec.shape == "sweep":
        from rganet_reid.benchmark.plots import plot_sweep

        paths["png"] = plot_sweep(table, out_dir / f"{spec.name}.png")
    return table, paths


def update_readme(readme: Path, tables: Sequence, figures: dict[str, Path]) -> None:
    """Rewrite the ``<!-- table:NAME -->`` sections of ``readme`` (all or nothing).

    A table with a plot (``figures[name]``) gets it copied to ``<readme dir>/figures/`` and
    shown under the table.
    """
    from rganet_reid.benchmark.tables import provenance, replace_section, to_markdown

    text = readme.read_text(encoding="utf-8")
    copies = {}
    for table in tables:
        m = table.meta
        body = to_markdown(table)
        if table.name in figures:
            rel = Path("figures") / figures[table.name].name
            copies[readme.parent / rel] = figures[table.name]
            body += f"\n\n![{table.title}]({rel.as_posix()})"
        body += "\n\n" + provenance(m["command"], m["machine"], m["run_wall_time_s"], m["date"])
        text = replace_section(text, table.name, body)
    for dst, src in copies.items():
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    readme.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    from rganet_reid.benchmark.leaderboard import LeaderboardError
    from rganet_reid.benchmark.runner import BenchmarkRunError, plan_runs, run_benchmark
    from rganet_reid.benchmark.tables import ReadmeError, to_terminal
    from rganet_reid.utils.logging import setup_logging

    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    command = "rganet-benchmark " + shlex.join(argv)
    setup_logging()

    def body() -> int:
        if args.readme and not Path(args.readme).is_file():
            raise FileNotFoundError(f"--readme {args.readme} does not exist")
        tables, figures = [], {}
        runs_root = Path(args.out) / "runs"
        for spec in specs_from_args(args):
            t0 = time.monotonic()
            if args.mode == "collect":
                plans = plan_runs(spec, runs_root, args.root)
            else:
                plans = run_benchmark(spec, runs_root, args.mode, args.root, args.force)
                setup_logging()
            table, paths = make_table(spec, plans, Path(args.out) / spec.name, args.merge,
                                      command)
            tables.append(table)
            if "png" in paths:
                figures[table.name] = paths["png"]
            print(f"\n{to_terminal(table)}\n")
            print(f"Wrote {', '.join(str(p) for p in paths.values())} "
                  f"({time.monotonic() - t0:.0f} s)")
        if args.readme:
            update_readme(Path(args.readme), tables, figures)
            print(f"Updated {len(tables)} table(s) in {args.readme}")
        return 0

    return run_command(body, debug=args.debug, log=logger,
                       extra=(SpecError, LeaderboardError, BenchmarkRunError, ReadmeError))


if __name__ == "__main__":
    sys.exit(main())
