"""Who may import whom (the design's "Layers of the package"), read from the source with ``ast``.

The layers, lowest first: core < studies < pytorch < bench < report < cli. A module imports only from
its own layer or a lower one: every import counts, at module level, inside a function or under
``TYPE_CHECKING``. The package's ``__init__`` and ``__main__`` import core and cli only.

Two rules on heavy packages, imported *when the module is imported* (at module level, ``TYPE_CHECKING``
aside; calls of ``require("pandas", ...)``, ``importlib.import_module`` and ``__import__`` count too):

- torch, torchvision, fvcore and timm: only the torch side (pytorch/) and bench/; below the torch side,
  core and studies, not even inside a function;
- tabulate, pandas and matplotlib: never by core, so that ``import inception_calc`` stays fast.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = "inception_calc"
LAYERS = ("core", "studies", "pytorch", "bench", "report", "cli")  # lowest first
TOP = "top"  # the package's __init__ and __main__
TOP_MAY_IMPORT = ("core", "cli")
TORCH_PACKAGES = ("torch", "torchvision", "fvcore", "timm")
TORCH_LAYERS = ("pytorch", "bench")  # the only layers that may import torch at module level
BELOW_TORCH = ("core", "studies")  # never import torch, even inside a function
HEAVY_FOR_CORE = ("tabulate", "pandas", "matplotlib")
IMPORT_CALLS = ("require", "import_module", "__import__", "importorskip")  # a call that imports its first argument


MODULE_LEVEL, IN_FUNCTION, TYPE_CHECKING_ONLY = "at module level", "inside a function", "under TYPE_CHECKING"


@dataclass(frozen=True)
class Import:
    """One import in a module: what it imports (absolute, dotted), on which line, and in which context:
    at module level (it runs when the module is imported), inside a function, or under TYPE_CHECKING."""

    target: str
    line: int
    context: str = MODULE_LEVEL

    @property
    def at_import(self) -> bool:
        return self.context == MODULE_LEVEL


# ----------------------------------------------------------------------------- reading the source


def module_name(path: Path) -> str:
    """``inception_calc/core/engine.py`` -> ``inception_calc.core.engine``; a package is its ``__init__``."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _absolute(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute name of ``from .{level} target import ...`` in ``module``."""
    if not level:
        return target or ""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[:len(base) - (level - 1)]
    return ".".join([*base, target] if target else base)


def _submodule(target: str, name: str, modules: frozenset[str]) -> str:
    """``from inception_calc import core``: the import is of ``inception_calc.core`` when that is a module."""
    return f"{target}.{name}" if f"{target}.{name}" in modules else target


def imports(module: str, source: str, *, is_package: bool = False, modules: frozenset[str] = frozenset()
            ) -> list[Import]:
    """Every import in ``source`` (the text of ``module``), statements and import calls alike."""
    found: list[Import] = []

    def visit(node: ast.AST, context: str) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            context = IN_FUNCTION  # its body runs when it is called
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, TYPE_CHECKING_ONLY if context == MODULE_LEVEL else context)
            for child in node.orelse:
                visit(child, context)
            return
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, node.lineno, context) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(module, is_package, node.level, node.module)
            found.extend(Import(_submodule(target, alias.name, modules), node.lineno, context)
                         for alias in node.names)
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in IMPORT_CALLS and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str):
                found.append(Import(node.args[0].value, node.lineno, context))
        for child in ast.iter_child_nodes(node):
            visit(child, context)

    visit(ast.parse(source), MODULE_LEVEL)
    return found


