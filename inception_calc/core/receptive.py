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
never computes a field. :func:`receptive_fields` reads the engine's plan (:mod:`inception_calc.core.plan`),
where each row's fields relative to its input are kept once per network (shared by a repeated
block's copies): a row's own field is that composed with its input's (:func:`_compose`), its nodes'
when first read (:class:`FieldMap`); a row whose windows depend on the input's size, or whose fields
are not aligned, is walked at its input, memoized there. Every analysis's fields are kept on the
plan by its input: analyses repeated at a size cost one look-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Mapping

from inception_calc.core.kinds import KINDS
from inception_calc.core.kinds.base import KEEPS, Window
from inception_calc.core.network import Block, Branch, Network, Row, collapsed, layer_prefix, node_names
from inception_calc.core.memo import IdentityMemo
from inception_calc.core.plan import PlannedBranch, PlannedRow, Step, plan, remember

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


class Walk:
    """Walks a network's rows as the engine names them, recording every node's field and output map."""

    def __init__(self, input_hw: Pair, record: bool = False) -> None:
        self.input_hw = input_hw
        self.fields: dict[str, ReceptiveField] = {}
        self.steps: list[tuple] | None = [] if record else None
        """With ``record``: ("layer", name, layer, window, field in, field out) and ("merge", name,
        how, [(branch, field)], field out), in the walk's order; ``spans``: each node's steps."""
        self.spans: dict[str, tuple[int, int]] = {}

    def layer(self, name: str, layer: Any, field: ReceptiveField, hw: Shape) -> tuple[ReceptiveField, Shape]:
        kind = KINDS.of(layer)
        window = kind.receptive_window(layer, hw)
        out_shape = kind.cost(layer, hw)[0]
        out = self.through(name, layer, window, field, hw, out_shape)
        self.fields[name] = out
        if self.steps is not None:
            self.spans[name] = (len(self.steps), len(self.steps) + 1)
            far = ""
            other = kind.rounding_alternative(layer, hw)
            if other is not None and other[0] == "ceil" and tuple(other[2]) != tuple(out_shape[1:]):
                pads = [far_padding(out, self.input_hw[a], out_shape[a + 1], a) for a in (0, 1)]
                far = (f"; ceil rounding adds a last window: at this input the last unit's field reaches "
                       f"{_axes(lambda a: str(pads[a]))} past the input's far side (near-side padding "
                       f"{_axes(lambda a: str(out.padding[a]))})")
            self.steps.append(("layer", name, layer, window, field, out, far))
        return out, out_shape

    def through(self, name: str, layer: Any, window: Window, field: Any, hw: Shape, out_shape: Shape) -> Any:
        """What the walk carries past a layer: here its field (a subclass carries other values,
        :mod:`inception_calc.pytorch.receptive`)."""
        return apply_window(field, window, self.input_hw)

    def merged(self, name: str, how: str, branches: tuple[Branch, ...], results: list[tuple[str, Any, Shape]]) -> Any:
        """What the walk carries past a concatenation or an addition of ``results`` ((branch name,
        value, map) of each of ``branches``): here the merged field."""
        return merge(name, [(_short(n, name), f) for n, f, _ in results], self.input_hw)

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
        start = len(self.steps) if self.steps is not None else 0
        out_field, out_hw = self.nodes(names, layer_prefix(prefix, branch), branch, field, hw)
        name = names[0] if collapsed(branch) else f"{prefix}.{branch.name}"
        self.fields[name] = out_field
        if self.steps is not None:
            if not branch.layers:
                self.steps.append(("identity", name, field))
            self.spans[name] = (start, len(self.steps))
        return name, out_field, out_hw

    def combine(self, name: str, prefix: str, branches: tuple[Branch, ...], how: str, field: ReceptiveField,
                hw: Shape) -> tuple[ReceptiveField, Shape]:
        start = len(self.steps) if self.steps is not None else 0
        results = [self.sub(prefix, b, field, hw) for b in branches]
        merged = self.merged(name, how, branches, results)
        self.fields[name] = merged
        if self.steps is not None:
            self.steps.append(("merge", name, how, [(_short(n, name), f) for n, f, _ in results], merged))
            self.spans[name] = (start, len(self.steps))
        out = results[0][2]
        if how == "concat":
            out = (sum(r[2][0] for r in results), out[1], out[2])
        return merged, out

    def row(self, row: Row, field: ReceptiveField, hw: Shape) -> tuple[ReceptiveField, Shape]:
        if row.layout == "single":
            return self.layer(row.name, row.branches[0].layers[0], field, hw)
        if row.layout == "sequence":
            first = row.branches[0]
            start = len(self.steps) if self.steps is not None else 0
            field, hw = self.nodes(row.layer_names(first), row.name, first, field, hw)
            self.fields[row.name] = field
            if self.steps is not None:
                self.spans[row.name] = (start, len(self.steps))
            return field, hw
        return self.combine(row.name, row.name, row.branches, row.combine, field, hw)


