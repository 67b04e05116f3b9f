"""Table shapes of the paper and their writers (terminal, Markdown, CSV, JSON, README).

:func:`build_table` turns merged leaderboard rows into a :class:`Table` of one of the shapes
in :data:`rganet_reid.benchmark.spec.SHAPES`; the writers render it. Cells holding a
:class:`~rganet_reid.benchmark.leaderboard.Stat` print as ``mean`` or ``mean ± std`` (several
seeds); CSV and JSON keep full precision (CSV: ``key`` and ``key_std`` columns).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tabulate import tabulate

from rganet_reid.benchmark.leaderboard import METRIC_KEYS, MergedRow, Stat
from rganet_reid.benchmark.protocols import PROTOCOLS
from rganet_reid.benchmark.spec import BenchmarkSpec
from rganet_reid.benchmark.sweeps import SWEEP_SYMBOLS

COLUMN_KINDS = ("text", "int", "check", "stat")
METRIC_HEADERS = {"rank1": "R1", "rank3": "R3", "rank5": "R5", "rank10": "R10", "mAP": "mAP",
                  "mINP": "mINP", "miou": "mIoU", "auroc_w": "w-AUROC", "auroc_alpha": "α-AUROC",
                  "auroc_beta": "β-AUROC", "eq10_global_mAP": "mAP (global)",
                  "eq10_uniform_mAP": "mAP (w=1)", "eq10_oracle_mAP": "mAP (oracle w)",
                  "eq10_global_rank1": "R1 (global)", "eq10_uniform_rank1": "R1 (w=1)",
                  "eq10_oracle_rank1": "R1 (oracle w)"}
#: Decimals of metrics that are fractions (IoU, AUROC) rather than percentages.
METRIC_DIGITS = {"miou": 2, "auroc_w": 2, "auroc_alpha": 2, "auroc_beta": 2}
REGION_TYPES = {"none": "Baseline", "stripes": "Fixed-stripe", "rgm": "RGM"}
LEARNABLE_PROMPT = "[Learnable Tokens] + [CLASS]"
PM = " ± "


class ReadmeError(ValueError):
    """A README lacks the markers of a table section."""


@dataclass
class Column:
    """A table column: ``key`` (CSV/JSON name), ``header`` (terminal/Markdown), ``kind``."""

    key: str
    header: str
    kind: str = "text"
    digits: int = 1

    def __post_init__(self) -> None:
        if self.kind not in COLUMN_KINDS:
            raise ValueError(f"column kind must be one of {COLUMN_KINDS}, got {self.kind!r}")


@dataclass
class Table:
    """A rendered-to-be table: columns, rows (``{column key: value}``), notes and metadata."""

    name: str
    title: str
    shape: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------- shapes
def build_table(shape: str, rows: Sequence[MergedRow], spec: BenchmarkSpec) -> Table:
    """The table of ``shape`` from merged rows (see ``SHAPES``)."""
    builders = {"leaderboard": _leaderboard, "accuracy": _accuracy, "ablation": _ablation,
                "prompts": _prompts, "sweep": _sweep, "complexity": _complexity}
    if shape not in builders:
        raise ValueError(f"Unknown table shape {shape!r}; valid: {sorted(builders)}")
    if not rows:
        raise ValueError(f"No stored runs for table {spec.name!r}: run the benchmark first")
    columns, body = builders[shape](rows, spec)
    return Table(name=spec.name, title=spec.title, shape=shape, columns=columns, rows=body,
                 notes=_notes(rows, spec))


def _notes(rows: Sequence[MergedRow], spec: BenchmarkSpec) -> list[str]:
    runs = [r for row in rows for r in row.runs]
    inf = next((r.bench.get("inference") for r in runs if r.bench.get("inference")), None)
    budget = ", ".join(f"train.{k}={v:g}" + (" s" if k == "max_time" else "")
                       for k, v in spec.budget.items()) or "each config's own"
    seeds = sorted({s for row in rows for s in row.seeds})
    notes = [f"Training budget: {budget}; seeds {', '.join(map(str, seeds))}"
             + (" (mean ± sample std)" if len(seeds) > 1 else "") + "."]
    if spec.overrides:
        notes.append("Shared settings: " + ", ".join(
            f"{k}={_fmt_override(v)}" for k, v in spec.overrides.items()) + ".")
    if inf:
        notes.append(
            f"Inference img/s: model forward only, batch {inf['batch_size']} on "
            f"{inf['device']} (torch threads: {inf.get('threads', '?')}), median of "
            f"{inf['repeats']} batches after {inf['warmup']} warm-up batches. Train img/s: "
            "median over the "
            "epochs after the first, data loading included.")
    return notes


def _fmt_override(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(map(str, value)) + "]"
    return str(value)


def _by_entry(rows: Sequence[MergedRow]) -> OrderedDict[str, dict[str, MergedRow]]:
    out: OrderedDict[str, dict[str, MergedRow]] = OrderedDict()
    for row in rows:
        out.setdefault(row.entry, {})[row.protocol] = row
    return out


def _metric_columns(spec: BenchmarkSpec, protocols: Sequence[str]) -> list[Column]:
    many = len(protocols) > 1
    return [Column(f"{p}.{m}", (f"{PROTOCOLS[p].title} " if many else "")
                   + METRIC_HEADERS.get(m, m), "stat", METRIC_DIGITS.get(m, 1))
            for p in protocols for m in spec.metrics]


def _metric_cells(per_protocol: dict[str, MergedRow], spec: BenchmarkSpec,
                  protocols: Sequence[str]) -> dict[str, Any]:
    return {f"{p}.{m}": (per_protocol[p].metrics.get(m) if p in per_protocol else None)
            for p in protocols for m in spec.metrics}


def _scaled(stat: Stat | None, factor: float) -> Stat | None:
    if stat is None:
        return None
    return Stat(stat.mean * factor, None if stat.std is None else stat.std * factor, stat.n)


def _protocols(rows: Sequence[MergedRow], spec: BenchmarkSpec) -> list[str]:
    present = {r.protocol for r in rows}
    return [p for p in spec.protocols if p in present] + sorted(present - set(spec.protocols))


def _leaderboard(rows, spec):
    columns = [Column("model", "Model"), Column("protocol", "Protocol")]
    columns += [Column(m, METRIC_HEADERS[m], "stat") for m in METRIC_KEYS]
    columns += [Column("params_m", "#Params (M)", "stat", 2),
                Column("infer_ips", "Infer img/s", "stat"),
                Column("train_ips", "Train img/s", "stat"), Column("seeds", "Seeds")]
    body = [{"model": r.entry, "protocol": PROTOCOLS[r.protocol].title
             if r.protocol in PROTOCOLS else r.protocol,
             **{m: r.metrics.get(m) for m in METRIC_KEYS},
             "params_m": _scaled(r.params, 1e-6), "infer_ips": r.inference_ips,
             "train_ips": r.training_ips, "seeds": ",".join(map(str, r.seeds))} for r in rows]
    return columns, body


def _accuracy(rows, spec):
    protocols = _protocols(rows, spec)
    columns = [Column("model", "Model"), *_metric_columns(spec, protocols)]
    body = [{"model": entry, **_metric_cells(per, spec, protocols)}
            for entry, per in _by_entry(rows).items()]
    return columns, body


def _ablation(rows, spec):
    protocols = _protocols(rows, spec)
    columns = [Column("index", "Index", "int"), Column("type", "Type"),
               Column("dai", "DAI", "check"), Column("iai", "IAI", "check"),
               Column("model", "Entry"), *_metric_columns(spec, protocols)]
    body = []
    for index, (entry, per) in enumerate(_by_entry(rows).items()):
        d = next(iter(per.values())).descriptor
        regions = d.get("rganet.regions", "none")
        has_regions = regions != "none" and str(d.get("loss.name")) == "rganet"
        body.append({"index": index, "type": REGION_TYPES.get(regions, regions)
                     if str(d.get("loss.name")) == "rganet" else d.get("model.name", entry),
                     "dai": bool(d.get("rganet.dai")) and has_regions,
                     "iai": bool(d.get("rganet.iai")) and has_regions,
                     "model": entry, **_metric_cells(per, spec, protocols)})
    return columns, body


def prompt_text(descriptor: dict[str, Any]) -> str:
    """Table VI's name of a prompt design."""
    if descriptor.get("rganet.prompt.mode") == "learnable":
        return LEARNABLE_PROMPT
    return f"\"{descriptor.get('rganet.prompt.template', '')}\""


