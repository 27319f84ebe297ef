"""inception-calc conventions: every counter's total for a network, and the terms that make it up."""

from __future__ import annotations

import argparse

from inception_calc.cli import common
from inception_calc.cli.commands import COMMANDS
from inception_calc.report.output import emit

HELP = COMMANDS["conventions"]
FORMATS = ("table", "markdown", "json")  # report.conventions.FORMATS, named here: the parser imports no more


def add_arguments(parser: argparse.ArgumentParser) -> None:
    common.add_spec(parser)
    common.add_input(parser)
    common.add_format(parser, FORMATS)
    common.add_output(parser)


def run(args: argparse.Namespace) -> int:
    from inception_calc.core.conventions import count_all
    from inception_calc.core.engine import analyze
    from inception_calc.report.conventions import render

    analysis = analyze(args.spec, args.input)
    emit(render(analysis, count_all(analysis), args.format), args.output)
    return 0
