"""Whole-network totals over a range of square input sizes.

``sweep("googlenet", sizes_in("96:512:32"))`` analyses the network at 3 x N x N for each N; a size
at which the network does not fit (too small, or branches that cannot be concatenated) is skipped
with the reason. The smallest input the network accepts is always stated
(:func:`~inception_calc.core.engine.smallest_input`). Standard library only.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Any, Sequence

from inception_calc.core.engine import analyze, fits, smallest_input
from inception_calc.core.errors import CalcError
from inception_calc.core.errors import quote as quoted
from inception_calc.core.sources import load_spec
from inception_calc.core.values import grouped
from inception_calc.core.results import CONVENTION, Sums
from inception_calc.core.network import MAX_SIZE

FORMATS = ("table", "markdown", "csv", "json")
MAX_SIZES = 2000
_NUMBER = re.compile(r"\s*-?\d+\s*")  # what int() reads, less '_' and '+'


def sizes_in(text: str) -> tuple[int, ...]:
    """``START:STOP:STEP`` as START, START + STEP, ... up to STOP, STOP included when it lands on
    the step (``96:512:32`` gives 96, 128, ..., 512; ``96:500:32`` ends at 480); ``START:STOP``
    steps by 1; a single ``N`` is one size."""
    fix = "write START:STOP:STEP with positive integers, e.g. 96:512:32"
    parts = str(text).split(":")
    if any(c in str(text).lower() for c in "x×,") and len(parts) == 1:
        raise CalcError(f"sweep takes square sizes N (C x N x N), not {quoted(text)}", where="--input",
                        fix="write N or START:STOP:STEP, e.g. 96:512:32; for one non-square input use "
                            "'inception-calc report --input HxW'")
    if not all(_NUMBER.fullmatch(p) for p in parts):
        raise CalcError(f"cannot read the size range {quoted(text)}", where="--input", fix=fix)
    if any(len(p.strip()) > 19 for p in parts):  # 2^63 - 1 has 19 digits
        raise CalcError(f"{quoted(text)}: a size is more than 2^63 - 1", where="--input", fix=fix)
    numbers = [int(p) for p in parts]
    if len(numbers) == 1:
        numbers = [numbers[0], numbers[0], 1]
    elif len(numbers) == 2:
        numbers.append(1)
    if len(numbers) != 3:
        raise CalcError(f"cannot read the size range {quoted(text)}", where="--input", fix=fix)
    start, stop, step = numbers
    if start < 1 or step < 1:
        raise CalcError(f"START and STEP must be positive, got {quoted(text)}", where="--input", fix=fix)
    if max(numbers) > MAX_SIZE:
        raise CalcError(f"{quoted(text)}: a size is more than 2^63 - 1", where="--input", fix=fix)
    if stop < start:
        raise CalcError(f"STOP {stop} is below START {start}", where="--input", fix=fix)
    count = (stop - start) // step + 1
    if count > MAX_SIZES:
        raise CalcError(f"{quoted(text)} gives {count} sizes, more than {MAX_SIZES}", where="--input",
                        fix="use a larger step")
    return tuple(range(start, stop + 1, step))


@dataclass(frozen=True)
class Point:
    """One input size: the inference totals, or why the size was skipped."""

    size: int
    totals: Sums | None
    skipped: str = ""


@dataclass(frozen=True)
class Sweep:
    spec: str
    channels: int
    points: tuple[Point, ...]
    smallest: int | None  # the least N with a C x N x N input accepted (None: none up to 65536)

    @property
    def measured(self) -> tuple[Point, ...]:
        return tuple(p for p in self.points if p.totals is not None)

    def notes(self) -> list[str]:
        c, n = self.channels, self.smallest
        lines = [f"smallest input {self.spec} accepts: {c}x{n}x{n}" if n else
                 f"{self.spec} accepts no square input up to 65536"]
        small = [p.size for p in self.points if p.skipped == "too small"]
        if small:
            lines.append(f"skipped, too small: {_sizes(small)}")
        for p in self.points:
            if p.skipped and p.skipped != "too small":
                lines.append(f"skipped {c}x{p.size}x{p.size}: {p.skipped}")
        weights = {p.totals.weights for p in self.measured if p.totals}
        if len(weights) > 1:
            lines.append("weights change with the input size: a fixed-window pool before a linear layer "
                         "hands it a larger map at larger inputs")
        return lines


def _sizes(sizes: list[int]) -> str:
    return ", ".join(map(str, sizes)) if len(sizes) <= 8 else f"{sizes[0]} to {sizes[-1]} ({len(sizes)} sizes)"


def sweep(spec: Any, sizes: Sequence[int]) -> Sweep:
    """Totals of ``spec`` at each C x N x N input, N in ``sizes`` (C: the spec's own channels)."""
    network = load_spec(spec)
    channels = network.input[0]
    smallest = smallest_input(network, channels)
    points = []
    for n in sizes:
        shape = (channels, n, n)
        try:
            if not fits(network, shape):
                points.append(Point(n, None, "too small"))
                continue
            points.append(Point(n, analyze(network, shape).totals.inference))
        except CalcError as exc:
            points.append(Point(n, None, exc.what))
    return Sweep(network.name, channels, tuple(points), smallest)


HEADERS = ("input", "weights", "params", "MACs", "activations")


def _cells(result: Sweep) -> list[list[str]]:
    c = result.channels
    return [[f"{c}x{p.size}x{p.size}", grouped(p.totals.weights), grouped(p.totals.params), grouped(p.totals.macs),
             grouped(p.totals.activations)] for p in result.measured if p.totals]


def _head(result: Sweep) -> str:
    return f"{result.spec}: inference totals by input size"


def to_table(result: Sweep) -> str:
    cells = _cells(result)
    widths = [max(len(r[i]) for r in [list(HEADERS), *cells]) for i in range(len(HEADERS))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))

    rule = "-" * len(line(["-" * w for w in widths]))
    return "\n".join([_head(result), f"convention: {CONVENTION}", "", line(HEADERS), rule, *map(line, cells), "",
                      *result.notes()]) + "\n"


