"""Side-by-side comparison of networks: rows aligned by name, differences against the first.

``compare(["googlenet", "googlenet:naive"])`` analyses each network at one input size and lines
their nodes up by name (a row, ``inception3a.branch2``, ``inception3a.branch2.1``); a node that one
network lacks is ``None`` there. Differences are the other network's value minus the first's;
relative differences divide by the first's value (none when it is 0 or absent). Standard library
only; :mod:`inception_calc.report.plot` draws it.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any, Sequence

from inception_calc.core.engine import analyze
from inception_calc.core.errors import CalcError
from inception_calc.core.inputs import input_size_parts
from inception_calc.core.sources import load_spec
from inception_calc.core.values import grouped, hwc
from inception_calc.core.results import CONVENTION, DEPTHS, Analysis, Cost, Sums

FORMATS = ("table", "markdown", "csv", "json")
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
    analyses: tuple[Analysis, ...]
    depth: str
    rows: tuple[str, ...]  # the rows asked for; () for all main rows
    lines: tuple[Line, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(a.spec for a in self.analyses)

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


def _merged_names(orders: list[list[str]]) -> list[str]:
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
    and line their nodes up by name, down to ``depth``, over ``rows`` (default all main rows)."""
    if len(specs) < 2:
        raise CalcError(f"compare needs at least two networks, got {len(specs)}", where="SPEC",
                        fix="name two or more, e.g. compare googlenet googlenet:naive")
    if depth not in DEPTHS:
        raise CalcError(f"unknown depth {depth!r}", where="--depth", fix=f"use one of {', '.join(DEPTHS)}")
    networks = [load_spec(s) for s in specs]
    # one input for every network: the one given, else the first network's own, so that each
    # difference is one of structure, never of size (N and HxW keep each network's channels)
    size = networks[0].input if input is None else input_size_parts(input, "--input")
    analyses = tuple(analyze(n, size) for n in networks)
    main = [[r.name for r in a.rows if not r.aux] for a in analyses]
    row_order = _merged_names(main)
    wanted = tuple(dict.fromkeys(rows or ()))
    for name in wanted:
        if name not in row_order:
            raise CalcError(f"no row named {name!r} in any of the networks", where="--rows",
                            fix=f"use one of: {', '.join(row_order)}")
    chosen = set(wanted or row_order)
    orders = [[n.name for r in a.rows if r.name in chosen and not r.aux for n in r.walk(depth)] for a in analyses]
    names = _merged_names(orders)
    index = [{n.name: n for r in a.rows if not r.aux for n in r.walk(depth)} for a in analyses]
    lines = []
    for name in names:
        nodes = tuple(i.get(name) for i in index)
        level = next(n.level for n in nodes if n is not None)
        leaf = not any(other.startswith(name + ".") for other in names)
        lines.append(Line(name, level, nodes, leaf))
    return Comparison(analyses, depth, wanted or tuple(row_order), tuple(lines))


# ----------------------------------------------------------------------------- rendering

def signed(n: int) -> str:
    return f"{n:+,}"


def signed_percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:+.1f}%"


def _delta_cell(base: Cost | None, node: Cost | None, quantity: str) -> str:
    if node is None or base is None:
        return "absent" if node is None else "new"
    delta = getattr(node, quantity) - getattr(base, quantity)
    rel = relative(getattr(base, quantity), delta)
    return signed(delta) + ("" if rel is None or not delta else f" ({signed_percent(rel)})")


LINE_HEADERS = ("name", "network", "out", "weights", "Δ weights", "MACs", "Δ MACs")
TOTAL_HEADERS = ("network", "weights", "Δ weights", "params", "Δ params", "MACs", "Δ MACs", "activations")
NUMERIC = frozenset({"weights", "Δ weights", "params", "Δ params", "MACs", "Δ MACs", "activations"})


