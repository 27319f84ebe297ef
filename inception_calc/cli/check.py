"""inception-calc check: reconcile the analysis with the real network, row by row."""

from __future__ import annotations

import argparse

from inception_calc.cli.commands import COMMANDS
from inception_calc.report.output import emit
from inception_calc.cli import common, training_args
from inception_calc.core.errors import CalcError

HELP = COMMANDS["check"]

FORMATS = ("table", "markdown", "csv", "json")  # check_render.RENDERERS' keys, named here: the parser imports no more
FLAGS = {"against": "--against", "depth": "--depth", "aux": "--aux/--no-aux", "rf": "--rf",  # crosscheck.check's parameters
         "counters": "--counters",
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
    parser.add_argument("--rf", action="store_true",
                        help="check receptive fields instead: measure every row's, branch's and layer's field on "
                             "the built network by gradients (a thin, positive copy) and reconcile it with the "
                             "analysis's (docs/cross-check.md); only against the built network")
    parser.add_argument("--counters", metavar="NAMES", default="",
                        help="also run these tools on the real network, in eval mode, and reconcile each one row "
                             "by row with its convention: a comma-separated list of fvcore, flopcounter, ptflops, "
                             "ptflops-aten, thop, torchinfo (ptflops, thop and torchinfo: the counters extra; "
                             "docs/cross-check.md)")
    common.add_format(parser, FORMATS)
    common.add_output(parser)


def run(args: argparse.Namespace) -> int:
    if args.train and args.rf:
        raise CalcError("--rf and --train check different things", where="--rf", fix="give one of them per run")
    if args.counters and (args.train or args.rf):
        raise CalcError("--counters reconciles the forward counts, which --train and --rf do not check",
                        where="--counters", fix="give --counters without --train and --rf")
    if args.train:
        return _train(args)
    if args.rf:
        from inception_calc.report.check_rf import render_check_rf
        from inception_calc.pytorch.receptive import check_receptive_fields

        rf = check_receptive_fields(args.spec, args.input, args.depth, args.aux, args.against)
        emit(render_check_rf(rf, args.format), args.output)
        return 0 if rf.ok else 1
    from inception_calc.report.check import render_check
    from inception_calc.pytorch.crosscheck import check

    result = check(args.spec, args.against, args.input, args.depth, args.aux, args.counters)
    emit(render_check(result, args.format), args.output)
    return 0 if result.ok else 1


def _train(args: argparse.Namespace) -> int:
    from inception_calc.pytorch.training import check_training
    from inception_calc.report.training import render_training_check

    result = check_training(args.spec, args.against, args.input, args.batch, args.dtype,
                            training_args.freeze_list(args.freeze))
    emit(render_training_check(result, args.format), args.output)
    return 0 if result.ok else 1