def _short(branch: str, block: str) -> str:
    """A branch's name below its block's (``branch2``, ``repeat.0.branch1`` of a no-module block)."""
    return branch[len(block) + 1:] if branch.startswith(block + ".") else branch.rsplit(".", 1)[-1]


def _walk(network: Network, input: tuple[int, int, int], rows: "set[str] | None" = None,
          record: bool = False) -> Walk:
    return walk_rows(Walk((input[1], input[2]), record), network, input, input_field(), rows)


def walk_rows(walk: Walk, network: Network, input: tuple[int, int, int], start: Any,
              rows: "set[str] | None" = None) -> Walk:
    """Walk ``network``'s rows at ``input`` with ``walk``, ``start`` the value it carries into the
    first row (an auxiliary head starts from the value of the row it reads); ``rows``: as in
    :func:`network_fields`."""
    outputs: dict[str, tuple[Any, Shape]] = {}
    field, map_hw = start, tuple(input)
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
    return walk


# ---------------------------------------------------------------------- the fields of an analysis, on the plan


def _planned_nodes(steps: tuple, field: ReceptiveField, shape: Shape, input_hw: Pair,
                   out: dict[str, ReceptiveField]) -> tuple[ReceptiveField, Shape]:
    """:meth:`Walk.nodes` on the engine's plan: each planned layer's field and output shape, in
    order, into ``out`` by name; ``shape`` None where no window depends on it (:func:`_relative`)."""
    for step in steps:
        if type(step) is Step:
            layer = step.layer
            window = step.window(layer, shape)
            if shape is not None:
                shape = step.cost(layer, shape)[0]
            field = out[step.name] = apply_window(field, window, input_hw)
        else:
            field, shape = _planned_combine(step.name, step.kind, step.branches, field, shape, input_hw, out)
    return field, shape


def _planned_combine(name: str, how: str, branches: tuple[PlannedBranch, ...], field: ReceptiveField, shape: Shape,
                     input_hw: Pair, out: dict[str, ReceptiveField]) -> tuple[ReceptiveField, Shape]:
    """:meth:`Walk.combine` on the plan: every branch's field, then their merge under ``name``."""
    results = []
    channels = 0
    first = None
    for branch in branches:
        branch_field, branch_shape = _planned_nodes(branch.steps, field, shape, input_hw, out)
        out[branch.name] = branch_field
        results.append((_short(branch.name, name), branch_field))
        if branch_shape is not None:
            channels += branch_shape[0]
        if first is None:
            first = branch_shape
    merged = out[name] = merge(name, results, input_hw)
    return merged, ((channels, first[1], first[2]) if how == "concat" and first is not None else first)


def _planned_row(planned: PlannedRow, field: ReceptiveField, shape: Shape,
                 input_hw: Pair) -> tuple[dict[str, ReceptiveField], ReceptiveField, Shape]:
    """The fields of every node of a planned row by name, its output field and shape (as
    :meth:`Walk.row`)."""
    out: dict[str, ReceptiveField] = {}
    if planned.layout in ("single", "sequence"):
        row_field, row_shape = _planned_nodes(planned.branches[0].steps, field, shape, input_hw, out)
        out[planned.row.name] = row_field
    else:
        row_field, row_shape = _planned_combine(planned.row.name, planned.row.combine, planned.branches, field, shape,
                                                input_hw, out)
    return out, row_field, row_shape


