"""Fig. 3-style plots of a ``sweep`` table: one panel per hyper-parameter (PNG, matplotlib)."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from rganet_reid.benchmark.tables import Table


def plot_sweep(table: Table, path: str | Path, metric_keys: list[str] | None = None) -> Path:
    """Plot each metric column against the swept value, one panel per parameter.

    ``metric_keys``: the stat columns to draw (default: every stat column). Error bars show
    the std over seeds when there are several.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if table.shape != "sweep":
        raise ValueError(f"plot_sweep needs a sweep table, got shape {table.shape!r}")
    stats = [c for c in table.columns if c.kind == "stat"]
    if metric_keys is not None:
        stats = [c for c in stats if c.key in metric_keys]
    if not stats:
        raise ValueError("the table has no metric column to plot")
    groups: OrderedDict[str, list[dict]] = OrderedDict()
    for row in table.rows:
        groups.setdefault(row["parameter"], []).append(row)
    if not groups:
        raise ValueError(f"sweep table {table.name!r} has no rows")
    fig, axes = plt.subplots(1, len(groups), figsize=(3.6 * len(groups), 3.2), squeeze=False)
    for ax, (param, rows) in zip(axes[0], groups.items()):
        labels = [r["value"] for r in rows]
        try:
            xs = [float(v) for v in labels]
        except ValueError:
            xs = list(range(len(labels)))
            ax.set_xticks(xs, labels)
        for col in stats:
            points = [(x, r[col.key]) for x, r in zip(xs, rows) if r.get(col.key) is not None]
            if not points:
                continue
            ax.errorbar([p[0] for p in points], [p[1].mean for p in points],
                        yerr=[p[1].std or 0.0 for p in points], marker="o", capsize=3,
                        label=col.header)
        if min(xs) > 0 and max(xs) / min(xs) >= 20 and len(set(xs)) > 2:
            ax.set_xscale("log")  # e.g. γ from 1 to 100
        ax.set_xlabel(param)
        ax.set_ylabel("%")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(table.title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
