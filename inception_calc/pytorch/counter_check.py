"""Reconcile each popular counter's count of the real network with its convention, row by row.

Pure: sees an :class:`~inception_calc.core.results.Analysis` and the plain numbers of
:mod:`~inception_calc.pytorch.tool_counts`, imports no torch. Each tool's count is compared with the
analysis counted under the convention of the same name (:func:`inception_calc.core.conventions.count`):

* the total: the tool's own total against the convention's (the main rows: every tool counts the
  network in eval mode, where the auxiliary heads do not run);
* every main row (and at ``depth`` "branch" every branch) that is a module of the real network,
  where the tool reports per module: what the tool attributes to that module against the
  convention's count of the node of the same name (:meth:`Counted.module_count`: less the terms
  a tool counts in its total only, such as ptflops' patched functions).

Each is ``exact`` or ``MISMATCH``; a MISMATCH names the layers below it that differ (the deepest
modules whose counts differ) and by how much, and the convention's term whose size the difference
is, when it is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from inception_calc.core.conventions import Counted, convention, count
from inception_calc.pytorch.reconcile import EXACT, MISMATCH
from inception_calc.pytorch.tool_counts import ToolCount

if TYPE_CHECKING:  # pragma: no cover
    from inception_calc.core.results import Analysis, Cost

SHOWN_LAYERS = 4


@dataclass(frozen=True)
class CounterRow:
    """One row (``level`` "layer"), branch (``branch``) or the whole network (``total``): what the
    tool counted, what its convention gives, the convention's terms there, and the verdict."""

    name: str
    level: str
    counted: int
    convention: int
    verdict: str
    terms: tuple[tuple[str, int], ...] = ()
    note: str = ""

    @property
    def difference(self) -> int:
        return self.counted - self.convention


@dataclass(frozen=True)
class CounterCheck:
    """One tool's count reconciled with its convention."""

    tool: str
    package: str
    version: str
    convention: str
    convention_version: str
    depth: str
    total: int
    convention_total: int
    macs: int
    terms: tuple[tuple[str, int], ...]
    rows: tuple[CounterRow, ...]
    note: str = ""
    modules: tuple[tuple[str, int, int], ...] = ()
    """Every node of the main rows that is a module the tool reports (rows, branches, blocks and
    layers): (name, counted, convention)."""

    @property
    def modules_exact(self) -> int:
        return sum(1 for _, got, want in self.modules if got == want)

    @property
    def verdict(self) -> str:
        if any(r.verdict == MISMATCH for r in self.rows) or self.modules_exact != len(self.modules):
            return MISMATCH
        return EXACT

    @property
    def ok(self) -> bool:
        return self.verdict != MISMATCH

    def __getitem__(self, name: str) -> CounterRow:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(name)


def _release(version: str) -> tuple[str, ...]:
    """The leading release numbers of a version, as strings: "0.1.5.post20221221" -> ("0", "1", "5")."""
    parts = []
    for part in version.replace("-", ".").split("."):
        if not part.isdigit():
            break
        parts.append(part)
    return tuple(parts)


def _term_named(difference: int, terms: dict[str, int]) -> str:
    """The convention term a difference is, if it is one: "the tool counts no 'bn' (-1,234)"."""
    for term, size in terms.items():
        if difference == -size:
            return f"the tool does not count the '{term}' term here"
        if difference == size:
            return f"the tool counts the '{term}' term twice here"
    return ""


def _differing_layers(node: "Cost", tool: ToolCount, counted: Counted) -> list[tuple[str, int]]:
    """The deepest modules below ``node`` whose counts differ from the convention's, with the difference."""
    found: list[tuple[str, int]] = []

    def visit(n: "Cost") -> bool:
        below = any([visit(child) for child in n.children])
        if below or n is node or n.name not in tool.by_module or n.name not in counted.by_node:
            return below
        diff = tool.by_module[n.name] - counted.module_count(n.name)
        if diff:
            found.append((n.name, diff))
        return bool(diff)

    visit(node)
    return found


