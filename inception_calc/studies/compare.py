"""Side-by-side comparison of networks: rows aligned by name, differences against the first.

``compare(["googlenet", "googlenet:naive"])`` analyses each network at one input size and lines
their nodes up by name (a row, ``inception3a.branch2``, ``inception3a.branch2.1``); a node that one
network lacks is ``None`` there. Differences are the other network's value minus the first's;
relative differences divide by the first's value (none when it is 0 or absent). Computation only,
standard library only: :mod:`inception_calc.report.compare` renders it, :mod:`inception_calc.report.plot`
draws it. Errors name the parameter at fault (``specs``, ``input``, ``rows``, ``depth``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from inception_calc.core.engine import analyze
from inception_calc.core.errors import CalcError
from inception_calc.core.errors import quote
from inception_calc.core.inputs import input_size_parts
from inception_calc.core.sources import load_spec
from inception_calc.core.results import DEPTHS, Analysis, Cost, Sums

QUANTITIES = ("weights", "params", "macs", "activations")


@dataclass(frozen=True)
class Line:
    """One name across the networks: its level and each network's node (``None`` where absent)."""

    name: str
    level: str
    nodes: tuple[Cost | None, ...]
    leaf: bool  # no child of it is shown: the lines the ranking and the plot use


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
    lines: tuple[Line, ...]

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


def _value(node: Cost | None, quantity: str) -> int:
    return 0 if node is None else getattr(node, quantity)


def relative(base: int, delta: int) -> float | None:
    """delta / base, or None when the base is 0 (no relative change is defined)."""
    return delta / base if base else None


def merged_names(orders: list[list[str]]) -> list[str]:
    """Every name once, in the first network's order, each other name placed after the name that
    precedes it in its own network."""
    merged = list(orders[0])
    for order in orders[1:]:
        at = 0
        for name in order:
            if name in merged:
                at = merged.index(name) + 1
            else:
                merged.insert(at, name)
                at += 1
    return merged


def compare(specs: Sequence["str | Any"], input: "Any" = None, rows: Sequence[str] | None = None,
            depth: str = "layer") -> Comparison:
    """Analyse ``specs`` (at least two: names, ``name:variant``, paths or Networks) at ``input``
    and line their nodes up by name, down to ``depth``, over ``rows`` (default all main rows; one
    name alone is one row)."""
    specs = [specs] if isinstance(specs, str) else list(specs)
    if len(specs) < 2:
        raise CalcError(f"compare needs at least two networks, got {len(specs)}", where="specs",
                        fix="name two or more, e.g. compare googlenet googlenet:naive")
    if depth not in DEPTHS:
        raise CalcError(f"unknown depth {quote(depth)}", where="depth", fix=f"use one of {', '.join(DEPTHS)}")
    rows = (rows,) if isinstance(rows, str) else rows
    if rows is not None and not all(isinstance(r, str) for r in rows):
        raise CalcError(f"rows must be row names, got {quote(rows)}", where="rows",
                        fix="give a list of names, e.g. ['inception3a', 'inception3b']")
    networks = [load_spec(s) for s in specs]
    # one input for every network: the one given, else the first network's own, so that each
    # difference is one of structure, never of size (N and HxW keep each network's channels)
    size = networks[0].input if input is None else input_size_parts(input, "input")
    analyses = tuple(analyze(n, size) for n in networks)
    main = [[r.name for r in a.rows if not r.aux] for a in analyses]
    row_order = merged_names(main)
    wanted = tuple(dict.fromkeys(rows or ()))
    for name in wanted:
        if name not in row_order:
            raise CalcError(f"no row named {quote(name)} in any of the networks", where="rows",
                            fix=f"use one of: {', '.join(row_order)}")
    chosen = set(wanted or row_order)
    orders = [[n.name for r in a.rows if r.name in chosen and not r.aux for n in r.walk(depth)] for a in analyses]
    names = merged_names(orders)
    index = [{n.name: n for r in a.rows if not r.aux for n in r.walk(depth)} for a in analyses]
    lines = []
    for name in names:
        nodes = tuple(i.get(name) for i in index)
        level = next(n.level for n in nodes if n is not None)
        leaf = not any(other.startswith(name + ".") for other in names)
        lines.append(Line(name, level, nodes, leaf))
    return Comparison(analyses, depth, wanted or tuple(row_order), tuple(lines))
