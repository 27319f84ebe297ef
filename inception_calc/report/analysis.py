"""Render an :class:`~inception_calc.core.results.Analysis` as a text table, markdown, CSV or JSON.

Formatting only: every number comes from the analysis. Tables show shapes as H x W x C, as the
paper's Table 1 does, and counts with thousands separators; CSV and JSON give exact integers and
shapes as C, H, W.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterator

from inception_calc.core.errors import CalcError, did_you_mean
from inception_calc.core.values import AUTO_UNITS_NOTE, count_writer, grouped, hwc, percent
from inception_calc.core.receptive import ReceptiveField
from inception_calc.core.results import CONVENTION, DEPTHS, Analysis, Cost, Sums, Totals
from inception_calc.report.table import columns, csv_table, indented, markdown_table, text_table

if TYPE_CHECKING:  # pragma: no cover
    from inception_calc.core.conventions import Counted

FORMATS = ("table", "markdown", "csv", "json")
HEADERS = ("name", "layer", "in", "out", "weights", "params", "MACs", "MACs %", "activations")
NUMERIC = frozenset({"weights", "params", "MACs", "MACs %", "activations"})
COLUMNS = columns(HEADERS, right=NUMERIC, nowrap={"name"})
RF_HEADERS = ("RF (HxW)", "stride", "padding")
RF_COLUMNS = columns(HEADERS + RF_HEADERS, right=NUMERIC | set(RF_HEADERS), nowrap={"name"})
OPTIONAL_HEADERS = ("params %",)
"""Columns the default table leaves out (so that its golden files stay as they are); ``columns``
chooses them by name."""
ALL_HEADERS = HEADERS[:6] + OPTIONAL_HEADERS + HEADERS[6:] + RF_HEADERS
"""Every column a table can show, in the order they are shown: params % beside params and MACs %."""


def nodes_with_depth(row: Cost, depth: str, level: int = 0) -> Iterator[tuple[Cost, int]]:
    """``row.walk(depth)`` with each node's depth in the tree (the row 0, its branches 1, ...): the
    indentation a name gets, whatever dots the name has (:func:`~inception_calc.report.table.indented`)."""
    yield row, level
    limit = DEPTHS.index(depth)
    for child in row.children:
        if DEPTHS.index(child.level) <= limit:
            yield from nodes_with_depth(child, depth, level + 1)


def pair_cell(pair: tuple[int, int]) -> str:
    """``2`` for (2, 2), ``2x1`` otherwise: a field's stride or padding, H x W."""
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}x{pair[1]}"


def rf_cells(field: ReceptiveField) -> list[str]:
    """RF (HxW), stride, padding: ``whole 224x224`` and no stride or padding for a whole-input field;
    ``*`` after the size of a field that is not aligned (the footer says why)."""
    if field.whole:
        return [field.text + ("*" if not field.aligned else ""), "-", "-"]
    return [field.text + ("*" if not field.aligned else ""), pair_cell(field.stride), pair_cell(field.padding)]


def share_total(totals: Totals, aux: bool) -> Sums:
    """The total a node's MACs % and params % are shares of: the training total for the nodes of an
    auxiliary head (it runs only in training), else the inference total. So the main rows' shares
    add up to 100% of the inference total, and with the aux heads' to 100% of the training total."""
    return totals.training if aux else totals.inference


def _node_cells(node: Cost, totals: Totals, level: int, count: Callable[[int], str] = grouped) -> dict[str, str]:
    whole = share_total(totals, node.aux)
    return dict(zip(HEADERS[:6] + OPTIONAL_HEADERS + HEADERS[6:], (
        indented(node.name, depth=level), node.summary, hwc(node.in_shape), hwc(node.out_shape), count(node.weights),
        count(node.params), percent(node.params, whole.params), count(node.macs), percent(node.macs, whole.macs),
        count(node.activations))))


def _total_cells(label: str, sums: Sums, share: bool, count: Callable[[int], str] = grouped) -> dict[str, str]:
    return {"name": label, "weights": count(sums.weights), "params": count(sums.params),
            "params %": percent(sums.params, sums.params) if share else "", "MACs": count(sums.macs),
            "MACs %": percent(sums.macs, sums.macs) if share else "", "activations": count(sums.activations)}


def counted_title(counted: "Counted") -> str:
    """The title of the column of each node's count under a convention (``report --convention``)."""
    return f"counted ({counted.convention.name})"