def _prompts(rows, spec):
    protocols = _protocols(rows, spec)
    columns = [Column("prompt", "Prompts"), Column("model", "Entry"),
               *_metric_columns(spec, protocols)]
    body = [{"prompt": prompt_text(next(iter(per.values())).descriptor), "model": entry,
             **_metric_cells(per, spec, protocols)} for entry, per in _by_entry(rows).items()]
    return columns, body


def _sort_value(value: Any) -> tuple[int, Any]:
    try:
        return (0, float(value))
    except (TypeError, ValueError):
        return (1, str(value))


def _sweep(rows, spec):
    protocols = _protocols(rows, spec)
    columns = [Column("parameter", "Parameter"), Column("key", "Config key"),
               Column("value", "Value"), Column("model", "Entry"),
               *_metric_columns(spec, protocols)]
    entries = _by_entry(rows)
    keys = list(spec.sweep_keys) or sorted({k for r in rows for k in r.sweep_keys})
    body = []
    for key in keys:
        points = []
        for entry, per in entries.items():
            first = next(iter(per.values()))
            if key in first.sweep_keys and key in first.descriptor:
                points.append((first.descriptor[key], entry, per))
        for value, entry, per in sorted(points, key=lambda p: _sort_value(p[0])):
            body.append({"parameter": SWEEP_SYMBOLS.get(key, key.rsplit(".", 1)[-1]),
                         "key": key, "value": _fmt_value(value), "model": entry,
                         **_metric_cells(per, spec, protocols)})
    return columns, body


