"""The packages' import structure: no cycles, and dependencies that run one way.

Every import counts, at module level or inside a function (a lazy import is still a dependency).
A package's ``__init__`` re-exporting its submodules is not an edge back from those submodules.
"""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("autograd_core", "nn", "optim")


def _modules():
    mods = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            is_pkg = parts[-1] == "__init__"
            if is_pkg:
                parts = parts[:-1]
            mods[".".join(parts)] = (path, is_pkg)
    return mods


def _resolve(name, mods):
    """The longest known module that ``name`` (a dotted path, maybe ending in an attribute) names."""
    parts = name.split(".")
    while parts:
        cand = ".".join(parts)
        if cand in mods:
            return cand
        parts.pop()
    return None


def _is_type_checking(test):
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_nodes(tree):
    """Every node except those under ``if TYPE_CHECKING:`` (imports a type checker reads, never run)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def _edges(mods):
    edges = {m: set() for m in mods}
    for mod, (path, is_pkg) in mods.items():
        pkg = mod if is_pkg else mod.rpartition(".")[0]
        tree = ast.parse(path.read_text(), str(path))
        for node in _runtime_nodes(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = pkg.split(".")
                    base = base[:len(base) - (node.level - 1)]
                    prefix = ".".join(base + ([node.module] if node.module else []))
                else:
                    prefix = node.module or ""
                targets = [f"{prefix}.{a.name}" for a in node.names] + [prefix]
            for t in targets:
                r = _resolve(t, mods)
                if r is None or r == mod:
                    continue
                if mods[r][1] and mod.startswith(r + "."):
                    continue  # a submodule importing its own package's __init__ (names it re-exports)
                edges[mod].add(r)
    return edges


def _cycle(edges):
    """One import cycle as a list of modules, or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    color = {m: WHITE for m in edges}
    stack = []

    def visit(m):
        color[m] = GREY
        stack.append(m)
        for n in sorted(edges[m]):
            if color[n] == GREY:
                return stack[stack.index(n):] + [n]
            if color[n] == WHITE:
                c = visit(n)
                if c:
                    return c
        stack.pop()
        color[m] = BLACK
        return None

    for m in sorted(edges):
        if color[m] == WHITE:
            c = visit(m)
            if c:
                return c
    return None


def test_the_packages_have_no_import_cycle():
    mods = _modules()
    cycle = _cycle(_edges(mods))
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_imports_for_type_checkers_only_are_not_edges():
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a\nelse:\n    import b\n")
    names = {a.name for n in _runtime_nodes(tree) if isinstance(n, ast.Import) for a in n.names}
    assert names == {"b"}


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("low, high", [("autograd_core", "nn"), ("autograd_core", "optim")])
def test_the_engine_imports_nothing_from_nn_or_optim(low, high):
    mods = _modules()
    edges = _edges(mods)
    bad = sorted((m, n) for m in edges if m.split(".")[0] == low for n in edges[m] if n.split(".")[0] == high)
    assert not bad, bad


def test_the_engine_imports_nothing_from_the_tools():
    mods = _modules()
    edges = _edges(mods)
    bad = sorted((m, n) for m in edges
                 if m.startswith("autograd_core.") and not m.startswith("autograd_core.inspect")
                 and m != "autograd_core"
                 for n in edges[m] if n.startswith("autograd_core.inspect"))
    assert not bad, bad


def test_star_import_does_not_shadow_builtins():
    import builtins
    ns = {}
    exec("from autograd_core import *", ns)
    shadowed = sorted(k for k in ns if k != "__builtins__" and hasattr(builtins, k))
    assert not shadowed, shadowed