def _body(analysis: Analysis, depth: str, aux: bool, titles: tuple[str, ...],
          count: Callable[[int], str] = grouped,
          counted: "Counted | None" = None) -> tuple[list[list[str]], list[list[str]]]:
    """The cells of the columns ``titles`` (of :data:`ALL_HEADERS`, and :func:`counted_title` with
    ``counted``): one line per node, then the totals; counts written by ``count``
    (:func:`~inception_calc.core.values.count_writer`)."""
    own = counted_title(counted) if counted is not None else None
    fields = analysis.receptive_fields if set(RF_HEADERS) & set(titles) else None
    body = []
    for row in analysis.shown_rows(aux):
        for node, level in nodes_with_depth(row, depth):
            cells = _node_cells(node, analysis.totals, level, count)
            cells.update(zip(RF_HEADERS, rf_cells(fields[node.name])) if fields else ())
            if own:
                cells[own] = count(counted.by_node[node.name])
            body.append([cells[t] for t in titles])
    totals = [_total_cells("total (inference)", analysis.totals.inference, True, count)]
    if own:
        totals[0][own] = count(counted.total)
    if aux or analysis.totals.training != analysis.totals.inference:
        totals.append(_total_cells("total (training, + aux heads)", analysis.totals.training, False, count))
        if own:
            totals[-1][own] = count(counted.training)
    return body, [[cells.get(t, "") for t in titles] for cells in totals]


