"""A :class:`~inception_calc.core.network.Network` written as a spec file: the inverse of
:mod:`inception_calc.core.loader` (``inception-calc export-spec``).

:func:`spec_text` gives TOML that :func:`~inception_calc.core.sources.load_spec` reads back to an
equal network (its ``path`` aside), and so to the same analysis: every field the loader reads, nested
blocks, additions with their scales and activation, branches and blocks that are no modules,
auxiliary heads with ``after``, the input, the reference, the notes. Only what differs from a
default is written: ``[defaults]`` takes each conv option's most common value, a row or block sets
an option where most of its convs differ from what they inherit, a layer where it differs from its
row; an Inception row is written as its paper columns; consecutive rows that are copies of one
another, the number their names end with counting up, are one row with ``repeat = N``.

Comments say where the file came from and, at the network's own input, each row's output shape
(H x W x C, as the paper writes it), MACs and params, and each layer's inside a layer list.

Standard library only. A network the format cannot express (a row of one branch that is not a plain
sequence, a text with half a surrogate pair) is a :class:`~inception_calc.core.errors.CalcError`.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import replace
from typing import Any

from inception_calc.core.errors import CalcError, quote
from inception_calc.core.kinds import CONV_OPTIONS, KINDS, Conv, Layer, Linear, Pool, layer_default
from inception_calc.core.kinds.base import FROM_LAYER, INHERITED, REQUIRED
from inception_calc.core.network import (Block, Branch, InceptionOptions, Network, Row, inception_branches,
                                          layer_prefix, node_names)
from inception_calc.core.results import Cost
from inception_calc.core.values import grouped, hwc

INDENT = "  "
FIRST = ("out", "kernel", "stride", "pad", "groups")
_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}

# ----------------------------------------------------------------------------- TOML values


def toml_string(text: str, where: str = "text") -> str:
    """A TOML basic string: ``"..."`` with the backslash, the quote and every control character
    escaped (TOML 1.0: U+0000 to U+001F and U+007F); other characters are written as they are.
    Half a surrogate pair has no UTF-8 form and no TOML escape: refused."""
    out = []
    for c in text:
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04X}")
        elif 0xD800 <= ord(c) <= 0xDFFF:
            raise CalcError(f"holds {quote(c)}, half a surrogate pair, which no TOML file can hold", where=where,
                            fix="give the text whole characters")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def toml_value(value: Any, where: str = "value") -> str:
    """A TOML value: a bool, an integer, a float (``repr``: it reads back to the same float), text,
    a pair written once when its halves agree is the caller's business; a list or tuple as an array."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value, where)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v, where) for v in value) + "]"
    raise CalcError(f"has a value {quote(value)} that a spec cannot hold", where=where,
                    fix="give it a number, a bool, a text or a list of them")


def _pair(value: Any) -> Any:
    """A [height, width] pair as a spec writes it: one integer when they agree."""
    if isinstance(value, tuple) and len(value) == 2 and value[0] == value[1]:
        return value[0]
    return list(value) if isinstance(value, tuple) else value


def inline(fields: dict[str, Any], where: str) -> str:
    """``{ kind = "conv", out = 64, kernel = 1 }``."""
    return "{ " + ", ".join(f"{k} = {toml_value(v, where)}" for k, v in fields.items()) + " }"