def _row_fields(planned: PlannedRow, field: ReceptiveField, shape: Shape,
                input_hw: Pair) -> tuple[dict[str, ReceptiveField], ReceptiveField, Shape]:
    """:func:`_planned_row`, memoized on the planned row by its input (shape, incoming field and the
    network input's H x W), and shared between twin rows (a repeated block's copies), renamed: every
    name below a row begins with the row's. A row that makes a note of its own (a block not aligned,
    named in the note) is not shared."""
    key = (shape, field, input_hw)
    kept = planned.fields.get(key)
    if kept is not None:
        return kept
    name = planned.row.name
    twin = planned.field_twins.get(key)
    if twin is not None:
        cut = len(twin[0])
        kept = ({name + n[cut:]: f for n, f in twin[1].items()}, twin[2], twin[3])
    else:
        kept = _planned_row(planned, field, shape, input_hw)
        if all(f.note == field.note for f in kept[0].values()):
            remember(planned.field_twins, key, (name, *kept))
    return remember(planned.fields, key, kept)


_UNKNOWN = object()
_NOWHERE = (0, 0)  # the input size a relative walk gives a whole field: replaced by the real one when composed


def _sized(steps: tuple) -> bool:
    """Whether any window among ``steps`` (nested blocks included) depends on its input's size."""
    return any(step.sized if type(step) is Step else any(_sized(b.steps) for b in step.branches) for step in steps)


def _relative(planned: PlannedRow) -> "tuple[tuple[tuple[str, ReceptiveField], ...], ReceptiveField] | None":
    """The row's fields relative to its input map, in the walk's order, each by its name less the
    row's (``""`` for the row itself), and the row's own: the fields the row's nodes have when its
    input's field is the network input's own. None where a window depends on the input's size (an
    adaptive pool), or a field is not aligned or carries a note (its text names absolute strides
    and centres). Kept on the plan (shared by a repeated block's copies): it does not depend on the
    input."""
    kept = planned.relative
    if "fields" not in kept:
        value = None
        if not any(_sized(b.steps) for b in planned.branches):
            out, own, _ = _planned_row(planned, input_field(), None, _NOWHERE)
            if all(f.aligned and not f.note for f in out.values()):
                cut = len(planned.row.name)
                value = (tuple((name[cut:], f) for name, f in out.items()), own)
        kept["fields"] = value
    return kept["fields"]


def _compose(outer: ReceptiveField, inner: ReceptiveField, input_hw: Pair) -> ReceptiveField:
    """The field of a node whose field relative to its row's input is ``inner``, where the row's
    input has the field ``outer`` (aligned, no note): the module docstring's three equations with
    ``inner``'s size, stride and padding as one window's kernel, stride and padding (a chain of
    windows is one window, and a merge of branches that agree relative to one input agrees on it)."""
    if inner.whole:
        return _field(input_hw, input_hw, (0, 0), True)
    if outer.whole:
        return outer
    (n, m), (jh, jw), (qh, qw) = outer.size, outer.stride, outer.padding
    (kh, kw), (sh, sw), (ph, pw) = inner.size, inner.stride, inner.padding
    return _field((n + (kh - 1) * jh, m + (kw - 1) * jw), (jh * sh, jw * sw), (qh + ph * jh, qw + pw * jw))


class FieldMap(Mapping):
    """Every node's field by dotted name, read-only: the rows' fields worked out at once, every
    other node's when one is first read (rows whose fields are known relative to their input are
    composed then, :func:`_compose`)."""

    __slots__ = ("_rows", "_pending", "_input_hw", "_all")

    def __init__(self, rows: dict[str, ReceptiveField], pending: list, input_hw: Pair) -> None:
        self._rows = rows
        self._pending = pending  # per row in order: (row name, its input's field, relative fields) or a dict
        self._input_hw = input_hw
        self._all: "dict[str, ReceptiveField] | None" = None

    def _every(self) -> dict[str, ReceptiveField]:
        every = self._all
        if every is None:
            every = {}
            hw = self._input_hw
            for entry in self._pending:
                if type(entry) is dict:
                    every.update(entry)
                else:
                    name, outer, relative = entry
                    for suffix, inner in relative:
                        every[name + suffix] = _compose(outer, inner, hw)
            self._all = every
            self._pending = ()
        return every

    def __getitem__(self, name: str) -> ReceptiveField:
        field = self._rows.get(name)
        return field if field is not None else self._every()[name]

    def __iter__(self):
        return iter(self._every())

    def __len__(self) -> int:
        return len(self._every())

    def __repr__(self) -> str:
        return f"FieldMap({self._every()!r})"


