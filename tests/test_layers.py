"""The package reads top-down: no import cycle between modules, and each layer imports only the
layers below it (the table in docs/architecture.md, "Layers"). Lazy imports inside functions
count too: a cycle hidden in a function body is still a cycle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "rganet_reid"

#: Layer of each top-level package/module of rganet_reid; a module may import its own package
#: and packages of a lower layer. The top layer (entry points) may import each other.
LAYERS: dict[str, int] = {
    "utils": 0, "compat": 0,
    "config": 1,
    "data": 2, "evaluation": 2, "losses": 2, "modeling": 2,
    "pretrain": 3, "visualization": 3,
    "engine": 4,
    "inference": 5,
    "export": 6,
    "benchmark": 7, "cli": 7, "registration": 7, "__init__": 7,
}
TOP = max(LAYERS.values())


def _modules(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Module name → the rganet_reid modules it imports (anywhere in the file)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        name = ".".join(path.relative_to(root.parent).with_suffix("").parts)
        name = name.removesuffix(".__init__")
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                deps.add(node.module)
                deps.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                deps.update(alias.name for alias in node.names)
        graph[name] = {d for d in deps if d.split(".")[0] == "rganet_reid"}
    return graph


def _resolve(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Keep only imported names that are modules of the package (``from a import b`` may name a
    module ``a.b`` or an attribute of ``a``), without self-edges."""
    return {m: {d for d in deps if d in graph and d != m} for m, deps in graph.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Import cycles between modules (a package's ``__init__`` re-exporting its own modules is
    not a cycle: edges into a package ``__init__`` from inside it are ignored)."""
    edges = {m: {d for d in deps if not m.startswith(d + ".")} for m, deps in graph.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for dep in sorted(edges.get(node, ())):
            if state.get(dep) == 1:
                cycles.append(stack[stack.index(dep):] + [dep])
            elif dep not in state:
                visit(dep, stack + [dep])
        state[node] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    return cycles


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """``src imports dst`` lines where dst's layer is not below src's."""
    bad = []
    for src, deps in graph.items():
        src_top = src.split(".")[1] if "." in src else "__init__"
        for dst in deps:
            dst_top = dst.split(".")[1] if "." in dst else "__init__"
            if src_top == dst_top:
                continue
            if src_top not in LAYERS or dst_top not in LAYERS:
                bad.append(f"{src} -> {dst}: package not in the layer table")
            elif LAYERS[dst_top] >= LAYERS[src_top] and not (LAYERS[src_top] == TOP ==
                                                               LAYERS[dst_top]):
                bad.append(f"{src} (layer {LAYERS[src_top]}) imports {dst} "
                           f"(layer {LAYERS[dst_top]})")
    return sorted(bad)


def test_no_import_cycle():
    cycles = find_cycles(_resolve(_modules()))
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_layers_import_only_downwards():
    bad = upward_imports(_resolve(_modules()))
    assert not bad, "upward imports (see docs/architecture.md, Layers):\n" + "\n".join(bad)


def test_every_package_has_a_layer():
    tops = {p.name.removesuffix(".py") for p in PACKAGE.iterdir()
            if (p.is_dir() and (p / "__init__.py").exists()) or p.suffix == ".py"}
    assert tops <= set(LAYERS), sorted(tops - set(LAYERS))


def test_the_checks_catch_a_cycle_and_an_upward_import(tmp_path):
    pkg = tmp_path / "rganet_reid"
    for rel, text in {
        "__init__.py": "",
        "modeling/__init__.py": "",
        "modeling/a.py": "def f():\n    from rganet_reid.modeling import b\n",
        "modeling/b.py": "from rganet_reid.modeling.a import f\n",
        "engine/__init__.py": "",
        "engine/x.py": "",
        "modeling/c.py": "import rganet_reid.engine.x\n",
    }.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    graph = _resolve(_modules(pkg))
    assert find_cycles(graph) == [["rganet_reid.modeling.a", "rganet_reid.modeling.b",
                                   "rganet_reid.modeling.a"]]
    assert upward_imports(graph) == [
        "rganet_reid.modeling.c (layer 2) imports rganet_reid.engine.x (layer 4)"]


def _documented_layers() -> dict[str, int]:
    """The ``## Layers`` table of docs/architecture.md: package → layer."""
    text = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    table: dict[str, int] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].isdigit():
            for name in re.findall(r"`([a-z_]+)`", cells[1]):
                table[name] = int(cells[0])
    return table


def test_the_documented_table_is_the_enforced_one():
    assert _documented_layers() == {k: v for k, v in LAYERS.items() if k != "__init__"}
