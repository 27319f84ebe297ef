"""inception-calc export-spec: the spec file of any source, commented, that loads back to the same analysis."""

from __future__ import annotations

import argparse

from inception_calc.cli.commands import COMMANDS
from inception_calc.core.export import spec_text
from inception_calc.core.sources import load_spec
from inception_calc.report.output import emit
from inception_calc.cli import common

HELP = COMMANDS["export-spec"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SOURCE",
                        help="what report takes: a built-in spec name, SPEC:variants (googlenet:width=0.5) or a "
                             ".toml/.json file")
    common.add_output(parser)
    parser.set_defaults(writes="toml")  # -o FILE.json is refused: the text is TOML


def run(args: argparse.Namespace) -> int:
    emit(spec_text(load_spec(args.spec), args.spec), args.output)
    return 0
