"""Receptive fields of every row, branch, nested block and layer, in google-research/receptive_field's terms.

Along each axis a field is three integers (docs/receptive-field.md): its ``size``, its effective
``stride`` (the jump, in input pixels, between neighbouring output units) and its effective
``padding``: output unit ``i`` sees input rows ``i * stride - padding`` to
``i * stride - padding + size - 1`` (unclipped; rows below 0 or past H - 1 are padding).

A layer applying a window (kernel ``k``, stride ``s``, padding ``p`` on the near side) to a map whose
field is (size, stride, padding) gives::

    size_out    = size_in + (k - 1) * stride_in
    stride_out  = stride_in * s
    padding_out = padding_in + p * stride_in

Each kind says which window it applies (:meth:`LayerKind.receptive_window`); 1 x 1 convs at stride
1, bn, ReLU, LRN, dropout and softmax keep the field. Global and adaptive pooling (but where the
output divides the input: a regular window) and linear layers see the whole input: ``whole``, size
= the network input's H x W. A concatenation or an addition takes, per axis, the field of its
branch with the largest size, and checks that every branch has the same stride and the same
centre ``padding - (size - 1) / 2``; where not, the field is not ``aligned`` (google-research's
"Graph is not aligned") and a note names the branches; the flag and its note carry on to every
field computed from it. An identity branch of an addition has the block's input field.

Ceil rounding never moves the near side: the padding reported is the top / left one. It can add
a last window that reaches past the input and its right padding; :func:`far_padding` gives the far
side's effective padding at the input size analysed.

Computed only when asked for (JSON, ``report --rf``, explain, claims, sweep): the engine's walk
never computes a field.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from inception_calc.core.kinds import KINDS
from inception_calc.core.kinds.base import KEEPS, Window
from inception_calc.core.network import Block, Branch, Network, Row, collapsed, layer_prefix, node_names

Pair = tuple[int, int]
Shape = tuple[int, int, int]
AXES = ("H", "W")


@dataclass(frozen=True)
class ReceptiveField:
    """What input rows and columns one output unit sees, along H and W."""

    size: Pair
    """H, W: the input rows / columns one output unit sees."""
    stride: Pair
    """The effective stride (jump) between neighbouring output units, in input pixels."""
    padding: Pair
    """The effective padding (near side): unit i sees rows i * stride - padding .. i * stride - padding + size - 1."""
    whole: bool = False
    """Every output unit depends on the whole input (global / adaptive pooling, or after a linear layer)."""
    aligned: bool = True
    """False where a concatenation's or an addition's branches disagree on stride or centre."""
    note: str = ""
    """Why not aligned (naming the block and its branches), or why a field is reported as whole."""

    def span(self, index: int, axis: int) -> tuple[int, int]:
        """(first, last) input index that unit ``index`` sees along ``axis`` (0: H, 1: W), unclipped;
        a whole field gives (0, size - 1) for every unit."""
        if self.whole:
            return 0, self.size[axis] - 1
        first = index * self.stride[axis] - self.padding[axis]
        return first, first + self.size[axis] - 1

    def centre(self, axis: int) -> Fraction:
        """Where unit 0's field is centred, less the padding: ``(size - 1) / 2 - padding`` (the
        centre of unit i is this plus i * stride)."""
        return Fraction(self.size[axis] - 1, 2) - self.padding[axis]

    @property
    def text(self) -> str:
        """``99x99``; ``whole 224x224``."""
        return ("whole " if self.whole else "") + f"{self.size[0]}x{self.size[1]}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: size, stride, padding as [H, W]; ``whole`` / ``aligned`` and ``note`` only
        when they apply."""
        data: dict[str, Any] = {"size": list(self.size), "stride": list(self.stride), "padding": list(self.padding)}
        if self.whole:
            data["whole"] = True
        if not self.aligned:
            data["aligned"] = False
        if self.note:
            data["note"] = self.note
        return data


def input_field() -> ReceptiveField:
    """The network input's own field: each pixel sees itself."""
    return _field((1, 1), (1, 1), (0, 0))


_new = object.__new__


