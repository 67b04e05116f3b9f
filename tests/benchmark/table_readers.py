"""Readers of the table files the benchmark writes, for tests that parse them back."""

import csv
import io
import json
import re

from rganet_reid.benchmark.leaderboard import Stat
from rganet_reid.benchmark.tables import PM, Column, Table


def table_from_json(text: str) -> Table:
    """Inverse of :func:`rganet_reid.benchmark.tables.to_json`."""
    data = json.loads(text)
    columns = [Column(c["key"], c["header"], c["kind"], c.get("digits", 1))
               for c in data["columns"]]
    kinds = {c.key: c.kind for c in columns}
    rows = [{k: (Stat(v["mean"], v["std"], v["n"]) if kinds.get(k) == "stat" and v is not None
                 else v) for k, v in row.items()} for row in data["rows"]]
    return Table(data["name"], data["title"], data["shape"], columns, rows,
                 list(data.get("notes", [])), dict(data.get("meta", {})))


def read_csv(text: str) -> list[dict[str, str]]:
    """Rows of a CSV written by :func:`rganet_reid.benchmark.tables.to_csv` (strings)."""
    return list(csv.DictReader(io.StringIO(text)))


def parse_stat(cell: str) -> tuple[float, float | None] | None:
    """``"71.6 ± 0.3"`` → ``(71.6, 0.3)``, ``"71.6"`` → ``(71.6, None)``, ``"-"`` → None."""
    cell = cell.strip()
    if cell in ("-", ""):
        return None
    mean, _, std = cell.partition(PM.strip())
    return float(mean), (float(std) if std.strip() else None)


def parse_markdown(text: str) -> tuple[list[str], list[list[str]]]:
    """Headers and cell texts of the first GitHub Markdown table in ``text``."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("|")]
    if len(lines) < 2:
        raise ValueError("no Markdown table found")

    def cells(line: str) -> list[str]:
        parts = re.split(r"(?<!\\)\|", line.strip()[1:-1])
        return [p.strip().replace("\\|", "|") for p in parts]

    return cells(lines[0]), [cells(ln) for ln in lines[2:]]
