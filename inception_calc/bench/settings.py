"""What a bench sweep runs and how it times: :class:`Settings`, and the readers of its lists.

Standard library only, below the timer and the results: :mod:`~inception_calc.bench.timing` times
under a ``Settings``, :mod:`~inception_calc.bench.results` records the one a sweep ran with, and
:mod:`~inception_calc.bench.run` (which re-exports it) runs it.

An error names the field (``settings.batches``), as a Python caller wrote it; the command line
puts its own flag there (``--batch``).
"""

from __future__ import annotations

from dataclasses import dataclass

from inception_calc.bench.roofline import DTYPES
from inception_calc.core.errors import CalcError

DEVICES = ("cuda", "cpu")
DEPTHS = ("layer", "branch")
DEFAULT_WARMUP = 5
DEFAULT_REPEATS = 10

_BATCH_FIX = "give positive integers, e.g. 1,32,256"
_DTYPE_FIX = f"use one or more of {', '.join(DTYPES)}"


def parse_batches(text: str, where: str = "batches") -> tuple[int, ...]:
    """``"1,32,256"`` -> (1, 32, 256); every batch a positive integer."""
    fix = "give positive integers separated by commas, e.g. 1,32,256"
    batches = []
    for part in (p.strip() for p in str(text).split(",")):
        try:
            value = int(part)
        except ValueError:
            raise CalcError(f"cannot read batch size {part!r}", where=where, fix=fix) from None
        if value <= 0:
            raise CalcError(f"batch size {value} must be at least 1", where=where, fix=fix)
        batches.append(value)
    return tuple(batches)


def parse_dtypes(text: str, where: str = "dtypes") -> tuple[str, ...]:
    """``"fp32,bf16"`` -> ("fp32", "bf16"); each one of :data:`roofline.DTYPES`."""
    dtypes = tuple(p.strip().lower() for p in str(text).split(","))
    for dtype in dtypes:
        if dtype not in DTYPES:
            raise CalcError(f"unknown data type {dtype!r}", where=where, fix=_DTYPE_FIX)
    return dtypes


@dataclass(frozen=True)
class Settings:
    """What to run: every batch x every dtype, in one layout and one mode; and how to time it
    (``warmup`` untimed calls, then ``repeats`` samples of ``iters`` calls each)."""

    device: str = "cuda"
    batches: tuple[int, ...] = (1,)
    dtypes: tuple[str, ...] = ("fp32",)
    channels_last: bool = False
    compile: bool = False
    cuda_graphs: bool = False
    iters: int | None = None  # None: chosen per module so that a sample lasts TARGET_SAMPLE_MS
    warmup: int = DEFAULT_WARMUP
    repeats: int = DEFAULT_REPEATS
    depth: str = "layer"
    layers: bool = True
    calibrate: bool = False

    def check(self) -> None:
        """Raise CalcError for a setting no run could use, naming the field (``settings.dtypes``)
        and the fix."""
        if self.device not in DEVICES:
            raise CalcError(f"unknown device {self.device!r}", where="settings.device",
                            fix=f"use {' or '.join(map(repr, DEVICES))}")
        if not self.batches:
            raise CalcError("no batch size given", where="settings.batches", fix=_BATCH_FIX)
        for batch in self.batches:
            if isinstance(batch, bool) or not isinstance(batch, int) or batch <= 0:
                raise CalcError(f"batch size {batch!r} must be a positive integer", where="settings.batches",
                                fix=_BATCH_FIX)
        if not self.dtypes:
            raise CalcError("no data type given", where="settings.dtypes", fix=_DTYPE_FIX)
        for dtype in self.dtypes:
            if dtype not in DTYPES:
                raise CalcError(f"unknown data type {dtype!r}", where="settings.dtypes", fix=_DTYPE_FIX)
        if self.device == "cpu" and "tf32" in self.dtypes:
            raise CalcError("tf32 is a CUDA tensor-core mode and has no meaning on the CPU", where="settings.dtypes",
                            fix="use fp32 on the CPU, or time on 'cuda'")
        if self.cuda_graphs and self.device != "cuda":
            raise CalcError("CUDA graphs need a CUDA device", where="settings.cuda_graphs",
                            fix="time on 'cuda', or without CUDA graphs")
        if self.cuda_graphs and self.compile:
            raise CalcError("torch.compile and CUDA graphs cannot be combined here", where="settings.cuda_graphs",
                            fix="time them in separate runs (torch.compile's mode='reduce-overhead' is its own use of "
                                "CUDA graphs)")
        for name, value, least in (("iters", self.iters, 1), ("warmup", self.warmup, 0), ("repeats", self.repeats, 1)):
            if value is None and name == "iters":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise CalcError(f"{value!r} must be an integer of at least {least}", where=f"settings.{name}")
        if self.depth not in DEPTHS:
            raise CalcError(f"unknown depth {self.depth!r}", where="settings.depth",
                            fix=f"use {' or '.join(map(repr, DEPTHS))}")
