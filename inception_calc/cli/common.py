"""Arguments shared by several subcommands, declared once; and the errors' flags."""

from __future__ import annotations

import argparse
from contextlib import contextmanager
from typing import Iterator, Mapping

from inception_calc.core.errors import CalcError
from inception_calc.core.results import DEPTHS

FLAGS = {"input": "--input", "output": "--output", "path": "--plot"}
"""The flag of each parameter that every command names alike (main applies these to every command,
beside the command module's own ``FLAGS``): the input size, the output file, the chart's file."""


def at_flag(where: str, flags: Mapping[str, str]) -> str:
    """``where`` with the parameter it starts with put as its flag: ``settings.batches`` ->
    ``--batch``, ``path out/r.png`` -> ``--plot out/r.png``. A parameter counts when it is the whole
    of ``where`` or is followed by a space or a comma; any other ``where`` (a file, a row) is kept."""
    for param in sorted(flags, key=len, reverse=True):
        if where == param or where.startswith((f"{param} ", f"{param},")):
            return flags[param] + where[len(param):]
    return where


@contextmanager
def flag_errors(flags: Mapping[str, str]) -> Iterator[None]:
    """Re-raise a library CalcError that names a parameter (``where="settings.batches"``) at the
    flag that gave it (``--batch``): library errors name parameters, the user sees flags."""
    try:
        yield
    except CalcError as exc:
        where = at_flag(exc.where, flags)
        if where == exc.where:
            raise
        raise CalcError(exc.what, where=where, fix=exc.fix) from exc


def add_spec(parser: argparse.ArgumentParser, default: str | None = "googlenet") -> None:
    parser.add_argument("spec", nargs="?" if default else None, default=default, metavar="SPEC",
                        help="a source (docs/sources.md): a built-in NAME (see 'inception-calc specs'), "
                             "torchvision:MODEL, timm:MODEL, PATH.py:ATTR (runs that file's code), PATH.prototxt, "
                             "or a PATH.toml/.json spec; each may end in :VARIANTS (googlenet:bn,width=0.5)"
                             + (f"; default {default}" if default else ""))


def add_input(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", metavar="SIZE", default=None,
                        help="input size: N (3xNxN), HxW or CxHxW; default the spec's own input "
                             "(googlenet's 3x224x224, inception-v3's 3x299x299)")


def add_format(parser: argparse.ArgumentParser, formats: tuple[str, ...]) -> None:
    parser.add_argument("--format", choices=formats, default=formats[0], help=f"default {formats[0]}")


def add_depth(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--depth", choices=DEPTHS, default="layer",
                        help="layer: one line per row; branch: and each Inception branch; conv: and every layer")


def add_convention(parser: argparse.ArgumentParser) -> None:
    from inception_calc.core.conventions import CONVENTIONS  # stdlib, and small

    parser.add_argument("--convention", metavar="NAME", default=None,
                        help="also count each row as a counter does (a 'counted' column and JSON key beside "
                             "the MACs): " + ", ".join(CONVENTIONS) + " (docs/conventions.md; "
                             "'inception-calc conventions' shows them all)")


def counting(analysis, name: str | None):
    """The analysis counted under ``--convention NAME`` (None when none was given)."""
    if name is None:
        return None
    from inception_calc.core.conventions import count

    with flag_errors({"convention": "--convention"}):
        return count(analysis, name)


def add_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", "-o", metavar="FILE", default=None,
                        help="write to FILE (whole or not at all) instead of standard output")


def add_plot(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--plot", metavar="FILE.png", default=None,
                        help=f"also draw {what} to FILE.png (needs matplotlib: the 'plot' extra)")


def plot_path(value: str | None) -> str | None:
    """The --plot file, checked before any work is done: a .png file in an existing folder, and
    matplotlib importable."""
    if value is None:
        return None
    from pathlib import Path

    if not value.lower().endswith(".png"):
        raise CalcError(f"{value!r} is not a .png file", where="--plot", fix="give a file name ending in .png")
    folder = Path(value).parent
    if not folder.is_dir():
        raise CalcError("the folder does not exist", where=f"--plot {value}", fix=f"create {folder} first")
    from inception_calc.report.plot import require_matplotlib

    require_matplotlib("--plot")  # refuse before any work is done or printed
    return value
