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
