"""Leaderboards: RGANet against torchreid's models on the same data, budget and hardware.

A spec (:mod:`~rganet_reid.benchmark.spec`, read by :mod:`~rganet_reid.benchmark.spec_file`)
lists entries and protocols (:mod:`~rganet_reid.benchmark.protocols`); the runner
(:mod:`~rganet_reid.benchmark.runner`) trains or loads, evaluates and measures each entry
(:mod:`~rganet_reid.benchmark.throughput`) into run folders; the leaderboard
(:mod:`~rganet_reid.benchmark.leaderboard`) reads them back and merges seeds; tables
(:mod:`~rganet_reid.benchmark.tables`, :mod:`~rganet_reid.benchmark.plots`) render the
paper's table shapes. The command line is :mod:`~rganet_reid.benchmark.cli`
(``rganet-benchmark`` / ``tools/benchmark.py``).
"""

from rganet_reid.benchmark.cli import spec_from_models
from rganet_reid.benchmark.leaderboard import MergedRow, RunResult, Stat, load_runs, merge_seeds
from rganet_reid.benchmark.protocols import PROTOCOLS
from rganet_reid.benchmark.spec import SHAPES, BenchmarkSpec, Entry, SpecError
from rganet_reid.benchmark.spec_file import load_spec

__all__ = [
    "PROTOCOLS",
    "SHAPES",
    "BenchmarkSpec",
    "Entry",
    "MergedRow",
    "RunResult",
    "SpecError",
    "Stat",
    "load_runs",
    "load_spec",
    "merge_seeds",
    "spec_from_models",
]
