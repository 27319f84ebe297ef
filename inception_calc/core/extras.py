"""The optional packages, each imported only by the function that needs it, and the one error for a missing one.

A plain ``pip install inception_calc`` needs tabulate only and gives every analytic command (report, explain,
verify, compare, sweep, paper-table, specs). The rest come with an extra (pyproject.toml):

| extra | packages | needed by |
| --- | --- | --- |
| ``torch`` | torch, torchvision, fvcore | check, bench, ``build()`` |
| ``pandas`` | pandas | ``Analysis.to_dataframe()`` |
| ``plot`` | matplotlib | ``--plot`` |
| ``timm`` | timm | ``check --against timm`` |
| ``counters`` | ptflops, thop, torchinfo | ``check --counters`` (the conventions of core/conventions.py) |
| ``all`` | every extra | |
"""

from __future__ import annotations

import sys
from types import ModuleType

from inception_calc.core.errors import CalcError

EXTRAS = {"torch": ("torch", "torchvision", "fvcore"), "pandas": ("pandas",), "plot": ("matplotlib",), "timm": ("timm",),
          "counters": ("ptflops", "thop", "torchinfo")}


def install_hint(extra: str) -> str:
    """The fix for a missing package of ``extra``: ``install the EXTRA extra: pip install 'inception_calc[EXTRA]'``."""
    return f"install the {extra} extra: pip install 'inception_calc[{extra}]'"


def require(module: str, extra: str, needed_by: str = "", *, where: str = "") -> ModuleType:
    """``import module``, or a CalcError naming the extra that installs it, as one line:

    ``[WHERE: ]MISSING is not installed[, and NEEDED_BY needs it]; install the EXTRA extra: pip install
    'inception_calc[EXTRA]'``, where MISSING is the module that failed to import (``module`` itself, or
    a package it needs, such as torch under torchvision).
    """
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}: one of {', '.join(EXTRAS)}")  # a programming error
    try:
        __import__(module)  # not importlib.import_module: this way ``python -X importtime`` lists the module too
    except ImportError as exc:
        missing = exc.name or module
        what = f"{missing} is not installed" + (f", and {needed_by} needs it" if needed_by else "")
        raise CalcError(what, where=where, fix=install_hint(extra)) from None
    return sys.modules[module]
