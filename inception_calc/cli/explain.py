"""inception-calc explain: the derivation of one row, branch or layer, step by step."""

from __future__ import annotations

import argparse

from inception_calc.cli.commands import COMMANDS
from inception_calc.core.engine import analyze
from inception_calc.core.derivation import derivation
from inception_calc.report.output import emit
from inception_calc.cli import common

HELP = COMMANDS["explain"]
FLAGS = {"name": "ROW"}  # derivation()'s parameter


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("row", metavar="ROW", help="a row (inception3a), branch (inception3a.branch2) or layer name")
    parser.add_argument("--spec", default="googlenet", help="a built-in spec name or a file; default googlenet")
    common.add_input(parser)
    common.add_output(parser)


def run(args: argparse.Namespace) -> int:
    emit(derivation(analyze(args.spec, args.input), args.row), args.output)
    return 0