def _fmt_value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) >= 1 else repr(value)
    return str(value)


def _complexity(rows, spec):
    protocols = _protocols(rows, spec)
    columns = [Column("model", "Methods"), Column("fps", "FPS (img/s)", "stat"),
               Column("params_m", "#Params (M)", "stat", 2),
               Column("train_ips", "Train img/s", "stat"), *_metric_columns(spec, protocols)]
    body = []
    for entry, per in _by_entry(rows).items():
        first = per.get(protocols[0]) or next(iter(per.values()))
        body.append({"model": entry, "fps": first.inference_ips,
                     "params_m": _scaled(first.params, 1e-6), "train_ips": first.training_ips,
                     **_metric_cells(per, spec, protocols)})
    return columns, body


# ---------------------------------------------------------------------------- writers
def format_cell(column: Column, value: Any) -> str:
    """Display text of a cell: ``-`` for missing, ``mean ± std`` for several seeds."""
    if value is None:
        return "-"
    if column.kind == "stat":
        text = f"{value.mean:.{column.digits}f}"
        return text + (f"{PM}{value.std:.{column.digits}f}" if value.std is not None else "")
    if column.kind == "check":
        return "✓" if value else "✗"
    return str(value)


def _display_rows(table: Table, escape_pipes: bool = False) -> list[list[str]]:
    rows = [[format_cell(c, row.get(c.key)) for c in table.columns] for row in table.rows]
    if escape_pipes:
        rows = [[cell.replace("|", "\\|") for cell in row] for row in rows]
    return rows


