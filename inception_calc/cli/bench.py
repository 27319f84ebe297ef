"""inception-calc bench: timed forward passes beside the analytic cost, per run and per layer."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inception_calc.cli.commands import COMMANDS
from inception_calc.core.errors import CalcError
from inception_calc.report.output import emit, write_atomic
from inception_calc.bench.roofline import DTYPES
from inception_calc.cli import common

HELP = COMMANDS["bench"]

BENCH_FORMATS = ("table", "json", "csv")  # bench_report.RENDERERS' keys, named here: the parser imports no timing
FLAGS = {
    "settings.device": "--device", "settings.batches": "--batch", "settings.dtypes": "--dtype",
    "settings.compile": "--compile", "settings.cuda_graphs": "--cuda-graphs", "settings.iters": "--iters",
    "settings.warmup": "--warmup", "settings.repeats": "--repeats", "settings.depth": "--depth",
}
"""The flag of each field of bench.Settings that a library error can name."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    common.add_spec(parser)
    parser.epilog = "googlenet-torchvision times torchvision's own googlenet module against the spec of that name."
    common.add_input(parser)
    parser.add_argument("--device", default="cuda", metavar="cuda|cpu", help="default cuda")
    parser.add_argument("--batch", default="1", metavar="N[,N...]", help="batch sizes, e.g. 1,32,256; default 1")
    parser.add_argument("--dtype", default="fp32", metavar="T[,T...]",
                        help=f"data types among {', '.join(DTYPES)}; fp32 is IEEE fp32 (TF32 off), tf32 turns the "
                             "TF32 tensor cores on, bf16/fp16 cast the model and input; default fp32")
    parser.add_argument("--channels-last", action="store_true", help="model and input in channels-last (NHWC) layout")
    parser.add_argument("--compile", action="store_true",
                        help="time torch.compile(model); compile time is reported apart; per-layer times stay eager")
    parser.add_argument("--cuda-graphs", action="store_true",
                        help="capture each timed module in a CUDA graph after the warm-up and time its replays")
    parser.add_argument("--iters", type=int, default=None, metavar="N",
                        help="calls per timed sample; default chosen so that a sample lasts ~20 ms (cpu ~100 ms)")
    parser.add_argument("--warmup", type=int, default=5, metavar="N", help="untimed calls first; default 5")
    parser.add_argument("--repeats", type=int, default=10, metavar="N", help="timed samples (median, p10, p90); default 10")
    parser.add_argument("--depth", choices=("layer", "branch"), default="layer",
                        help="layer: time every row; branch: and every Inception branch")
    parser.add_argument("--no-layers", action="store_true", help="time the whole forward only (faster sweeps)")
    parser.add_argument("--calibrate", action="store_true",
                        help="measure the peaks (matrix product per dtype) and bandwidth (device copy) first")
    parser.add_argument("--progress", action="store_true", help="a progress line per run on stderr (default: when a TTY)")
    parser.add_argument("--train", action="store_true",
                        help="time a training step (forward + backward + SGD momentum, aux losses x 0.3) instead")
    common.add_format(parser, BENCH_FORMATS)
    common.add_output(parser)
    parser.add_argument("--save-json", metavar="FILE", default=None, help="also write the JSON results to FILE")
    parser.add_argument("--save-csv", metavar="FILE", default=None, help="also write the CSV results to FILE")
    parser.add_argument("--plot", metavar="FILE.png", default=None, help="draw the per-layer roofline to FILE.png")


def _check_paths(args: argparse.Namespace) -> None:
    """Fail before the timing, not after it, when an output cannot be written: a folder that does
    not exist; for --plot also a name not ending in .png, or matplotlib missing (common.plot_path)."""
    common.plot_path(args.plot)
    for flag in ("output", "save_json", "save_csv"):
        value = getattr(args, flag)
        if not value:
            continue
        folder = Path(value).parent
        if str(folder) and not folder.is_dir():
            raise CalcError("the folder does not exist", where=f"--{flag.replace('_', '-')} {value}",
                            fix=f"create {folder} first")
    if args.plot and args.no_layers:
        raise CalcError("the roofline plot needs per-layer times", where="--plot", fix="drop --no-layers")


def run(args: argparse.Namespace) -> int:
    from inception_calc.bench.run import Settings, bench, parse_batches, parse_dtypes

    _check_paths(args)
    settings = Settings(
        device=args.device, batches=parse_batches(args.batch, "--batch"), dtypes=parse_dtypes(args.dtype, "--dtype"),
        channels_last=args.channels_last, compile=args.compile, cuda_graphs=args.cuda_graphs,
        iters=args.iters, warmup=args.warmup, repeats=args.repeats, depth=args.depth,
        layers=not args.no_layers, calibrate=args.calibrate)
    settings.check()
    if args.train:
        from inception_calc.bench.train import bench_training
        from inception_calc.report.training import render_training_bench

        analysis, runs = bench_training(args.spec, args.input, settings)
        emit(render_training_bench(analysis, runs, args.device, "json" if args.format == "json" else "table"),
             args.output)
        return 0
    show = args.progress or sys.stderr.isatty()

    def progress(text: str) -> None:
        sys.stderr.write(f"bench: {text}\n")
        sys.stderr.flush()

    result = bench(args.spec, args.input, settings, progress if show else None)

    from inception_calc.report.bench import plot_roofline, render_bench, to_csv, to_json

    if args.save_json:
        write_atomic(args.save_json, to_json(result), "--save-json")
    if args.save_csv:
        write_atomic(args.save_csv, to_csv(result), "--save-csv")
    if args.plot and any(r.layers for r in result.runs):
        plot_roofline(result, args.plot)
    emit(render_bench(result, args.format), args.output)
    failed = [r for r in result.runs if r.status != "ok"]
    for r in failed:
        sys.stderr.write(f"inception-calc bench: batch {r.batch} {r.config}: {r.status}: {r.error}\n")
    if failed and len(failed) == len(result.runs):
        raise CalcError("no run finished", fix="see the lines above; for out of memory try a smaller --batch")
    return 0
