"""inception-calc sweep: whole-network totals over a range of input sizes."""

from __future__ import annotations

import argparse

from inception_calc.cli.commands import COMMANDS
from inception_calc.report.output import emit
from inception_calc.cli import common
from inception_calc.cli.progress import add_progress, progress_for

HELP = COMMANDS["sweep"]
FLAGS = {"sizes": "--input", "rf": "--rf", "convention": "--convention"}  # sweep()'s parameters
FORMATS = ("table", "markdown", "csv", "json")  # report.sweep.RENDERERS' keys, named here: the parser imports no more


def add_arguments(parser: argparse.ArgumentParser) -> None:
    common.add_spec(parser)
    parser.add_argument("--input", metavar="START:STOP:STEP", required=True,
                        help="square input sizes N (C x N x N, C the spec's own), STOP included when the "
                             "step lands on it: 96:512:32 gives 96, 128, ..., 512")
    parser.add_argument("--rf", metavar="ROW", default=None,
                        help="also give ROW's (or a branch's, a layer's) receptive field at each size, "
                             "and plot its size")
    common.add_convention(parser)
    common.add_format(parser, FORMATS)
    common.add_plot(parser, "MACs, params and activations (and with --rf the row's receptive field) against "
                            "the input size")
    common.add_output(parser)
    add_progress(parser)


def run(args: argparse.Namespace) -> int:
    from inception_calc.report.sweep import render
    from inception_calc.studies.sweep import sizes_in, sweep

    plot = common.plot_path(args.plot)
    result = sweep(args.spec, sizes_in(args.input), args.rf, args.convention, progress_for(args, "sweep"))
    text = render(result, args.format)
    if plot:  # drawn before anything is printed: a chart that cannot be drawn leaves stdout empty
        from inception_calc.report.plot import plot_sweep

        plot_sweep(result, plot)
    emit(text, args.output)
    return 0
