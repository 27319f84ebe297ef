"""Whole-network totals over a range of square input sizes.

``sweep("googlenet", sizes_in("96:512:32"))`` analyses the network at 3 x N x N for each N; a size
at which the network does not fit (too small, or branches that cannot be concatenated) is skipped
with the reason. The smallest input the network accepts is always found
(:func:`~inception_calc.core.engine.smallest_input`). Computation only, standard library only:
:mod:`inception_calc.report.sweep` renders it, :mod:`inception_calc.report.plot` draws it. Errors
name the parameter at fault (``sizes``, ``rf``). ``sweep(..., rf="inception3a")`` follows one node's
receptive field (:mod:`inception_calc.core.receptive`) across the sizes.
"""

from __future__ import annotations

import re
from itertools import islice
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from inception_calc.core.engine import analyze, fits, smallest_input
from inception_calc.core.errors import CalcError, did_you_mean
from inception_calc.core.errors import quote as quoted
from inception_calc.core.sources import load_spec
from inception_calc.core.results import Sums
from inception_calc.core.network import MAX_SIZE, Network, named_nodes
from inception_calc.core.receptive import ReceptiveField

MAX_SIZES = 2000
MAX_WORK = 700_000
"""The most node analyses (sizes x (rows + layers)) one sweep makes, each some microseconds: 2,000
sizes of inception-resnet-v2 (54 rows, 252 layers) are 612,000, about 2 s; a network of 10,000
one-layer rows gets 35 sizes."""
_NUMBER = re.compile(r"\s*-?\d+\s*")  # what int() reads, less '_' and '+'


def sizes_in(text: str) -> tuple[int, ...]:
    """``START:STOP:STEP`` as START, START + STEP, ... up to STOP, STOP included when it lands on
    the step (``96:512:32`` gives 96, 128, ..., 512; ``96:500:32`` ends at 480); ``START:STOP``
    steps by 1; a single ``N`` is one size."""
    fix = "write START:STOP:STEP with positive integers, e.g. 96:512:32"
    parts = str(text).split(":")
    if any(c in str(text).lower() for c in "x×,") and len(parts) == 1:
        raise CalcError(f"sweep takes square sizes N (C x N x N), not {quoted(text)}", where="sizes",
                        fix="write N or START:STOP:STEP, e.g. 96:512:32; for one non-square input use "
                            "'inception-calc report --input HxW'")
    if not all(_NUMBER.fullmatch(p) for p in parts):
        raise CalcError(f"cannot read the size range {quoted(text)}", where="sizes", fix=fix)
    if any(len(p.strip()) > 19 for p in parts):  # 2^63 - 1 has 19 digits
        raise CalcError(f"{quoted(text)}: a size is more than 2^63 - 1", where="sizes", fix=fix)
    numbers = [int(p) for p in parts]
    if len(numbers) == 1:
        numbers = [numbers[0], numbers[0], 1]
    elif len(numbers) == 2:
        numbers.append(1)
    if len(numbers) != 3:
        raise CalcError(f"cannot read the size range {quoted(text)}", where="sizes", fix=fix)
    start, stop, step = numbers
    if start < 1 or step < 1:
        raise CalcError(f"START and STEP must be positive, got {quoted(text)}", where="sizes", fix=fix)
    if max(numbers) > MAX_SIZE:
        raise CalcError(f"{quoted(text)}: a size is more than 2^63 - 1", where="sizes", fix=fix)
    if stop < start:
        raise CalcError(f"STOP {stop} is below START {start}", where="sizes", fix=fix)
    count = (stop - start) // step + 1
    if count > MAX_SIZES:
        raise CalcError(f"{quoted(text)} gives {count} sizes, more than {MAX_SIZES}", where="sizes",
                        fix="use a larger step")
    return tuple(range(start, stop + 1, step))


@dataclass(frozen=True)
class Point:
    """One input size: the inference totals, or why the size was skipped; ``field``: the receptive
    field of the node the sweep follows (``Sweep.rf``), None when it follows none or the node is
    not in the analysis at this size (an auxiliary head left out)."""

    size: int
    totals: Sums | None
    skipped: str = ""
    field: "ReceptiveField | None" = None
    counted: int | None = None  # the inference total under Sweep.convention (None without one)


TOO_SMALL = "too small"  # a Point's reason when the network does not fit the size at all


