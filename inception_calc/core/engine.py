"""The analytic engine: walk a network at one input size and cost every node in closed form.

Standard library only. Each primitive layer is costed by its kind's definition
(:mod:`inception_calc.core.kinds`): it takes the layer and its input shape and returns its output
shape and counts, calling the pure functions of :mod:`inception_calc.core.formulas`. Rows, branches
and totals are sums.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from inception_calc.core import formulas as f
from inception_calc.core.errors import CalcError
from inception_calc.core.results import Analysis, Cost, Shape, Sums, Totals, make_cost
from inception_calc.core.kinds import KINDS, Layer, WindowTooLarge
from inception_calc.core.kinds.base import Counts
from inception_calc.core.inputs import parse_input
from inception_calc.core.network import Branch, Network, Row
from inception_calc.core.sources import load_spec

_TooSmall = WindowTooLarge  # a window that does not fit its padded input; a CalcError by :func:`analyze`


@dataclass(frozen=True, slots=True)
class _Step:
    """One primitive layer of the walk, with its name, summary and handle worked out once."""

    layer: Layer
    name: str
    summary: str
    handle: Callable[[Layer, Shape], Counts]


@dataclass(frozen=True, slots=True)
class _PlannedRow:
    row: Row
    summary: str
    branches: tuple[tuple[str, str, tuple[_Step, ...]], ...]  # (dotted name, summary, steps)


def row_summary(row: Row) -> str:
    """A row's one-line description: its layer; its layers in order (``1x1 64 > 3x3 192``); or its
    branches side by side (``1x1 64 | 1x1 96 > 3x3 128 | ...``)."""
    if row.layout == "single":
        return row.branches[0].layers[0].summary
    return " | ".join(branch_summary(b) for b in row.branches)


def branch_summary(branch: Branch) -> str:
    return " > ".join(layer.short for layer in branch.layers)


def _plan_row(row: Row) -> _PlannedRow:
    branches = []
    for branch in row.branches:
        steps = tuple(_Step(layer, name, layer.summary, KINDS.of(layer).cost)
                      for layer, name in zip(branch.layers, row.layer_names(branch)))
        branches.append((f"{row.name}.{branch.name}", branch_summary(branch), steps))
    return _PlannedRow(row, row_summary(row), tuple(branches))


_PLANS: dict[int, tuple[Network, tuple[_PlannedRow, ...]]] = {}


def _plan(network: Network) -> tuple[_PlannedRow, ...]:
    """The network's rows with names, summaries and handles resolved: they do not depend on the
    input size, so a network is planned once and analysed at any size from its plan."""
    cached = _PLANS.get(id(network))
    if cached is None or cached[0] is not network:
        if len(_PLANS) >= 64:
            _PLANS.clear()
        cached = _PLANS[id(network)] = (network, tuple(_plan_row(row) for row in network.rows))
    return cached[1]


def _steps_cost(row: Row, steps: tuple[_Step, ...], shape: Shape, level: str) -> tuple[Shape, tuple[Cost, ...]]:
    costs = []
    aux = row.after is not None
    for step in steps:
        try:
            out, weights, biases, bn, macs = step.handle(step.layer, shape)
        except CalcError as exc:
            raise (exc if step.name == row.name else exc.located(f"layer '{step.name}'")) from None
        except _TooSmall as exc:
            where = "" if step.name == row.name else f", layer '{step.name}'"
            raise _TooSmall(f"{where} ({step.summary}): {exc}") from None
        costs.append(make_cost(step.name, step.layer.kind, step.summary, shape, out, weights, biases, bn, macs,
                          f.elements(*out), (), aux, level))
        shape = out
    return shape, tuple(costs)


def _sum_node(name: str, kind: str, summary: str, shape: Shape, out: Shape, children: tuple[Cost, ...],
              aux: bool, level: str) -> Cost:
    weights = biases = bn = macs = 0
    for c in children:
        weights += c.weights
        biases += c.biases
        bn += c.bn
        macs += c.macs
    return make_cost(name, kind, summary, shape, out, weights, biases, bn, macs,
                     f.elements(*out), children, aux, level)


def _row_cost(planned: _PlannedRow, shape: Shape, concat: bool = True) -> Cost:
    row = planned.row
    aux = row.after is not None
    layout = "single" if len(planned.branches) == 1 and len(planned.branches[0][2]) == 1 else row.layout
    if layout == "single":
        return _steps_cost(row, planned.branches[0][2], shape, "layer")[1][0]
    if layout == "sequence":
        out, layers = _steps_cost(row, planned.branches[0][2], shape, "conv")
        return _sum_node(row.name, row.kind, planned.summary, shape, out, layers, aux, "layer")
    branches = []
    for name, summary, steps in planned.branches:
        out, layers = _steps_cost(row, steps, shape, "conv")
        branches.append(_sum_node(name, "branch", summary, shape, out, layers, aux, "branch"))
    spatial = {b.out_shape[1:] for b in branches}
    if len(spatial) > 1 and concat:
        sizes = ", ".join(f"{b.name} {b.out_shape[1]}x{b.out_shape[2]}" for b in branches)
        raise CalcError(f"branches give maps of different sizes ({sizes}), which cannot be concatenated",
                        fix="give every branch the same stride, 'same' padding and the same rounding")
    out = (sum(b.out_shape[0] for b in branches), *branches[0].out_shape[1:])
    return _sum_node(row.name, row.kind, planned.summary, shape, out, tuple(branches), aux, "layer")


def _walk(network: Network, shape: Shape, concat: bool = True) -> tuple[Cost, ...]:
    """Every row's cost; with ``concat`` False, branches whose maps differ are let through (the
    first branch's size goes on), to ask whether the windows fit whatever the branches give."""
    outputs: dict[str, Shape] = {}
    rows = []
    for planned in _plan(network):
        row = planned.row
        in_shape = outputs[row.after] if row.after else shape
        try:
            cost = _row_cost(planned, in_shape, concat)
        except CalcError as exc:
            raise exc.located(f"row '{row.name}'") from None
        except _TooSmall as exc:
            raise _TooSmall(f"row '{row.name}'{exc}") from None
        rows.append(cost)
        outputs[row.name] = cost.out_shape
        if not row.after:
            shape = cost.out_shape
    return tuple(rows)


