"""The layering, read from the source (AST): a function-local or ``TYPE_CHECKING`` import counts
as much as one at the top of a module, because it is a dependency all the same.

- only ``wipestation/tui/`` imports Textual;
- ``wipestation/custody/`` (lots, manifests, the lot desk every front end shares) imports
  neither ``wipestation/tui/`` nor Textual;
- ``wipestation/engine/`` runs plans and never imports planning (nor the old methods/policy/probe);
- ``wipestation/steps/`` (the plan vocabulary and the concrete steps) sits below both: it imports
  only itself, ``tools``, ``model``, ``errors``, ``units``, the standard library and
  ``cryptography`` (the AES-256-CTR stream of the random pattern);
- no dynamic import (``importlib``, ``__import__``) except the CLI's command table;
- no import cycle among wipestation modules.

Every failure names the importing file, the line and the import statement.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "app"
PACKAGE = "wipestation"


@dataclass(frozen=True)
class Import:
    """One imported name of one import statement."""

    module: str  # the importing module
    path: Path
    line: int
    text: str  # the whole statement, on one line
    target: str  # ``a.b`` for ``import a.b``; ``pkg.name`` for ``from pkg import name``
    base: str  # ``a.b`` for ``import a.b``; ``pkg`` for ``from pkg import name``

    def __str__(self) -> str:
        return f"{shown(self.path)}:{self.line}: {self.text}"


def shown(path: Path) -> str:
    return str(path.relative_to(REPO) if path.is_relative_to(REPO) else path)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(APP).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((APP / PACKAGE).rglob("*.py"))}


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _imports_in(module: str, path: Path) -> Iterator[Import]:
    source = path.read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source, str(path))):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        text = " ".join((ast.get_source_segment(source, node) or "").split())
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, path, node.lineno, text, alias.name, alias.name)
        else:
            base = _absolute(module, path, node)
            for alias in node.names:
                yield Import(module, path, node.lineno, text, f"{base}.{alias.name}", base)


@cache
def all_imports() -> tuple[Import, ...]:
    return tuple(i for m, p in modules().items() for i in _imports_in(m, p))


def within(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def imported_module(imp: Import) -> str:
    """The wipestation module an import loads: ``pkg.name`` when that is a module, else ``pkg``
    (the longest existing prefix of a name that is neither); "" outside the package."""
    name = imp.target
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name if within(name, PACKAGE) else ""


def imports_of(*packages: str) -> list[Import]:
    return [i for i in all_imports() if within(i.module, *packages)]


def listing(bad: list[Import]) -> str:
    return "\n".join(sorted({str(i) for i in bad}))


def test_the_scan_sees_the_package() -> None:
    """Guards the other tests against passing on an empty scan."""
    assert len(modules()) > 50
    assert "wipestation.cli" in modules()
    tui = [i for i in imports_of("wipestation.tui") if within(i.base, "textual")]
    assert tui, "no textual import found in wipestation/tui/: the scan is broken"


SAMPLE = """
from __future__ import annotations
from typing import TYPE_CHECKING
from . import plan
from ..tools import nvme
if TYPE_CHECKING:
    from wipestation.planning.policy import refusal
def f():
    import textual.app
    return __import__("x")