def to_markdown(result: Sweep) -> str:
    align = "| --- | " + " | ".join("---:" for _ in HEADERS[1:]) + " |"
    rows = ["| " + " | ".join(r) + " |" for r in _cells(result)]
    return "\n".join([f"**{_head(result)}**", "", f"_convention: {CONVENTION}_", "",
                      "| " + " | ".join(HEADERS) + " |", align, *rows, "",
                      *(f"- {n}" for n in result.notes())]) + "\n"


def to_csv(result: Sweep) -> str:
    """One line per size: exact integers, or empty counts and the reason for a skipped size."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("size", "channels", "weights", "biases", "bn", "params", "macs", "flops", "activations",
                     "skipped"))
    for p in result.points:
        t = p.totals
        values = [t.weights, t.biases, t.bn, t.params, t.macs, t.flops, t.activations] if t else [""] * 7
        writer.writerow([p.size, result.channels, *values, p.skipped])
    return out.getvalue()


def to_dict(result: Sweep) -> dict[str, Any]:
    return {
        "spec": result.spec,
        "channels": result.channels,
        "smallest_input": result.smallest,
        "convention": CONVENTION,
        "points": [{"size": p.size, **({"totals": p.totals.to_dict()} if p.totals else {"skipped": p.skipped})}
                   for p in result.points],
        "notes": result.notes(),
    }


def to_json(result: Sweep) -> str:
    return json.dumps(to_dict(result), indent=2) + "\n"


RENDERERS = {"table": to_table, "markdown": to_markdown, "csv": to_csv, "json": to_json}


def render(result: Sweep, fmt: str = "table") -> str:
    return RENDERERS[fmt](result)
