"""The package's shape: no import cycle, layers that import only downwards, small modules.

Every module under ``src/autoal`` is parsed with :mod:`ast` (nothing is imported) and every
``import`` / ``from ... import`` of an ``autoal`` module is collected, wherever it stands:
module level, inside functions and methods (lazy imports), inside ``try``. Only imports
under ``if TYPE_CHECKING:`` are left out: they never run.

An edge ``A -> B`` means running ``A`` can import ``B``: ``from autoal.x import y`` points at
``autoal.x.y`` when that is a module, else at ``autoal.x``; and importing ``autoal.x.y`` from
outside package ``autoal.x`` also runs ``autoal.x/__init__.py``, so that is an edge too (a
package's own modules importing their siblings do not count their package, which is
already being imported).

What is enforced:

1. No cycle among the modules (the test prints each one).
2. No module imports ``autoal.cli`` (the ``autoal`` command): command modules share errors
   through :mod:`autoal.errors`.
3. The library core (``autoal`` itself, evidence, io, names, errors, data, models,
   strategies, search, learner) imports nothing from the applications built on it:
   ``autoal.loop``, ``autoal.bench``, ``autoal.report``, ``autoal.campaign``, ``autoal.demo``.
4. ``autoal.strategies`` imports nothing from ``autoal.search`` (AutoAL builds on the
   strategies, not the reverse), nor from the applications.
5. Among the applications: ``loop``, ``report`` and ``campaign`` import none of the other
   three (nor ``bench``); ``bench`` imports none of ``campaign``, and imports ``loop`` and
   ``report`` only through their public names, i.e. from the packages ``autoal.loop`` and
   ``autoal.report`` themselves, never from one of their modules.

6. No module has more than 400 lines.

Not counted as an import: the strategy registry's lazy registration list
(``autoal.strategies.registry._LAZY_MODULES``), module names as strings that the registry
imports on first lookup so that strategies defined elsewhere (AutoAL in ``autoal.search``,
ALBL, loss prediction) register themselves. It is the reverse of a dependency: the named
modules import the registry and add a class to it, and the registry uses nothing of theirs;
without the list, ``get_strategy("autoal")`` would depend on who imported
``autoal.search`` first. The test checks that every name on the list is such a plugin: a
module that exists and imports the registry.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import REPO_ROOT

SRC = REPO_ROOT / "src"
PACKAGE = SRC / "autoal"

APPLICATIONS = ("autoal.loop", "autoal.bench", "autoal.report", "autoal.campaign", "autoal.demo")
CORE = (
    "autoal.evidence", "autoal.io", "autoal.names", "autoal.errors", "autoal.chunks",
    "autoal.features", "autoal.data", "autoal.models", "autoal.strategies", "autoal.search",
    "autoal.learner",
)

MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST) -> Iterator[ast.AST]:
    """Every node under ``node``, skipping the bodies of ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield other
                yield from _walk(other)
            continue
        yield child
        yield from _walk(child)


def imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The ``autoal`` modules that running module ``name`` (at ``path``) can import."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in _walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            for alias in node.names:
                sub = f"{origin}.{alias.name}"
                targets.add(sub if sub in modules else origin)
    out: set[str] = set()
    for target in targets:
        if not within(target, "autoal"):
            continue
        # importing autoal.x.y from outside autoal.x also runs autoal.x/__init__.py
        parts = target.split(".")
        for k in range(2, len(parts) + 1):
            ancestor = ".".join(parts[:k])
            if ancestor in modules and not within(name, ancestor):
                out.add(ancestor)
        if target in modules and target != name:
            out.add(target)
    return out


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = all_modules()
    return {name: imported(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph.get(v, ()):
                components.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_cycle_in(comp, graph) for comp in components]


def _cycle_in(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    """A concrete cycle through the component's first module (breadth-first, shortest)."""
    members = set(component)
    start = component[0]
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & members):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return [*reversed(path), start]
                if w not in parents:
                    parents[w] = v
                    nxt.append(w)
        frontier = nxt
    return component  # pragma: no cover - a component always holds a cycle


def violations(graph: dict[str, set[str]], rule) -> list[str]:
    return sorted(f"{a} -> {b}" for a, targets in graph.items() for b in targets if rule(a, b))


# ----------------------------------------------------------------------------- the rules
def test_the_walker_sees_lazy_relative_and_package_imports(tmp_path):
    modules = {"autoal": PACKAGE, "autoal.x": PACKAGE, "autoal.x.a": PACKAGE,
               "autoal.x.b": PACKAGE, "autoal.y": PACKAGE, "autoal.y.c": PACKAGE}
    source = tmp_path / "a.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import b\n"
        "def f():\n"
        "    from autoal.y.c import thing\n"
        "if TYPE_CHECKING:\n"
        "    import autoal.y\n"
    )
    found = imported("autoal.x.a", source, modules)
    # b through the relative import (not its own package x); c and, from outside y, y itself
    assert found == {"autoal.x.b", "autoal.y.c", "autoal.y"}
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_covers_the_package(graph):
    assert {"autoal.cli", "autoal.strategies.albl", "autoal.search.strategy",
            "autoal.report.summary", "autoal.bench.runner"} <= set(graph)
    # a function-level import is an edge
    assert "autoal.bench.cli" in graph["autoal.cli"]


def test_no_import_cycle(graph):
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_nothing_imports_the_command_module(graph):
    assert violations(graph, lambda a, b: b == "autoal.cli") == []


def test_the_core_does_not_import_the_applications(graph):
    def rule(a: str, b: str) -> bool:
        core = a == "autoal" or any(within(a, c) for c in CORE)
        return core and any(within(b, app) for app in (*APPLICATIONS, "autoal.cli"))

    assert violations(graph, rule) == []


def test_strategies_import_nothing_from_search_or_the_applications(graph):
    banned = ("autoal.search", *APPLICATIONS, "autoal.cli")
    assert violations(
        graph,
        lambda a, b: within(a, "autoal.strategies") and any(within(b, x) for x in banned),
    ) == []


def test_the_applications_keep_to_themselves(graph):
    apps = ("autoal.loop", "autoal.bench", "autoal.report", "autoal.campaign")

    def rule(a: str, b: str) -> bool:
        home = next((p for p in apps if within(a, p)), None)
        there = next((p for p in apps if within(b, p)), None)
        if home is None or there is None or home == there:
            return False
        if home == "autoal.bench" and there in ("autoal.loop", "autoal.report"):
            return b != there  # only the package's public names
        return True

    assert violations(graph, rule) == []


def test_the_lazy_registration_list_names_only_plugins():
    from autoal.strategies.registry import _LAZY_MODULES

    modules = all_modules()
    for name in _LAZY_MODULES:
        assert name in modules, f"{name} on the lazy registration list does not exist"
        assert "autoal.strategies.registry" in imported(name, modules[name], modules) or (
            "autoal.strategies" in imported(name, modules[name], modules)
        ), f"{name} does not register itself with the registry"


def test_no_module_is_over_400_lines():
    too_long = {
        name: n for name, path in all_modules().items()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}, f"split these by purpose: {too_long}"
