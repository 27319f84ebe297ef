"""Render a :class:`~inception_calc.studies.sweep.Sweep` as a text table, markdown, CSV or JSON.

Formatting only: every number comes from the sweep. The table gives one line per size the network
fits (its inference totals), then the notes: the smallest input accepted, the sizes skipped and
why, and whether the weights change with the size. CSV and JSON list every size, a skipped one
with empty counts (CSV) or no totals (JSON) and its reason.
"""

from __future__ import annotations

import json
from typing import Any

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
             f"{result.spec} accepts no square input up to 65536"]
    if result.too_small:
        lines.append(f"skipped, too small: {_sizes(result.too_small)}")
    lines += [f"skipped {c}x{p.size}x{p.size}: {p.skipped}" for p in result.refused]
    if result.weights_vary:
        lines.append("weights change with the input size: a fixed-window pool before a linear layer "
                     "hands it a larger map at larger inputs")
    return lines


def _cells(result: Sweep) -> list[list[str]]:
    c = result.channels
    return [[f"{c}x{p.size}x{p.size}", grouped(p.totals.weights), grouped(p.totals.params), grouped(p.totals.macs),
             grouped(p.totals.activations)] for p in result.measured if p.totals]


def _head(result: Sweep) -> str:
    return f"{result.spec}: inference totals by input size"


def to_table(result: Sweep) -> str:
    return "\n".join([_head(result), f"convention: {CONVENTION}", "", *text_table(COLUMNS, _cells(result)), "",
                      *notes(result)]) + "\n"


def to_markdown(result: Sweep) -> str:
    return "\n".join([f"**{_head(result)}**", "", f"_convention: {CONVENTION}_", "",
                      *markdown_table(COLUMNS, _cells(result)), "", *(f"- {n}" for n in notes(result))]) + "\n"


def to_csv(result: Sweep) -> str:
    """One line per size: exact integers, or empty counts and the reason for a skipped size."""
    rows = []
    for p in result.points:
        t = p.totals
        values = [t.weights, t.biases, t.bn, t.params, t.macs, t.flops, t.activations] if t else [""] * 7
        rows.append([p.size, result.channels, *values, p.skipped])
    return csv_table(CSV_COLUMNS, rows)


def to_dict(result: Sweep) -> dict[str, Any]:
    return {
        "spec": result.spec,
        "channels": result.channels,
        "smallest_input": result.smallest,
        "convention": CONVENTION,
        "points": [{"size": p.size, **({"totals": p.totals.to_dict()} if p.totals else {"skipped": p.skipped})}
                   for p in result.points],
        "notes": notes(result),
    }


def to_json(result: Sweep) -> str:
    return json.dumps(to_dict(result), indent=2) + "\n"


RENDERERS = {"table": to_table, "markdown": to_markdown, "csv": to_csv, "json": to_json}


def render(result: Sweep, fmt: str = "table") -> str:
    return RENDERERS[fmt](result)