def to_terminal(table: Table) -> str:
    """A plain-text table (tabulate ``simple``) with its title and notes."""
    body = tabulate(_display_rows(table), headers=[c.header for c in table.columns],
                    tablefmt="simple", disable_numparse=True)
    return "\n".join([table.title, "", body, "", *table.notes])


def to_markdown(table: Table, with_notes: bool = True) -> str:
    """A GitHub-flavoured Markdown table (and its notes as a paragraph)."""
    body = tabulate(_display_rows(table, escape_pipes=True),
                    headers=[c.header.replace("|", "\\|") for c in table.columns],
                    tablefmt="github", disable_numparse=True)
    return body + ("\n\n" + " ".join(table.notes) if with_notes and table.notes else "")


def to_csv(table: Table) -> str:
    """CSV with column keys as headers; a stat column is ``key`` (mean) and ``key_std``."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    header: list[str] = []
    for c in table.columns:
        header += [c.key, f"{c.key}_std"] if c.kind == "stat" else [c.key]
    writer.writerow(header)
    for row in table.rows:
        cells: list[Any] = []
        for c in table.columns:
            value = row.get(c.key)
            if c.kind == "stat":
                cells += ["", ""] if value is None else [
                    repr(value.mean), "" if value.std is None else repr(value.std)]
            elif c.kind == "check":
                cells.append("" if value is None else str(bool(value)).lower())
            else:
                cells.append("" if value is None else value)
        writer.writerow(cells)
    return buf.getvalue()


def to_json(table: Table) -> str:
    """The table with its columns, full-precision rows, notes and metadata."""
    def cell(value: Any) -> Any:
        return value.to_dict() if isinstance(value, Stat) else value

    return json.dumps({
        "name": table.name, "title": table.title, "shape": table.shape,
        "columns": [{"key": c.key, "header": c.header, "kind": c.kind, "digits": c.digits}
                    for c in table.columns],
        "rows": [{c.key: cell(row.get(c.key)) for c in table.columns} for row in table.rows],
        "notes": table.notes, "meta": table.meta,
    }, indent=2, ensure_ascii=False)


def write_table(table: Table, out_dir: str | Path) -> dict[str, Path]:
    """Write ``<name>.txt``, ``.md``, ``.csv`` and ``.json`` into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for ext, text in (("txt", to_terminal(table)), ("md", to_markdown(table)),
                      ("csv", to_csv(table)), ("json", to_json(table))):
        path = out_dir / f"{table.name}.{ext}"
        path.write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
        paths[ext] = path
    return paths


# ---------------------------------------------------------------------------- README
def _markers(name: str) -> tuple[str, str]:
    return f"<!-- table:{name} -->", f"<!-- /table:{name} -->"


def replace_section(text: str, name: str, body: str) -> str:
    """Replace what lies between ``<!-- table:NAME -->`` and ``<!-- /table:NAME -->``."""
    start, end = _markers(name)
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        found = sorted(set(re.findall(r"<!-- table:([^ ]+) -->", text)))
        raise ReadmeError(
            f"README has no section for table {name!r}: add the lines '{start}' and '{end}' "
            f"where it belongs (sections present: {found or 'none'}).")
    return pattern.sub(lambda _: f"{start}\n{body.strip()}\n{end}", text, count=1)


def provenance(command: str, machine: dict[str, Any], wall_time_s: float, date: str) -> str:
    """The line under a README table: the command, the machine, wall time and date."""
    device = machine.get("device_name") or machine.get("device", "?")
    where = (f"{device} ({machine.get('device', '?')}, {machine.get('cpu_count', '?')} CPUs, "
             f"{machine.get('torch_threads', '?')} torch threads, torch "
             f"{machine.get('torch', '?')})")
    return (f"Made by `{command}` on {where}; wall time {wall_time_s:.0f} s (training, "
            f"evaluation and measurement, summed over runs); {date}.")
