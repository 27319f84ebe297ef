"""Render a :class:`~inception_calc.pytorch.reconcile.Reconciliation` as a text table, markdown, CSV or JSON.

Formatting only: every number and verdict comes from the reconciliation. The table gives one line
per row (and branch): the analytic params and MACs beside what each counter gave, the verdict, and
why (each convention term with its size, or the mismatch); then the terms' formulas, the ops fvcore
does not count, and the layers that differ, grouped by what differs and then row by row.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Callable, Sequence

from inception_calc.pytorch.reconcile import EXACT, EXPLAINED, MISMATCH, QUANTITY_TITLES, Difference, Quantity, Reconciliation, RowCheck
from inception_calc.core.values import grouped
from inception_calc.report.table import (
    RULE_LIMIT, Column, columns, csv_table, markdown_table, text_table)

HEADERS = ("name", "verdict", "params", "numel", "MACs", "fvcore conv+linear", "fvcore total", "FlopCounterMode",
           "why")
NUMERIC = frozenset(HEADERS[2:8])
COLUMNS = columns(HEADERS, right=NUMERIC)
SHOWN_NAMES = 6
TERM_FORMULAS = (
    ("fvcore batch_norm", "fvcore counts aten::batch_norm in eval mode as 2 x its elements N*C*H*W "
                          "(formulas.fvcore_batch_norm_flops; 5 x in training mode)"),
    ("fvcore adaptive_avg_pool2d", "fvcore counts aten::adaptive_avg_pool2d as 1 x its input elements N*C*H*W "
                                   "(formulas.fvcore_adaptive_avg_pool_flops)"),
    ("FlopCounterMode factor 2", "FlopCounterMode counts 2 FLOPs per conv/linear MAC and nothing else "
                                 "(formulas.flop_counter_mode_flops)"),
    ("flattened output", "torch gives a linear layer's (or a flattened) output as [N, out]; the analysis writes "
                         "[out, 1, 1], as Table 1's 1x1x1000: the same elements"),
    ("function call", "the real network runs the layer as a function (F.adaptive_avg_pool2d), with no module: "
                      "its cost lands in the module that calls it"),
)


def _num(value: Any) -> str:
    return grouped(value) if isinstance(value, int) else "-"


def _counted(row: RowCheck, name: str) -> Any:
    try:
        return row[name].counted
    except KeyError:
        return None


def _analytic(row: RowCheck, name: str) -> Any:
    try:
        return row[name].analytic
    except KeyError:
        return None


def _why_quantity(q: Quantity) -> str:
    if q.verdict == EXPLAINED:
        return ", ".join(t.label for t in q.terms)
    if q.name in ("present", "layers", "shape") or q.difference is None:
        return f"{q.name}: {q.note}" if q.note else q.name
    return f"{q.name} {q.difference:+,}"


def why(row: RowCheck) -> str:
    """Why a row is not exact: its terms (explained) and its differences (MISMATCH); and the ops
    fvcore skips in it."""
    parts = [_why_quantity(q) for q in row.quantities
             if q.verdict != EXACT and (q.name == "present" or None not in (q.analytic, q.counted))]
    if row.note:
        parts.append(row.note)
    if row.unsupported:
        parts.append("fvcore skips " + ", ".join(f"{op.removeprefix('aten::')}" + (f" x{n}" if n > 1 else "")
                                                 for op, n in row.unsupported))
    return "; ".join(p for p in parts if p)


def _cells(row: RowCheck, indent: bool) -> list[str]:
    name = ("  " if row.level == "branch" else "") + row.name if indent else row.name  # a branch under its row
    return [name, row.verdict, _num(_analytic(row, "params")), _num(_counted(row, "params")),
            _num(_analytic(row, "macs")), _num(_counted(row, "macs")), _num(_counted(row, "fvcore")),
            _num(_counted(row, "flop_counter")), why(row)]


def _header(r: Reconciliation) -> list[str]:
    c, h, w = r.input
    versions = ", ".join(f"{k} {v}" for k, v in r.versions)
    return [
        f"check: {r.spec} (analysis) against {r.against}, input {c}x{h}x{w}, per image",
        f"counted with fvcore FlopCountAnalysis (by module, by operator), torch FlopCounterMode, numel and forward "
        f"hooks ({versions}); submodules in eval mode (batch norm on running statistics), "
        + ("auxiliary heads run" if any(row.aux for row in r.rows) else "no auxiliary heads"),
    ]


def _summary(r: Reconciliation) -> str:
    counts = {v: sum(1 for row in r.rows if row.verdict == v) for v in (EXACT, EXPLAINED, MISMATCH)}
    result = "every row exact or explained" if not counts[MISMATCH] else "the networks differ"
    line = f"verdicts: {counts[EXACT]} exact, {counts[EXPLAINED]} explained, {counts[MISMATCH]} MISMATCH: {result}"
    if r.counters:
        differ = [c.tool for c in r.counters if not c.ok]
        line += (f"; counters: {len(r.counters) - len(differ)} exact, {len(differ)} MISMATCH"
                 + (f" ({', '.join(differ)})" if differ else ""))
    return line


def _terms_lines(r: Reconciliation) -> list[str]:
    used = {t.name for row in r.rows for q in row.quantities if q.verdict == EXPLAINED for t in q.terms}
    return [f"{name}: {text}" for name, text in TERM_FORMULAS if name in used]


def _unsupported_lines(r: Reconciliation) -> list[str]:
    return [f"{op.removeprefix('aten::')} x{n} in {', '.join(rows) or 'the network itself'}"
            for op, n, rows in r.unsupported]


def _names(names: Sequence[str]) -> str:
    if len(names) <= SHOWN_NAMES:
        return ", ".join(names)
    return ", ".join(names[:SHOWN_NAMES]) + f" and {len(names) - SHOWN_NAMES} more"


def _change(fields: Sequence[tuple[str, str, str]]) -> str:
    return ", ".join(f"{k} {a} -> {b}" for k, a, b in fields)


def _side_totals(ds: Sequence[Difference]) -> str:
    def pair(label: str, a: int, b: int) -> str:
        return f"{label} {a:,} -> {b:,}" + (f" ({b - a:+,})" if a != b else "")

    return "; ".join((pair("weights", sum(d.spec_weights for d in ds), sum(d.real_weights for d in ds)),
                      pair("params", sum(d.spec_params for d in ds), sum(d.real_params for d in ds)),
                      pair("MACs", sum(d.spec_macs for d in ds), sum(d.real_macs for d in ds))))


def difference_groups(r: Reconciliation) -> list[tuple[str, list[Difference]]]:
    """The layers that differ, grouped by what differs (the same fields changed the same way), in
    order of first appearance; then the layers on one side only. Function calls are no difference."""
    groups: dict[str, list[Difference]] = {}
    spec_side, real_side = f"only in {r.spec}", f"only in {r.against}"
    for d in r.differences:
        key = {"differs": _change(d.fields), "only in spec": spec_side, "only in real": real_side}.get(d.kind)
        if key:
            groups.setdefault(key, []).append(d)
    sides = [k for k in (spec_side, real_side) if k in groups]
    return [(k, groups[k]) for k in (*(k for k in groups if k not in sides), *sides)]


def _group_lines(r: Reconciliation) -> list[str]:
    lines = []
    for key, ds in difference_groups(r):
        lines.append(f"{key}: {len(ds)} layer{'s' * (len(ds) != 1)} ({_names([d.name for d in ds])})")
        lines.append(f"    {_side_totals(ds)}")
    return lines


DIFF_HEADERS = ("layer", r"spec", "real", "what differs", "weights", "params", "MACs")
DIFF_COLUMNS = columns(DIFF_HEADERS, right={"weights", "params", "MACs"})


def _diff_cells(d: Difference) -> list[str]:
    what = {"differs": _change(d.fields), "only in spec": "only in the spec", "only in real": "only in the real network",
            "functional": "function call"}[d.kind]
    if d.note:
        what += f" ({d.note})"

    def pair(a: int, b: int) -> str:
        return f"{a:,}" if a == b else f"{a:,} -> {b:,}"

    return [d.name, d.spec_summary or "-", d.real_summary or "-", what, pair(d.spec_weights, d.real_weights),
            pair(d.spec_params, d.real_params), pair(d.spec_macs, d.real_macs)]


Table = Callable[[Sequence[Column], list[list[str]]], list[str]]


def _text(cols: Sequence[Column], rows: list[list[str]]) -> list[str]:
    return text_table(cols, rows, rule_limit=RULE_LIMIT)


def _sections(r: Reconciliation, table: Table, item: str) -> list[tuple[str, list[str]]]:
    rows = [_cells(row, True) for row in r.rows]
    sections = [("", table(COLUMNS, rows)), ("", [_summary(r)])]
    if _terms_lines(r):
        sections.append(("convention terms (the analysis counts MACs of conv and linear weights only):",
                         [item + t for t in _terms_lines(r)]))
    if r.unsupported:
        sections.append(("ops fvcore has no handle for (it counts 0 for them, as the analysis counts no MACs for them):",
                         [item + u for u in _unsupported_lines(r)]))
    differ = [d for d in r.differences if d.kind != "functional"]
    if differ:
        sections.append((f"layers that differ, {r.spec} -> {r.against}, by what differs:",
                         [item + g if not g.startswith("    ") else g for g in _group_lines(r)]))
        sections.append(("layer by layer:", table(DIFF_COLUMNS, [_diff_cells(d) for d in differ])))
    calls = [d for d in r.differences if d.kind == "functional"]
    if calls:
        sections.append(("layers the real network runs as function calls (no module; counted in the caller):",
                         [item + d.note for d in calls]))
    return sections + _counter_sections(r, table, item)


# ----------------------------------------------------------------------------- check --counters

COUNTER_HEADERS = ("counter", "version", "verdict", "its total", "convention", "MACs", "terms (the convention's)",
                   "rows exact", "modules exact", "why")
COUNTER_COLUMNS = columns(COUNTER_HEADERS, right={"its total", "convention", "MACs", "rows exact", "modules exact"})
COUNTER_ROW_HEADERS = ("counter", "name", "counted", "convention", "difference", "what differs")
COUNTER_ROW_COLUMNS = columns(COUNTER_ROW_HEADERS, right={"counted", "convention", "difference"})


def _counter_cells(c: Any) -> list[str]:
    rows = [row for row in c.rows if row.level != "total"]
    exact = sum(1 for row in rows if row.verdict == EXACT)
    total = c["total"]
    why = "; ".join(filter(None, [total.note, c.note]))
    return [c.tool, c.version, c.verdict, _num(c.total), _num(c.convention_total), _num(c.macs),
            ", ".join(f"{t} {n:+,}" for t, n in c.terms if n) or "-", f"{exact}/{len(rows)}",
            f"{c.modules_exact}/{len(c.modules)}", why]


def _counter_sections(r: Reconciliation, table: Table, item: str) -> list[tuple[str, list[str]]]:
    if not r.counters:
        return []
    sections = [("counters: each tool run on the real network in eval mode (no auxiliary heads), its total and "
                 "every module it reports reconciled with its convention (core/conventions.py):",
                 table(COUNTER_COLUMNS, [_counter_cells(c) for c in r.counters]))]
    differ = [[c.tool, row.name, _num(row.counted), _num(row.convention), f"{row.difference:+,}", row.note]
              for c in r.counters for row in c.rows if row.verdict == MISMATCH and row.level != "total"]
    if differ:
        sections.append(("counters' rows that differ from their conventions:", table(COUNTER_ROW_COLUMNS, differ)))
    return sections


def counters_dict(r: Reconciliation) -> dict[str, Any]:
    """``counters`` of the JSON: {tool: {version, convention, total, convention_total, verdict, ...}}."""
    return {c.tool: {"package": c.package, "version": c.version, "convention": c.convention,
                     "convention_version": c.convention_version, "depth": c.depth, "total": c.total,
                     "convention_total": c.convention_total, "macs": c.macs, "terms": dict(c.terms),
                     "verdict": c.verdict, "note": c.note,
                     "modules": {"compared": len(c.modules), "exact": c.modules_exact,
                                 "differ": [{"name": n, "counted": got, "convention": want, "difference": got - want}
                                            for n, got, want in c.modules if got != want]},
                     "rows": [{"name": row.name, "level": row.level, "counted": row.counted,
                               "convention": row.convention, "difference": row.difference, "verdict": row.verdict,
                               "terms": dict(row.terms), "note": row.note} for row in c.rows]}
            for c in r.counters}


def to_table(r: Reconciliation) -> str:
    lines = [*_header(r)]
    for title, body in _sections(r, _text, "  "):
        lines += ["", *([title] if title else []), *body]
    return "\n".join(lines).rstrip() + "\n"


def to_markdown(r: Reconciliation) -> str:
    head = [f"**{line}**" if i == 0 else f"_{line}_" for i, line in enumerate(_header(r))]
    parts = ["\n\n".join(head)]
    for title, body in _sections(r, markdown_table, "- "):
        body = [b.replace("    ", "  - ", 1) if b.startswith("    ") else b for b in body]
        parts.append("\n".join(([f"**{title}**", ""] if title else []) + body))
    return "\n\n".join(parts) + "\n"


CSV_COLUMNS = ("name", "level", "row_verdict", "quantity", "analytic", "counted", "verdict", "difference", "terms",
               "note")


def to_csv(r: Reconciliation) -> str:
    """One line per row and quantity; then one line per differing layer (level ``difference``)."""
    rows = [[row.name, row.level, row.verdict, q.name, _csv_value(q.analytic), _csv_value(q.counted), q.verdict,
             "" if q.difference is None else q.difference,
             "; ".join(f"{t.name}={'' if t.size is None else t.size} ({t.formula})" for t in q.terms), q.note]
            for row in r.rows for q in row.quantities]
    rows += [[row.name, f"counter {row.level}", c.verdict if row.level == "total" else row.verdict, c.tool, row.convention, row.counted, row.verdict,
              row.difference, "; ".join(f"{t}={n}" for t, n in row.terms), row.note]
             for c in r.counters for row in c.rows]
    rows += [[d.name, "difference", "", d.kind, d.spec_summary, d.real_summary, "", "", "",
              "; ".join(f"{k} {a} -> {b}" for k, a, b in d.fields) or d.note] for d in r.differences]
    return csv_table(CSV_COLUMNS, rows)


def _csv_value(value: Any) -> str:
    if isinstance(value, tuple):
        return "x".join(map(str, value))
    return "" if value is None else str(value)


def to_dict(r: Reconciliation) -> dict[str, Any]:
    return {
        "spec": r.spec,
        "against": r.against,
        "input": list(r.input),
        "depth": r.depth,
        "ok": r.ok,
        "versions": dict(r.versions),
        "quantities": QUANTITY_TITLES,
        "rows": [{**asdict(row), "verdict": row.verdict} for row in r.rows],
        "unsupported": [{"op": op, "count": n, "rows": list(rows)} for op, n, rows in r.unsupported],
        "differences": [asdict(d) for d in r.differences],
        "difference_groups": [{"change": k, "layers": [d.name for d in ds]} for k, ds in difference_groups(r)],
        **({"counters": counters_dict(r)} if r.counters else {}),
    }


def to_json(r: Reconciliation) -> str:
    return json.dumps(to_dict(r), indent=2) + "\n"


RENDERERS = {"table": to_table, "markdown": to_markdown, "csv": to_csv, "json": to_json}


def render_check(r: Reconciliation, fmt: str = "table") -> str:
    return RENDERERS[fmt](r)
