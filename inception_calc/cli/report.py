"""inception-calc report: the per-layer cost table."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from inception_calc.cli.commands import COMMANDS
from inception_calc.core.engine import analyze
from inception_calc.report.output import emit
from inception_calc.report.analysis import FORMATS, render
from inception_calc.cli import common, training_args

if TYPE_CHECKING:  # pragma: no cover
    from inception_calc.core.results import Analysis

HELP = COMMANDS["report"]
FLAGS = {**training_args.FLAGS, "columns": "--columns"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    common.add_spec(parser)
    common.add_input(parser)
    common.add_depth(parser)
    parser.add_argument("--aux", action="store_true", help="show the auxiliary heads (training only) as rows")
    parser.add_argument("--rf", action="store_true",
                        help="add each node's receptive field: size (HxW), effective stride and padding "
                             "(JSON always has them)")
    training_args.add_training(parser, device=True)
    common.add_convention(parser)
    common.add_format(parser, FORMATS)
    common.add_units(parser)
    parser.add_argument("--columns", metavar="A,B,C", default=None,
                        help="the table's and markdown's columns, e.g. name,params,params%%,macs,macs%%; default "
                             "all but params%% (RF columns with --rf), fewer when a terminal is too narrow")
    common.add_plot(parser, "per-row MACs and weights")
    common.add_output(parser)


def run(args: argparse.Namespace) -> int:
    plot = common.plot_path(args.plot)
    if args.train and args.convention is not None:
        from inception_calc.core.errors import CalcError

        raise CalcError("a counter's convention counts one inference forward pass, not a training step",
                        where="--convention", fix="drop --train, or drop --convention")
    analysis = analyze(args.spec, args.input)
    if args.train:
        text = _training(analysis, args)
    else:
        titles, units = _titles(analysis, args)
        text = render(analysis, args.format, args.depth, args.aux, args.rf, titles, units,
                      common.counting(analysis, args.convention))
    if plot:  # drawn before anything is printed: a chart that cannot be drawn leaves stdout empty
        from inception_calc.report.plot import plot_report

        plot_report(analysis, plot, args.depth, args.aux)
    emit(text, args.output)
    return 0


def _training(analysis: "Analysis", args: argparse.Namespace) -> str:
    from inception_calc.core import training as t
    from inception_calc.report.training import render as render_training

    freeze = training_args.freeze_list(args.freeze)
    fit = None
    batch = args.batch
    if args.fit is not None:
        budget = t.parse_bytes(args.fit)
        batch, _ = t.largest_batch(analysis, budget, args.dtype, args.optimizer, freeze, args.device)
        fit = (budget, batch)
    step = t.training(analysis, batch, args.dtype, freeze, args.device)
    return render_training(analysis, step, t.memory(step, args.optimizer), args.format, args.depth, args.aux,
                           args.optimizer, fit)


def _titles(analysis: "Analysis", args: argparse.Namespace) -> tuple[tuple[str, ...] | None, str]:
    """(the columns, the units) of the table: --columns; else, when the table goes to a terminal
    (never a pipe or a file: those get every column), the columns that fit its width."""
    import shutil
    import sys

    from inception_calc.report.analysis import column_titles, fitted_titles

    if args.columns is not None:
        return column_titles(args.columns), args.units
    if args.format != "table" or args.output or not sys.stdout.isatty():
        return None, args.units
    shown, dropped = fitted_titles(analysis, shutil.get_terminal_size().columns, args.depth, args.aux, args.rf,
                                   args.units)
    if dropped:
        sys.stderr.write(f"({', '.join(dropped)} left out to fit the terminal; --columns chooses)\n")
    return shown, args.units