def network_fields(network: Network, input: tuple[int, int, int],
                   rows: "set[str] | None" = None) -> FieldMap:
    """Every node's field of ``network`` at ``input`` (C, H, W), by dotted name, read-only; ``rows``:
    the rows to walk (an auxiliary head left out of an analysis is not walked), None for all. Each
    row is walked at its input on the engine's plan (:mod:`inception_calc.core.plan`), memoized
    there: the same fields as :class:`Walk`, which the derivation and ``check --rf`` walk with
    (:func:`receptive_fields`, given an analysis, has every row's input shape and walks fewer)."""
    input_hw = (input[1], input[2])
    row_fields: dict[str, ReceptiveField] = {}
    pending: list = []
    outputs: dict[str, tuple[ReceptiveField, Shape]] = {}
    field, shape = input_field(), tuple(input)
    for planned in plan(network).rows:
        row = planned.row
        if rows is not None and row.name not in rows:
            continue
        if planned.aux:
            if row.after not in outputs:
                continue
            named, out, _ = _row_fields(planned, *outputs[row.after], input_hw)
        else:
            named, field, shape = _row_fields(planned, field, shape, input_hw)
            outputs[row.name] = (field, shape)
            out = field
        row_fields[row.name] = out
        pending.append(named)
    return FieldMap(row_fields, pending, input_hw)


def receptive_fields(analysis: Any) -> FieldMap:
    """Every row, branch, nested block and layer of ``analysis`` (an :class:`Analysis`) by dotted
    name, read-only: its field at the analysis's input size (auxiliary heads included, those left
    out not). Kept on the network's plan by input, so that analyses repeated at a size share it."""
    kept = plan(analysis.network).fields
    key = (analysis.input, len(analysis.rows))  # the rows: the main ones, and the heads that fit this input
    fields = kept.get(key)
    if fields is None:
        fields = remember(kept, key, _analysis_fields(analysis))
    return fields


def _analysis_fields(analysis: Any) -> FieldMap:
    """:func:`network_fields` with every row's input shape from ``analysis``, whose rows are the plan's in
    order (less the heads left out); the rows whose fields relative to their input are known are
    not walked."""
    input_hw = (analysis.input[1], analysis.input[2])
    row_fields: dict[str, ReceptiveField] = {}
    pending: list = []
    outputs: dict[str, ReceptiveField] = {}
    field = input_field()
    planned_rows = iter(plan(analysis.network).rows)
    for cost in analysis.rows:
        name = cost.name
        planned = next(planned_rows)
        while planned.row.name != name:  # a head left out of the analysis
            planned = next(planned_rows)
        into = outputs[planned.row.after] if planned.aux else field
        relative = planned.relative.get("fields", _UNKNOWN)
        if relative is _UNKNOWN:
            relative = _relative(planned)
        if relative is not None and into.aligned and not into.note:
            out = row_fields[name] = _compose(into, relative[1], input_hw)
            pending.append((name, into, relative[0]))
        else:
            named, out, _ = _row_fields(planned, into, cost.in_shape, input_hw)
            row_fields[name] = out
            pending.append(named)
        if not planned.aux:
            field = outputs[name] = out
    return FieldMap(row_fields, pending, input_hw)


# ---------------------------------------------------------------------- the derivation


def _axes(render: Any) -> str:
    """One text for both axes when they agree, else ``... (H); ... (W)``."""
    h, w = render(0), render(1)
    return h if h == w else f"{h} (H); {w} (W)"


