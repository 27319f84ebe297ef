"""inception-calc report: the per-layer cost table."""

from __future__ import annotations

import argparse

from inception_calc.cli.commands import COMMANDS
from inception_calc.core.engine import analyze
from inception_calc.report.output import emit
from inception_calc.report.analysis import FORMATS, render
from inception_calc.cli import common

HELP = COMMANDS["report"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    common.add_spec(parser)
    common.add_input(parser)
    common.add_depth(parser)
    parser.add_argument("--aux", action="store_true", help="show the auxiliary heads (training only) as rows")
    parser.add_argument("--rf", action="store_true",
                        help="add each node's receptive field: size (HxW), effective stride and padding "
                             "(JSON always has them)")
    common.add_format(parser, FORMATS)
    common.add_plot(parser, "per-row MACs and weights")
    common.add_output(parser)


def run(args: argparse.Namespace) -> int:
    plot = common.plot_path(args.plot)
    analysis = analyze(args.spec, args.input)
    text = render(analysis, args.format, args.depth, args.aux, args.rf)
    if plot:  # drawn before anything is printed: a chart that cannot be drawn leaves stdout empty
        from inception_calc.report.plot import plot_report

        plot_report(analysis, plot)
    emit(text, args.output)
    return 0
