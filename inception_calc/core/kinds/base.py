"""What every primitive layer kind defines, and the field table that drives the spec loader.

A :class:`LayerKind` is everything the tool knows about one kind of layer, in one place: the frozen
dataclass a spec's layer becomes (``layer_type``), the spec ``kind`` names that read as it, its
fields (:class:`Field`: type, default, bounds, documentation), its checks, its closed-form cost, its
derivation text, the torch module it builds, how a torch module is recognised as it, and how it
reconciles with fvcore. The engine, the loader, explain, the builder, the counters and the
reconciler look a kind up in :data:`inception_calc.core.kinds.KINDS`; none keeps its own chain of
``isinstance`` tests.

The torch methods receive a :class:`TorchKit`-like object (``kit.torch``, ``kit.nn``,
``kit.ConvBlock``) from the torch side, so that this module, like the whole core, never imports
torch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from inception_calc.core import formulas as f
from inception_calc.core.fields import (Place, check_known, read_bool, read_choice, read_int, read_name, read_number,
                                        read_pair)

Pair = tuple[int, int]
Shape = tuple[int, int, int]
Counts = tuple[Shape, int, int, int, int]
"""What a kind's :meth:`LayerKind.cost` returns: (out_shape, weights, biases, bn, macs)."""


class Window(NamedTuple):
    """What a layer does to the receptive field along H and W (:mod:`inception_calc.core.receptive`):
    the window it applies to its input map (kernel, stride, padding on the near side), or ``whole``
    when each output unit depends on every input unit (global or adaptive pooling, a linear layer).
    ``note``: why the field is not a regular one (adaptive windows at no fixed stride)."""

    kernel: "Pair" = (1, 1)
    stride: "Pair" = (1, 1)
    pad: "Pair" = (0, 0)
    whole: bool = False
    note: str = ""
    dilation: "Pair" = (1, 1)  # the taps' spacing inside ``kernel`` (a dilated conv's span d * (k - 1) + 1)


KEEPS = Window()
"""A layer that keeps its input's receptive field (a 1 x 1 window at stride 1: bn, relu, LRN, dropout, softmax)."""


class WindowTooLarge(Exception):
    """A kernel or window that does not fit its padded input at this input size; the engine turns
    it into a CalcError naming the row and the smallest input that works."""


class Marker:
    """A default that is not a value: required, inherited, from the layer, or one a kind names."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


REQUIRED = Marker("required")
"""A field the spec must give."""
INHERITED = Marker("inherited")
"""A conv option (bias, bn, bn_eps, relu): from the row, else ``[defaults]``, else the dataclass."""
FROM_LAYER = Marker("from the layer")
"""The default is the layer dataclass's own (the one place defaults are written)."""


@dataclass(frozen=True)
class Field:
    """One field of a layer in a spec file.

    ``type``: ``count`` (a positive integer), ``size`` (an integer >= 0), ``pair`` / ``pair0`` (one
    integer or [height, width], positive / >= 0), ``bool``, ``number`` (finite, within ``low`` and
    ``high``; ``low_open`` excludes ``low``), or ``choice`` (one of ``choices``).
    """

    name: str
    type: str
    doc: str
    default: Any = FROM_LAYER
    choices: tuple[str, ...] = ()
    low: float = 0.0
    high: float | None = None
    low_open: bool = False
    fix: str = ""

    TYPES: ClassVar[dict[str, str]] = {
        "count": "positive integer", "size": "integer >= 0", "pair": "positive integer or [height, width]",
        "pair0": "integer >= 0 or [height, width]", "bool": "true or false", "number": "number",
        "choice": "text",
    }

    def read(self, table: dict, place: Place, default: Any) -> Any:
        """This field's value in ``table`` (``default`` when absent; None default: required)."""
        key = self.name
        if self.type == "count":
            return read_int(table, key, place, default=default, fix=self.fix)
        if self.type == "size":
            return read_int(table, key, place, default=default, minimum=0, fix=self.fix)
        if self.type in ("pair", "pair0"):
            return read_pair(table, key, place, default=default, minimum=0 if self.type == "pair0" else 1)
        if self.type == "bool":
            return read_bool(table, key, place, default)
        if self.type == "number":
            return read_number(table, key, place, default, low=self.low, high=self.high, low_open=self.low_open)
        return read_choice(table, key, place, self.choices, default)

    def describe_type(self) -> str:
        if self.type == "choice":
            return " or ".join(f'"{c}"' for c in self.choices)
        text = self.TYPES[self.type]
        if self.type == "number" and self.high is not None:
            text += f" in [{self.low:g}, {self.high:g}]"
        elif self.type == "number" and self.low_open:
            text += f" > {self.low:g}"
        return text


