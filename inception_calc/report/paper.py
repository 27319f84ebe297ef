"""Render a :class:`~inception_calc.studies.paper_table.PaperTable` as a text table, markdown, CSV or JSON.

Formatting only: every number comes from the judged table (published figures as printed, computed
counts from the analysis)."""

from __future__ import annotations

import json
from typing import Any

from inception_calc.studies.paper_table import COLUMNS, RULE, Judgement, PaperRow, PaperTable, explained_by
from inception_calc.core.values import grouped
from inception_calc.core.values import parse_number, plain, within_precision
from inception_calc.report.table import columns, csv_table, markdown_table, text_table

FORMATS = ("table", "markdown", "csv", "json")
HEADERS = ("name", "type", "output", "params", "computed", "read as", "params fit", "ops", "computed", "ops fit",
           "params~ops")
TABLE_COLUMNS = columns(HEADERS, right={"params", "computed", "ops"})  # the figures; "read as" and the fits are text
VERDICT = {"rounds": "rounds", "within one unit": "1 unit", "no": "NO"}


def _fit(judgement: Judgement | None, row: PaperRow) -> str:
    if judgement is None:
        return ""
    text = VERDICT[judgement.best.fit]
    alt = explained_by(row, judgement.quantity) if not judgement.consistent else None
    return f"{text}; alt fits" if alt else text


def _cells(row: PaperRow) -> list[str]:
    output = row.check("output")
    out = "" if output is None else output.computed + ("" if output.consistent else f" (paper {output.published})")
    cells = [row.name, row.type, out]
    for quantity in ("params", "ops"):
        j = row.judgements.get(quantity)
        if j is None:
            cells += [""] * (4 if quantity == "params" else 3)
            continue
        cells += [j.published, j.shown()]
        if quantity == "params":
            cells.append(f"{j.best.counted}, K={j.best.k}")
        cells.append(_fit(j, row))
    cells.append("" if row.agreement is None else VERDICT[row.agreement.fit])
    return cells


def _arithmetic_lines(table: PaperTable) -> list[str]:
    lines = []
    for row, j in table.judgements():
        best = j.best
        verdict = "consistent" if j.consistent else "INCONSISTENT"
        how = best.fit if j.consistent else "closest reading"
        lines.append(f"{row.name} {j.quantity} {j.published}: {verdict} ({how}): {best.arithmetic()}")
        for alt in row.alternatives:
            aj = alt.judgements.get(j.quantity)
            if aj is not None:
                lines.append(f"    alternative '{alt.label}' ({alt.status}): {aj.best.arithmetic()} -> "
                             f"{'consistent' if aj.consistent else 'inconsistent'} ({aj.best.fit})")
        if row.agreement and j.quantity == "ops":
            lines.append(f"    params~ops: {row.agreement.arithmetic()}")
    return lines


def _notes(table: PaperTable) -> list[str]:
    lines = []
    for row in table.rows:
        for quantity, j in row.judgements.items():
            if not j.consistent and not explained_by(row, quantity):
                lines.append(f"{row.name} {quantity} {j.published}: {row.likely_cause(quantity)}")
        for alt in row.alternatives:
            lines.append(f"{row.name}, {alt.label}: {alt.derivation} [{alt.status}; {alt.source}]")
        if row.cause:
            lines.append(f"{row.name}: {row.cause}")
        for check in row.checks:
            if not check.consistent:
                shown = "-" if check.computed in (None, "") else check.computed
                lines.append(f"{row.name}: {check.column} printed {check.published}, computed {shown}")
    unsure: dict[str, list[str]] = {}
    for row in table.rows:
        if row.unsure:
            unsure.setdefault(row.unsure, []).append(row.name)
    lines += [f"transcription ({', '.join(names)}): {text}" for text, names in unsure.items()]
    return lines


def _sums(table: PaperTable) -> list[str]:
    lines = [f"published ops sum to {plain(table.published_ops_sum / 10**6)}M; computed MACs of the main rows: "
             f"{grouped(table.computed_macs)}",
             f"published params sum to {plain(table.published_params_sum / 1000)}K (read with K = 1000); computed "
             f"weights of the main rows: {grouped(table.computed_weights)}"]
    if table.text_ops_total:
        written = parse_number(table.text_ops_total)
        low, high = written.interval()
        candidates = [("the published column's sum", table.published_ops_sum),
                      (f"the computed MACs ({grouped(table.computed_macs)})", table.computed_macs)]
        if table.macs_with_documented_alternatives != table.computed_macs:
            candidates.append((f"the computed MACs with the documented alternatives in place "
                               f"({grouped(table.macs_with_documented_alternatives)})",
                               table.macs_with_documented_alternatives))
        verdict = [f"{label}: {'yes' if within_precision(value, written.value, written.unit) else 'no'}"
                   for label, value in candidates]
        lines.append(f"the paper's text says {table.text_ops_total} multiply-adds, i.e. [{plain(low)}, {plain(high)}]; "
                     "rounds to it? " + "; ".join(verdict))
    return lines