def _node_row(node: "Cost", level: str, tool: ToolCount, counted: Counted) -> CounterRow:
    got, want = tool.by_module[node.name], counted.module_count(node.name)
    terms = tuple(counted.node_terms[node.name].items())
    if got == want:
        return CounterRow(node.name, level, got, want, EXACT, terms)
    parts = [f"counted - convention = {got - want:+,}"]
    named = _term_named(got - want, dict(terms))
    if named:
        parts.append(named)
    layers = _differing_layers(node, tool, counted)
    if layers:
        shown = ", ".join(f"{name} {diff:+,}" + (f" ({_term_named(diff, counted.node_terms[name])})"
                                                  if _term_named(diff, counted.node_terms[name]) else "")
                          for name, diff in layers[:SHOWN_LAYERS])
        more = f" and {len(layers) - SHOWN_LAYERS} more" if len(layers) > SHOWN_LAYERS else ""
        parts.append(f"in {shown}{more}")
    return CounterRow(node.name, level, got, want, MISMATCH, terms, "; ".join(parts))


def _total_row(tool: ToolCount, counted: Counted, rows: Sequence[CounterRow]) -> CounterRow:
    terms = tuple((t, n) for t, n in counted.terms.items() if n)
    if tool.total == counted.total:
        return CounterRow("total", "total", tool.total, counted.total, EXACT, terms)
    diff = tool.total - counted.total
    parts = [f"counted - convention = {diff:+,}"]
    named = _term_named(diff, dict(terms))
    if named:
        parts.append(named)
    differ = [r for r in rows if r.verdict == MISMATCH and r.level == "layer"]
    if differ:
        parts.append("rows that differ: " + ", ".join(f"{r.name} {r.difference:+,}" for r in differ[:SHOWN_LAYERS])
                     + (f" and {len(differ) - SHOWN_LAYERS} more" if len(differ) > SHOWN_LAYERS else ""))
    elif rows:
        parts.append("every row agrees: the difference is outside the rows (the network's own ops)")
    return CounterRow("total", "total", tool.total, counted.total, MISMATCH, terms, "; ".join(parts))


def check_counter(analysis: "Analysis", tool: ToolCount, depth: str = "layer") -> CounterCheck:
    """``tool``'s count of the real network against ``analysis`` counted under its convention."""
    conv = convention(tool.tool)
    counted = count(analysis, tool.tool)
    rows: list[CounterRow] = []
    for row in analysis.rows:
        if row.aux or row.name not in tool.by_module:
            continue
        rows.append(_node_row(row, "layer", tool, counted))
        if depth == "branch" and tool.depth == "all":
            rows += [_node_row(b, "branch", tool, counted) for b in row.children
                     if b.level == "branch" and b.name in tool.by_module]
    rows.append(_total_row(tool, counted, rows))
    modules = tuple((node.name, tool.by_module[node.name], counted.module_count(node.name))
                    for row in analysis.rows if not row.aux for node in row.walk()
                    if node.name in tool.by_module and node.name in counted.by_node)
    differ = [(name, got - want) for name, got, want in modules if got != want]
    note = ("modules that differ: " + ", ".join(f"{name} {d:+,}" for name, d in differ[:SHOWN_LAYERS])
            + (f" and {len(differ) - SHOWN_LAYERS} more" if len(differ) > SHOWN_LAYERS else "")) if differ else ""
    wanted = _release(conv.version.removeprefix("torch "))
    if wanted and _release(tool.version)[:len(wanted)] != wanted:
        installed = f"the convention follows {conv.tool} {conv.version}; {tool.package} {tool.version} is installed"
        note = "; ".join(filter(None, [note, installed]))
    if tool.depth == "top":
        note = "; ".join(filter(None, [note, f"{tool.tool} reports the network's top-level modules only"]))
    return CounterCheck(tool.tool, tool.package, tool.version, conv.name, conv.version, tool.depth, tool.total,
                        counted.total, counted.macs, tuple(counted.terms.items()), tuple(rows), note, modules)


def check_counters(analysis: "Analysis", tools: Sequence[ToolCount], depth: str = "layer") -> tuple[CounterCheck, ...]:
    """Every tool of ``tools`` reconciled with its convention (:func:`check_counter`)."""
    return tuple(check_counter(analysis, tool, depth) for tool in tools)