def layer_default(layer_type: type, name: str) -> Any:
    """The default of field ``name`` of a layer dataclass: the one place a layer's defaults live."""
    for field in dataclasses.fields(layer_type):
        if field.name == name:
            return None if field.default is dataclasses.MISSING else field.default
    raise KeyError(name)


CONV_OPTIONS = ("bias", "bn", "bn_eps", "relu")
"""The options a row or ``[defaults]`` sets for every conv below it (and ``bias`` for linear layers)."""


class LayerKind:
    """One primitive layer kind. Subclasses set the class attributes and override what differs.

    The defaults here are those of a layer with no weights that keeps its input's shape
    (LRN, dropout, softmax): no cost, no derivation beyond "no weights, 0 MACs".
    """

    name: ClassVar[str]
    """The kind's name in reports, reconciliation and the registry (``conv``, ``pool``...)."""
    layer_type: ClassVar[type]
    spec_kinds: ClassVar[tuple[str, ...]]
    """The ``kind = "..."`` values of a spec that read as this kind."""
    fields: ClassVar[tuple[Field, ...]] = ()
    needs_map: ClassVar[bool] = False
    """Whether the layer needs a [N, C, H, W] map (conv, pool, LRN); a linear layer's [N, out] is none."""
    flattens: ClassVar[bool] = False
    """Whether the built module flattens its input first (a linear layer)."""

    # ------------------------------------------------------------------ spec files

    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def default(self, field: Field, inherited: dict) -> Any:
        """The value a field takes when the spec leaves it out (None: the spec must give it)."""
        if field.default is REQUIRED:
            return None
        if field.default is INHERITED:
            return inherited[field.name]
        if field.default is FROM_LAYER:
            return layer_default(self.layer_type, field.name)
        return field.default

    def read(self, spec_kind: str, table: dict, place: Place, inherited: dict, named: bool = True) -> Any:
        """The layer a spec table describes, every field checked (errors name the place); ``named``:
        the table may carry a ``name`` (a layer of a stack or branch, not a one-layer row)."""
        check_known(table, ("kind", "name", *self.field_names()) if named else ("kind", *self.field_names()),
                    place, f"a {spec_kind} layer")
        name = read_name(table, place, required=False) if named else ""
        values = {fld.name: fld.read(table, place, self.default(fld, inherited)) for fld in self.fields}
        return self.make(spec_kind, values, table, place, name)

    def make(self, spec_kind: str, values: dict, table: dict, place: Place, name: str) -> Any:
        """The layer from its read fields; cross-field checks go here."""
        return self.layer_type(**values, name=name)

    # ------------------------------------------------------------------ analysis

    def cost(self, layer: Any, shape: Shape) -> Counts:
        """(out_shape, weights, biases, bn, macs) at input ``shape`` [C, H, W]."""
        return shape, 0, 0, 0, 0

    def derive(self, layer: Any, in_shape: Shape, out_shape: Shape, weights: int, macs: int) -> list[str]:
        """The derivation lines of one layer (the seed article's section 4), without the header."""
        return ["no weights, 0 MACs"]

    def receptive_window(self, layer: Any, in_shape: Shape) -> Window:
        """The window this layer applies to its input map, for the receptive field: a 1 x 1 window at
        stride 1 (the field is kept) unless the kind says otherwise."""
        return KEEPS

    def window_needs_input(self, layer: Any) -> bool:
        """Whether :meth:`receptive_window` depends on the input map's size (an adaptive pool's
        windows do); where not, a row's fields relative to its input are worked out once per network."""
        return False

    def rounding_alternative(self, layer: Any, in_shape: Shape) -> tuple[str, str, Pair] | None:
        """(its rounding, the other rounding, the size the other would give), for layers whose
        output size depends on a rounding rule; None for the others."""
        return None

    def scaled(self, layer: Any, scale: Any) -> Any:
        """The layer with its channel counts passed through ``scale`` (the width variant)."""
        return layer

    # ------------------------------------------------------------------ the torch side

    def module(self, layer: Any, cin: int, in_features: int, kit: Any) -> Any:
        """The torch module that computes this layer, for ``cin`` input channels (``in_features``
        = C * H * W of its input, for layers that flatten)."""
        raise NotImplementedError(f"{self.name} has no torch module")

    def recognise(self, module: Any, kit: Any) -> Any:
        """The layer a torch module is, or None when it is not of this kind."""
        return None

    def relu_after(self, layer: Any) -> bool:
        """Whether the built network applies a ReLU after this layer's module (as a function call)."""
        return False

    def signature(self, layer: Any) -> dict[str, str]:
        """What the layer is, field by field, in words: two layers are the same when these agree."""
        return {"layer": layer.kind}

    @property
    def family(self) -> str:
        """Layers of one family can stand for each other when the reconciler pairs layers."""
        return self.name

    def fvcore_elements(self, layer: Any, in_shape: Shape, out_shape: Shape) -> dict[str, int]:
        """The elements fvcore counts for this layer beyond conv/linear MACs, by fvcore handle
        (``batch_norm``: output elements; ``adaptive_avg_pool2d``: input elements)."""
        return {}

    def operator(self, layer: Any) -> str | None:
        """The aten operator the layer runs when a network calls it as a function (pools)."""
        return None


