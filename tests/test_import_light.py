"""The analytic path never imports the heavy libraries: `python -X importtime` lists every module a
process imports, and none of them may be torch, torchvision, fvcore, pandas or matplotlib."""

from __future__ import annotations

import pytest

from conftest import run_cli

HEAVY = ("torch", "torchvision", "fvcore", "pandas", "matplotlib")


def imported_modules(importtime_stderr: str) -> set[str]:
    """Module names from ``-X importtime`` lines: ``import time: self | cumulative | name``."""
    names = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":  # the header line
                names.add(name)
    return names


@pytest.mark.parametrize("args", [
    ("report",),
    ("report", "--format", "json", "--depth", "conv", "--aux"),
    ("report", "--format", "csv", "--input", "3x300x250"),
    ("explain", "inception3a"),
    ("specs",),
])
def test_analytic_commands_import_nothing_heavy(args):
    run = run_cli(*args, python_flags=("-X", "importtime"))
    assert run.code == 0
    modules = imported_modules(run.err)
    assert "inception_calc.core.engine" in modules and "json" in modules  # the listing is real
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == [], f"{' '.join(args)} imported {heavy}"


def test_the_check_would_see_a_heavy_import():
    """The parser recognises a heavy import when there is one (pandas, via to_dataframe)."""
    pytest.importorskip("pandas")
    import os
    import subprocess
    import sys

    from conftest import SRC

    done = subprocess.run([sys.executable, "-X", "importtime", "-c",
                           "import inception_calc; inception_calc.analyze('googlenet').to_dataframe()"],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(SRC)}, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "pandas" in imported_modules(done.stderr)
