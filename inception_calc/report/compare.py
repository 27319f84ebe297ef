"""Render a :class:`~inception_calc.studies.compare.Comparison` as a text table, markdown, CSV or JSON.

Formatting only: every number comes from the comparison. The table gives one line per name and
network (a blank line between names), each network's value and its difference from the first
(``Δ``: the other minus the first, with the relative change); then the totals, of the rows shown
when only some were asked for, and of every main row; then the lines that change most. CSV and
JSON give exact integers; an absent node is empty (CSV) or ``null`` (JSON).

A comparison by stage (``by == "stage"``) gives one line per stage and network instead: the grid,
the rows the stage runs from and to, params, MACs (and their share of the network's), activations
and MACs per parameter; then each network's totals. Its JSON has every key of the comparison by
name (``lines`` and ``most_changed`` empty) and adds ``by``, ``inputs``, ``stage_alignment``,
``stages`` and ``totals_macs_per_param``; its CSV has its own columns (:data:`STAGE_CSV_COLUMNS`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from inception_calc.core.results import CONVENTION, Cost, Sums
from inception_calc.core.values import grouped, hwc
from inception_calc.report.table import Column, columns, csv_table, indented, markdown_table, text_table
from inception_calc.studies.compare import QUANTITIES, Comparison, Stage, macs_per_param, relative

if TYPE_CHECKING:  # pragma: no cover
    from inception_calc.core.conventions import Counted

Counts = "tuple[Counted, ...] | None"
"""Each network's analysis counted under ``--convention`` (core/conventions.py), or None."""

FORMATS = ("table", "markdown", "csv", "json")
LINE_HEADERS = ("name", "network", "out", "weights", "Δ weights", "MACs", "Δ MACs")
TOTAL_HEADERS = ("network", "weights", "Δ weights", "params", "Δ params", "MACs", "Δ MACs", "activations")
NUMERIC = frozenset({"weights", "Δ weights", "params", "Δ params", "MACs", "Δ MACs", "activations"})
LINE_COLUMNS = columns(LINE_HEADERS, right=NUMERIC, nowrap={"name"})
TOTAL_COLUMNS = columns(TOTAL_HEADERS, right=NUMERIC, nowrap={"network"})
CHANGE_COLUMNS = columns(("name", "change"))  # the most-changed list: names lined up, no titles shown


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


def _line_cells(comparison: Comparison, counted: Counts = None) -> list[list[str]]:
    cells = []
    for line in comparison.lines:
        base = line.nodes[0]
        for i, node in enumerate(line.nodes):
            name = indented(line.name, depth=line.depth) if i == 0 else ""
            extra = ([grouped(counted[i].by_node[line.name]) if node is not None else "-"] if counted else [])
            if node is None:
                cells.append([name, comparison.labels[i], "absent", "-", "", "-", "", *extra])
                continue
            first = i == 0
            cells.append([name, comparison.labels[i], hwc(node.out_shape), grouped(node.weights),
                          "" if first else _delta_cell(base, node, "weights"), grouped(node.macs),
                          "" if first else _delta_cell(base, node, "macs"), *extra])
    return cells


def _counted_columns(cols: tuple[Column, ...], counted: Counts) -> tuple[Column, ...]:
    """``cols`` and, with a convention, a last column of the counts under it, titled by its name."""
    if not counted:
        return cols
    title = f"counted ({counted[0].convention.name})"
    return columns([c.title for c in cols] + [title], right={c.title for c in cols if c.align == "right"} | {title},
                   nowrap={c.title for c in cols if c.nowrap})


def _counted_totals(comparison: Comparison, counted: Counts, shown: bool) -> list[int] | None:
    """Each network's total under the convention: of its main rows, or of the rows shown."""
    if not counted:
        return None
    if not shown:
        return [c.total for c in counted]
    return [sum(c.by_node[r.name] for r in a.rows if r.name in comparison.rows and not r.aux)
            for c, a in zip(counted, comparison.analyses)]


def _sums_delta(base: Sums, sums: Sums, quantity: str) -> str:
    delta = getattr(sums, quantity) - getattr(base, quantity)
    return signed(delta) + f" ({signed_percent(relative(getattr(base, quantity), delta))})"


