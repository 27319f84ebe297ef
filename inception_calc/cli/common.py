"""Arguments shared by several subcommands, declared once."""

from __future__ import annotations

import argparse
from contextlib import contextmanager
from typing import Iterator

from inception_calc.core.errors import CalcError
from inception_calc.core.results import DEPTHS


def add_spec(parser: argparse.ArgumentParser, default: str | None = "googlenet") -> None:
    parser.add_argument("spec", nargs="?" if default else None, default=default, metavar="SPEC",
                        help=f"a built-in spec name (see 'inception-calc specs') or a .toml/.json file"
                             + (f"; default {default}" if default else ""))


def add_input(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", metavar="SIZE", default=None,
                        help="input size: N (3xNxN), HxW or CxHxW; default the spec's own (3x224x224)")


def add_format(parser: argparse.ArgumentParser, formats: tuple[str, ...]) -> None:
    parser.add_argument("--format", choices=formats, default=formats[0], help=f"default {formats[0]}")


def add_depth(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--depth", choices=DEPTHS, default="layer",
                        help="layer: one line per row; branch: and each Inception branch; conv: and every layer")


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

    require_matplotlib()  # refuse before any work is done or printed
    return value


@contextmanager
def as_flags(**names: str) -> Iterator[None]:
    """Library errors in the words of the command line: a :class:`CalcError` located at a
    parameter of the function called (``where="rows"``) is raised again located at the flag or
    argument that gave it (``as_flags(rows="--rows")``: ``--rows: no row named ...``). Any other
    error (a spec file's line, a row of the network) passes unchanged."""
    try:
        yield
    except CalcError as exc:
        if exc.where not in names:
            raise
        raise CalcError(exc.what, where=names[exc.where], fix=exc.fix) from exc
