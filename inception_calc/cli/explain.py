"""inception-calc explain: the derivation of one row, branch or layer, step by step."""

from __future__ import annotations

import argparse

from inception_calc.cli.commands import COMMANDS
from inception_calc.core.engine import analyze
from inception_calc.core.derivation import derivation
from inception_calc.core.errors import CalcError
from inception_calc.report.output import emit
from inception_calc.cli import common, training_args

HELP = COMMANDS["explain"]
FLAGS = {"name": "ROW", **training_args.FLAGS}  # derivation()'s parameter; the training flags
DEFAULT_SPEC = "googlenet"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec_before", nargs="?", default=None, metavar="SPEC",
                        help="the spec, as report takes it (explain inception-v3 Mixed_7b); or give --spec")
    parser.add_argument("row", metavar="ROW", help="a row (inception3a), branch (inception3a.branch2) or layer name")
    parser.add_argument("--spec", default=None,
                        help=f"a built-in spec name or a file; default {DEFAULT_SPEC} (or the SPEC before ROW)")
    common.add_input(parser)
    training_args.add_training(parser, fit=False)
    common.add_output(parser)


def spec_and_row(spec_before: str | None, spec: str | None) -> str:
    """The spec of ``explain [SPEC] ROW [--spec SPEC]``."""
    if spec_before is not None and spec is not None:
        raise CalcError(f"the spec is given twice: {spec_before!r} and --spec {spec!r}", where="SPEC",
                        fix="give it once, before ROW or as --spec")
    return spec_before or spec or DEFAULT_SPEC


def run(args: argparse.Namespace) -> int:
    analysis = analyze(spec_and_row(args.spec_before, args.spec), args.input)
    text = derivation(analysis, args.row)
    if args.train:
        from inception_calc.core.training import derive, training

        step = training(analysis, args.batch, args.dtype, training_args.freeze_list(args.freeze))
        text = text.rstrip("\n") + "\n\n" + "\n".join(derive(step, args.row)) + "\n"
    emit(text, args.output)
    return 0