"""


def test_the_scan_counts_local_type_checking_and_relative_imports(tmp_path: Path) -> None:
    path = tmp_path / "sample.py"
    path.write_text(SAMPLE)
    found = {(i.line, i.base, i.target) for i in _imports_in("wipestation.steps.sample", path)}
    assert (4, "wipestation.steps", "wipestation.steps.plan") in found
    assert (5, "wipestation.tools", "wipestation.tools.nvme") in found
    assert (7, "wipestation.planning.policy", "wipestation.planning.policy.refusal") in found
    assert (9, "textual.app", "textual.app") in found
    assert [u.rsplit(": ", 1)[1] for u in _dynamic_uses("x", path)] == ['return __import__("x")']


def test_the_cycle_search_finds_a_cycle() -> None:
    graph: dict[str, dict[str, list[Import]]] = {"a": {"b": []}, "b": {"c": []}, "c": {"a": []}}
    graph["d"] = {"a": []}
    assert strongly_connected(graph) == [["a", "b", "c"]]
    assert one_cycle(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]


def test_only_the_tui_package_imports_textual() -> None:
    bad = [
        i
        for i in all_imports()
        if within(i.base, "textual") and not within(i.module, "wipestation.tui")
    ]
    assert not bad, "textual imported outside wipestation/tui/:\n" + listing(bad)


def test_custody_imports_neither_the_tui_nor_textual() -> None:
    mine = imports_of("wipestation.custody")
    assert mine, "wipestation/custody/ not found"
    bad = [i for i in mine if within(i.base, "textual") or within(i.target, "wipestation.tui")]
    assert not bad, "wipestation/custody/ imports the TUI or Textual:\n" + listing(bad)


PLANNING = (
    "wipestation.planning",
    "wipestation.methods",
    "wipestation.policy",
    "wipestation.probe",
)


def test_the_engine_does_not_import_planning() -> None:
    bad = [
        i
        for i in imports_of("wipestation.engine")
        if within(i.target, *PLANNING) or within(i.base, *PLANNING)
    ]
    assert not bad, "wipestation/engine/ imports planning:\n" + listing(bad)


STEPS_MAY_IMPORT = (
    "wipestation.steps",
    "wipestation.tools",
    "wipestation.model",
    "wipestation.errors",
    "wipestation.units",
)
#: third-party libraries the steps may use: the random pattern's AES-256-CTR stream
STEPS_THIRD_PARTY = ("cryptography",)


def steps_may_import(imp: Import) -> bool:
    if within(imp.base, PACKAGE):
        return within(imported_module(imp), *STEPS_MAY_IMPORT)
    top = imp.base.split(".")[0]
    return top in sys.stdlib_module_names or top in STEPS_THIRD_PARTY


def test_steps_import_only_the_vocabulary_tools_model_and_the_standard_library() -> None:
    mine = imports_of("wipestation.steps")
    assert mine, "wipestation/steps/ not found"
    bad = [i for i in mine if not steps_may_import(i)]
    assert not bad, (
        f"wipestation/steps/ may import only {', '.join(STEPS_MAY_IMPORT)}, "
        f"the standard library and {', '.join(STEPS_THIRD_PARTY)}:\n" + listing(bad)
    )


DYNAMIC_IMPORT_ALLOWED = ("wipestation.cli",)  # the command table in cli/__init__.py
#: reading package data and metadata: importlib, but no import by string
IMPORTLIB_DATA = ("importlib.resources", "importlib.metadata")


def _dynamic_uses(module: str, path: Path) -> Iterator[str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source, str(path))):
        line = getattr(node, "lineno", 0)
        text = f"{shown(path)}:{line}: {lines[line - 1].strip() if line else ''}"
        if isinstance(node, ast.Import) and any(within(a.name, "importlib") for a in node.names):
            yield text
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, path, node)
            names = [f"{base}.{a.name}" for a in node.names]
            if within(base, "importlib") and not all(within(n, *IMPORTLIB_DATA) for n in names):
                yield text
        elif _names(node) & {"__import__", "import_module"}:
            yield text


def _names(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Name):
        return {node.id}
    return {node.attr} if isinstance(node, ast.Attribute) else set()


def test_no_dynamic_import_outside_the_cli_command_table() -> None:
    bad = [
        use
        for m, p in modules().items()
        if m not in DYNAMIC_IMPORT_ALLOWED
        for use in _dynamic_uses(m, p)
    ]
    assert not bad, "importlib / __import__ outside cli/__init__.py:\n" + "\n".join(sorted(bad))


def dependency_graph() -> dict[str, dict[str, list[Import]]]:
    """module → imported wipestation module → the import statements that make the edge."""
    graph: dict[str, dict[str, list[Import]]] = {m: {} for m in modules()}
    for imp in all_imports():
        dep = imported_module(imp)
        if dep and dep != imp.module:
            graph[imp.module].setdefault(dep, []).append(imp)
    return graph


def strongly_connected(graph: dict[str, dict[str, list[Import]]]) -> list[list[str]]:
    """Tarjan's algorithm; only the components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = stack[stack.index(v) :]
            del stack[stack.index(v) :]
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def one_cycle(graph: dict[str, dict[str, list[Import]]], component: list[str]) -> list[str]:
    """The shortest way from the component's first module back to itself (breadth first)."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v]):
            if w == start:
                return paths[v] + [start]
            if w in members and w not in paths:
                paths[w] = paths[v] + [w]
                queue.append(w)
    raise AssertionError(f"no cycle through {start}")


def describe(graph: dict[str, dict[str, list[Import]]], component: list[str]) -> str:
    path = one_cycle(graph, component)
    steps = [f"    {a} -> {b}   ({graph[a][b][0]})" for a, b in zip(path, path[1:], strict=False)]
    inner = [str(i) for a in component for b in component for i in graph[a].get(b, [])]
    return "\n".join(
        [f"cycle among {', '.join(component)}:", *steps, "  every import inside it:"]
        + [f"    {line}" for line in sorted(set(inner))]
    )


def test_no_import_cycle() -> None:
    graph = dependency_graph()
    assert sum(map(len, graph.values())) > 100, "the dependency graph is nearly empty"
    cycles = strongly_connected(graph)
    assert not cycles, "\n".join(describe(graph, c) for c in cycles)