def layer_of(module: str) -> str | None:
    """The layer of a module of the package (``TOP`` for the package itself and ``__main__``), or None
    for a module outside the package."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    if len(parts) == 1 or parts[1] == "__main__":
        return TOP
    return parts[1] if parts[1] in LAYERS else f"<no layer: {parts[1]}>"


def _root(target: str) -> str:
    return target.split(".")[0]


# ----------------------------------------------------------------------------- the rules


UPWARD_BY_DESIGN = {("inception_calc.core.results", "inception_calc.report.analysis"): ("to_table", "to_markdown",
                                                                                       "_titles")}
"""The one import of a higher layer the design makes (docs/architecture.md, "The one import upward"):
``Analysis.to_table()`` / ``to_markdown()`` reach the report's one renderer, inside those methods only
(and ``_titles``, their reader of ``columns``), never at module level; tested below."""


def layer_violations(module: str, found: list[Import]) -> list[str]:
    """Imports of a higher layer (or of the package's top level from inside a layer); the one
    import of :data:`UPWARD_BY_DESIGN`, inside a function, is allowed."""
    own = layer_of(module)
    bad = []
    for imp in found:
        target = layer_of(imp.target)
        if target is None or target == own:
            continue
        if (module, imp.target) in UPWARD_BY_DESIGN and imp.context == IN_FUNCTION:
            continue
        if own == TOP:
            allowed = target in TOP_MAY_IMPORT
        else:
            allowed = target in LAYERS and own in LAYERS and LAYERS.index(target) < LAYERS.index(own)
        if not allowed:
            bad.append(f"{module}:{imp.line} ({own}) imports {imp.target} ({target})")
    return bad


def torch_violations(module: str, found: list[Import]) -> list[str]:
    """torch, torchvision, fvcore or timm imported at module level outside the torch side and bench,
    or anywhere (a function, TYPE_CHECKING) in core and studies."""
    own = layer_of(module)
    return [f"{module}:{imp.line} imports {imp.target} {imp.context}"
            for imp in found if _root(imp.target) in TORCH_PACKAGES and own not in TORCH_LAYERS
            and (imp.at_import or own in BELOW_TORCH)]


def core_heavy_violations(module: str, found: list[Import]) -> list[str]:
    """tabulate, pandas or matplotlib imported at module level by the core."""
    if layer_of(module) != "core":
        return []
    return [f"{module}:{imp.line} imports {imp.target} {imp.context}"
            for imp in found if imp.at_import and _root(imp.target) in HEAVY_FOR_CORE]


# ----------------------------------------------------------------------------- the package itself


FILES = sorted((ROOT / PACKAGE).rglob("*.py"))
MODULES = frozenset(module_name(p) for p in FILES)
# (rule, module) -> the violation it still has: that test is marked xfail (strict), so that fixing it shows. None today.
KNOWN_VIOLATIONS: dict[tuple[str, str], str] = {}


def _imports_of(path: Path) -> list[Import]:
    return imports(module_name(path), path.read_text(encoding="utf-8"), is_package=path.name == "__init__.py",
                   modules=MODULES)


def _cases(rule: str) -> list:
    cases = []
    for path in FILES:
        why = KNOWN_VIOLATIONS.get((rule, module_name(path)))
        cases.append(pytest.param(path, id=module_name(path),
                                  marks=[pytest.mark.xfail(strict=True, reason=why)] if why else []))
    return cases


def test_the_package_is_read():
    assert len(FILES) > 30 and f"{PACKAGE}.core.engine" in MODULES and f"{PACKAGE}.cli" in MODULES


def test_every_subpackage_is_a_layer():
    subpackages = {p.name for p in (ROOT / PACKAGE).iterdir() if (p / "__init__.py").is_file()}
    assert subpackages == set(LAYERS)
    loose = sorted(module_name(p) for p in FILES if p.parent == ROOT / PACKAGE)
    assert loose == [PACKAGE, f"{PACKAGE}.__main__"]  # nothing outside a layer but the entry points


@pytest.mark.parametrize("path", _cases("layers"))
def test_imports_only_its_own_layer_or_below(path):
    assert layer_violations(module_name(path), _imports_of(path)) == []


@pytest.mark.parametrize("path", _cases("torch"))
def test_no_torch_at_module_level_outside_the_torch_side(path):
    assert torch_violations(module_name(path), _imports_of(path)) == []


@pytest.mark.parametrize("path", _cases("core-heavy"))
def test_the_core_imports_no_heavy_package_at_module_level(path):
    assert core_heavy_violations(module_name(path), _imports_of(path)) == []


# ----------------------------------------------------------------------------- the rules can fail


def _found(module: str, source: str) -> list[Import]:
    return imports(module, source, modules=MODULES)


def test_a_core_module_importing_the_report_is_refused_even_inside_a_function_or_type_checking():
    source = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from inception_calc.report.plot import x\n"
              "def f():\n    from inception_calc.cli import main\n")
    assert layer_violations("inception_calc.core.engine", _found("inception_calc.core.engine", source)) == [
        "inception_calc.core.engine:3 (core) imports inception_calc.report.plot (report)",
        "inception_calc.core.engine:5 (core) imports inception_calc.cli.main (cli)",
    ]


def test_a_layer_importing_the_top_level_or_a_relative_higher_module_is_refused():
    source = "from inception_calc import analyze\nfrom ..report import plot\nfrom .engine import analyze\n"
    found = imports("inception_calc.core.loader", source, modules=MODULES)
    assert [imp.target for imp in found] == ["inception_calc", "inception_calc.report.plot",
                                             "inception_calc.core.engine"]
    assert layer_violations("inception_calc.core.loader", found) == [
        "inception_calc.core.loader:1 (core) imports inception_calc (top)",
        "inception_calc.core.loader:2 (core) imports inception_calc.report.plot (report)",
    ]


def test_lower_layers_and_the_top_level_entry_points_are_allowed():
    source = "from inception_calc.core.engine import analyze\nfrom inception_calc.studies import compare\n"
    assert layer_violations("inception_calc.report.analysis", _found("inception_calc.report.analysis", source)) == []
    source = "from inception_calc.cli.main import main\nfrom inception_calc.core.errors import CalcError\n"
    assert layer_violations("inception_calc", _found("inception_calc", source)) == []
    assert layer_violations("inception_calc", _found("inception_calc", "import inception_calc.report\n")) == [
        "inception_calc:1 (top) imports inception_calc.report (report)"]


def test_torch_at_module_level_is_refused_outside_the_torch_side():
    source = ("import torch.nn\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import fvcore\n"
              "def f():\n    import torchvision\n")
    assert torch_violations("inception_calc.report.bench", _found("inception_calc.report.bench", source)) == [
        "inception_calc.report.bench:1 imports torch.nn at module level"]  # TYPE_CHECKING, a function: fine in report
    assert torch_violations("inception_calc.studies.sweep", _found("inception_calc.studies.sweep", source)) == [
        "inception_calc.studies.sweep:1 imports torch.nn at module level",
        "inception_calc.studies.sweep:4 imports fvcore under TYPE_CHECKING",
        "inception_calc.studies.sweep:6 imports torchvision inside a function"]  # below the torch side: nowhere
    assert torch_violations("inception_calc.bench.run", _found("inception_calc.bench.run", source)) == []


def test_an_import_call_at_module_level_counts():
    source = 'import importlib\ntimm = importlib.import_module("timm")\npandas = require("pandas", "pandas")\n'
    found = _found("inception_calc.core.results", source)
    assert torch_violations("inception_calc.cli.main", found) == [
        "inception_calc.cli.main:2 imports timm at module level"]
    assert core_heavy_violations("inception_calc.core.results", found) == [
        "inception_calc.core.results:3 imports pandas at module level"]


def test_the_core_may_import_pandas_inside_a_function_or_for_type_checking_only():
    source = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pandas\nelse:\n    import tabulate\n"
              "def frame():\n    import matplotlib.pyplot\n")
    assert core_heavy_violations("inception_calc.core.results", _found("inception_calc.core.results", source)) == [
        "inception_calc.core.results:5 imports tabulate at module level"]  # the else branch runs
    assert core_heavy_violations("inception_calc.report.plot", _found("inception_calc.report.plot", source)) == []


def _enclosing_functions(source: str, target: str) -> list[str]:
    """The name of the function around each import of ``target`` in ``source`` (``<module>`` at module level)."""
    found = []

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        if isinstance(node, ast.ImportFrom) and node.module == target:
            found.append(function)
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(ast.parse(source), "<module>")
    return found


@pytest.mark.parametrize("pair", sorted(UPWARD_BY_DESIGN))
def test_the_import_upward_by_design_is_only_inside_its_methods(pair):
    module, target = pair
    path = ROOT / (module.replace(".", "/") + ".py")
    where = _enclosing_functions(path.read_text(encoding="utf-8"), target)
    assert where and set(where) <= set(UPWARD_BY_DESIGN[pair]), where


def test_the_import_upward_by_design_is_refused_at_module_level():
    module, target = next(iter(UPWARD_BY_DESIGN))
    source = f"from {target} import render\n"
    assert layer_violations(module, imports(module, source)) != []
    other = "from inception_calc.report.table import text_table\ndef f():\n    from inception_calc.report.plot import x\n"
    assert len(layer_violations(module, imports(module, other))) == 2  # any other report module, even lazily
