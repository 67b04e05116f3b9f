"""The built wheel holds every file of the package, and a normal (non-editable) install of it
imports and trains.

The project's own environment has an *editable* install, which finds modules in the source
tree whether or not the wheel would ship them; these tests build the wheel from a copy of the
sources, install it with ``pip install --target`` into a temporary folder and run it with
``python -I`` (no ``PYTHONPATH``, no script folder) and that folder first on ``sys.path`` and
the environment's ``.pth`` files unread (they hold the editable install's import hook), so
nothing but the installed copy can answer ``import rganet_reid``.
"""

from __future__ import annotations

import json
import os
import shutil
import site as sitepkgs
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "rganet_reid"
BUILD_FILES = ("setup.py", "pyproject.toml", "README.md")
BASELINE = REPO / "configs" / "baselines" / "osnet_x0_25.yaml"


def source_files() -> set[str]:
    """Every file of the package in the source tree, as wheel paths (``rganet_reid/...``)."""
    return {p.relative_to(REPO).as_posix() for p in PACKAGE.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


def test_every_folder_with_python_code_is_a_regular_package():
    """A code folder without ``__init__.py`` is an implicit namespace package: it imports from
    a source checkout, and an installed copy would merge with any other ``rganet_reid``."""
    missing = sorted(str(d.relative_to(REPO)) for d in [PACKAGE, *PACKAGE.rglob("*")]
                     if d.is_dir() and d.name != "__pycache__" and any(d.glob("*.py"))
                     and not (d / "__init__.py").is_file())
    assert not missing, f"folders with modules but no __init__.py: {missing}"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, str]:
    """The wheel ``pip wheel`` builds from a copy of the sources (the tree stays clean), and
    what the build printed on stderr."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in BUILD_FILES:
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(PACKAGE, src / PACKAGE.name,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "--disable-pip-version-check", "-w", str(tmp / "dist"), str(src)],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = (tmp / "dist").glob("rganet_reid-*.whl")
    return wheel, proc.stderr


def test_the_wheel_holds_every_file_of_the_package(built):
    wheel, stderr = built
    with zipfile.ZipFile(wheel) as zf:
        shipped = {n for n in zf.namelist() if n.startswith(f"{PACKAGE.name}/")}
    missing = sorted(source_files() - shipped)
    assert not missing, f"{len(missing)} package file(s) missing from {wheel.name}: {missing}"
    assert not sorted(shipped - source_files()), "the wheel holds files the tree does not"
    # setuptools ships a data folder it does not list as a package only by accident
    assert "absent from the `packages` configuration" not in stderr, stderr[-3000:]


# Run with ``python -I -S``: the environment's site-packages go on sys.path *without* their
# .pth files, so the editable install's import hook (which would answer for any module the
# wheel lacks) is never installed.
_SMOKE = """
import json, pkgutil, sys
sys.path[:0] = [{site!r}]
sys.path += {deps!r}
import rganet_reid
modules = [m.name for m in pkgutil.walk_packages(rganet_reid.__path__, "rganet_reid.")]
optional = ("rganet_reid.export",)  # needs the [onnx] extra
for name in modules:
    if not name.startswith(optional):
        __import__(name)
outside = [n for n, m in sys.modules.items() if n.split(".")[0] == "rganet_reid"
           and not str(getattr(m, "__file__", None) or {site!r}).startswith({site!r})]
assert not outside, outside
from rganet_reid.cli.main import main
code = main({argv!r})
print(json.dumps({{"file": rganet_reid.__file__, "modules": len(modules), "code": code}}))
"""


def test_a_non_editable_install_imports_every_module_and_trains(built, synthocc_root,
                                                                 tmp_path):
    wheel, _ = built
    site = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "-q",
         "--disable-pip-version-check", "--target", str(site), str(wheel)],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = tmp_path / "run"
    argv = ["--config-file", str(BASELINE), "data.root", str(synthocc_root),
            "data.synthocc.size", "tiny", "data.save_dir", str(run), "train.max_epoch", "1",
            "train.batch_size", "16", "data.workers", "0", "test.batch_size", "64",
            "train.stepsize", "[1]"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", textwrap.dedent(_SMOKE.format(
            site=str(site), deps=sitepkgs.getsitepackages(), argv=argv))],
        capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["code"] == 0, proc.stderr[-4000:]
    assert report["file"] == str(site / "rganet_reid" / "__init__.py")
    assert report["modules"] >= len([p for p in source_files() if p.endswith(".py")]) - 1
    results = json.loads((run / "results.json").read_text())
    assert results["epoch"] == 1 and results["results"]["synthocc_occluded"]["num_query"] > 0
    assert (run / "model.pth").is_file()
