"""inception-calc check: reconcile the analysis with the real network, row by row."""

from __future__ import annotations

import argparse

from inception_calc.cli.commands import COMMANDS
from inception_calc.report.output import emit
from inception_calc.cli import common, training_args

HELP = COMMANDS["check"]

FORMATS = ("table", "markdown", "csv", "json")  # check_render.RENDERERS' keys, named here: the parser imports no more
FLAGS = {"against": "--against", "depth": "--depth", "aux": "--aux/--no-aux",  # crosscheck.check's parameters
         **training_args.FLAGS}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    common.add_spec(parser)
    parser.add_argument("--against", choices=("built", "torchvision", "timm"), default="built",
                        help="built: the network the builder makes from the spec (default); torchvision: the "
                             "torchvision model the spec's reference names (torchvision:inception_v3), else "
                             "torchvision.models.googlenet (for googlenet, googlenet-torchvision and their "
                             "variants); timm: the timm model the spec's reference names (timm:inception_v4; "
                             "the timm extra)")
    common.add_input(parser)
    parser.add_argument("--depth", choices=("layer", "branch"), default="layer",
                        help="layer: one line per row; branch: and each branch")
    parser.add_argument("--aux", action=argparse.BooleanOptionalAction, default=True,
                        help="count the auxiliary heads when the spec has them, on both sides (default); "
                             "--no-aux leaves them out of the analysis and of the real network")
    training_args.add_training(parser, fit=False)
    common.add_format(parser, FORMATS)
    common.add_output(parser)


def run(args: argparse.Namespace) -> int:
    if args.train:
        return _train(args)
    from inception_calc.report.check import render_check
    from inception_calc.pytorch.crosscheck import check

    result = check(args.spec, args.against, args.input, args.depth, args.aux)
    emit(render_check(result, args.format), args.output)
    return 0 if result.ok else 1


def _train(args: argparse.Namespace) -> int:
    from inception_calc.pytorch.training import check_training
    from inception_calc.report.training import render_training_check

    result = check_training(args.spec, args.against, args.input, args.batch, args.dtype,
                            training_args.freeze_list(args.freeze))
    emit(render_training_check(result, args.format), args.output)
    return 0 if result.ok else 1
