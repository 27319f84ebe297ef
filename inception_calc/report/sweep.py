"""Render a :class:`~inception_calc.studies.sweep.Sweep` as a text table, markdown, CSV or JSON.

Formatting only: every number comes from the sweep. The table gives one line per size the network
fits (its inference totals), then the notes: the smallest input accepted, the sizes skipped and
why, and whether the weights change with the size. CSV and JSON list every size, a skipped one
with empty counts (CSV) or no totals (JSON) and its reason.
"""

from __future__ import annotations

import json
from typing import Any

from inception_calc.core.receptive import ReceptiveField
from inception_calc.core.results import CONVENTION
from inception_calc.core.values import grouped
from inception_calc.report.table import columns, csv_table, markdown_table, text_table
from inception_calc.studies.sweep import Sweep

FORMATS = ("table", "markdown", "csv", "json")
HEADERS = ("input", "weights", "params", "MACs", "activations")
COLUMNS = columns(HEADERS, right=HEADERS[1:])
CSV_COLUMNS = ("size", "channels", "weights", "biases", "bn", "params", "macs", "flops", "activations", "skipped")
SHOWN_SIZES = 8  # a longer list of skipped sizes is given as its first and last


def _sizes(sizes: tuple[int, ...]) -> str:
    if len(sizes) <= SHOWN_SIZES:
        return ", ".join(map(str, sizes))
    return f"{sizes[0]} to {sizes[-1]} ({len(sizes)} sizes)"


def notes(result: Sweep) -> list[str]:
    """The lines under the table: the smallest input, the sizes skipped (and why), and whether
    the weights change with the size."""
    c, n = result.channels, result.smallest
    lines = [f"smallest input {result.spec} accepts: {c}x{n}x{n}" if n else
             f"{result.spec} accepts no square input the search found"]
    if result.too_small:
        lines.append(f"skipped, too small: {_sizes(result.too_small)}")
    lines += [f"skipped {c}x{p.size}x{p.size}: {p.skipped}" for p in result.refused]
    if result.weights_vary:
        lines.append("weights change with the input size: a fixed-window pool before a linear layer "
                     "hands it a larger map at larger inputs")
    if result.rf:
        lines.append(f"RF {result.rf}: the input rows x columns one unit of {result.rf} sees (size, effective "
                     "stride, effective padding; google-research/receptive_field's definition)")
        if any(p.field is not None and p.field.whole for p in result.measured):
            lines.append(f"'whole NxN': {result.rf} sees the whole input (global or adaptive pooling, or a linear layer)")
        for note in dict.fromkeys(p.field.note for p in result.measured if p.field is not None and p.field.note):
            lines.append(f"RF {result.rf}: {note}")
    return lines


def _columns(result: Sweep) -> tuple:
    if not result.rf and not result.convention:
        return COLUMNS
    titles = HEADERS + ((f"RF {result.rf}", "stride", "padding") if result.rf else ()) + (
        (f"counted ({result.convention})",) if result.convention else ())
    return columns(titles, right=titles[1:])


def _rf_cells(field: ReceptiveField | None) -> list[str]:
    if field is None:
        return ["-", "-", "-"]
    if field.whole:
        return [field.text + ("*" if not field.aligned else ""), "-", "-"]
    pair = lambda p: str(p[0]) if p[0] == p[1] else f"{p[0]}x{p[1]}"  # noqa: E731
    return [field.text + ("*" if not field.aligned else ""), pair(field.stride), pair(field.padding)]


def _cells(result: Sweep) -> list[list[str]]:
    c = result.channels
    return [[f"{c}x{p.size}x{p.size}", grouped(p.totals.weights), grouped(p.totals.params), grouped(p.totals.macs),
             grouped(p.totals.activations), *(_rf_cells(p.field) if result.rf else []),
             *([grouped(p.counted)] if result.convention else [])]
            for p in result.measured if p.totals]


def _head(result: Sweep) -> str:
    return f"{result.spec}: inference totals by input size" + (
        f", and the receptive field of {result.rf}" if result.rf else "") + (
        f"; counted: as the {result.convention} convention counts (docs/conventions.md)" if result.convention else "")


def to_table(result: Sweep) -> str:
    return "\n".join([_head(result), f"convention: {CONVENTION}", "", *text_table(_columns(result), _cells(result)),
                      "", *notes(result)]) + "\n"


def to_markdown(result: Sweep) -> str:
    return "\n".join([f"**{_head(result)}**", "", f"_convention: {CONVENTION}_", "",
                      *markdown_table(_columns(result), _cells(result)), "", *(f"- {n}" for n in notes(result))]) + "\n"


CSV_RF_COLUMNS = ("rf_h", "rf_w", "rf_stride_h", "rf_stride_w", "rf_padding_h", "rf_padding_w", "rf_whole",
                  "rf_aligned")


def to_csv(result: Sweep) -> str:
    """One line per size: exact integers, or empty counts and the reason for a skipped size; with
    ``rf``, the node's receptive field after."""
    rows = []
    for p in result.points:
        t, f = p.totals, p.field
        values = [t.weights, t.biases, t.bn, t.params, t.macs, t.flops, t.activations] if t else [""] * 7
        rf = ([*f.size, *f.stride, *f.padding, int(f.whole), int(f.aligned)] if f else [""] * 8) if result.rf else []
        counted = [p.counted if p.counted is not None else ""] if result.convention else []
        rows.append([p.size, result.channels, *values, p.skipped, *rf, *counted])
    counted_column = (f"counted_{result.convention}",) if result.convention else ()
    return csv_table(CSV_COLUMNS + (CSV_RF_COLUMNS if result.rf else ()) + counted_column, rows)


def _totals(p: Any) -> dict[str, Any]:
    """A point's totals, with ``counted`` after ``macs`` under a convention."""
    totals = p.totals.to_dict()
    if p.counted is None:
        return totals
    return {k: v for key, value in totals.items()
            for k, v in ((key, value), *((("counted", p.counted),) if key == "macs" else ()))}


def to_dict(result: Sweep) -> dict[str, Any]:
    counting = {}
    if result.convention:
        from inception_calc.core.conventions import convention

        conv = convention(result.convention)
        counting = {"counting": {"convention": conv.name, "tool": conv.tool, "version": conv.version,
                                 "summary": conv.summary}}
    return {
        "spec": result.spec,
        "channels": result.channels,
        "smallest_input": result.smallest,
        "convention": CONVENTION,
        **counting,
        "points": [{"size": p.size, **({"totals": _totals(p)} if p.totals else {"skipped": p.skipped}),
                    **({"receptive_field": p.field.to_dict()} if p.field is not None else {})}
                   for p in result.points],
        "notes": notes(result),
        **({"rf": result.rf} if result.rf else {}),
    }


def to_json(result: Sweep) -> str:
    return json.dumps(to_dict(result), indent=2) + "\n"


RENDERERS = {"table": to_table, "markdown": to_markdown, "csv": to_csv, "json": to_json}


def render(result: Sweep, fmt: str = "table") -> str:
    return RENDERERS[fmt](result)
