"""Render every convention's count of one analysis (:mod:`inception_calc.core.conventions`): each
counter's total, the MACs, and the terms that make up the difference, as a text table, markdown or JSON.

Formatting only: every number comes from :func:`inception_calc.core.conventions.count`.
"""

from __future__ import annotations

import json

from inception_calc.core.conventions import Counted
from inception_calc.core.results import Analysis
from inception_calc.core.values import grouped
from inception_calc.report.table import columns, markdown_table, text_table

FORMATS = ("table", "markdown", "json")
HEADERS = ("convention", "tool", "total", "MACs", "+ terms", "terms")
COLUMNS = columns(HEADERS, right={"total", "MACs", "+ terms"})


def _tool(counted: Counted) -> str:
    c = counted.convention
    return f"{c.tool} {c.version}".strip()


def _terms(counted: Counted) -> str:
    return "; ".join(f"{name} {grouped(size)}" for name, size in counted.terms.items() if size) or "-"


def _rows(counts: list[Counted]) -> list[list[str]]:
    return [[c.convention.name, _tool(c), grouped(c.total), grouped(c.macs), grouped(c.total - c.macs), _terms(c)]
            for c in counts]


def _header(analysis: Analysis) -> str:
    c, h, w = analysis.input
    return (f"{analysis.spec} at input {c}x{h}x{w}: each counter's total for one image at inference (the main "
            "rows, eval mode), its conv and linear MACs, and the terms it adds")


def _term_lines(counts: list[Counted]) -> list[str]:
    """What each term counts, once per convention that has terms."""
    lines = []
    for counted in counts:
        conv = counted.convention
        for term in conv.terms:
            where = "" if term.attributed else " (in its total only, in no module's count)"
            lines.append(f"{conv.name}: {term.name} = {term.rule}{where}")
    return lines


def to_table(analysis: Analysis, counts: list[Counted]) -> str:
    return "\n".join([_header(analysis), "", *text_table(COLUMNS, _rows(counts)), "",
                      *(f"note: {line}" for line in _term_lines(counts))]) + "\n"


def to_markdown(analysis: Analysis, counts: list[Counted]) -> str:
    table = markdown_table(COLUMNS, _rows(counts))
    notes = "\n".join(f"- {line}" for line in _term_lines(counts))
    return "\n\n".join([f"_{_header(analysis)}_", "\n".join(table), notes]) + "\n"


def to_json(analysis: Analysis, counts: list[Counted]) -> str:
    data = {"spec": analysis.spec, "input": list(analysis.input),
            "conventions": [{**c.to_dict(), "term_rules": {t.name: t.rule for t in c.convention.terms}}
                            for c in counts]}
    for entry in data["conventions"]:
        del entry["spec"], entry["input"]
    return json.dumps(data, indent=2) + "\n"


RENDERERS = {"table": to_table, "markdown": to_markdown, "json": to_json}


def render(analysis: Analysis, counts: list[Counted], fmt: str = "table") -> str:
    """Every convention's count of ``analysis`` (``counts``, in the order given) in ``fmt``."""
    return RENDERERS[fmt](analysis, counts)