def _field(size: Pair, stride: Pair, padding: Pair, whole: bool = False, aligned: bool = True,
           note: str = "") -> ReceptiveField:
    """``ReceptiveField(...)`` without the frozen ``__init__``'s per-field ``object.__setattr__``
    (thousands are made per network; the result is just as frozen and equal)."""
    field = _new(ReceptiveField)
    field.__dict__.update(size=size, stride=stride, padding=padding, whole=whole, aligned=aligned, note=note)
    return field


def apply_window(field: ReceptiveField, window: Window, input_hw: Pair) -> ReceptiveField:
    """The field after a layer applying ``window`` to a map whose field is ``field`` (module
    docstring's three equations); ``input_hw``: the network input's H, W, the size of a whole field."""
    if window.whole:  # every output sees every input unit, whatever their fields: the whole input, exactly
        return _field(input_hw, input_hw, (0, 0), True, not window.note, window.note)
    if field.whole:
        return field
    if window is KEEPS:
        return field
    (n, m), (jh, jw), (qh, qw) = field.size, field.stride, field.padding
    (kh, kw), (sh, sw), (ph, pw) = window.kernel, window.stride, window.pad
    return _field((n + (kh - 1) * jh, m + (kw - 1) * jw), (jh * sh, jw * sw), (qh + ph * jh, qw + pw * jw),
                  False, field.aligned, field.note)


def merge(name: str, fields: list[tuple[str, ReceptiveField]], input_hw: Pair) -> ReceptiveField:
    """The field of a concatenation or an addition named ``name`` of the branches ``fields``
    ((branch name, field), in order): per axis the largest branch's field; not aligned, with a note
    naming the branches, where their strides or centres differ."""
    first = fields[0][1]
    if len(fields) == 1:
        return first
    if any(f.whole for _, f in fields):
        notes = [f.note for _, f in fields if f.note]
        return _field(input_hw, input_hw, (0, 0), True, all(f.aligned for _, f in fields), notes[0] if notes else "")
    bh = bw = first
    agree = True
    for _, f in fields:
        if f.size[0] > bh.size[0]:
            bh = f
        if f.size[1] > bw.size[1]:
            bw = f
        if f.stride != first.stride or _twice_centre(f) != _twice_centre(first):
            agree = False
    size, stride, padding = (bh.size[0], bw.size[1]), (bh.stride[0], bw.stride[1]), (bh.padding[0], bw.padding[1])
    if not agree:
        problems = []
        for axis in (0, 1):
            for what, value in (("stride", lambda f: f.stride[axis]), ("centre", lambda f: f.centre(axis))):
                if len({value(f) for _, f in fields}) > 1:
                    listed = ", ".join(f"{b} {_number(value(f))}" for b, f in fields)
                    problems.append(f"{what} along {AXES[axis]} ({listed})")
        note = f"'{name}' is not aligned: its branches disagree on " + "; ".join(problems)
        return _field(size, stride, padding, False, False, note)
    unaligned = next((f for _, f in fields if not f.aligned), None)
    if unaligned is not None:
        return _field(size, stride, padding, False, False, unaligned.note)
    return _field(size, stride, padding)


def _twice_centre(field: ReceptiveField) -> tuple[int, int]:
    """Twice each axis's centre, ``size - 1 - 2 * padding``: integers, compared exactly."""
    return field.size[0] - 1 - 2 * field.padding[0], field.size[1] - 1 - 2 * field.padding[1]


def _number(value: Fraction | int) -> str:
    return str(value) if isinstance(value, int) or value.denominator == 1 else f"{float(value):g}"


def far_padding(field: ReceptiveField, in_size: int, out_size: int, axis: int) -> int:
    """The far side's effective padding along ``axis`` at this input: how far the last output unit's
    field reaches past the last input row, ``(out - 1) * stride - padding + size - 1 - (in - 1)``
    (``in_size``: the network input's extent, ``out_size``: the node's output extent). Equal to the
    near side's for a 'same' network at an input its strides divide; ceil rounding can make it larger."""
    if field.whole:
        return 0
    return field.span(out_size - 1, axis)[1] - (in_size - 1)


# ---------------------------------------------------------------------- the walk