def _total_cells(comparison: Comparison, sums: tuple[Sums, ...], counted: list[int] | None = None) -> list[list[str]]:
    cells = []
    for i, s in enumerate(sums):
        d = (lambda q: "") if i == 0 else (lambda q, s=s: _sums_delta(sums[0], s, q))
        cells.append([comparison.labels[i], grouped(s.weights), d("weights"), grouped(s.params), d("params"),
                      grouped(s.macs), d("macs"), grouped(s.activations)]
                     + ([grouped(counted[i])] if counted else []))
    return cells


def _changes_lines(comparison: Comparison) -> list[str]:
    lines = []
    for i in range(1, len(comparison.analyses)):
        changes = comparison.most_changed(i)
        lines.append(f"most changed, {comparison.labels[i]} against {comparison.labels[0]} (by MACs):")
        if not changes:
            lines.append("  none: every line has the same MACs and weights")
            continue
        cells = [[c.name, f"MACs {signed(c.macs)}"
                          f"{'' if c.relative_macs is None else f' ({signed_percent(c.relative_macs)})'}"
                          f", weights {signed(c.weights)}"] for c in changes]
        lines += ["  " + line for line in text_table(CHANGE_COLUMNS, cells, header=False)]
    return lines


def _header(comparison: Comparison, counted: Counts = None) -> list[str]:
    c, h, w = comparison.analyses[0].input
    rows = f"; rows {', '.join(comparison.rows)}" if comparison.is_subset else ""
    conv = counted[0].convention if counted else None
    also = f"; counted ({conv.name}): as {conv.tool} {conv.version} counts" if conv else ""
    return [f"comparison at input {c}x{h}x{w} (C x H x W), depth {comparison.depth}{rows}; "
            f"Δ = each network minus {comparison.labels[0]}; shapes H x W x C",
            f"convention: {CONVENTION}{also}"]


def _sections(comparison: Comparison, counted: Counts = None) -> list[tuple[str, tuple[Column, ...], list[list[str]]]]:
    totals = _counted_columns(TOTAL_COLUMNS, counted)
    sections = [("", _counted_columns(LINE_COLUMNS, counted), _line_cells(comparison, counted))]
    if comparison.is_subset:
        sections.append((f"total of the rows shown ({', '.join(comparison.rows)})", totals,
                         _total_cells(comparison, comparison.shown_totals(), _counted_totals(comparison, counted, True))))
    sections.append(("total (inference: main rows, auxiliary heads left out)", totals,
                     _total_cells(comparison, comparison.totals(), _counted_totals(comparison, counted, False))))
    return sections


# ----------------------------------------------------------------------------- by stage

STAGE_HEADERS = ("stage", "network", "grid", "rows", "params", "MACs", "MACs %", "activations", "MACs/param")
STAGE_TOTAL_HEADERS = ("network", "input", "stages", "params", "MACs", "activations", "MACs/param")
STAGE_NUMERIC = frozenset({"params", "MACs", "MACs %", "activations", "MACs/param", "stages"})
STAGE_COLUMNS = columns(STAGE_HEADERS, right=STAGE_NUMERIC, nowrap={"stage"})
STAGE_TOTAL_COLUMNS = columns(STAGE_TOTAL_HEADERS, right=STAGE_NUMERIC, nowrap={"network"})


def ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _size(shape: tuple[int, ...]) -> str:
    return "x".join(str(n) for n in shape)


def span(stage: Stage) -> str:
    """``conv1`` for a stage of one row, ``maxpool2 .. inception3b (3 rows)`` for more."""
    n = len(stage.rows)
    return stage.first if n == 1 else f"{stage.first} .. {stage.last} ({n} rows)"


def _stage_cells(comparison: Comparison) -> list[list[str]]:
    cells = []
    totals = comparison.totals()
    for line in comparison.stage_lines:
        for i, st in enumerate(line.stages):
            name = line.name if i == 0 else ""
            if st is None:
                cells.append([name, comparison.labels[i], "-", "absent", "-", "-", "", "-", ""])
                continue
            s = st.sums
            cells.append([name, comparison.labels[i], f"{st.grid[0]}x{st.grid[1]}", span(st), grouped(s.params),
                          grouped(s.macs), share(s.macs, totals[i].macs), grouped(s.activations),
                          ratio(st.macs_per_param)])
    return cells


def _stage_total_cells(comparison: Comparison) -> list[list[str]]:
    return [[label, _size(a.input), str(len(comparison.stages(i))), grouped(t.params), grouped(t.macs),
             grouped(t.activations), ratio(macs_per_param(t))]
            for i, (label, a, t) in enumerate(zip(comparison.labels, comparison.analyses, comparison.totals()))]


