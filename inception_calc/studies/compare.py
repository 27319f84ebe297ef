"""Side-by-side comparison of networks: rows aligned by name, differences against the first; or,
for networks whose rows do not share names, stage by stage.

``compare(["googlenet", "googlenet:naive"])`` analyses each network at one input size and lines
their nodes up by name (a row, ``inception3a.branch2``, ``inception3a.branch2.1``); a node that one
network lacks is ``None`` there. Differences are the other network's value minus the first's;
relative differences divide by the first's value (none when it is 0 or absent).

``compare(["googlenet", "inception-v3"], by="stage")`` groups each network's main rows into
**stages**, as the papers do (Inception-v3's 35x35, 17x17 and 8x8 modules): a stage is a run of
consecutive main rows whose outputs have one grid (H x W), named by that grid (``"35x35"``; a grid
met again after another one is ``"35x35 (2)"``). Stages are lined up across the networks by that
name, largest grid first, when every network runs at one input size (``alignment == "grid"``),
else by their output stride (``"stride"``: input size / grid, to the nearest power of two, as the
papers speak of a "stride 8" stage; GoogLeNet's 28x28 at 224 beside Inception-v3's 35x35 at 299),
each stage keeping its own grid. Each stage's sums are :meth:`Sums.of` its rows, so the stages of a network
add up to its inference totals. ``by=None`` chooses: ``"name"`` when the networks share their row names (at
least half of the main rows of the network with fewest are named alike in every network, see
:func:`shared_row_names`), else ``"stage"``. ``input="own"`` analyses each network at its own
input size (the name join refuses it when those differ: its differences are of structure only).

Computation only, standard library only: :mod:`inception_calc.report.compare` renders it,
:mod:`inception_calc.report.plot` draws it. Errors name the parameter at fault (``specs``,
``input``, ``rows``, ``depth``, ``by``).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from inception_calc.core.engine import analyze
from inception_calc.core.errors import CalcError
from inception_calc.core.errors import quote
from inception_calc.core.inputs import input_size_parts
from inception_calc.core.sources import load_spec
from inception_calc.core.results import DEPTHS, Analysis, Cost, Sums

QUANTITIES = ("weights", "params", "macs", "activations")
BY = ("name", "stage")
OWN_INPUT = "own"  # input="own": each network at its own input size
SHARED_ENOUGH = 0.5  # by=None compares by name when at least this share of rows is named alike


@dataclass(frozen=True)
class Stage:
    """A run of consecutive main rows of one network whose outputs have one grid (H x W)."""

    name: str  # "35x35"; "35x35 (2)" for a grid met again after another
    grid: tuple[int, int]  # H, W of every row's output
    index: int  # its place among the network's stages, from 1
    rows: tuple[Cost, ...]
    sums: Sums  # Sums.of(rows)

    @property
    def first(self) -> str:
        return self.rows[0].name

    @property
    def last(self) -> str:
        return self.rows[-1].name

    @property
    def macs_per_param(self) -> float | None:
        return macs_per_param(self.sums)


@dataclass(frozen=True)
class StageLine:
    """One stage across the networks: its name (the grid, or ``stride N`` when lined up by stride)
    and each network's stage (``None`` where a network has none)."""

    name: str
    stages: tuple[Stage | None, ...]


@dataclass(frozen=True)
class Line:
    """One name across the networks: its level and each network's node (``None`` where absent)."""

    name: str
    level: str
    nodes: tuple[Cost | None, ...]
    leaf: bool  # no child of it is shown: the lines the ranking and the plot use
    depth: int = 0  # its depth in the Cost tree (a row 0, its branches 1, ...): its indentation, whatever its dots


@dataclass(frozen=True)
class Change:
    """How much one line changes in one network against the first."""

    name: str
    network: int
    macs: int
    weights: int
    relative_macs: float | None


