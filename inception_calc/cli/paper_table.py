"""inception-calc paper-table: the paper's Table 1 beside the computed values, each published
params and ops figure judged consistent or not (a report: exit 0 whatever the verdicts)."""

from __future__ import annotations

import argparse

from inception_calc.cli.commands import COMMANDS
from inception_calc.report.output import emit
from inception_calc.report.paper import FORMATS, render
from inception_calc.studies.paper_table import paper_table
from inception_calc.cli import common

HELP = COMMANDS["paper-table"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    common.add_format(parser, FORMATS)
    common.add_output(parser)


def run(args: argparse.Namespace) -> int:
    emit(render(paper_table(), args.format), args.output)
    return 0
