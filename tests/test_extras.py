"""Packaging: the core needs tabulate only, and a command or function whose extra is missing stops with
exit 2 and one line naming the extra to install (``pip install 'inception_calc[EXTRA]'``).

A missing package is simulated in a real interpreter: ``sys.modules[name] = None`` makes ``import name``
fail as it does where the package is not installed. None of these tests needs torch, pandas or
matplotlib: they run in the core-only install too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib

import pytest

import inception_calc
from conftest import ROOT, SRC
from inception_calc.core.errors import CalcError
from inception_calc.core.extras import EXTRAS, install_hint, require

TORCH_SIDE = EXTRAS["torch"]  # ("torch", "torchvision", "fvcore")


def _cli_without(modules: tuple[str, ...], *argv: str) -> subprocess.CompletedProcess:
    """``inception-calc ARGV`` in a fresh interpreter in which ``modules`` cannot be imported."""
    code = (f"import sys; sys.modules.update(dict.fromkeys({modules!r})); "
            "from inception_calc.cli.main import main; sys.exit(main(sys.argv[1:]))")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=60)


# ----------------------------------------------------------------------------- the declared extras


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _name(requirement: str) -> str:
    """``"torch>=2.0"`` -> ``"torch"``: the distribution a requirement names."""
    for i, ch in enumerate(requirement):
        if not (ch.isalnum() or ch in "-_."):
            return requirement[:i]
    return requirement


def test_the_core_depends_on_tabulate_only():
    assert [_name(r) for r in _pyproject()["project"]["dependencies"]] == ["tabulate"]


def test_each_extra_installs_what_the_code_says_it_needs():
    extras = _pyproject()["project"]["optional-dependencies"]
    for extra, modules in EXTRAS.items():
        assert tuple(_name(r) for r in extras[extra]) == modules, extra


def test_all_installs_every_extra_but_test():
    extras = _pyproject()["project"]["optional-dependencies"]
    (everything,) = extras["all"]
    assert everything.startswith("inception_calc[") and everything.endswith("]")
    named = everything[len("inception_calc["):-1].split(",")
    assert sorted(named) == sorted(set(extras) - {"all", "test"})  # an extra added later belongs in all too


def test_test_extra_holds_pytest_and_hypothesis():
    assert sorted(_name(r) for r in _pyproject()["project"]["optional-dependencies"]["test"]) == ["hypothesis",
                                                                                               "pytest"]


# ----------------------------------------------------------------------------- require()


def test_require_returns_the_module():
    import json

    assert require("json", "plot") is json


def test_require_names_the_extra_and_who_needs_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(CalcError) as caught:
        require("matplotlib", "plot", "the figure", where="--plot")
    assert caught.value.line() == ("--plot: matplotlib is not installed, and the figure needs it; "
                                   "install the plot extra: pip install 'inception_calc[plot]'")


def test_require_names_the_package_that_is_missing_underneath(monkeypatch, tmp_path):
    # a module that is there but imports one that is not (torchvision without torch): the missing one is named
    (tmp_path / "present_but_needs_xyz.py").write_text("import no_such_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(CalcError) as caught:
        require("present_but_needs_xyz", "torch", "the check")
    assert caught.value.line() == ("no_such_dependency_xyz is not installed, and the check needs it; "
                                   "install the torch extra: pip install 'inception_calc[torch]'")


def test_require_refuses_an_unknown_extra():
    with pytest.raises(ValueError, match="unknown extra 'torhc'"):
        require("json", "torhc")


def test_install_hint():
    assert install_hint("pandas") == "install the pandas extra: pip install 'inception_calc[pandas]'"


# ----------------------------------------------------------------------------- commands and functions


@pytest.mark.parametrize("argv", [
    ("check",),
    ("check", "googlenet-torchvision", "--against", "torchvision"),
    ("check", "googlenet", "--format", "json", "--depth", "branch"),
    ("bench",),
    ("bench", "googlenet-torchvision", "--device", "cpu", "--batch", "1"),
])
def test_torch_commands_without_the_torch_extra_exit_2_naming_it(argv):
    done = _cli_without(TORCH_SIDE, *argv)
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    (line,) = done.stderr.splitlines()  # one line
    assert line.startswith(f"inception-calc {argv[0]}: error: ")
    assert line.endswith(" is not installed; install the torch extra: pip install 'inception_calc[torch]'") or \
        line.endswith(" needs it; install the torch extra: pip install 'inception_calc[torch]'"), line
    assert line.split(": error: ")[1].split(" is not installed")[0] in TORCH_SIDE  # it names a package it needs


def test_bench_without_torch_is_the_exact_line():
    done = _cli_without(TORCH_SIDE, "bench", "--device", "cpu")
    assert done.stderr == ("inception-calc bench: error: torch is not installed; "
                           "install the torch extra: pip install 'inception_calc[torch]'\n")


@pytest.mark.parametrize("argv", [
    ("report", "--plot", "r.png"),
    ("sweep", "googlenet", "--input", "224:256:32", "--plot", "s.png"),
    ("compare", "googlenet", "googlenet:naive", "--plot", "c.png"),
])
def test_plot_without_the_plot_extra_exits_2_naming_it(argv, tmp_path):
    done = _cli_without(("matplotlib",), *argv[:-1], str(tmp_path / argv[-1]))
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    assert done.stderr == (f"inception-calc {argv[0]}: error: --plot: matplotlib is not installed; "
                           "install the plot extra: pip install 'inception_calc[plot]'\n")
    assert list(tmp_path.iterdir()) == []  # refused before any work: nothing written


def test_the_analytic_commands_need_no_extra():
    for argv in (("report",), ("explain", "inception3a"), ("specs",), ("paper-table",),
                 ("compare", "googlenet", "googlenet:naive"), ("sweep", "googlenet", "--input", "224:256:32"),
                 ("verify", "--claim", "inception3a.weights = 163,328")):
        done = _cli_without((*TORCH_SIDE, "pandas", "matplotlib"), *argv)
        assert done.returncode == 0 and done.stderr == "", (argv, done.stderr)


def test_to_dataframe_without_the_pandas_extra_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(CalcError) as caught:
        inception_calc.analyze("googlenet").to_dataframe()
    assert caught.value.line() == ("pandas is not installed, and Analysis.to_dataframe() needs it; "
                                   "install the pandas extra: pip install 'inception_calc[pandas]'")


# ----------------------------------------------------------------------------- the fast lane


def test_the_fast_lane_leaves_out_the_torch_modules_only_where_the_expression_rules_torch_out():
    from conftest import _excluded_markers

    assert _excluded_markers("not torch and not slow") == {"torch", "slow"}
    assert _excluded_markers("  not   torch ") == {"torch"}
    assert _excluded_markers("cuda and not torch") == {"torch"}
    for expression in ("", "torch", "not torch or cuda", "not (torch and slow)", "not slow"):
        assert "torch" not in _excluded_markers(expression), expression