@dataclass(frozen=True)
class Sweep:
    """One network's inference totals at each size asked for, in order, and its smallest input."""

    spec: str
    channels: int
    points: tuple[Point, ...]
    smallest: int | None  # the least N with a C x N x N input accepted (None: none found, engine.smallest_input)
    rf: str = ""  # the row (or branch, layer) whose receptive field each point carries; "" for none
    convention: str = ""  # the convention each point's ``counted`` follows (core/conventions.py); "" for none

    @property
    def measured(self) -> tuple[Point, ...]:
        return tuple(p for p in self.points if p.totals is not None)

    @property
    def too_small(self) -> tuple[int, ...]:
        """The sizes skipped because the network does not fit them."""
        return tuple(p.size for p in self.points if p.skipped == TOO_SMALL)

    @property
    def refused(self) -> tuple[Point, ...]:
        """The sizes skipped for another reason (branches that cannot be concatenated), with it."""
        return tuple(p for p in self.points if p.skipped and p.skipped != TOO_SMALL)

    @property
    def weights_vary(self) -> bool:
        """Whether the weights differ between sizes (a fixed-window pool before a linear layer)."""
        return len({p.totals.weights for p in self.measured if p.totals}) > 1


def _checked_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    """``sizes`` as a tuple, each a positive integer of at most 2^63 - 1, at most MAX_SIZES of them."""
    if isinstance(sizes, (str, bytes)):
        raise CalcError(f"sizes must be integers, got the text {quoted(sizes)}", where="sizes",
                        fix="give a list of sizes, or read a range with sizes_in('96:512:32')")
    sizes = tuple(islice(sizes, MAX_SIZES + 1))  # a range of a billion sizes is refused, not built
    bad = [n for n in sizes if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_SIZE]
    if bad:
        raise CalcError(f"a size must be a positive integer of at most 2^63 - 1, got {quoted(bad[0])}",
                        where="sizes", fix="give square sizes N, e.g. range(96, 513, 32)")
    if len(sizes) > MAX_SIZES:
        raise CalcError(f"more than {MAX_SIZES} sizes", where="sizes", fix="use a larger step")
    return sizes


def _checked_node(network: Network, name: str) -> None:
    """Refuse ``name`` unless it is a row, branch, block or layer of ``network``."""
    rows = [r.name for r in network.rows]
    if name in rows or any(name in named_nodes(r) for r in network.rows if name.startswith(r.name + ".")):
        return
    hint = did_you_mean(name, rows)
    raise CalcError(f"no row, branch or layer {quoted(name)} in {network.name}", where="rf",
                    fix=f"{hint}use one of: {', '.join(rows)} (or a dotted branch or layer name)")


def sweep(spec: Any, sizes: Sequence[int], rf: str | None = None, convention: str | None = None,
          progress: Callable[[str], None] | None = None) -> Sweep:
    """Totals of ``spec`` at each C x N x N input, N in ``sizes`` (C: the spec's own channels);
    with ``rf`` (a row, branch or layer name) each point carries that node's receptive field; with
    ``convention`` (:data:`inception_calc.core.conventions.CONVENTIONS`) its total under it.
    ``progress``, when given, is told each size before it is analysed (text: "size 224, 3 of 10")."""
    from inception_calc.core import conventions

    if convention is not None:
        conventions.convention(convention)  # an unknown name is refused before any work
    sizes = _checked_sizes(sizes)
    network = load_spec(spec)
    if rf is not None:
        _checked_node(network, rf)
    nodes = len(network.rows) + sum(1 for row in network.rows for _ in row.named_layers())
    if len(sizes) * nodes > MAX_WORK:
        raise CalcError(f"{len(sizes):,} sizes of {network.name}'s {nodes:,} rows and layers are "
                        f"{len(sizes) * nodes:,} analyses, more than {MAX_WORK:,}", where="sizes",
                        fix=f"give at most {max(1, MAX_WORK // nodes):,} sizes (a larger step or a shorter range)")
    say = progress or (lambda text: None)
    channels = network.input[0]
    say("finding the smallest input")
    smallest = smallest_input(network, channels)
    points = []
    for i, n in enumerate(sizes, start=1):
        say(f"size {n}, {i:,} of {len(sizes):,}")
        shape = (channels, n, n)
        try:
            if not fits(network, shape):
                points.append(Point(n, None, TOO_SMALL))
                continue
            analysis = analyze(network, shape)
            field = analysis.receptive_fields.get(rf) if rf is not None else None
        except CalcError as exc:
            points.append(Point(n, None, exc.what))
            continue
        counted = conventions.count(analysis, convention).total if convention is not None else None
        points.append(Point(n, analysis.totals.inference, field=field, counted=counted))
    ran = [p.size for p in points if p.totals is not None]
    if ran and (smallest is None or min(ran) < smallest):  # the search tries a bounded range; the table is the truth
        smallest = min(ran)
    if not any(p.totals is not None for p in points):
        why = "every size is too small" if all(p.skipped == TOO_SMALL for p in points) else "no size fits"
        least = f"the smallest input {network.name} accepts is {channels}x{smallest}x{smallest}" if smallest \
            else f"{network.name} accepts no square input the search tried"
        raise CalcError(f"{why} for {network.name} ({', '.join(str(p.size) for p in points)}); {least}",
                        where="sizes", fix=f"start the range at {smallest} or above" if smallest
                        else "give sizes the network accepts")
    return Sweep(network.name, channels, tuple(points), smallest, rf or "", convention or "")