def _head(table: PaperTable) -> list[str]:
    c, h, w = table.input
    return [f"{table.title} ({table.source})", f"computed from {table.spec} at input {c}x{h}x{w}; rule: {RULE}"]


def to_table(table: PaperTable) -> str:
    body = text_table(TABLE_COLUMNS, [_cells(r) for r in table.rows], rule_below=True)
    sections = [("arithmetic", _arithmetic_lines(table)), ("alternatives, causes and notes", _notes(table)),
                ("sums", _sums(table))]
    text = [*_head(table), "", *body]
    for title, lines in sections:
        text += ["", f"{title}:", *[f"  {x}" for x in lines]]
    text += ["", f"summary: {table.summary_line()}"]
    return "\n".join(text) + "\n"


def to_markdown(table: PaperTable) -> str:
    head = [f"**{table.title}** ({table.source})", f"_computed from {table.spec} at input "
            f"{'x'.join(map(str, table.input))}; rule: {RULE}_"]
    parts = ["\n\n".join(head), "\n".join(markdown_table(TABLE_COLUMNS, [_cells(r) for r in table.rows]))]
    for title, lines in (("Arithmetic", _arithmetic_lines(table)), ("Alternatives, causes and notes", _notes(table)),
                         ("Sums", _sums(table))):
        parts.append(f"**{title}**\n\n" + "\n".join(("  - " if x.startswith(" ") else "- ") + x.strip()
                                                    for x in lines))
    parts.append(f"**Summary**: {table.summary_line()}")
    return "\n\n".join(parts) + "\n"


CSV_COLUMNS = ("name", "type", "spec_row", "output_published", "output_computed", "patch_published", "patch_computed",
               "depth_published", "depth_computed", *[f"{c}_{s}" for c in COLUMNS for s in ("published", "computed")],
               *[f"{q}_{f}" for q in ("params", "ops") for f in
                 ("published", "computed", "counted", "k", "computed_in_unit", "fit", "consistent", "alternative")],
               "params_agree_with_ops")


def to_csv(table: PaperTable) -> str:
    lines = []
    for row in table.rows:
        record: dict[str, Any] = {"name": row.name, "type": row.type, "spec_row": row.spec_row}
        for check in row.checks:
            record[f"{check.column}_published"] = check.published
            record[f"{check.column}_computed"] = check.computed
        for quantity, j in row.judgements.items():
            best = j.best
            alt = explained_by(row, quantity) if not j.consistent else None
            record.update({f"{quantity}_published": j.published, f"{quantity}_computed": best.count,
                           f"{quantity}_counted": best.counted, f"{quantity}_k": best.k,
                           f"{quantity}_computed_in_unit": float(best.scaled), f"{quantity}_fit": best.fit,
                           f"{quantity}_consistent": int(j.consistent),
                           f"{quantity}_alternative": alt.label if alt else ""})
        if row.agreement:
            record["params_agree_with_ops"] = row.agreement.fit
        lines.append([record.get(c, "") for c in CSV_COLUMNS])
    return csv_table(CSV_COLUMNS, lines)


def to_dict(table: PaperTable) -> dict[str, Any]:
    rows = []
    for row in table.rows:
        data: dict[str, Any] = {"name": row.name, "type": row.type, "spec_row": row.spec_row}
        for check in row.checks:
            key = check.column
            data[key] = {"published": check.published, "computed": check.computed, "consistent": check.consistent}
        for quantity, j in row.judgements.items():
            data[quantity] = j.to_dict()
            alt = explained_by(row, quantity) if not j.consistent else None
            if alt:
                data[quantity]["explained_by"] = alt.label
            if not j.consistent:
                data[quantity]["cause"] = row.likely_cause(quantity)
        if row.alternatives:
            data["alternatives"] = [{
                "label": a.label, "status": a.status, "source": a.source, "weights": a.weights, "biases": a.biases,
                "macs": a.macs, "derivation": a.derivation,
                **{q: j.to_dict() for q, j in a.judgements.items()},
            } for a in row.alternatives]
        if row.agreement:
            data["params_agree_with_ops"] = row.agreement.to_dict()
        if row.cause:
            data["cause"] = row.cause
        if row.unsure:
            data["unsure"] = row.unsure
        rows.append(data)
    return {
        "title": table.title, "source": table.source, "spec": table.spec, "input": list(table.input), "rule": RULE,
        "rows": rows,
        "sums": {"published_ops": float(table.published_ops_sum), "text_ops_total": table.text_ops_total,
                 "computed_macs": table.computed_macs,
                 "computed_macs_with_documented_alternatives": table.macs_with_documented_alternatives,
                 "published_params_k1000": float(table.published_params_sum),
                 "computed_weights": table.computed_weights},
        "summary": {**table.summary(), "line": table.summary_line()},
    }


def to_json(table: PaperTable) -> str:
    return json.dumps(to_dict(table), indent=2) + "\n"


RENDERERS = {"table": to_table, "markdown": to_markdown, "csv": to_csv, "json": to_json}


def render(table: PaperTable, fmt: str = "table") -> str:
    return RENDERERS[fmt](table)
