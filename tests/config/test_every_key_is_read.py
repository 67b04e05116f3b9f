"""Every key of the defaults is read by the package or ``tools/``.

The strict loader refuses unknown keys, which promises that a key it accepts changes what
runs. A key nothing reads breaks that promise (a user sets it and nothing happens), so this
test reads the source (statically, with :mod:`ast`) and fails on any default key that no code
loads from a config object: ``cfg.train.lr``, ``self.cfg.train.lr``, ``cfg["train"]["lr"]``,
``getattr(cfg.train, "lr")``, and through aliases (``t = cfg.train`` then ``t.lr``). Stores
(``cfg.train.lr = 0.1``) are not reads, and neither is generic access
(``{k: cfg.clip_pretrain[k] for k in cfg.clip_pretrain}`` only hashes the section).
"""

from __future__ import annotations

import ast
from pathlib import Path

from yacs.config import CfgNode

from rganet_reid.config import get_default_config

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted((REPO / "rganet_reid").rglob("*.py")) + sorted((REPO / "tools").glob("*.py"))
_ALIAS_DEPTH = 5


def _is_config(name: str) -> bool:
    """A name that holds a config: ``cfg``, ``self.cfg``'s ``cfg``, ``base_cfg``, ``_C`` ..."""
    low = name.lower()
    return "cfg" in low or "config" in low or name == "_C"


def _is_getattr(node: ast.AST) -> bool:
    """``getattr(obj, "name")`` (a constant name)."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "getattr" and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str))


def _chain(node: ast.AST) -> list[str] | None:
    """The names along an attribute / constant-subscript / ``getattr`` chain, root first.

    A non-constant subscript ends what is known: ``cfg.a[k].b`` reads only section ``a``.
    None when the chain does not start at a plain name.
    """
    parts: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript):
            key = node.slice
            known = isinstance(key, ast.Constant) and isinstance(key.value, str)
            parts = [*parts, key.value] if known else []
            node = node.value
        elif _is_getattr(node):
            parts.append(node.args[1].value)
            node = node.args[0]
        elif isinstance(node, ast.Name):
            return [node.id, *reversed(parts)]
        else:
            return None


def reads(source: str) -> set[tuple[str, ...]]:
    """Config key paths ``source`` loads (e.g. ``("train", "lr")``), aliases followed."""
    tree = ast.parse(source)
    aliases: dict[str, list[list[str]]] = {}
    chains: list[list[str]] = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):
            target = _chain(node.value)
            if target:
                aliases.setdefault(node.targets[0].id, []).append(target)
        loaded = isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, ast.Load)
        if loaded or _is_getattr(node):
            chain = _chain(node)
            if chain and len(chain) > 1:
                chains.append(chain)

    def paths(chain: list[str], depth: int = 0):
        root = chain[0]
        if not _is_config(root) and root in aliases and depth < _ALIAS_DEPTH:
            for target in aliases[root]:
                yield from paths([*target, *chain[1:]], depth + 1)
            return
        for i, name in enumerate(chain):
            if _is_config(name):
                yield tuple(chain[i + 1:])
                return

    return {path for chain in chains for path in paths(chain) if path}


def _leaves(node: CfgNode, prefix: tuple[str, ...] = ()):
    for key, value in node.items():
        if isinstance(value, CfgNode):
            yield from _leaves(value, (*prefix, key))
        else:
            yield (*prefix, key)


def _is_read(key: tuple[str, ...], read: set[tuple[str, ...]]) -> bool:
    return any(path[:len(key)] == key for path in read)


def test_every_default_key_is_read_by_the_package_or_tools():
    read = set().union(*(reads(path.read_text(encoding="utf-8")) for path in SOURCES))
    unread = [".".join(k) for k in _leaves(get_default_config()) if not _is_read(k, read)]
    assert not unread, (
        f"Config keys that nothing in rganet_reid/ or tools/ reads: {unread}. The loader "
        "accepts them, so setting one must change what runs: read it where it applies "
        "(cfg.<section>.<key>), or remove it from rganet_reid/config/.")


def test_reads_follow_aliases_and_skip_stores_and_generic_access():
    source = """
s1 = cfg.rganet.stage1
lr = s1.lr
seg = s1
w = seg.max_epoch
root = self.cfg.data.root
ranks = getattr(plan.cfg.test, "ranks")
gamma = cfg["train"]["gamma"]
key = {k: cfg.clip_pretrain[k] for k in sorted(cfg.clip_pretrain)}
cfg.train.max_epoch = 3
seed = args.seed
"""
    read = reads(source)
    for key in (("rganet", "stage1", "lr"), ("rganet", "stage1", "max_epoch"),
                ("data", "root"), ("test", "ranks"), ("train", "gamma")):
        assert _is_read(key, read), key
    for key in (("clip_pretrain", "lr"), ("train", "max_epoch"), ("seed",)):
        assert not _is_read(key, read), key
