"""No two modules of inception_calc import each other, however indirectly.

Every import counts: at module level, inside a function (a lazy import still ties the two modules
together), and under ``if TYPE_CHECKING:`` (a type checker follows it). The modules are read with
``ast``, not imported, so the test sees imports that a run would never reach.

An edge goes to the module an import names: ``from inception_calc.core import formulas`` is an edge
to ``inception_calc.core.formulas``, ``from inception_calc.core.engine import analyze`` one to
``inception_calc.core.engine``. The packages a dotted name passes through (``inception_calc``,
``inception_calc.core``) are not edges: their ``__init__`` files run first, but they import nothing
that imports back.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "inception_calc"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE


def module_name(path: Path) -> str:
    """``inception_calc/core/engine.py`` -> ``inception_calc.core.engine``; a package's
    ``__init__.py`` is the package."""
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of the package that ``name`` (at ``path``) imports, anywhere in its text."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the package the module is in (or, for __init__, is)
                base = name.split(".")
                base = base[:len(base) - node.level + (1 if is_package else 0)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # "from a.b import c" names the module a.b.c when there is one, else the names a.b defines
            targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source
                       for alias in node.names]
        else:
            continue
        found.update(t for t in targets if t in known and t != name)
    return found


LAZY_BY_DESIGN = {("inception_calc.core.results", "inception_calc.report.analysis")}
"""The one edge left out (docs/architecture.md, "The one import upward"): ``Analysis.to_table()`` and
``to_markdown()`` import the report's renderer inside the methods, which run after both modules are
loaded; tests/test_layers.py checks that the import is only there. Every other lazy edge counts."""


def import_graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    graph = {name: imported(name, path, known) for name, path in found.items()}
    for module, target in LAZY_BY_DESIGN:
        graph[module].discard(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm), each as
    one closed path through it (``a -> b -> a``), so a failure shows the imports to break."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_closed_path(graph, set(c)) for c in components]


def _closed_path(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest path from the component's first module back to itself, within the component."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(graph[node] & component):
                if nxt == start:
                    return paths[node] + [start]
                if nxt not in paths:
                    paths[nxt] = paths[node] + [nxt]
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"{sorted(component)} is not strongly connected")  # pragma: no cover


def test_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join("  " + " -> ".join(c) for c in found)


# ----------------------------------------------------------------------------- the test can fail


def _graph_of(tmp_path: Path, files: dict[str, str]) -> dict[str, set[str]]:
    for relative, text in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    found = {".".join(p.relative_to(tmp_path).with_suffix("").parts).removesuffix(".__init__"): p
             for p in sorted(tmp_path.rglob("*.py"))}
    return {name: imported(name, path, set(found)) for name, path in found.items()}


@pytest.mark.parametrize("a_imports_b", [
    "from pkg.b import thing",                                            # module level
    "def f():\n    from pkg.b import thing\n",                            # lazy, inside a function
    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import thing\n",  # for the type checker
    "from pkg import b",                                                  # a module named as a name
    "import pkg.b",
    "from . import b",                                                    # relative
    "from .b import thing",
])
def test_every_kind_of_import_makes_a_cycle(tmp_path, a_imports_b):
    graph = _graph_of(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": a_imports_b,
                                 "pkg/b.py": "from pkg.a import other\n"})
    assert graph["pkg.a"] == {"pkg.b"} and graph["pkg.b"] == {"pkg.a"}
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.a"]]


def test_a_longer_cycle_is_shown_whole():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert cycles(graph) == [["a", "b", "c", "a"]]


def test_imports_one_way_are_no_cycle(tmp_path):
    graph = _graph_of(tmp_path, {"pkg/__init__.py": "from pkg.a import thing\n",
                                 "pkg/a.py": "from pkg.b import thing\nimport os\n", "pkg/b.py": "import json\n"})
    assert graph == {"pkg": {"pkg.a"}, "pkg.a": {"pkg.b"}, "pkg.b": set()}
    assert cycles(graph) == []


def test_the_graph_is_the_real_one():
    """The package's graph has its known edges (so an empty graph cannot pass for a clean one)."""
    graph = import_graph()
    assert "inception_calc.core.results" in graph["inception_calc.core.engine"]
    assert "inception_calc.core.engine" in graph["inception_calc"]