def _line_cells(comparison: Comparison) -> list[list[str]]:
    cells = []
    for line in comparison.lines:
        base = line.nodes[0]
        for i, node in enumerate(line.nodes):
            name = ("  " * line.name.count(".") + line.name) if i == 0 else ""
            if node is None:
                cells.append([name, comparison.labels[i], "absent", "-", "", "-", ""])
                continue
            first = i == 0
            cells.append([name, comparison.labels[i], hwc(node.out_shape), grouped(node.weights),
                          "" if first else _delta_cell(base, node, "weights"), grouped(node.macs),
                          "" if first else _delta_cell(base, node, "macs")])
    return cells


def _sums_delta(base: Sums, sums: Sums, quantity: str) -> str:
    delta = getattr(sums, quantity) - getattr(base, quantity)
    return signed(delta) + f" ({signed_percent(relative(getattr(base, quantity), delta))})"


def _total_cells(comparison: Comparison, sums: tuple[Sums, ...]) -> list[list[str]]:
    cells = []
    for i, s in enumerate(sums):
        d = (lambda q: "") if i == 0 else (lambda q, s=s: _sums_delta(sums[0], s, q))
        cells.append([comparison.labels[i], grouped(s.weights), d("weights"), grouped(s.params), d("params"),
                      grouped(s.macs), d("macs"), grouped(s.activations)])
    return cells


def _changes_lines(comparison: Comparison) -> list[str]:
    lines = []
    for i in range(1, len(comparison.analyses)):
        changes = comparison.most_changed(i)
        head = f"most changed, {comparison.labels[i]} against {comparison.labels[0]} (by MACs):"
        if not changes:
            lines += [head, "  none: every line has the same MACs and weights"]
            continue
        lines.append(head)
        width = max(len(c.name) for c in changes)
        for c in changes:
            rel = "" if c.relative_macs is None else f" ({signed_percent(c.relative_macs)})"
            lines.append(f"  {c.name.ljust(width)}  MACs {signed(c.macs)}{rel}, weights {signed(c.weights)}")
    return lines


def _is_subset(comparison: Comparison) -> bool:
    every = _merged_names([[r.name for r in a.rows if not r.aux] for a in comparison.analyses])
    return comparison.rows != tuple(every)


def _header(comparison: Comparison) -> list[str]:
    c, h, w = comparison.analyses[0].input
    rows = f"; rows {', '.join(comparison.rows)}" if _is_subset(comparison) else ""
    return [f"comparison at input {c}x{h}x{w} (C x H x W), depth {comparison.depth}{rows}; "
            f"Δ = each network minus {comparison.labels[0]}; shapes H x W x C",
            f"convention: {CONVENTION}"]


def _sections(comparison: Comparison) -> list[tuple[str, tuple[str, ...], list[list[str]]]]:
    sections = [("", LINE_HEADERS, _line_cells(comparison))]
    if _is_subset(comparison):
        sections.append((f"total of the rows shown ({', '.join(comparison.rows)})", TOTAL_HEADERS,
                         _total_cells(comparison, comparison.shown_totals())))
    sections.append(("total (inference: main rows, auxiliary heads left out)", TOTAL_HEADERS,
                     _total_cells(comparison, comparison.totals())))
    return sections


def _text_table(headers: Sequence[str], cells: list[list[str]], groups: int) -> list[str]:
    widths = [max(len(r[i]) for r in [list(headers), *cells]) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if headers[i] in NUMERIC else c.ljust(w)
                         for i, (c, w) in enumerate(zip(row, widths))).rstrip()

    rule = "-" * len(line(["-" * w for w in widths]))
    out = [line(headers), rule]
    for k, row in enumerate(cells):
        if groups > 1 and k and k % groups == 0:
            out.append("")
        out.append(line(row))
    return out


def to_table(comparison: Comparison) -> str:
    out = _header(comparison)
    n = len(comparison.analyses)
    for title, headers, cells in _sections(comparison):
        out += ["", *([title] if title else []), *_text_table(headers, cells, n if not title else 1)]
    out += ["", *_changes_lines(comparison)]
    return "\n".join(out) + "\n"


