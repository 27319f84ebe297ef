"""inception-calc compare: networks side by side, rows aligned by name, differences against the first;
or stage by stage (rows grouped by the grid of their output) when their rows do not share names."""

from __future__ import annotations

import argparse

from inception_calc.cli.commands import COMMANDS
from inception_calc.report.output import emit
from inception_calc.cli import common
from inception_calc.cli.progress import add_progress, progress_for

HELP = COMMANDS["compare"]
FLAGS = {"specs": "SPEC", "rows": "--rows", "depth": "--depth", "by": "--by"}  # compare()'s parameters
FORMATS = ("table", "markdown", "csv", "json")  # report.compare.RENDERERS' keys, named here: the parser imports no more


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("specs", nargs="+", metavar="SPEC",
                        help="two or more built-in names, files or SPEC:variant[,variant...] (the first is the base)")
    parser.add_argument("--rows", action="append", metavar="ROW[,ROW...]", default=None,
                        help="only these rows (and their branches or layers at --depth); repeatable")
    parser.add_argument("--by", choices=("name", "stage"), default=None,
                        help="line the networks up by row name, or by stage (consecutive rows whose output has "
                             "one grid, H x W); default name when the networks share their row names or "
                             "--rows or a --depth below layer is given, else stage; --input own runs each "
                             "network at its own input (stages then line up by output stride)")
    common.add_depth(parser)
    common.add_input(parser)
    common.add_convention(parser)
    common.add_format(parser, FORMATS)
    common.add_plot(parser, "per-row MACs and weights of each network, grouped bars (by stage: each network's "
                            "MACs against its params, and its MACs stage by stage)")
    common.add_output(parser)
    add_progress(parser)


def run(args: argparse.Namespace) -> int:
    from inception_calc.report.compare import render
    from inception_calc.studies.compare import compare

    plot = common.plot_path(args.plot)
    rows = [r.strip() for item in args.rows or () for r in item.split(",") if r.strip()]
    comparison = compare(args.specs, args.input, rows or None, args.depth, args.by, progress_for(args, "compare"))
    counted = None
    if args.convention is not None:
        counted = tuple(common.counting(a, args.convention) for a in comparison.analyses)
    text = render(comparison, args.format, counted)
    if plot:  # drawn before anything is printed: a chart that cannot be drawn leaves stdout empty
        from inception_calc.report.plot import plot_comparison

        plot_comparison(comparison, plot)
    emit(text, args.output)
    return 0