def _stage_header(comparison: Comparison) -> list[str]:
    if comparison.one_input:
        c, h, w = comparison.analyses[0].input
        at = f"at input {c}x{h}x{w} (C x H x W)" if len({i[0] for i in comparison.inputs}) == 1 else \
            f"at input {h}x{w} (H x W; each network's own channels)"
    else:
        at = "with each network at its own input (" + ", ".join(
            f"{label} {_size(i)}" for label, i in zip(comparison.labels, comparison.inputs)) + "; C x H x W)"
    how = ("stages lined up by grid size" if comparison.alignment == "grid" else
           "stages lined up by output stride, input / grid to the nearest power of two (the inputs differ, so the grids do too)")
    shared, fewest = comparison.shared
    return [f"comparison by stage {at}: each network's main rows grouped into stages, a stage being consecutive "
            f"rows whose output has one grid (H x W); {how}; the networks share {shared} of {fewest} row names",
            f"convention: {CONVENTION}; MACs % = the stage's share of its network's MACs; "
            f"MACs/param = MACs / params"]


def _stage_sections(comparison: Comparison) -> list[tuple[str, tuple[Column, ...], list[list[str]]]]:
    return [("", STAGE_COLUMNS, _stage_cells(comparison)),
            ("total (inference: main rows, auxiliary heads left out)", STAGE_TOTAL_COLUMNS,
             _stage_total_cells(comparison))]


def _stage_table(comparison: Comparison) -> str:
    out = _stage_header(comparison)
    n = len(comparison.analyses)
    for title, cols, cells in _stage_sections(comparison):
        out += ["", *([title] if title else []), *text_table(cols, cells, group=0 if title else n)]
    return "\n".join(out) + "\n"


def _stage_markdown(comparison: Comparison) -> str:
    head = _stage_header(comparison)
    out = [f"**{head[0]}**", "", f"_{head[1]}_"]
    for title, cols, cells in _stage_sections(comparison):
        out += ["", *([f"**{title}**", ""] if title else []), *markdown_table(cols, cells)]
    return "\n".join(out) + "\n"


STAGE_CSV_COLUMNS = ("stage", "network", "present", "index", "grid_h", "grid_w", "first", "last", "rows",
                     "weights", "params", "macs", "activations", "macs_per_param")


def _stage_csv(comparison: Comparison) -> str:
    """One line per (stage, network), exact integers; then each network's totals (stage ``total.inference``,
    its ``index`` the number of stages, its ``rows`` the number of main rows)."""
    rows: list[list[Any]] = []
    for line in comparison.stage_lines:
        for i, st in enumerate(line.stages):
            if st is None:
                rows.append([line.name, comparison.labels[i], 0, *[""] * 11])
                continue
            s = st.sums
            rows.append([line.name, comparison.labels[i], 1, st.index, *st.grid, st.first, st.last, len(st.rows),
                         s.weights, s.params, s.macs, s.activations, _exact(st.macs_per_param)])
    for i, t in enumerate(comparison.totals()):
        rows.append(["total.inference", comparison.labels[i], 1, len(comparison.stages(i)), "", "", "", "",
                     sum(len(st.rows) for st in comparison.stages(i)),
                     t.weights, t.params, t.macs, t.activations, _exact(macs_per_param(t))])
    return csv_table(STAGE_CSV_COLUMNS, rows)


def _exact(value: float | None) -> str:
    return "" if value is None else repr(value)


def _stage_dict(comparison: Comparison, stage: Stage | None, network: int) -> dict[str, Any] | None:
    if stage is None:
        return None
    total = comparison.totals()[network].macs
    return {"index": stage.index, "grid": list(stage.grid), "first": stage.first, "last": stage.last,
            "rows": [r.name for r in stage.rows], **stage.sums.to_dict(), "macs_per_param": stage.macs_per_param,
            "share_macs": stage.sums.macs / total if total else None}


def _stage_keys(comparison: Comparison) -> dict[str, Any]:
    return {
        "by": "stage",
        "inputs": [list(i) for i in comparison.inputs],
        "stage_alignment": comparison.alignment,
        "stages": [{"name": line.name, "values": [_stage_dict(comparison, st, i) for i, st in enumerate(line.stages)]}
                   for line in comparison.stage_lines],
        "totals_macs_per_param": [macs_per_param(t) for t in comparison.totals()],
    }


