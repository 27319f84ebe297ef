"""A network's plan: everything about its rows that does not depend on the input size, worked out once.

Names, summaries and each layer's kind are resolved when a network is first analysed and kept by
the network's identity (:class:`~inception_calc.core.memo.IdentityMemo`). Two walks read the same
plan: the engine's, which costs every node (:mod:`inception_calc.core.engine`), and the receptive
fields' (:mod:`inception_calc.core.receptive`). Each planned row keeps what each walk computed from
it at an input (its ``Cost`` by input shape; its fields by input shape and incoming field), and
rows equal but for their name (``repeat = N``'s copies) share one dict of each, so that a repeated
block is computed once and renamed for every copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

from inception_calc.core.kinds import KINDS, Layer
from inception_calc.core.kinds.base import Counts, Window
from inception_calc.core.memo import IdentityMemo
from inception_calc.core.network import (Block, Branch, Network, Row, branch_summary, collapsed, combined_summary,
                                          layer_prefix, node_names)

Shape = tuple[int, int, int]

MEMO_SHAPES = 16
"""What each planned row keeps per walk: at most this many input shapes (then cleared and refilled)."""


class Step(NamedTuple):
    """One primitive layer of the walk, with its name, summary and kind's functions worked out once."""

    name: str
    kind: str
    summary: str
    cost: Callable[[Layer, Shape], Counts]
    layer: Layer
    level: str  # "conv"; "branch" for a layer standing in for its branch (a branch that is no module)
    window: Callable[[Layer, Shape], Window]  # the kind's receptive_window
    sized: bool  # whether that window depends on the input map's size (window_needs_input)


class PlannedBranch(NamedTuple):
    name: str  # dotted: inception3a.branch2
    summary: str
    steps: "tuple[Step | PlannedBlock, ...]"
    scale: float


class PlannedBlock(NamedTuple):
    """A nested block: its branches, how they combine, and the ReLU after."""

    name: str
    kind: str  # "concat" | "add"
    summary: str
    branches: tuple[PlannedBranch, ...]
    level: str = "conv"


@dataclass(frozen=True, slots=True)
class PlannedRow:
    """A row with everything that does not depend on the input size worked out once.

    ``costs`` memoizes the row's ``Cost`` by input shape: a pure function of the frozen row and the
    shape, and a frozen result, so an analysis repeated at a size (verify, compare, check and build,
    a benchmark) shares the rows it already made. ``fields`` does the same for the row's receptive
    fields, by input shape, incoming field and network input size. At most :data:`MEMO_SHAPES`
    entries are kept in each; a sweep's many sizes only reset them. ``relative`` holds the row's
    fields relative to its input (as if the row's input were the network's), which do not depend on
    the input unless an adaptive pool's windows do: worked out once, like the names, and kept with
    the plan.

    ``twins`` and ``field_twins`` are shared by every row equal to this one but for its name
    (``repeat = N``'s copies: Inception-ResNet-v2's 10 + 20 + 9 blocks): the first of them to be
    computed at an input leaves its result there, and the others take it renamed: every node's name
    below a row begins with the row's name, and nothing else in a Cost depends on it (nor in a
    field, but for a note naming a block, which a field that is not aligned carries: such a row is
    not shared).
    """

    row: Row
    summary: str
    layout: str  # single | sequence | concat | add
    aux: bool
    branches: tuple[PlannedBranch, ...]
    costs: dict[Shape, Any]
    twins: dict[Shape, Any]  # shared by the rows that differ from this one only in name (repeat copies)
    fields: dict[tuple, Any]
    field_twins: dict[tuple, Any]  # as twins, for the fields
    relative: dict[str, Any]  # the fields relative to the row's input, where they do not depend on its size


class Plan(NamedTuple):
    """A network's planned rows, in order, and its receptive fields by input (what
    :func:`inception_calc.core.receptive.receptive_fields` gives an analysis)."""

    rows: tuple[PlannedRow, ...]
    fields: dict[tuple, Any]


def row_summary(row: Row) -> str:
    """A row's one-line description: its layer; its layers in order (``1x1 64 > 3x3 192``); its
    branches side by side (``1x1 64 | 1x1 96 > 3x3 128 | ...``) or added (``identity + 0.17 x (...)``)."""
    if row.layout == "single":
        return row.branches[0].layers[0].summary
    return combined_summary(row.branches, row.combine, row.relu)


def _plan_branch(names: list[str], prefix: str, branch: Branch) -> PlannedBranch:
    steps: list[Step | PlannedBlock] = []
    for name, node in zip(names, branch.layers):
        if isinstance(node, Block):
            inner = name if node.module else prefix
            steps.append(PlannedBlock(name, node.combine, node.summary,
                                      tuple(_plan_sub(inner, b) for b in node.branches)))
        else:
            kind = KINDS.of(node)
            steps.append(Step(name, node.kind, node.summary, kind.cost, node, "conv", kind.receptive_window,
                              kind.window_needs_input(node)))
    return PlannedBranch(f"{prefix}.{branch.name}" if branch.name else prefix, branch_summary(branch), tuple(steps),
                         branch.scale)


def _plan_sub(prefix: str, branch: Branch) -> PlannedBranch:
    """A branch of a nested block (or of a row): a branch that is no module and holds one layer is
    planned as that layer at branch level."""
    planned = _plan_branch(node_names(prefix, branch), layer_prefix(prefix, branch), branch)
    if collapsed(branch):
        step = planned.steps[0]
        return planned._replace(name=step.name, steps=(step._replace(level="branch"),))
    return planned._replace(name=f"{prefix}.{branch.name}")


def _plan_row(row: Row, twins: tuple[dict, dict, dict]) -> PlannedRow:
    if row.layout in ("single", "sequence"):
        branches = (_plan_branch(row.layer_names(row.branches[0]), row.name, row.branches[0]),)
    else:
        branches = tuple(_plan_sub(row.name, b) for b in row.branches)
    return PlannedRow(row, row_summary(row), row.layout, row.after is not None, branches, {}, twins[0], {}, twins[1],
                      twins[2])


def _twin_key(row: Row) -> tuple:
    """What a row's Cost and fields depend on besides its name and its input."""
    return (row.kind, row.branches, row.columns, row.after is None, row.combine, row.relu)


def _plan_network(network: Network) -> Plan:
    groups: dict[tuple, tuple[dict, dict, dict]] = {}
    return Plan(tuple(_plan_row(row, groups.setdefault(_twin_key(row), ({}, {}, {}))) for row in network.rows), {})


_PLANS = IdentityMemo(64)  # network -> its plan


def plan(network: Network) -> Plan:
    """The network's rows with names, summaries and kinds resolved: they do not depend on the
    input size, so a network is planned once and analysed at any size from its plan."""
    return _PLANS.get_or_make(network, _plan_network)


def clear_memo() -> None:
    """Forget every memoized row cost and receptive field (the plans stay, with each row's fields
    relative to its input): for measuring cold."""
    for _, planned in _PLANS.values():
        planned.fields.clear()
        for row in planned.rows:
            for kept in (row.costs, row.twins, row.fields, row.field_twins):
                kept.clear()


def remember(memo: dict, key: Any, value: Any) -> Any:
    """``memo[key] = value``, the memo cleared first when it holds :data:`MEMO_SHAPES` entries."""
    if len(memo) >= MEMO_SHAPES:
        memo.clear()
    memo[key] = value
    return value


__all__ = ["MEMO_SHAPES", "Plan", "PlannedBlock", "PlannedBranch", "PlannedRow", "Step", "clear_memo", "plan",
           "remember", "row_summary"]