def fits(network: Network, shape: Shape) -> bool:
    """Whether every window of the network fits at this input size (whether or not its branches
    can be concatenated there): this only improves as the input grows."""
    try:
        _walk(network, shape, concat=False)
    except _TooSmall:
        return False
    return True


def _runs(network: Network, shape: Shape) -> bool:
    """Whether the network runs at this input size: every window fits, and every row's branches give
    maps of one size (strided branches can disagree on some map sizes)."""
    try:
        _walk(network, shape)
    except (_TooSmall, CalcError):
        return False
    return True


def smallest_input(network: Network, channels: int = 3, scan: int = 1024) -> int | None:
    """The least N for which the network runs on a channels x N x N input, or None.

    Whether every window fits only improves with N (output sizes never shrink as the input grows),
    so the least such N is found by bisection (up to 65536). Whether the branches of a row can be
    concatenated need not improve (a stride-3 conv beside a stride-3 pool agree only on some
    sizes), so from there the sizes are tried one by one, ``scan`` of them at most.
    """
    first = f.smallest_valid_size(lambda n: fits(network, (channels, n, n)), 1)
    if first is None:
        return None
    return next((n for n in range(first, first + scan) if _runs(network, (channels, n, n))), None)


def rounding_warnings(network: Network, rows: tuple[Cost, ...]) -> tuple[str, ...]:
    """The layers whose output size depends on their rounding rule at this input (pools)."""
    layers = named_layers(network)
    notes = []
    for row in rows:
        for node in row.walk("conv"):
            layer = layers.get(node.name)
            if layer is None or node.children:
                continue
            alternative = KINDS.of(layer).rounding_alternative(layer, node.in_shape)
            if alternative is None:
                continue
            rounding, other, alt = alternative
            if alt != node.out_shape[1:]:
                notes.append(f"{node.name}: {rounding} rounding gives {node.out_shape[1]}x{node.out_shape[2]}, "
                             f"{other} would give {alt[0]}x{alt[1]}")
    return tuple(notes)


def analyze(spec: "Network | str", input: "Shape | str | int | None" = None) -> Analysis:
    """Cost every row, branch and layer of ``spec`` (a Network, a built-in name or a file path) at
    ``input`` ([C, H, W], ``224``, ``"3x299x299"``; default the spec's own, 3x224x224; N and HxW
    keep the spec's input channels).

    Raises CalcError when the spec is bad or a window does not fit at this input; the message then
    names the row and the smallest square input the network accepts.
    """
    network = load_spec(spec)
    shape = network.input if input is None else parse_input(input, channels=network.input[0])
    try:
        rows = _walk(network, shape)
    except CalcError as exc:
        raise exc.located(network.name) from None
    except _TooSmall as exc:
        smallest = smallest_input(network, shape[0])
        fix = (f"the smallest square input this network accepts is {shape[0]}x{smallest}x{smallest}"
               if smallest else "no square input up to 65536 runs; check the row's kernel, stride and padding")
        raise CalcError(f"input {shape[0]}x{shape[1]}x{shape[2]} is too small: {exc}",
                        where=network.name, fix=fix) from None
    main = [r for r in rows if not r.aux]
    totals = Totals(inference=Sums.of(main), training=Sums.of(rows))
    return Analysis(network.name, shape, rows, totals, network)


def named_layers(network: Network) -> dict[str, Layer]:
    """Every primitive layer of the network by its dotted name (``inception3a.branch2.1``)."""
    return {step.name: step.layer for planned in _plan(network) for _, _, steps in planned.branches
            for step in steps}