# ----------------------------------------------------------------------------- the formats


def to_table(comparison: Comparison, counted: Counts = None) -> str:
    if comparison.by == "stage":
        return _stage_table(comparison)
    out = _header(comparison, counted)
    n = len(comparison.analyses)
    for title, cols, cells in _sections(comparison, counted):
        # the lines table: one group of n lines per name, a blank line between names
        out += ["", *([title] if title else []), *text_table(cols, cells, group=0 if title else n)]
    out += ["", *_changes_lines(comparison)]
    return "\n".join(out) + "\n"


def to_markdown(comparison: Comparison, counted: Counts = None) -> str:
    if comparison.by == "stage":
        return _stage_markdown(comparison)
    head = _header(comparison, counted)
    out = [f"**{head[0]}**", "", f"_{head[1]}_"]
    for title, cols, cells in _sections(comparison, counted):
        out += ["", *([f"**{title}**", ""] if title else []), *markdown_table(cols, cells)]
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


def to_csv(comparison: Comparison, counted: Counts = None) -> str:
    """One line per (name, network): exact integers; deltas and ratios against the first network
    (empty for the first, or where a value is absent); then the totals (level ``total``). By stage:
    :data:`STAGE_CSV_COLUMNS`, one line per (stage, network), then the totals."""
    if comparison.by == "stage":
        return _stage_csv(comparison)
    rows = [[line.name, line.level, comparison.labels[i], int(node is not None),
             *_numbers(node, line.nodes[0] if i and line.nodes[0] is not None else None)]
            + ([counted[i].by_node[line.name] if node is not None else ""] if counted else [])
            for line in comparison.lines for i, node in enumerate(line.nodes)]
    sums = comparison.totals()
    rows += [["total.inference", "total", comparison.labels[i], 1, *_numbers(s, sums[0] if i else None)]
             + ([counted[i].total] if counted else [])
             for i, s in enumerate(sums)]
    return csv_table(CSV_COLUMNS + ((f"counted_{counted[0].convention.name}",) if counted else ()), rows)


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

    data = {
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
    if comparison.by == "stage":  # new keys only: a reader of the comparison by name reads this one too
        data.update(_stage_keys(comparison))
    return data


def with_counted(data: dict[str, Any], comparison: Comparison, counted: "tuple[Counted, ...]") -> dict[str, Any]:
    """The comparison's JSON form with a top-level ``counting`` after ``convention``, and ``counted``
    after each value's and total's ``macs`` (and each stage's): keys only added."""

    def after_macs(values: dict[str, Any] | None, size: int) -> dict[str, Any] | None:
        if values is None:
            return None
        out: dict[str, Any] = {}
        for key, value in values.items():
            out[key] = value
            if key == "macs":
                out["counted"] = size
        return out

    conv = counted[0].convention
    result: dict[str, Any] = {}
    for key, value in data.items():
        result[key] = value
        if key == "convention":
            result["counting"] = {"convention": conv.name, "tool": conv.tool, "version": conv.version,
                                  "summary": conv.summary, "terms": [dict(c.terms) for c in counted]}
    result["lines"] = [{**line, "values": [after_macs(v, counted[i].by_node[line["name"]]) if v is not None else None
                                           for i, v in enumerate(line["values"])]} for line in data["lines"]]
    result["totals"] = [after_macs(t, counted[i].total) for i, t in enumerate(data["totals"])]
    if "stages" in data:
        result["stages"] = [{**line, "values": [
            after_macs(v, sum(counted[i].by_node[r] for r in v["rows"])) if v is not None else None
            for i, v in enumerate(line["values"])]} for line in data["stages"]]
    return result


def to_json(comparison: Comparison, counted: Counts = None) -> str:
    data = to_dict(comparison)
    if counted:
        data = with_counted(data, comparison, counted)
    return json.dumps(data, indent=2) + "\n"


RENDERERS = {"table": to_table, "markdown": to_markdown, "csv": to_csv, "json": to_json}


def render(comparison: Comparison, fmt: str = "table", counted: Counts = None) -> str:
    """``comparison`` in ``fmt``; ``counted`` (each network's analysis counted under one convention,
    :func:`inception_calc.core.conventions.count`): with a column (a JSON key) of the counts beside
    the MACs, by name; by stage its JSON only."""
    return RENDERERS[fmt](comparison, counted)