@dataclass(frozen=True)
class Comparison:
    """Networks analysed at one input: their analyses (the first is the base), the depth and rows
    shown, and one :class:`Line` per name, in the merged order of the networks."""

    analyses: tuple[Analysis, ...]
    depth: str
    rows: tuple[str, ...]  # the rows asked for; every main row when none were
    lines: tuple[Line, ...]  # by name; none by stage
    by: str = "name"
    alignment: str = ""  # by stage: "grid" (one input size) or "stride" (the inputs differ)
    stage_lines: tuple[StageLine, ...] = ()  # by stage
    shared: tuple[int, int] = (0, 0)  # row names every network has, main rows of the network with fewest

    @property
    def inputs(self) -> tuple[tuple[int, int, int], ...]:
        """Each network's input (C, H, W): one size for all, unless ``input="own"`` was asked."""
        return tuple(a.input for a in self.analyses)

    @property
    def one_input(self) -> bool:
        return len({i[1:] for i in self.inputs}) == 1

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(a.spec for a in self.analyses)

    @property
    def every_row(self) -> tuple[str, ...]:
        """Every main row of the networks, merged in order (see :func:`merged_names`)."""
        return tuple(merged_names([[r.name for r in a.rows if not r.aux] for a in self.analyses]))

    @property
    def is_subset(self) -> bool:
        """Whether only some rows were asked for (then :meth:`shown_totals` differ from :meth:`totals`)."""
        return self.rows != self.every_row

    def totals(self) -> tuple[Sums, ...]:
        """Each network's inference totals (main rows, auxiliary heads left out)."""
        return tuple(a.totals.inference for a in self.analyses)

    def shown_totals(self) -> tuple[Sums, ...]:
        """Each network's sums over the rows asked for (equal to :meth:`totals` without ``rows``)."""
        return tuple(Sums.of([r for r in a.rows if r.name in self.rows]) for a in self.analyses)

    def stages(self, network: int) -> tuple[Stage, ...]:
        """``network``'s stages, in its order (by stage; empty by name)."""
        return tuple(st for line in self.stage_lines if (st := line.stages[network]) is not None)

    def most_changed(self, network: int, top: int = 5) -> tuple[Change, ...]:
        """The leaf lines whose MACs (then weights) change most in ``network`` against the first."""
        changes = []
        for line in self.lines:
            if not line.leaf:
                continue
            first, other = line.nodes[0], line.nodes[network]
            dm = _value(other, "macs") - _value(first, "macs")
            dw = _value(other, "weights") - _value(first, "weights")
            if dm or dw or (first is None) != (other is None):
                changes.append(Change(line.name, network, dm, dw, relative(_value(first, "macs"), dm)))
        changes.sort(key=lambda c: (-abs(c.macs), -abs(c.weights)))
        return tuple(changes[:top])


def _with_depth(node: Cost, depth: str, level: int = 0):
    """``node.walk(depth)`` as (node, its depth in the tree, whether a child of it is shown)."""
    limit = DEPTHS.index(depth)
    shown = [c for c in node.children if DEPTHS.index(c.level) <= limit]
    yield node, level, bool(shown)
    for child in shown:
        yield from _with_depth(child, depth, level + 1)


def _value(node: Cost | None, quantity: str) -> int:
    return 0 if node is None else getattr(node, quantity)


def macs_per_param(sums: "Sums | Cost") -> float | None:
    """MACs / params: the multiply-accumulates each parameter takes part in per image (none without params)."""
    return sums.macs / sums.params if sums.params else None


def stages_of(analysis: Analysis) -> tuple[Stage, ...]:
    """The main rows of ``analysis`` (auxiliary heads left out) in runs of one output grid (H x W), in order."""
    runs: list[list[Cost]] = []
    for row in analysis.rows:
        if row.aux:
            continue
        if runs and runs[-1][-1].out_shape[1:] == row.out_shape[1:]:
            runs[-1].append(row)
        else:
            runs.append([row])
    stages, seen = [], Counter[tuple[int, int]]()
    for index, run in enumerate(runs, 1):
        grid = (run[0].out_shape[1], run[0].out_shape[2])
        seen[grid] += 1
        name = f"{grid[0]}x{grid[1]}" + (f" ({seen[grid]})" if seen[grid] > 1 else "")
        stages.append(Stage(name, grid, index, tuple(run), Sums.of(run)))
    return tuple(stages)


def shared_row_names(analyses: Sequence[Analysis]) -> tuple[int, int]:
    """(how many main-row names every network has, how many main rows the network with fewest has)."""
    names = [[r.name for r in a.rows if not r.aux] for a in analyses]
    common = set(names[0]).intersection(*names[1:])
    return len(common), min(len(n) for n in names)


def line_stages(analyses: Sequence[Analysis]) -> tuple[str, tuple[StageLine, ...]]:
    """The alignment (``grid`` when every network runs at one H x W, else ``stride``) and the stage lines:
    by grid, the largest grid first (a grid met again, ``8x8 (2)``, after the first of its size); by
    stride, ``stride 2``, ``stride 4``, ... ``global`` (:func:`output_stride`)."""
    per_network = [stages_of(a) for a in analyses]
    if len({a.input[1:] for a in analyses}) == 1:
        keyed = [{st.name: st for st in stages} for stages in per_network]
        grids = {st.name: st.grid for stages in per_network for st in stages}
        names = merged_names([[st.name for st in stages] for stages in per_network])
        names.sort(key=lambda name: -grids[name][0] * grids[name][1])  # largest grid first; stable for a tie
        return "grid", tuple(StageLine(name, tuple(k.get(name) for k in keyed)) for name in names)
    return "stride", _by_stride(analyses, per_network)


