"""Shared test helpers: the CLI run as a real process, and the checkout's scripts as modules.

Tests never write golden files or docs: ``python scripts/docgen.py`` does (tests/test_generated.py
checks them). ``UPDATE_GOLDEN=1`` and ``--update-golden``, which once made the tests write them,
now stop the run and say so.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

import inception_calc

SRC = Path(inception_calc.__file__).resolve().parents[1]  # src/, wherever the package is imported from
ROOT = Path(__file__).resolve().parents[1]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="gone: tests only check; run python scripts/docgen.py to regenerate")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--update-golden") or os.environ.get("UPDATE_GOLDEN") == "1":
        pytest.exit("tests no longer write golden files or docs: run python scripts/docgen.py "
                    "(--check says what is stale, --list names every generated file and block)", returncode=4)


def script(path: str) -> ModuleType:
    """The checkout's script ``path`` (``scripts/docgen.py``) as a module, loaded once under its
    file's stem, the name its own imports give it."""
    name = Path(path).stem
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # before running it: its dataclasses look their module up
        spec.loader.exec_module(module)
    return sys.modules[name]


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def run_cli(*args: str, python_flags: tuple[str, ...] = (), cwd: Path | None = None) -> Run:
    """``python -m inception_calc ARGS`` in a fresh process, with this checkout's package on the path."""
    env = {**os.environ, "PYTHONPATH": str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, *python_flags, "-m", "inception_calc", *args], capture_output=True,
                          text=True, env=env, cwd=cwd or ROOT, timeout=60)
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="session")
def googlenet():
    """GoogLeNet analysed at its default input, 3x224x224."""
    return inception_calc.analyze("googlenet")


@pytest.fixture(scope="session")
def torchvision_model():
    """The real torchvision googlenet (random weights, aux heads), built once per session."""
    from inception_calc.pytorch.counters import torchvision_googlenet

    return torchvision_googlenet()


@pytest.fixture(scope="session")
def torchvision_counts(torchvision_model):
    """Counts of torchvision's googlenet at 3x224x224 (fvcore, FlopCounterMode, numel, hooks)."""
    from inception_calc.pytorch.counters import count_module

    return count_module(torchvision_model, (3, 224, 224), "torchvision googlenet")


# ----------------------------------------------------------------------------- markers: the fast lane
#
# ``python -m pytest -m "not torch and not slow"`` runs the analytic suite, in seconds and without torch.
# A test is marked ``torch`` here when it needs the torch extra: its module imports torch, torchvision,
# fvcore, timm or the torch side (inception_calc.pytorch) at module level (``import torch`` or
# ``pytest.importorskip("torch")``), the test itself imports one, or it uses a fixture below that builds
# the real network. A test that reaches torch only
# through the CLI (``check``, ``bench``) is marked by hand. Without torch, every ``torch`` test is skipped.

TORCH_PACKAGES = frozenset({"torch", "torchvision", "fvcore", "timm"})
TORCH_SIDE = "inception_calc.pytorch"  # build, counters, crosscheck: what they are for needs torch


def _is_torch(module: str) -> bool:
    return module.split(".")[0] in TORCH_PACKAGES or module == TORCH_SIDE or module.startswith(TORCH_SIDE + ".")
TORCH_FIXTURES = frozenset({"torchvision_model", "torchvision_counts"})


def _imports_torch(nodes: list) -> bool:
    """Whether these statements (not the functions and classes they define) import a torch package."""
    import ast

    stack = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Import) and any(_is_torch(alias.name) for alias in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and not node.level and _is_torch(node.module or ""):
            return True
        if (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "importorskip"
                and node.args and isinstance(node.args[0], ast.Constant) and _is_torch(str(node.args[0].value))):
            return True
        stack.extend(ast.iter_child_nodes(node))
    return False


_NEEDS_TORCH: dict[object, bool] = {}  # per test module path and per test function


def _module_needs_torch(path: Path) -> bool:
    import ast

    if path not in _NEEDS_TORCH:
        _NEEDS_TORCH[path] = _imports_torch(ast.parse(path.read_text(encoding="utf-8")).body)
    return _NEEDS_TORCH[path]


def _needs_torch(item: pytest.Item) -> bool:
    import ast
    import inspect
    import textwrap

    if _module_needs_torch(Path(str(item.fspath))) or TORCH_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    function = getattr(item, "function", None)
    if function is None:
        return False
    if function not in _NEEDS_TORCH:
        try:
            source = textwrap.dedent(inspect.getsource(inspect.unwrap(function)))
            _NEEDS_TORCH[function] = _imports_torch(ast.parse(source).body[0].body)
        except (OSError, TypeError, SyntaxError, IndexError, AttributeError):
            _NEEDS_TORCH[function] = False
    return _NEEDS_TORCH[function]


def _have_torch() -> bool:
    import importlib.util

    try:
        return all(importlib.util.find_spec(name) for name in ("torch", "torchvision", "fvcore"))
    except (ImportError, ValueError):
        return False


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    have_torch = _have_torch()
    skip = pytest.mark.skip(reason="needs the torch extra: pip install 'inception_calc[torch]'")
    for item in items:
        if item.get_closest_marker("torch") is None and _needs_torch(item):
            item.add_marker(pytest.mark.torch)
        if item.get_closest_marker("torch") is not None and not have_torch:
            item.add_marker(skip)


def _excluded_markers(markexpr: str) -> set[str]:
    """The markers a ``-m`` expression rules out whatever else a test has: the ``not NAME`` terms of an
    expression that is only terms joined by ``and`` (``"not torch and not slow"``); none for any other."""
    words = markexpr.split()
    if not words or "or" in words or "(" in markexpr or ")" in markexpr:
        return set()
    terms = " ".join(words).split(" and ")
    return {term.split()[1] for term in terms if len(term.split()) == 2 and term.split()[0] == "not"}


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """With ``-m "not torch ..."``, a test module that imports the torch side at module level is not even
    imported (every test in it would be deselected): the fast lane does not pay for importing torch."""
    if collection_path.suffix == ".py" and collection_path.name.startswith("test_") \
            and "torch" in _excluded_markers(config.getoption("markexpr") or "") \
            and _module_needs_torch(collection_path):
        return True
    return None