def chosen_titles(rf: bool, titles: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The columns shown: ``titles`` (of :data:`ALL_HEADERS`) in the table's own order, else the
    default ones (:data:`HEADERS`, then the receptive field's with ``rf``)."""
    if titles is None:
        return HEADERS + (RF_HEADERS if rf else ())
    return tuple(t for t in ALL_HEADERS if t in titles)


def _key(title: str) -> str:
    return title.lower().replace(" ", "").replace("(hxw)", "")


COLUMN_NAMES = {_key(t): t for t in ALL_HEADERS}
"""Each column by the name ``columns`` takes: its title, lower case, spaces dropped (``macs%``,
``params%``, ``rf``); the title itself (``"MACs %"``) is read the same."""


def column_titles(text: str) -> tuple[str, ...]:
    """The columns named in ``text`` (``name,params,macs,macs%``), as titles of :data:`ALL_HEADERS`;
    an unknown name is a CalcError listing the known ones."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if _key(n) not in COLUMN_NAMES]
    if unknown or not names:
        what = f"unknown column {unknown[0]!r}" if unknown else "no column named"
        raise CalcError(what, where="columns",
                        fix=f"{did_you_mean(_key(unknown[0]), COLUMN_NAMES) if unknown else ''}"
                            f"known columns: {', '.join(COLUMN_NAMES)}")
    return tuple(COLUMN_NAMES[_key(n)] for n in names)


DROP_ORDER = ("padding", "stride", "RF (HxW)", "in", "layer", "activations", "weights", "MACs %", "out")
"""The columns a table too wide for the terminal leaves out, first to last: name, params and MACs stay."""


def fitted_titles(analysis: Analysis, width: int, depth: str = "layer", aux: bool = False, rf: bool = False,
                  units: str = "exact") -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the columns whose table fits in ``width`` characters, the columns left out), dropping in
    :data:`DROP_ORDER` until the widest line of the table fits (or only the last columns are left)."""
    shown = list(chosen_titles(rf))
    count = count_writer(units)
    dropped = []
    for title in (None, *DROP_ORDER):
        if title is not None:
            if title not in shown:
                continue
            shown.remove(title)
            dropped.append(title)
        lines = text_table(_columns(tuple(shown)), *_body(analysis, depth, aux, tuple(shown), count))
        if max(len(line) for line in lines) <= width:
            break
    return tuple(shown), tuple(dropped)


def _columns(titles: tuple[str, ...]) -> tuple:
    counts = {t for t in titles if t.startswith("counted (")}
    return columns(titles, right=NUMERIC | set(OPTIONAL_HEADERS) | set(RF_HEADERS) | counts, nowrap={"name"})


def _header_lines(analysis: Analysis, units: str = "exact", counted: "Counted | None" = None) -> list[str]:
    c, h, w = analysis.input
    lines = [
        f"{analysis.spec} at input {c}x{h}x{w} (C x H x W); shapes below are H x W x C as in the paper's Table 1",
        f"convention: {CONVENTION}",
        *([AUTO_UNITS_NOTE] if units == "auto" else []),
    ]
    if counted is not None:
        conv = counted.convention
        lines.append(f"counted ({conv.name}): as {conv.tool} {conv.version} counts: {conv.summary}".replace("  ", " "))
    return lines


def rf_notes(analysis: Analysis, names: list[str]) -> list[str]:
    """The receptive-field notes of the nodes ``names``: what the columns mean, whole-input fields,
    and each distinct reason a field is not aligned (once, with the first node it reaches)."""
    fields = analysis.receptive_fields
    lines = ["receptive field: RF = input rows x columns one output unit sees; unit i sees rows "
             "i*stride - padding .. i*stride - padding + RF - 1 (google-research/receptive_field's definition)"]
    c, h, w = analysis.input
    if any(fields[n].whole for n in names):
        lines.append(f"receptive field 'whole {h}x{w}': global or adaptive pooling, or a linear layer: each output "
                     f"unit sees the whole {h}x{w} input")
    seen: set[str] = set()
    for name in names:
        note = fields[name].note
        if note and note not in seen:
            seen.add(note)
            lines.append(f"receptive field of {name}{'*' if not fields[name].aligned else ''}: {note}")
    return lines


def _footer_lines(analysis: Analysis, aux: bool, rf: bool = False, depth: str = "layer") -> list[str]:
    lines = []
    if not aux and analysis.totals.training != analysis.totals.inference:
        lines.append("auxiliary heads (training only) are left out of the rows; --aux shows them")
    lines += [f"note: {w}" for w in analysis.warnings]
    if rf:
        names = [node.name for row in analysis.shown_rows(aux) for node in row.walk(depth)]
        lines += [f"note: {line}" for line in rf_notes(analysis, names)]
    return lines


def to_table(analysis: Analysis, depth: str = "layer", aux: bool = False, rf: bool = False,
             titles: tuple[str, ...] | None = None, units: str = "exact", counted: "Counted | None" = None) -> str:
    """The text table; ``titles``: the columns to show (of :data:`ALL_HEADERS`), else the default
    ones; ``units``: ``exact`` counts (every digit) or ``auto`` (``1.58G``, the base stated);
    ``counted`` (:func:`inception_calc.core.conventions.count`): a last column of each node's count
    under that convention."""
    count = count_writer(units)
    shown = chosen_titles(rf, titles)
    rf = rf or bool(set(RF_HEADERS) & set(shown))
    shown += (counted_title(counted),) if counted is not None else ()
    rows, totals = _body(analysis, depth, aux, shown, count, counted)
    return "\n".join([*_header_lines(analysis, units, counted), "", *text_table(_columns(shown), rows, totals), "",
                      *_footer_lines(analysis, aux, rf, depth)]).rstrip() + "\n"


def to_markdown(analysis: Analysis, depth: str = "layer", aux: bool = False, rf: bool = False,
                titles: tuple[str, ...] | None = None, units: str = "exact", counted: "Counted | None" = None) -> str:
    """The markdown table; ``titles``, ``units`` and ``counted`` as for :func:`to_table`."""
    count = count_writer(units)
    shown = chosen_titles(rf, titles)
    rf = rf or bool(set(RF_HEADERS) & set(shown))
    shown += (counted_title(counted),) if counted is not None else ()
    head = [f"**{line}**" if i == 0 else f"_{line}_" for i, line in enumerate(_header_lines(analysis, units, counted))]
    foot = [f"- {line}" for line in _footer_lines(analysis, aux, rf, depth)]
    table = markdown_table(_columns(shown), *_body(analysis, depth, aux, shown, count, counted))
    return "\n\n".join(["\n\n".join(head), "\n".join(table), *(["\n".join(foot)] if foot else [])]) + "\n"


CSV_COLUMNS = ("name", "level", "kind", "summary", "aux", "in_c", "in_h", "in_w", "out_c", "out_h", "out_w",
               "weights", "biases", "bn", "params", "macs", "flops", "activations")


CSV_RF_COLUMNS = ("rf_h", "rf_w", "rf_stride_h", "rf_stride_w", "rf_padding_h", "rf_padding_w", "rf_whole",
                  "rf_aligned", "rf_note")


def _csv_rf(field: ReceptiveField) -> list:
    return [*field.size, *field.stride, *field.padding, int(field.whole), int(field.aligned), field.note]


def to_csv(analysis: Analysis, depth: str = "layer", aux: bool = False, rf: bool = False,
           counted: "Counted | None" = None) -> str:
    """One line per node, exact integers; then one line per total (level ``total``); with ``rf``
    each node's receptive field after (a whole field: size, stride = the input's H, W, padding 0)."""
    fields = analysis.receptive_fields if rf else None
    rows = [[node.name, node.level, node.kind, node.summary, int(node.aux), *node.in_shape, *node.out_shape,
             node.weights, node.biases, node.bn, node.params, node.macs, node.flops, node.activations]
            + (_csv_rf(fields[node.name]) if fields else []) + ([counted.by_node[node.name]] if counted else [])
            for row in analysis.shown_rows(aux) for node in row.walk(depth)]
    for label, sums in (("total.inference", analysis.totals.inference), ("total.training", analysis.totals.training)):
        rows.append([label, "total", "", "", int(label.endswith("training")), "", "", "", "", "", "",
                     sums.weights, sums.biases, sums.bn, sums.params, sums.macs, sums.flops, sums.activations]
                    + ([""] * len(CSV_RF_COLUMNS) if rf else [])
                    + ([counted.training if label.endswith("training") else counted.total] if counted else []))
    counted_column = (f"counted_{counted.convention.name}",) if counted else ()
    return csv_table(CSV_COLUMNS + (CSV_RF_COLUMNS if rf else ()) + counted_column, rows)


def to_json(analysis: Analysis, depth: str = "layer", aux: bool = False, rf: bool = False,
            counted: "Counted | None" = None) -> str:
    """The JSON form; every node carries its ``receptive_field`` whether or not ``rf`` is asked. With
    a convention: a top-level ``counting`` (the convention, its tool, version and terms) and a
    ``counted`` beside every node's and total's ``macs``, no other key changed."""
    if counted is None:
        return analysis.to_json(depth, aux) + "\n"
    import json

    return json.dumps(with_counted(analysis.to_dict(depth, aux), counted), indent=2) + "\n"


def with_counted(data: dict, counted: "Counted") -> dict:
    """An analysis's JSON form with ``counted`` after each ``macs`` and a ``counting`` object after
    ``convention``: keys only added."""

    def node(entry: dict) -> dict:
        out = {}
        for key, value in entry.items():
            out[key] = [node(child) for child in value] if key in ("branches", "layers") else value
            if key == "macs":
                out["counted"] = counted.by_node[entry["name"]]
        return out

    conv = counted.convention
    result: dict = {}
    for key, value in data.items():
        result[key] = value
        if key == "convention":
            result["counting"] = {"convention": conv.name, "tool": conv.tool, "version": conv.version,
                                  "summary": conv.summary, "terms": dict(counted.terms)}
    result["rows"] = [node(row) for row in data["rows"]]
    totals = {}
    for which, sums in data["totals"].items():
        size = counted.total if which == "inference" else counted.training
        totals[which] = {k: v for key, v0 in sums.items() for k, v in
                         ((key, v0), *((("counted", size),) if key == "macs" else ()))}
    result["totals"] = totals
    return result


RENDERERS = {"table": to_table, "markdown": to_markdown, "csv": to_csv, "json": to_json}


def render(analysis: Analysis, fmt: str = "table", depth: str = "layer", aux: bool = False, rf: bool = False,
           titles: tuple[str, ...] | None = None, units: str = "exact", counted: "Counted | None" = None) -> str:
    """``analysis`` in ``fmt``; ``rf``: with each node's receptive field (size, stride, padding) in
    columns (JSON always has them). ``titles`` (the columns) and ``units`` (``exact`` or ``auto``)
    shape the table and markdown; CSV and JSON always carry every field as exact integers.
    ``counted`` (:func:`inception_calc.core.conventions.count`): with each node's count under that
    convention, beside its MACs."""
    if fmt in ("table", "markdown"):
        return RENDERERS[fmt](analysis, depth, aux, rf, titles, units, counted)
    count_writer(units)  # an unknown units is refused whatever the format
    return RENDERERS[fmt](analysis, depth, aux, rf, counted)