def output_stride(input_hw: tuple[int, int], grid: tuple[int, int]) -> tuple[float, str]:
    """How much a grid is downsampled from the input, as the papers' "stride 8" stages: the power of
    two nearest input / grid on each axis; a 1x1 grid is the global pool. (sort key, label)."""
    if grid == (1, 1) and input_hw != (1, 1):
        return float("inf"), "global"
    exponents = [round(math.log2(size / g)) for size, g in zip(input_hw, grid)]

    def text(e: int) -> str:
        return str(2 ** e) if e >= 0 else f"1/{2 ** -e}"

    label = text(exponents[0]) if exponents[0] == exponents[1] else f"{text(exponents[0])}x{text(exponents[1])}"
    return (exponents[0] + exponents[1]) / 2, f"stride {label}"


def _by_stride(analyses: Sequence[Analysis], per_network: list[tuple[Stage, ...]]) -> tuple[StageLine, ...]:
    """Stages lined up by output stride (networks at different input sizes): GoogLeNet's 28x28 at 224
    beside Inception-v3's 35x35 at 299, both stride 8. A network's consecutive stages of one stride
    (Inception-v3's 149x149 and 147x147, both stride 2) are one stage of the line; a stride met again
    after another is ``stride 4 (2)``. Lines follow each network's order (:func:`merged_names`)."""
    keyed: list[dict[str, Stage]] = []
    orders: list[list[str]] = []
    for analysis, stages in zip(analyses, per_network):
        groups: list[tuple[str, list[Stage]]] = []
        seen = Counter[str]()
        for stage in stages:
            label = output_stride(analysis.input[1:], stage.grid)[1]
            if groups and groups[-1][0].split(" (")[0] == label:
                groups[-1][1].append(stage)
                continue
            seen[label] += 1
            groups.append((label + (f" ({seen[label]})" if seen[label] > 1 else ""), [stage]))
        keyed.append({label: group[0] if len(group) == 1 else _merged(group) for label, group in groups})
        orders.append([label for label, _ in groups])
    return tuple(StageLine(label, tuple(k.get(label) for k in keyed)) for label in merged_names(orders))


def _merged(stages: list[Stage]) -> Stage:
    rows = tuple(row for stage in stages for row in stage.rows)
    return Stage(" + ".join(stage.name for stage in stages), stages[-1].grid, stages[0].index, rows, Sums.of(rows))


def relative(base: int, delta: int) -> float | None:
    """delta / base, or None when the base is 0 (no relative change is defined)."""
    return delta / base if base else None


def merged_names(orders: list[list[str]]) -> list[str]:
    """Every name once, in the first network's order, each other name placed after the name that
    precedes it in its own network (a new name first in its network goes first). A linked list
    keeps this linear in the names (a list's index and insert made 10,000 rows take seconds)."""
    head = object()
    following: dict[object, object] = {head: None}  # each name -> the name after it in the merged order
    last: object = head
    for name in orders[0]:
        if name not in following:
            following[last] = name
            following[name] = None
            last = name
    for order in orders[1:]:
        at = head
        for name in order:
            if name not in following:
                following[name] = following[at]
                following[at] = name
            at = name
    merged: list[str] = []
    node = following[head]
    while node is not None:
        merged.append(node)  # type: ignore[arg-type]
        node = following[node]
    return merged


