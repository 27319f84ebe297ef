"""Render an :class:`~inception_calc.core.results.Analysis` as a text table, markdown, CSV or JSON.

Formatting only: every number comes from the analysis. Tables show shapes as H x W x C, as the
paper's Table 1 does, and counts with thousands separators; CSV and JSON give exact integers and
shapes as C, H, W.
"""

from __future__ import annotations

from typing import Iterator

from inception_calc.core.values import grouped, hwc, percent
from inception_calc.core.results import CONVENTION, DEPTHS, Analysis, Cost, Sums
from inception_calc.report.table import columns, csv_table, indented, markdown_table, text_table

FORMATS = ("table", "markdown", "csv", "json")
HEADERS = ("name", "layer", "in", "out", "weights", "params", "MACs", "MACs %", "activations")
NUMERIC = frozenset({"weights", "params", "MACs", "MACs %", "activations"})
COLUMNS = columns(HEADERS, right=NUMERIC, nowrap={"name"})


def nodes_with_depth(row: Cost, depth: str, level: int = 0) -> Iterator[tuple[Cost, int]]:
    """``row.walk(depth)`` with each node's depth in the tree (the row 0, its branches 1, ...): the
    indentation a name gets, whatever dots the name has (:func:`~inception_calc.report.table.indented`)."""
    yield row, level
    limit = DEPTHS.index(depth)
    for child in row.children:
        if DEPTHS.index(child.level) <= limit:
            yield from nodes_with_depth(child, depth, level + 1)


def _node_cells(node: Cost, total_macs: int, level: int) -> list[str]:
    return [indented(node.name, depth=level), node.summary, hwc(node.in_shape), hwc(node.out_shape), grouped(node.weights),
            grouped(node.params), grouped(node.macs), percent(node.macs, total_macs), grouped(node.activations)]


def _total_cells(label: str, sums: Sums, share: str) -> list[str]:
    return [label, "", "", "", grouped(sums.weights), grouped(sums.params), grouped(sums.macs), share,
            grouped(sums.activations)]


def _body(analysis: Analysis, depth: str, aux: bool) -> tuple[list[list[str]], list[list[str]]]:
    total = analysis.totals.inference.macs
    body = []
    for row in analysis.shown_rows(aux):
        for node, level in nodes_with_depth(row, depth):
            body.append(_node_cells(node, total, level))
    totals = [_total_cells("total (inference)", analysis.totals.inference, percent(total, total))]
    if aux or analysis.totals.training != analysis.totals.inference:
        totals.append(_total_cells("total (training, + aux heads)", analysis.totals.training, ""))
    return body, totals


def _header_lines(analysis: Analysis) -> list[str]:
    c, h, w = analysis.input
    return [
        f"{analysis.spec} at input {c}x{h}x{w} (C x H x W); shapes below are H x W x C as in the paper's Table 1",
        f"convention: {CONVENTION}",
    ]


def _footer_lines(analysis: Analysis, aux: bool) -> list[str]:
    lines = []
    if not aux and analysis.totals.training != analysis.totals.inference:
        lines.append("auxiliary heads (training only) are left out of the rows; --aux shows them")
    lines += [f"note: {w}" for w in analysis.warnings]
    return lines


def to_table(analysis: Analysis, depth: str = "layer", aux: bool = False) -> str:
    rows, totals = _body(analysis, depth, aux)
    return "\n".join([*_header_lines(analysis), "", *text_table(COLUMNS, rows, totals), "",
                      *_footer_lines(analysis, aux)]).rstrip() + "\n"


def to_markdown(analysis: Analysis, depth: str = "layer", aux: bool = False) -> str:
    head = [f"**{line}**" if i == 0 else f"_{line}_" for i, line in enumerate(_header_lines(analysis))]
    foot = [f"- {line}" for line in _footer_lines(analysis, aux)]
    return "\n\n".join(["\n\n".join(head), "\n".join(markdown_table(COLUMNS, *_body(analysis, depth, aux))),
                        *(["\n".join(foot)] if foot else [])]) + "\n"


CSV_COLUMNS = ("name", "level", "kind", "summary", "aux", "in_c", "in_h", "in_w", "out_c", "out_h", "out_w",
               "weights", "biases", "bn", "params", "macs", "flops", "activations")


def to_csv(analysis: Analysis, depth: str = "layer", aux: bool = False) -> str:
    """One line per node, exact integers; then one line per total (level ``total``)."""
    rows = [[node.name, node.level, node.kind, node.summary, int(node.aux), *node.in_shape, *node.out_shape,
             node.weights, node.biases, node.bn, node.params, node.macs, node.flops, node.activations]
            for row in analysis.shown_rows(aux) for node in row.walk(depth)]
    for label, sums in (("total.inference", analysis.totals.inference), ("total.training", analysis.totals.training)):
        rows.append([label, "total", "", "", int(label.endswith("training")), "", "", "", "", "", "",
                     sums.weights, sums.biases, sums.bn, sums.params, sums.macs, sums.flops, sums.activations])
    return csv_table(CSV_COLUMNS, rows)


def to_json(analysis: Analysis, depth: str = "layer", aux: bool = False) -> str:
    return analysis.to_json(depth, aux) + "\n"


RENDERERS = {"table": to_table, "markdown": to_markdown, "csv": to_csv, "json": to_json}


def render(analysis: Analysis, fmt: str = "table", depth: str = "layer", aux: bool = False) -> str:
    return RENDERERS[fmt](analysis, depth, aux)
