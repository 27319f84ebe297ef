"""The training-step flags of ``report`` (and ``check``/``bench`` where they take them), declared once."""

from __future__ import annotations

import argparse

from inception_calc.core.training import DEVICES, DTYPES, OPTIMIZERS

FLAGS = {"batch": "--batch", "dtype": "--dtype", "optimizer": "--optimizer", "freeze": "--freeze",
         "fit": "--fit", "device": "--device", "train": "--train"}


def add_training(parser: argparse.ArgumentParser, batch: bool = True, fit: bool = True, device: bool = False) -> None:
    parser.add_argument("--train", action="store_true",
                        help="the training step: backward MACs, saved bytes and memory beside the forward columns")
    if batch:
        parser.add_argument("--batch", type=int, default=1, metavar="N", help="images a step (default 1)")
    parser.add_argument("--dtype", choices=tuple(DTYPES), default="fp32", help="default fp32")
    parser.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default="momentum", help="default momentum (SGD)")
    parser.add_argument("--freeze", metavar="ROW,...", default="", help="rows not trained, comma separated")
    if device:
        parser.add_argument("--device", choices=DEVICES, default="cpu",
                            help="where the step runs, for dropout's mask (cpu: the dtype's bytes; cuda: 1 byte)")
    if fit:
        parser.add_argument("--fit", metavar="BYTES", default=None,
                            help="find the largest batch whose step fits this memory (80GiB, 40GB)")


def freeze_list(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())