def _field_text(field: ReceptiveField) -> str:
    if field.whole:
        return field.text
    return (f"{field.text}, stride {_axes(lambda a: str(field.stride[a]))}, "
            f"padding {_axes(lambda a: str(field.padding[a]))}")


def _layer_step(name: str, layer: Any, window: Window, before: ReceptiveField, after: ReceptiveField,
                input_hw: Pair) -> str:
    head = f"{name} ({layer.summary}): "
    if window.whole:
        why = window.note or (f"each output depends on every input unit: the whole {input_hw[0]}x{input_hw[1]} input")
        return head + why
    if before.whole:
        return head + f"after a whole-input field, still the whole {input_hw[0]}x{input_hw[1]} input"
    if window is KEEPS or window == KEEPS:
        return head + f"keeps the field ({_field_text(after)})"
    k, s, p = window.kernel, window.stride, window.pad
    n, j, q = before.size, before.stride, before.padding
    size = _axes(lambda a: f"{n[a]} + ({k[a]} - 1) x {j[a]} = {after.size[a]}")
    stride = _axes(lambda a: f"{j[a]} x {s[a]} = {after.stride[a]}")
    padding = _axes(lambda a: f"{q[a]} + {p[a]} x {j[a]} = {after.padding[a]}")
    return head + f"size = {size}; stride = {stride}; padding = {padding}"


def _merge_step(name: str, how: str, fields: list[tuple[str, ReceptiveField]], merged: ReceptiveField) -> list[str]:
    verb = "concatenate" if how == "concat" else "add"
    if merged.whole:
        return [f"{name}: {verb} {len(fields)} branches: one sees the whole input, so does the {how}: "
                f"{_field_text(merged)}"]
    parts = []
    for branch, f in fields:
        centre = _axes(lambda a: _number(f.centre(a)))
        parts.append(f"{branch} {f.text} (stride {_axes(lambda a: str(f.stride[a]))}, centre {centre})")
    lines = [f"{name}: {verb} {len(fields)} branches: " + ", ".join(parts),
             f"  -> the largest: {_field_text(merged)}"]
    if merged.aligned:
        lines.append("  aligned: every branch has the same stride and centre ((size - 1) / 2 - padding)")
    else:
        lines.append(f"  NOT ALIGNED: {merged.note}")
    return lines


_RECORDED = IdentityMemo(4)
"""The recorded walk of each analysis: one walk serves every node's derivation (verify's 2,000 claims)."""


def field_derivation(analysis: Any, name: str) -> list[str]:
    """The receptive field of node ``name`` of ``analysis``, step by step: the field it starts
    from, each layer's three equations with its numbers, each concatenation's or addition's merge,
    and the result; ``[]`` when the analysis has no such node."""
    input_hw = (analysis.input[1], analysis.input[2])
    walk = _RECORDED.get_or_make(analysis, lambda a: _walk(a.network, a.input, {r.name for r in a.rows}, record=True))
    if name not in walk.spans:
        return []
    start, end = walk.spans[name]
    steps = walk.steps[start:end]
    first = next((step for step in steps if step[0] != "merge"), None)
    lines = ["receptive field (google-research/receptive_field: unit i sees input rows i*stride - padding .. "
             "i*stride - padding + size - 1); per layer of kernel k, stride s, padding p: size += (k - 1) x stride, "
             "stride x= s, padding += p x stride"]
    if first is not None:
        lines.append(f"  in: {_field_text(first[-1] if first[0] == 'identity' else first[4])}")
    for step in steps:
        if step[0] == "layer":
            lines.append("  " + _layer_step(step[1], step[2], step[3], step[4], step[5], input_hw) + step[6])
        elif step[0] == "identity":
            lines.append(f"  {step[1]}: the identity: the block's input field ({_field_text(step[2])})")
        else:
            lines += ["  " + line for line in _merge_step(step[1], step[2], step[3], step[4])]
    field = walk.fields[name]
    lines.append(f"  = {name}: {_field_text(field)}" + ("" if field.aligned else f" (not aligned: {field.note})"))
    return lines


__all__ = ["field_derivation", "FieldMap", "ReceptiveField", "apply_window", "far_padding", "input_field", "merge", "network_fields",
           "receptive_fields"]