def compare(specs: Sequence["str | Any"], input: "Any" = None, rows: Sequence[str] | None = None,
            depth: str = "layer", by: str | None = None, progress: Callable[[str], None] | None = None) -> Comparison:
    """Analyse ``specs`` (at least two: names, ``name:variant``, paths or Networks) at ``input``
    (default the first network's own; ``"own"``: each network at its own) and line them up
    ``by`` name (their nodes down to ``depth``, over ``rows``: default all main rows; one name alone
    is one row) or by stage (every main row); ``by=None`` chooses name when the networks share
    their row names or when ``rows`` or a ``depth`` below rows is given, else stage (see the module's
    docstring). ``progress``, when given, is told each network before it is read and analysed."""
    specs = [specs] if isinstance(specs, str) else list(specs)
    if len(specs) < 2:
        raise CalcError(f"compare needs at least two networks, got {len(specs)}", where="specs",
                        fix="name two or more, e.g. compare googlenet googlenet:naive")
    if depth not in DEPTHS:
        raise CalcError(f"unknown depth {quote(depth)}", where="depth", fix=f"use one of {', '.join(DEPTHS)}")
    if by is not None and by not in BY:
        raise CalcError(f"unknown comparison {quote(by)}", where="by",
                        fix=f"use one of {', '.join(BY)}, or None to choose by the row names")
    rows = (rows,) if isinstance(rows, str) else rows
    if rows is not None and not all(isinstance(r, str) for r in rows):
        raise CalcError(f"rows must be row names, got {quote(rows)}", where="rows",
                        fix="give a list of names, e.g. ['inception3a', 'inception3b']")
    say = progress or (lambda text: None)
    loaded: dict[str, Any] = {}  # a source named twice (compare a.toml a.toml) is read once
    networks = []
    for i, source in enumerate(specs, start=1):
        say(f"reading network {i} of {len(specs)}")
        if not isinstance(source, str):
            networks.append(load_spec(source))
        else:
            networks.append(loaded[source] if source in loaded else loaded.setdefault(source, load_spec(source)))
    # one input for every network: the one given, else the first network's own, so that each
    # difference is one of structure, never of size (N and HxW keep each network's channels); "own": each its own
    own = isinstance(input, str) and input.strip().lower() == OWN_INPUT
    size = None if own else networks[0].input if input is None else input_size_parts(input, "input")
    done: dict[int, Analysis] = {}  # and one network given twice is analysed once (an Analysis is frozen)
    for i, network in enumerate(networks, start=1):
        say(f"analysing network {i} of {len(networks)}")
        if id(network) not in done:
            done[id(network)] = analyze(network, size)
    analyses = tuple(done[id(n)] for n in networks)
    shared = shared_row_names(analyses)
    why = ""
    if by is None:  # rows or a depth are a name comparison's options: asking for them chooses it
        named = rows is not None or depth != "layer" or shared[0] >= SHARED_ENOUGH * shared[1]
        by = "name" if named else "stage"
        why = f" (chosen: the networks share {shared[0]} of {shared[1]} row names)" if by == "stage" else ""
    main = [[r.name for r in a.rows if not r.aux] for a in analyses]
    row_order = merged_names(main)
    if by == "stage":
        return _by_stage(analyses, rows, depth, shared, tuple(row_order), why)
    if len({a.input[1:] for a in analyses}) > 1:
        sizes = ", ".join(f"{a.spec} {'x'.join(map(str, a.input))}" for a in analyses)
        raise CalcError(f"the networks' own inputs differ ({sizes}); a comparison by name needs one size",
                        where="input", fix="give one size (e.g. 299), or compare by stage")
    wanted = tuple(dict.fromkeys(rows or ()))
    for name in wanted:
        if name not in row_order:
            raise CalcError(f"no row named {quote(name)} in any of the networks", where="rows",
                            fix=f"use one of: {', '.join(row_order)}")
    chosen = set(wanted or row_order)
    orders = [[n.name for r in a.rows if r.name in chosen and not r.aux for n in r.walk(depth)] for a in analyses]
    names = merged_names(orders)
    index = [{n.name: n for r in a.rows if not r.aux for n in r.walk(depth)} for a in analyses]
    # the tree, not the dots, says what is below what: row names may be dotted (features.6) and a branch
    # that is no module puts its layers' names at the enclosing level (repeat.0.residual holds repeat.0.conv2d)
    depths: dict[str, int] = {}
    parents: set[str] = set()
    for a in analyses:
        for r in a.rows:
            if not r.aux:
                for node, level, shown in _with_depth(r, depth):
                    depths.setdefault(node.name, level)
                    if shown:
                        parents.add(node.name)
    lines = []
    for name in names:
        nodes = tuple(i.get(name) for i in index)
        level = next(n.level for n in nodes if n is not None)
        lines.append(Line(name, level, nodes, name not in parents, depths.get(name, 0)))
    return Comparison(analyses, depth, wanted or tuple(row_order), tuple(lines), shared=shared)


def _by_stage(analyses: tuple[Analysis, ...], rows: Sequence[str] | None, depth: str, shared: tuple[int, int],
              row_order: tuple[str, ...], why: str) -> Comparison:
    if rows:
        raise CalcError(f"rows {quote(list(rows))} cannot be chosen when comparing by stage{why}: a stage holds "
                        "every main row of its grid", where="rows", fix="leave rows out, or compare by name")
    if depth != "layer":
        raise CalcError(f"depth {quote(depth)} applies to a comparison by name, not by stage{why}: stages are made "
                        "of rows", where="depth", fix="leave depth at 'layer', or compare by name")
    alignment, stage_lines = line_stages(analyses)
    return Comparison(analyses, depth, row_order, (), by="stage", alignment=alignment, stage_lines=stage_lines,
                      shared=shared)