class _Walk:
    """Walks a network's rows as the engine names them, recording every node's field and output map."""

    def __init__(self, input_hw: Pair) -> None:
        self.input_hw = input_hw
        self.fields: dict[str, ReceptiveField] = {}

    def layer(self, name: str, layer: Any, field: ReceptiveField, hw: Shape) -> tuple[ReceptiveField, Shape]:
        kind = KINDS.of(layer)
        field = apply_window(field, kind.receptive_window(layer, hw), self.input_hw)
        self.fields[name] = field
        return field, kind.cost(layer, hw)[0]

    def nodes(self, names: list[str], prefix: str, branch: Branch, field: ReceptiveField,
              hw: Shape) -> tuple[ReceptiveField, Shape]:
        """The nodes of ``branch`` in order (``names`` theirs, ``prefix`` the one their blocks' branches take)."""
        for name, node in zip(names, branch.layers):
            if isinstance(node, Block):
                inner = name if node.module else prefix
                field, hw = self.combine(name, inner, node.branches, node.combine, field, hw)
            else:
                field, hw = self.layer(name, node, field, hw)
        return field, hw

    def sub(self, prefix: str, branch: Branch, field: ReceptiveField, hw: Shape) -> tuple[str, ReceptiveField, Shape]:
        """A branch of a row or a block: its name in the analysis, its field and output map."""
        names = node_names(prefix, branch)
        out_field, out_hw = self.nodes(names, layer_prefix(prefix, branch), branch, field, hw)
        name = names[0] if collapsed(branch) else f"{prefix}.{branch.name}"
        self.fields[name] = out_field
        return name, out_field, out_hw

    def combine(self, name: str, prefix: str, branches: tuple[Branch, ...], how: str, field: ReceptiveField,
                hw: Shape) -> tuple[ReceptiveField, Shape]:
        results = [self.sub(prefix, b, field, hw) for b in branches]
        merged = merge(name, [(_short(n, name), f) for n, f, _ in results], self.input_hw)
        self.fields[name] = merged
        out = results[0][2]
        if how == "concat":
            out = (sum(r[2][0] for r in results), out[1], out[2])
        return merged, out

    def row(self, row: Row, field: ReceptiveField, hw: Shape) -> tuple[ReceptiveField, Shape]:
        if row.layout == "single":
            return self.layer(row.name, row.branches[0].layers[0], field, hw)
        if row.layout == "sequence":
            first = row.branches[0]
            field, hw = self.nodes(row.layer_names(first), row.name, first, field, hw)
            self.fields[row.name] = field
            return field, hw
        return self.combine(row.name, row.name, row.branches, row.combine, field, hw)


def _short(branch: str, block: str) -> str:
    """A branch's name below its block's (``branch2``, ``repeat.0.branch1`` of a no-module block)."""
    return branch[len(block) + 1:] if branch.startswith(block + ".") else branch.rsplit(".", 1)[-1]


def network_fields(network: Network, input: tuple[int, int, int],
                   rows: "set[str] | None" = None) -> dict[str, ReceptiveField]:
    """Every node's field of ``network`` at ``input`` (C, H, W), by dotted name; ``rows``: the rows
    to walk (an auxiliary head left out of an analysis is not walked), None for all."""
    walk = _Walk((input[1], input[2]))
    outputs: dict[str, tuple[ReceptiveField, Shape]] = {}
    field, map_hw = input_field(), tuple(input)
    for row in network.rows:
        if rows is not None and row.name not in rows:
            continue
        if row.after is not None:
            if row.after not in outputs:
                continue
            walk.row(row, *outputs[row.after])
            continue
        field, map_hw = walk.row(row, field, map_hw)
        outputs[row.name] = (field, map_hw)
    return walk.fields


def receptive_fields(analysis: Any) -> dict[str, ReceptiveField]:
    """Every row, branch, nested block and layer of ``analysis`` (an :class:`Analysis`) by dotted
    name: its field at the analysis's input size (auxiliary heads included, those left out not)."""
    return network_fields(analysis.network, analysis.input, {r.name for r in analysis.rows})


__all__ = ["ReceptiveField", "apply_window", "far_padding", "input_field", "merge", "network_fields",
           "receptive_fields"]
