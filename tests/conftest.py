"""Shared test helpers: the CLI run as a real process, and the golden-file switch.

Golden files (tests/golden/) are rewritten only on request: ``UPDATE_GOLDEN=1 python -m pytest`` or
``python -m pytest --update-golden``; review the diff before committing them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import inception_calc

SRC = Path(inception_calc.__file__).resolve().parents[1]  # src/, wherever the package is imported from
ROOT = Path(__file__).resolve().parents[1]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/* from the current output instead of comparing")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden") or os.environ.get("UPDATE_GOLDEN") == "1")


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