def pair_text(p: Pair) -> str:
    """``3`` for (3, 3), ``1x7`` otherwise."""
    return str(p[0]) if p[0] == p[1] else f"{p[0]}x{p[1]}"


def window(kernel: Pair, stride: Pair, pad: Pair) -> str:
    """``7x7/2 pad 3``: kernel, stride when not 1, padding when not 0 (pairs shown once when equal)."""

    def pair(p: Pair, sep: str = "x") -> str:
        return str(p[0]) if p[0] == p[1] else f"{p[0]}{sep}{p[1]}"

    text = f"{kernel[0]}x{kernel[1]}"
    if stride != (1, 1):
        text += f"/{pair(stride, ',')}"
    if pad != (0, 0):
        text += f" pad {pair(pad, ',')}"
    return text


def size_line(label: str, sizes: list[tuple[int, int, int, int, int]], rounding: str) -> str:
    """``out = floor((28 + 2*1 - 3) / 1) + 1 = 28``, once when height and width agree."""
    parts = []
    for axis, (size, k, s, p, out) in zip(("height", "width"), sizes):
        dropped = ""
        if rounding == f.CEIL and f.ceil_drops_last_window(size, k, s, p):
            dropped = f" - 1 (the last window would start in the padding: {out} x {s} >= {size} + {p})"
        parts.append((f"{rounding}(({size} + 2*{p} - {k}) / {s}) + 1{dropped} = {out}", axis))
    if parts[0][0] == parts[1][0]:
        return f"{label} = {parts[0][0]}"
    return f"{label} = " + "; ".join(f"{text} ({axis})" for text, axis in parts)


__all__ = ["CONV_OPTIONS", "FROM_LAYER", "INHERITED", "KEEPS", "REQUIRED", "Window", "Counts", "Field", "LayerKind", "Marker", "Pair", "Shape",
           "WindowTooLarge", "layer_default", "pair_text", "size_line", "window"]