def _markdown_table(headers: Sequence[str], cells: list[list[str]]) -> list[str]:
    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") if i else c.replace(" ", "&nbsp;")
                                 for i, c in enumerate(row)) + " |"

    align = ["---:" if h in NUMERIC else "---" for h in headers]
    return [line(headers), "| " + " | ".join(align) + " |", *map(line, cells)]


def to_markdown(comparison: Comparison) -> str:
    head = _header(comparison)
    out = [f"**{head[0]}**", "", f"_{head[1]}_"]
    for title, headers, cells in _sections(comparison):
        out += ["", *([f"**{title}**", ""] if title else []), *_markdown_table(headers, cells)]
    changes = _changes_lines(comparison)
    out += [""] + [f"- {line.strip()}" if line.startswith("  ") else f"\n{line}\n" for line in changes]
    return "\n".join(out).replace("\n\n\n", "\n\n") + "\n"


CSV_COLUMNS = ("name", "level", "network", "present", "out_c", "out_h", "out_w", "weights", "params", "macs",
               "activations", "d_weights", "d_params", "d_macs", "rel_weights", "rel_macs")


def _numbers(node: Cost | Sums | None, base: Cost | Sums | None) -> list[Any]:
    if node is None:
        return [""] * 12  # out_c, out_h, out_w, 4 quantities, 3 differences, 2 ratios
    shape = list(node.out_shape) if isinstance(node, Cost) else ["", "", ""]
    values = [getattr(node, q) for q in QUANTITIES]
    if base is None:
        return [*shape, *values, "", "", "", "", ""]
    deltas = [getattr(node, q) - getattr(base, q) for q in ("weights", "params", "macs")]
    rel = [relative(getattr(base, "weights"), deltas[0]), relative(getattr(base, "macs"), deltas[2])]
    return [*shape, *values, *deltas, *("" if r is None else repr(r) for r in rel)]


def to_csv(comparison: Comparison) -> str:
    """One line per (name, network): exact integers; deltas and ratios against the first network
    (empty for the first, or where a value is absent); then the totals (level ``total``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for line in comparison.lines:
        base = line.nodes[0]
        for i, node in enumerate(line.nodes):
            writer.writerow([line.name, line.level, comparison.labels[i], int(node is not None),
                             *_numbers(node, base if i and base is not None else None)])
    sums = comparison.totals()
    for i, s in enumerate(sums):
        writer.writerow(["total.inference", "total", comparison.labels[i], 1, *_numbers(s, sums[0] if i else None)])
    return out.getvalue()


def to_dict(comparison: Comparison) -> dict[str, Any]:
    def node_dict(node: Cost | None, base: Cost | None) -> dict[str, Any] | None:
        if node is None:
            return None
        data: dict[str, Any] = {"out_shape": list(node.out_shape), **{q: getattr(node, q) for q in QUANTITIES}}
        if base is not None:
            for q in ("weights", "params", "macs"):
                data[f"d_{q}"] = getattr(node, q) - getattr(base, q)
                data[f"rel_{q}"] = relative(getattr(base, q), data[f"d_{q}"])
        return data

    return {
        "networks": list(comparison.labels),
        "input": list(comparison.analyses[0].input),
        "depth": comparison.depth,
        "rows": list(comparison.rows),
        "convention": CONVENTION,
        "lines": [{"name": line.name, "level": line.level,
                   "values": [node_dict(n, line.nodes[0] if i else None) for i, n in enumerate(line.nodes)]}
                  for line in comparison.lines],
        "totals": [s.to_dict() for s in comparison.totals()],
        "most_changed": [[{"name": c.name, "d_macs": c.macs, "d_weights": c.weights, "rel_macs": c.relative_macs}
                          for c in comparison.most_changed(i)] for i in range(1, len(comparison.analyses))],
    }


def to_json(comparison: Comparison) -> str:
    return json.dumps(to_dict(comparison), indent=2) + "\n"


RENDERERS = {"table": to_table, "markdown": to_markdown, "csv": to_csv, "json": to_json}


def render(comparison: Comparison, fmt: str = "table") -> str:
    return RENDERERS[fmt](comparison)
