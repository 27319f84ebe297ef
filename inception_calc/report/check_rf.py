"""Render an :class:`~inception_calc.pytorch.receptive.RFCheck` (``check --rf``) as a text table,
markdown, CSV or JSON.

Formatting only: every field, span and verdict comes from the measurement. One line per row (and
branch and block at depth 'branch', and every MISMATCH): the analysis's field (size, stride,
padding), the measured one where two neighbouring units' fields lie inside the reachable rows, the
input rows and columns no unit reaches, the verdict and why.
"""

from __future__ import annotations

import json
from typing import Any

from inception_calc.pytorch.receptive import EXACT, FLAGGED, MISMATCH, NodeRF, RFCheck
from inception_calc.report.table import RULE_LIMIT, columns, csv_table, markdown_table, text_table

HEADERS = ("name", "verdict", "RF", "stride", "padding", "measured RF", "m. stride", "m. padding", "unreached",
           "note")
COLUMNS = columns(HEADERS, right=frozenset(HEADERS[2:9]))


def _pair(values: Any) -> str:
    return f"{values[0]}x{values[1]}" if values[0] != values[1] else str(values[0])


def _cells(n: NodeRF, indent: bool) -> list[str]:
    f = n.analytic
    derived = [a.derived for a in n.axes]
    if f.whole:
        measured = ["whole" if all(a.reach == (0, size - 1) for a, size in zip(n.axes, n.input_hw)) else "-", "-", "-"]
    elif None in derived:
        measured = ["clipped", "-", "-"]
    else:
        measured = [_pair([d[i] for d in derived]) for i in range(3)]  # type: ignore[index]
    unreached = n.unreached
    name = ("  " if indent and n.level != "row" else "") + n.name
    return [name, n.verdict, ("whole " if f.whole else "") + f.text.removeprefix("whole "),
            "-" if f.whole else _pair(f.stride), "-" if f.whole else _pair(f.padding), *measured,
            _pair(unreached) if any(unreached) else "-", n.note]


def _header(r: RFCheck) -> list[str]:
    c, h, w = r.input
    thin = (f"measured on {r.measured_on} (one channel per layer: a field does not depend on channel counts)"
            if r.measured_on != r.spec else "measured on the spec at its own width")
    versions = ", ".join(f"{k} {v}" for k, v in r.versions)
    return [f"check --rf: {r.spec} receptive fields (analysis) against gradients of the built network, "
            f"input {c}x{h}x{w}",
            f"{thin}; weights 1/fan_in, biases 0, max pooling as average pooling, float64 ({versions}); per node "
            f"units first, second, centre, centre + 1, last but one and last along H and W; measured field = "
            f"analytic span clipped to the input rows some unit reaches; {r.seconds:.1f} s"]


def _summary(r: RFCheck) -> str:
    counts = {v: sum(1 for n in r.nodes if n.verdict == v) for v in (EXACT, FLAGGED, MISMATCH)}
    levels = {lv: sum(1 for n in r.nodes if n.level == lv) for lv in ("row", "branch", "block", "layer")}
    plural = {"branch": "branches"}
    measured = ", ".join(f"{k} {plural.get(lv, lv + 's') if k != 1 else lv}" for lv, k in levels.items() if k)
    result = "every field as the analysis says" if r.ok else "the fields differ"
    flagged = f", {counts[FLAGGED]} flagged (over-estimates the analysis names)" if counts[FLAGGED] else ""
    return (f"verdicts over {len(r.nodes)} nodes ({measured}): {counts[EXACT]} exact{flagged}, "
            f"{counts[MISMATCH]} MISMATCH: {result}")


def to_table(r: RFCheck) -> str:
    rows = [_cells(n, True) for n in r.shown]
    return "\n".join([*_header(r), "", *text_table(COLUMNS, rows, rule_limit=RULE_LIMIT), "", _summary(r)]) + "\n"


def to_markdown(r: RFCheck) -> str:
    head = [f"**{line}**" if i == 0 else f"_{line}_" for i, line in enumerate(_header(r))]
    rows = [_cells(n, False) for n in r.shown]
    return "\n\n".join(["\n\n".join(head), "\n".join(markdown_table(COLUMNS, rows)), _summary(r)]) + "\n"


CSV_COLUMNS = ("name", "level", "verdict", "axis", "size", "stride", "padding", "whole", "aligned", "units",
               "reach_first", "reach_last", "derived_size", "derived_stride", "derived_padding", "measured",
               "note")


def to_csv(r: RFCheck) -> str:
    """One line per node and axis (every node measured); ``measured``: unit:first..last, space separated."""
    rows = []
    for n in r.nodes:
        f = n.analytic
        for a, ax in enumerate(n.axes):
            d = ax.derived or ("", "", "")
            rows.append([n.name, n.level, n.verdict, "HW"[a], f.size[a], f.stride[a], f.padding[a], f.whole,
                         f.aligned, ax.units, ax.reach[0], ax.reach[1], *d,
                         " ".join(f"{u}:{s[0]}..{s[1]}" if s else f"{u}:-" for u, s in ax.measured),
                         ax.problem or n.note])
    return csv_table(CSV_COLUMNS, rows)


def to_dict(r: RFCheck) -> dict[str, Any]:
    return {
        "spec": r.spec,
        "measured_on": r.measured_on,
        "input": list(r.input),
        "depth": r.depth,
        "ok": r.ok,
        "seconds": round(r.seconds, 3),
        "versions": dict(r.versions),
        "nodes": [{"name": n.name, "level": n.level, "verdict": n.verdict, "receptive_field": n.analytic.to_dict(),
                   "unreached": list(n.unreached), "note": n.note,
                   "axes": [{"axis": "HW"[a], "units": ax.units, "reach": list(ax.reach),
                             "derived": None if ax.derived is None else dict(zip(("size", "stride", "padding"),
                                                                                 ax.derived)),
                             "measured": [{"unit": u, "span": None if s is None else list(s)} for u, s in ax.measured],
                             "expected": [{"unit": u, "span": list(s)} for u, s in ax.expected]}
                            for a, ax in enumerate(n.axes)]}
                  for n in r.nodes],
    }


def to_json(r: RFCheck) -> str:
    return json.dumps(to_dict(r), indent=2) + "\n"


RENDERERS = {"table": to_table, "markdown": to_markdown, "csv": to_csv, "json": to_json}


def render_check_rf(r: RFCheck, fmt: str = "table") -> str:
    return RENDERERS[fmt](r)