def comment(text: str) -> str:
    """A comment's text kept on its line: each character that is not printable as its escape."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


# ----------------------------------------------------------------------------- conv options


def _layers_of(branches: tuple[Branch, ...], kind: type) -> list[Any]:
    """Every layer of type ``kind`` in ``branches``, nested blocks included, in order."""
    found: list[Any] = []
    for branch in branches:
        for node in branch.layers:
            if isinstance(node, Block):
                found.extend(_layers_of(node.branches, kind))
            elif isinstance(node, kind):
                found.append(node)
    return found


def _options(branches: tuple[Branch, ...], inherited: dict) -> dict:
    """The conv options a row or block sets: each option's most common value among its convs (the
    bias among its linear layers too), where that differs from what it inherits."""
    convs, linears = _layers_of(branches, Conv), _layers_of(branches, Linear)
    chosen = {}
    for key in CONV_OPTIONS:
        values = [getattr(c, key) for c in convs] + ([lin.bias for lin in linears] if key == "bias" else [])
        if not values:
            continue
        counts = Counter(values)
        best = max(counts.values())
        if counts.get(inherited[key], 0) < best:
            chosen[key] = next(v for v in values if counts[v] == best)  # the first of the most common
    return chosen


# ----------------------------------------------------------------------------- layers


def _spec_kind(layer: Layer) -> str:
    if isinstance(layer, Pool):
        return f"{layer.op}pool"
    return KINDS.of(layer).spec_kinds[0]


def layer_fields(layer: Layer, inherited: dict, *, named: bool = True) -> dict[str, Any]:
    """A layer's table: ``kind``, its ``name`` (when ``named`` and it has one), then each field whose
    value is not the one the loader would give it without the field."""
    fields: dict[str, Any] = {"kind": _spec_kind(layer)}
    if named and layer.name:
        fields["name"] = layer.name
    kind = KINDS.of(layer)
    if isinstance(layer, Pool):
        if layer.output:
            fields["output"] = _pair(layer.output)
            return fields
        fields["kernel"] = _pair(layer.kernel)
        if layer.stride != layer.kernel:
            fields["stride"] = _pair(layer.stride)
        if layer.pad != (0, 0):
            fields["pad"] = _pair(layer.pad)
        fields["rounding"] = layer.rounding
        if layer.op == "avg" and not layer.count_include_pad:
            fields["count_include_pad"] = False
        return fields
    # out, kernel, stride, pad, groups first, as the paper and the built-in specs write a conv
    order = sorted(kind.fields, key=lambda f: FIRST.index(f.name) if f.name in FIRST else len(FIRST))
    for fld in order:
        value = getattr(layer, fld.name)
        if fld.default is REQUIRED:
            default = None
        elif fld.default is INHERITED:
            default = inherited[fld.name]
        elif fld.default is FROM_LAYER:
            default = layer_default(kind.layer_type, fld.name)
        else:
            default = fld.default
        if value != default:
            fields[fld.name] = _pair(value)
    return fields


# ----------------------------------------------------------------------------- the writer


class _Writer:
    def __init__(self, network: Network, costs: dict[str, Cost]) -> None:
        self.network = network
        self.costs = costs
        self.lines: list[str] = []

    def where(self, row: Row) -> str:
        return f"network {quote(self.network.name)}, row {quote(row.name)}"

    def cost_note(self, name: str) -> str:
        """A layer's comment: its output and MACs ("" when the analysis has no such node)."""
        cost = self.costs.get(name)
        return f"{hwc(cost.out_shape)}, {grouped(cost.macs)} MACs" if cost is not None else ""

    # a branch's nodes, one a line, nested blocks opened and closed on lines of their own
    def nodes(self, names: list[str], prefix: str, branch: Branch, inherited: dict, depth: int, where: str) -> None:
        pad = INDENT * depth
        for name, node in zip(names, branch.layers):
            if isinstance(node, Block):
                options = _options(node.branches, inherited)
                inner = name if node.module else prefix
                head: dict[str, Any] = {"kind": node.combine}
                if node.name:
                    head["name"] = node.name
                if not node.module:
                    head["module"] = False
                if node.relu:
                    head["activation"] = "relu"
                head.update(options)
                text = inline(head, where)[:-2]
                self.lines.append(f"{pad}{text}, branches = [")
                self.branches(node.branches, inner, {**inherited, **options}, node.combine, depth + 1, where)
                self.lines.append(f"{pad}] }},")
            else:
                note = self.cost_note(name)
                self.lines.append(f"{pad}{inline(layer_fields(node, inherited), where)},"
                                  + (f"  # {note}" if note else ""))

    def branches(self, branches: tuple[Branch, ...], prefix: str, inherited: dict, combine: str, depth: int,
                 where: str) -> None:
        pad = INDENT * depth
        for i, branch in enumerate(branches, start=1):
            head: dict[str, Any] = {}
            if branch.name != f"branch{i}":
                head["name"] = branch.name
            if not branch.module:
                head["module"] = False
            if combine == "add" and branch.scale != 1:
                head["scale"] = branch.scale
            if not branch.layers:
                if combine != "add":
                    raise CalcError(f"branch {quote(branch.name)} of a concatenation has no layers", where=where,
                                    fix="give every branch of a concatenation at least one layer")
                self.lines.append(f"{pad}{inline(head, where) if head else '{}'},")
                continue
            names = node_names(prefix, branch)
            inner = layer_prefix(prefix, branch)
            opening = inline(head, where)[:-2] + ", " if head else "{ "
            self.lines.append(f"{pad}{opening}layers = [")
            self.nodes(names, inner, branch, inherited, depth + 1, where)
            self.lines.append(f"{pad}] }},")

    def row(self, row: Row, inherited: dict, repeat: int, note: str) -> None:
        where = self.where(row)
        self.lines.append("")
        self.lines.append("[[rows]]" + (f"  # {comment(note)}" if note else ""))
        self.lines.append(f"name = {toml_string(row.name, where)}")
        body: dict[str, Any] = {}
        listing: tuple[str, tuple[Branch, ...], dict] | None = None
        inception = (row.kind == "inception" and row.inception is not None
                     and row.branches == inception_branches(dict(row.columns), row.inception))
        if row.is_aux or (row.layout in ("single", "sequence") and not inception and
                          (row.kind == "stack" or row.layout == "sequence")):
            branch = row.branches[0]
            if len(row.branches) != 1 or branch.name or not branch.module:
                raise CalcError("an auxiliary head of several branches, or of a named branch, has no spec form",
                                where=where, fix="make the head one unnamed sequence of layers and blocks")
            body["kind"] = "aux" if row.is_aux else "stack"
            if row.is_aux:
                body["after"] = row.after
            options = _options(row.branches, inherited)
            body.update(options)
            listing = ("layers", row.branches, {**inherited, **options})
        elif inception:
            o = row.inception
            body["kind"] = "inception"
            body.update(dict(row.columns))
            for key in InceptionOptions.__dataclass_fields__:
                value = getattr(o, key)
                default = inherited[key] if key in CONV_OPTIONS else layer_default(InceptionOptions, key)
                if value != default:
                    body[key] = value
        elif row.layout == "single":
            body.update(layer_fields(row.branches[0].layers[0], inherited, named=False))
        else:
            if len(row.branches) < 2:
                raise CalcError(f"a {row.combine} row of {len(row.branches)} branch has no spec form", where=where,
                                fix="give the row two branches or more, or make it a sequence")
            body["kind"] = row.combine
            if row.relu:
                body["activation"] = "relu"
            options = _options(row.branches, inherited)
            body.update(options)
            listing = ("branches", row.branches, {**inherited, **options})
        if repeat > 1:
            body["repeat"] = repeat
        if row.note:
            body["note"] = row.note
        for key, value in body.items():
            self.lines.append(f"{key} = {toml_value(_pair(value), f'{where}, field {key!r}')}")
        if listing is not None:
            key, branches, inner = listing
            self.lines.append(f"{key} = [")
            if key == "layers":
                self.nodes(row.layer_names(branches[0]), layer_prefix(row.name, branches[0]), branches[0], inner, 1,
                           where)
            else:
                self.branches(branches, row.name, inner, row.combine, 1, where)
            self.lines.append("]")


