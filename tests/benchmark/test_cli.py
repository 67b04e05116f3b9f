"""``rganet-benchmark`` / ``tools/benchmark.py``: tables and README sections from stored runs."""

import json
import subprocess
import sys
from pathlib import Path

from bench_helpers import metrics, write_run
from table_readers import parse_markdown

from rganet_reid.benchmark.cli import main, spec_from_models
from rganet_reid.benchmark.runner import plan_runs
from rganet_reid.benchmark.spec_file import load_spec

REPO = Path(__file__).resolve().parents[2]
OCC = "synthocc_occluded"

SPEC = """\
name: {name}
title: Test table {name}
shape: {shape}
protocols: [synthocc_occluded]
budget: {{max_epoch: 2}}
entries:
  - {{label: ResNet-18, model: resnet18}}
  - {{label: PCB, model: pcb_p4}}
"""

README = """# Project
<!-- table:lb -->
stale
<!-- /table:lb -->
Text between tables stays.
<!-- table:t7 -->
<!-- /table:t7 -->
"""


def _fake_runs(spec, runs_root, base=50.0):
    for i, plan in enumerate(plan_runs(spec, runs_root)):
        write_run(plan.run_dir, entry=plan.entry.label, seed=plan.seed,
                  config_hash=plan.config_hash, results={OCC: metrics(base + i, OCC)})


def _specs(tmp_path):
    paths = []
    for name, shape in (("lb", "leaderboard"), ("t7", "complexity")):
        path = tmp_path / f"{name}.yaml"
        path.write_text(SPEC.format(name=name, shape=shape))
        _fake_runs(load_spec(path), tmp_path / "out" / "runs")
        paths.append(path)
    return paths


def test_collect_writes_all_formats_and_rewrites_each_readme_section(tmp_path, capsys):
    specs = _specs(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(README)
    argv = ["--spec", *map(str, specs), "--out", str(tmp_path / "out"), "--mode", "collect",
            "--readme", str(readme)]
    assert main(argv) == 0
    for name in ("lb", "t7"):
        for ext in ("txt", "md", "csv", "json"):
            assert (tmp_path / "out" / name / f"{name}.{ext}").is_file()
    table = json.loads((tmp_path / "out" / "lb" / "lb.json").read_text())
    assert [r["model"] for r in table["rows"]] == ["ResNet-18", "PCB"]
    assert table["rows"][1]["rank1"]["mean"] == 52.0
    text = readme.read_text()
    assert "stale" not in text and "Text between tables stays." in text
    lb = text.split("<!-- table:lb -->")[1].split("<!-- /table:lb -->")[0]
    headers, rows = parse_markdown(lb)
    assert [r[headers.index("Model")] for r in rows] == ["ResNet-18", "PCB"]
    assert "Made by `rganet-benchmark --spec" in lb and "Test CPU" in lb
    assert "wall time 25 s" in lb  # two runs of 12.5 s each
    t7 = text.split("<!-- table:t7 -->")[1]
    assert "FPS (img/s)" in t7
    assert "Test table lb" in capsys.readouterr().out


def test_a_readme_without_the_section_is_an_error_and_is_left_untouched(tmp_path, capsys):
    specs = _specs(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n")
    code = main(["--spec", *map(str, specs), "--out", str(tmp_path / "out"), "--mode",
                 "collect", "--readme", str(readme)])
    assert code == 2
    assert readme.read_text() == "# no markers\n"
    assert "<!-- table:lb -->" in capsys.readouterr().err


def test_command_line_models_and_overrides_find_their_runs(tmp_path, capsys):
    spec = spec_from_models(["resnet18", "pcb_p4"], [OCC], name="cli", budget={"max_epoch": 1},
                            overrides={"train.lr": 0.01})
    _fake_runs(spec, tmp_path / "runs", base=30.0)
    argv = ["--models", "resnet18", "pcb_p4", "--protocols", OCC, "--name", "cli",
            "--max-epoch", "1", "--out", str(tmp_path), "--mode", "collect", "train.lr", "0.01"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "resnet18" in out and "31.0" in out and "pcb_p4" in out
    # overrides right after the greedy --models list are still overrides
    assert main(["--out", str(tmp_path), "--mode", "collect", "--name", "cli", "--max-epoch",
                 "1", "--protocols", OCC, "--models", "resnet18", "pcb_p4", "train.lr",
                 "0.01"]) == 0
    # another learning rate is another training config: nothing stored for it
    assert main([*argv[:-2], "train.lr", "0.02"]) == 2


def test_an_unknown_model_is_refused_before_any_data_is_read(tmp_path, capsys):
    code = main(["--models", "resnet18", "bogus", "--protocols", OCC, "--out", str(tmp_path),
                 "--root", str(tmp_path / "data"), "--mode", "train"])
    err = capsys.readouterr().err
    assert code == 2 and "entry 'bogus' names model 'bogus', which is not a model" in err
    assert "Traceback" not in err and not (tmp_path / "data").exists()


def test_tools_benchmark_script_runs():
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "benchmark.py"), "--help"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "--spec" in proc.stdout and "--readme" in proc.stdout


def test_a_sweep_table_brings_its_plot_next_to_the_readme(tmp_path):
    path = tmp_path / "f3.yaml"
    path.write_text("name: f3\nshape: sweep\nprotocols: [synthocc_occluded]\nsweeps:\n"
                    "  - base: {label: RGM, model: rganet_tiny}\n"
                    "    values: {rganet.gamma: [5, 20, 50]}\n")
    _fake_runs(load_spec(path), tmp_path / "out" / "runs")
    readme = tmp_path / "docs" / "README.md"
    readme.parent.mkdir()
    readme.write_text("<!-- table:f3 -->\n<!-- /table:f3 -->\n")
    assert main(["--spec", str(path), "--out", str(tmp_path / "out"), "--mode", "collect",
                 "--readme", str(readme)]) == 0
    assert (tmp_path / "out" / "f3" / "f3.png").is_file()
    assert (readme.parent / "figures" / "f3.png").read_bytes()[:4] == b"\x89PNG"
    assert "](figures/f3.png)" in readme.read_text()
