"""Arguments shared by several subcommands, declared once; and the errors' flags."""

from __future__ import annotations

import argparse
import os
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
    """``--format`` of ``formats``; left out, the format --output's suffix names, else ``formats[0]``
    (:func:`pick_format`, which main calls before the command runs)."""
    parser.add_argument("--format", choices=formats, default=None,
                        help=f"default {formats[0]}, or the one --output's suffix names "
                             f"({', '.join(s for s, f in SUFFIX_FORMATS.items() if f in formats)})")
    parser.set_defaults(formats=formats)


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
                        help=f"also draw {what} to FILE.png, .svg or .pdf (by its suffix; needs matplotlib: "
                             f"the 'plot' extra)")


def plot_path(value: str | None) -> str | None:
    """The --plot file, checked before any work is done: a .png, .svg or .pdf file in an existing
    folder, and matplotlib importable."""
    if value is None:
        return None
    from pathlib import Path

    if not value.lower().endswith((".png", ".svg", ".pdf")):
        raise CalcError(f"{value!r} is not a .png, .svg or .pdf file", where="--plot",
                        fix="give a file name ending in .png (an image), .svg or .pdf (vectors)")
    folder = Path(value).parent
    if not folder.is_dir():
        raise CalcError("the folder does not exist", where=f"--plot {value}", fix=f"create {folder} first")
    from inception_calc.report.plot import require_matplotlib

    require_matplotlib("--plot")  # refuse before any work is done or printed
    return value


SUFFIX_FORMATS = {".md": "markdown", ".markdown": "markdown", ".csv": "csv", ".json": "json", ".toml": "toml"}
"""The formats a file name's suffix names; any other suffix (``.txt``, ``.log``, none) names none."""

UNWRITTEN_SUFFIXES = frozenset({".xlsx", ".xls", ".ods", ".tsv", ".parquet", ".html", ".htm", ".xml", ".yaml", ".yml",
                                ".tex", ".docx", ".pdf", ".png", ".svg", ".jpg", ".jpeg"})
"""Suffixes of formats no command writes: refused, rather than a table written into a spreadsheet's name."""

TEXT = "text"  # what a command without --format writes (explain); export-spec says "toml"


def suffix_format(output: str | None, formats: tuple[str, ...], flag: str = "--output") -> str | None:
    """The format ``output``'s suffix names, if the command writes it (``formats``); None for a
    neutral suffix (``.txt``, none, a device). A suffix of a format the command does not write is a
    CalcError: the file would hold another format than its name says."""
    if not output:
        return None
    suffix = os.path.splitext(output)[1].lower()
    named = SUFFIX_FORMATS.get(suffix)
    if named is None and suffix not in UNWRITTEN_SUFFIXES:
        return None
    if named in formats:
        return named
    shown = [s for s, f in SUFFIX_FORMATS.items() if f in formats] + [".txt"]
    writes = ", ".join(formats)
    raise CalcError(f"will not write a {suffix} file: this command writes {writes}", where=f"{flag} {output}",
                    fix=f"give a file ending in {', '.join(shown)}")


def pick_format(args: argparse.Namespace) -> None:
    """Before the command runs: ``args.format`` from --output's suffix when --format is not given
    (``-o r.json`` writes JSON), else the command's first format; a --format that contradicts the
    suffix (``--format csv -o r.json``) and a suffix the command does not write (``.xlsx``) are
    refused. A command without --format (explain, export-spec) writes ``args.writes``."""
    output = getattr(args, "output", None)
    formats = getattr(args, "formats", None)
    if formats is None:
        if output:
            suffix_format(output, (getattr(args, "writes", TEXT),))
        return
    named = suffix_format(output, formats)
    if args.format is None:
        args.format = named or formats[0]
    elif named is not None and named != args.format:
        raise CalcError(f"the suffix names {named}, but --format {args.format} was given", where=f"--output {output}",
                        fix=f"drop --format to write {named}, or give a file name that fits {args.format}")


def add_units(parser: argparse.ArgumentParser) -> None:
    from inception_calc.core.values import UNITS

    parser.add_argument("--units", choices=UNITS, default="exact",
                        help="how table and markdown write counts: exact (every digit, default) or auto (1.58G: "
                             "K/M/G = 10^3/10^6/10^9, stated above the table); csv and json are always exact integers")