def _copies(rows: tuple[Row, ...], start: int) -> int:
    """How many rows from ``start`` on are one row repeated: equal but for the number their names
    end with, counting up from the first's at its width (what ``repeat = N`` reads as)."""
    first = rows[start]
    match = re.fullmatch(r"(.*?)(\d+)", first.name)
    if match is None:
        return 1
    stem, digits = match.group(1), match.group(2)
    n = 1
    while start + n < len(rows) and rows[start + n] == replace(
            first, name=f"{stem}{int(digits) + n:0{len(digits)}d}"):
        n += 1
    return n


def _row_note(costs: list[Cost | None], aux: bool) -> str:
    if any(c is None for c in costs):
        return "left out at this input" if aux else ""
    first = costs[0]
    text = f"{hwc(first.out_shape)}, {grouped(first.macs)} MACs, {grouped(first.params)} params"
    if len(costs) > 1:
        same = all((c.out_shape, c.macs, c.params) == (first.out_shape, first.macs, first.params) for c in costs)
        text = f"{len(costs)} copies, each {text}" if same else f"{len(costs)} copies, the first {text}"
    return text + (" (training only)" if aux else "")


def spec_text(network: Network, origin: str | None = None) -> str:
    """``network`` as the text of a TOML spec file that loads back to an equal network, commented:
    a header saying it was written from ``origin`` (the network's file or name when None), and each
    row's output shape, MACs and params at the network's own input."""
    from inception_calc.core.engine import analyze

    origin = origin if origin is not None else (network.path or network.name)
    try:
        analysis = analyze(network)
    except CalcError as exc:
        analysis, why = None, exc.line()
    costs = {node.name: node for row in analysis.rows for node in row.walk("conv")} if analysis else {}
    top = f"network {quote(network.name)}"
    lines = [f"# {comment(network.name)}: written by inception-calc export-spec from {comment(origin)}.",
             "# It loads back to the same network: every command reads this file as it reads the source."]
    c, h, w = network.input
    if analysis is not None:
        inference, training = analysis.totals.inference, analysis.totals.training
        lines.append(f"# At its input {h}x{w}x{c}: {grouped(inference.params)} params, {grouped(inference.macs)} MACs"
                     + (f"; with the auxiliary heads (training) {grouped(training.params)} params, "
                        f"{grouped(training.macs)} MACs" if network.aux_rows else "") + ".")
        lines.append("# A row's comment: its output (H x W x C), MACs and params; a layer's: its output and MACs.")
    else:
        lines.append(f"# It does not run at its own input {h}x{w}x{c}: {comment(why)}")
    lines.append("")
    lines.append(f"name = {toml_string(network.name, f'{top}, field name')}")
    for key in ("description", "source", "reference"):
        value = getattr(network, key)
        if value:
            lines.append(f"{key} = {toml_string(value, f'{top}, field {key}')}")
    lines.append(f"input = {toml_value(list(network.input))}")
    if network.notes:
        lines.append("notes = [")
        lines.extend(f"{INDENT}{toml_string(n, f'{top}, field notes')}," for n in network.notes)
        lines.append("]")
    base = {key: layer_default(Conv, key) for key in CONV_OPTIONS}
    everything = tuple(b for row in network.rows for b in row.branches)
    defaults = _options(everything, base)
    inherited = {**base, **defaults}
    if defaults:
        lines.append("")
        lines.append("[defaults]")
        lines.extend(f"{key} = {toml_value(value)}" for key, value in defaults.items())
    writer = _Writer(network, costs)
    i = 0
    while i < len(network.rows):
        row = network.rows[i]
        n = _copies(network.rows, i)
        rows = network.rows[i:i + n]
        note = _row_note([costs.get(r.name) for r in rows], row.is_aux) if analysis else ""
        writer.row(row, inherited, n, note)
        i += n
    return "\n".join(lines + writer.lines) + "\n"


__all__ = ["spec_text", "toml_string", "toml_value", "layer_fields"]
