"""Measure receptive fields on the built network by gradients, and reconcile them with the analysis.

``check_receptive_fields(spec, input)`` is what ``inception-calc check --rf`` runs. The network is
built (:func:`~inception_calc.pytorch.build.build`) from a **thin copy** of the spec, ``width=1/4096``
(every conv one channel wide; a concatenation as many channels as it has branches; the classifier
keeps its classes): a field depends on kernels, strides, padding and rounding, never on channel
counts, and the thin copy's analytic fields are those of the spec (checked; where the width variant
does not apply, the spec is measured at its own width, and the result says so). Then:

- every conv and linear weight is ``1 / fan_in``, every bias 0; batch norm (eval mode) is
  ``x / sqrt(1 + eps)``; max pooling is average pooling with the same kernel, stride, padding and
  rounding (every window member gets gradient); a softmax is the identity (at equal logits its
  Jacobian is zero; it is pointwise in space); dropout is off. With a positive input every
  activation is positive, so no ReLU zeroes a gradient, and every weight of every path is positive:
  the gradient of an output unit with respect to the input is nonzero exactly on the input pixels
  it depends on, with no cancellation. float64, so that a path's product of weights (down to
  about 1e-130 at a corner of Inception-ResNet-v2's field) never underflows to 0;
- the forward runs the built network's layers by name along the analysis's walk
  (:class:`~inception_calc.core.receptive.Walk`), so that every node has its output, branches and
  blocks that are no module and identity branches included; auxiliary heads read their rows;
- for every node, one backward gives, per image of a batch of 6 ones, the gradient of the sum over
  channels of one output unit: units first, second, centre, centre + 1, last but one and last
  along H, paired with the same along W. The rows (columns) where it is nonzero are the measured
  field along H (W): the bounding box of what the unit sees.

The measured field of unit ``i`` is the analytic span ``i * stride - padding .. + size - 1``
clipped to the input **and to the input rows some unit of that node reaches**: a floor-rounded
stride-2 layer can leave an input's last row (an even size into a 3x3/2 with no padding) in no
unit's field, although the clipped span of the last unit names it. Those reachable rows are
computed analytically, unit by unit, from the spec's windows (each unit's first and last input
row, :class:`_Reach`), independently of the field's three numbers. A node is **exact** when at
every measured unit the measured rows and columns equal the analytic span clipped so, and when for
every unit (all of them, analytically) the clipped span equals the rows the windows give; else
**MISMATCH**. A field the analysis flags as not aligned (an over-estimate it names, such as an
adaptive pool's irregular windows) is **flagged**: it must contain what is measured. Where two
neighbouring measured units' fields touch neither border of the reachable rows, the measured
field's size, stride and padding are derived from them (``derived``), and must equal the analysis's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from inception_calc.core.engine import analyze, named_layers
from inception_calc.core.errors import CalcError
from inception_calc.core.kinds import KINDS
from inception_calc.core.kinds.base import KEEPS, Window
from inception_calc.core.network import Branch, Network, Row
from inception_calc.core.receptive import ReceptiveField, Walk, receptive_fields, walk_rows
from inception_calc.core.sources import load_spec
from inception_calc.core.variants import apply_variants

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from torch import nn

THIN = "width=1/4096"
"""The variant that makes the thin copy measured: every channel count at its minimum, 1."""
EXACT, FLAGGED, MISMATCH = "exact", "flagged", "MISMATCH"
LEVELS = ("row", "branch", "block", "layer")
"""A node's level, highest first: a row that is one layer is a row; a branch of one layer, a branch."""
BATCH = 6
"""Units measured per node and axis: first, second, centre, centre + 1, last but one, last."""

Span = tuple[int, int]
Spans = tuple[list[int], list[int]]
"""One axis of a node: every unit's first and last input row."""


@dataclass(frozen=True)
class AxisCheck:
    """One axis of one node: what was measured, what the analysis says, and the reachable rows."""

    units: int
    """Output units along the axis."""
    reach: Span
    """The input rows (columns) some unit reaches, analytically: (first, last)."""
    measured: tuple[tuple[int, Span], ...]
    """(unit, (first, last) input row where the gradient is nonzero), per measured unit."""
    expected: tuple[tuple[int, Span], ...]
    """(unit, the analytic span clipped to ``reach``), for the same units."""
    derived: tuple[int, int, int] | None
    """(size, stride, padding) derived from two neighbouring measured units whose fields touch
    neither end of ``reach``; None where no two do (the map is small beside its field)."""
    problem: str = ""
    """Why the axis is not exact (which unit, measured against expected), else empty."""


@dataclass(frozen=True)
class NodeRF:
    """One row, branch, block or layer: its analytic field, the measurement, the verdict."""

    name: str
    level: str
    analytic: ReceptiveField
    axes: tuple[AxisCheck, AxisCheck]
    verdict: str
    note: str = ""

    @property
    def unreached(self) -> tuple[int, int]:
        """Input rows and columns (H, W) that no unit of this node reaches: 0 unless a floor-rounded
        stride leaves the last ones out."""
        return tuple(n - (a.reach[1] - a.reach[0] + 1) for a, n in zip(self.axes, self.input_hw))  # type: ignore

    input_hw: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class RFCheck:
    """check --rf: every node's measured field against the analysis's."""

    spec: str
    measured_on: str
    """The network measured: the thin copy's name (``googlenet:width=1/4096``), or the spec's own."""
    input: tuple[int, int, int]
    depth: str
    nodes: tuple[NodeRF, ...]
    seconds: float
    """Wall time of the measurement (build, forward, every backward)."""
    versions: tuple[tuple[str, str], ...] = field(default=())

    @property
    def ok(self) -> bool:
        return all(n.verdict != MISMATCH for n in self.nodes)

    @property
    def shown(self) -> tuple[NodeRF, ...]:
        """The nodes a table lists: rows (and branches and blocks at depth 'branch'), and every
        node whose verdict is MISMATCH."""
        levels = ("row",) if self.depth == "layer" else ("row", "branch", "block")
        return tuple(n for n in self.nodes if n.level in levels or n.verdict == MISMATCH)


# ---------------------------------------------------------------------- the analytic reach


class _Reach(Walk):
    """Carries, per axis, every unit's first and last input row, from the windows alone: a window
    unit ``i`` (rows ``i * s - p`` to ``i * s - p + k - 1`` of its input, clipped to it) reaches from
    the first row of its first real input unit to the last row of its last one (fields are monotone
    in the unit); a merge takes the least first and the greatest last over its branches; a whole
    window (linear, global or irregular adaptive pooling) everything its input reaches."""

    def through(self, name: str, layer: Any, window: Window, spans: tuple[Spans, Spans], hw: Any,
                out_shape: Any) -> tuple[Spans, Spans]:
        if window is KEEPS or (window == KEEPS and tuple(out_shape[1:]) == tuple(hw[1:])):
            return spans
        out = []
        for a, (firsts, lasts) in enumerate(spans):
            n_in, n_out = len(firsts), out_shape[a + 1]
            if window.whole:
                out.append(([min(firsts)] * n_out, [max(lasts)] * n_out))
                continue
            k, s, p, d = window.kernel[a], window.stride[a], window.pad[a], window.dilation[a]
            # a dilated window's taps are d apart: the first and last real ones, not the span's clipped ends
            out.append(([firsts[_first_tap(i * s - p, d)] for i in range(n_out)],
                        [lasts[_last_tap(i * s - p + k - 1, d, n_in - 1)] for i in range(n_out)]))
        return out[0], out[1]

    def merged(self, name: str, how: str, branches: tuple[Branch, ...], results: list) -> tuple[Spans, Spans]:
        values = [value for _, value, _ in results]
        return tuple((list(map(min, *(v[a][0] for v in values))) if len(values) > 1 else values[0][a][0],
                      list(map(max, *(v[a][1] for v in values))) if len(values) > 1 else values[0][a][1])
                     for a in (0, 1))  # type: ignore[return-value]


def _first_tap(start: int, d: int) -> int:
    """The first input row >= 0 among ``start, start + d, ...``."""
    return start if start >= 0 else start + -(-(-start) // d) * d


def _last_tap(end: int, d: int, last: int) -> int:
    """The last input row <= ``last`` among ``end, end - d, ...``."""
    return end if end <= last else end - -(-(end - last) // d) * d


def reach(network: Network, input: tuple[int, int, int], rows: "set[str] | None" = None) -> dict[str, tuple[Spans, Spans]]:
    """Every node's units' first and last input rows and columns, from the windows alone (no field
    arithmetic): what a gradient measurement of each unit must find."""
    start = tuple((list(range(n)), list(range(n))) for n in input[1:])
    return walk_rows(_Reach(input[1:]), network, input, start, rows).fields


# ---------------------------------------------------------------------- the measurement


def _levelled(walk: type) -> type:
    """``walk`` recording each node's level (row > branch > block > layer) in ``levels``."""

    class Levelled(walk):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            self.levels: dict[str, str] = {}

        def level(self, name: str, level: str) -> None:
            old = self.levels.get(name)
            if old is None or LEVELS.index(level) < LEVELS.index(old):
                self.levels[name] = level

        def layer(self, name: str, *args: Any) -> Any:
            out = super().layer(name, *args)
            self.level(name, "layer")
            return out

        def sub(self, *args: Any) -> Any:
            out = super().sub(*args)
            self.level(out[0], "branch")
            return out

        def combine(self, name: str, *args: Any) -> Any:
            out = super().combine(name, *args)
            self.level(name, "block")
            return out

        def row(self, row: Row, *args: Any) -> Any:
            out = super().row(row, *args)
            self.level(row.name, "row")
            return out

    return Levelled


class _Forward(Walk):
    """Carries the tensor: each layer is the built module's layer of that name (a linear layer
    flattens its input first, and applies the ReLU the spec gives it); a concatenation is
    ``torch.cat`` along the channels, an addition the sum of each branch times its scale (a ReLU
    after either is the identity on these positive maps, and is left out)."""

    def __init__(self, input_hw: Any, model: "nn.Module") -> None:
        super().__init__(input_hw)
        self.model = model

    def through(self, name: str, layer: Any, window: Window, x: "torch.Tensor", hw: Any, out_shape: Any) -> Any:
        import torch

        module = self.model.get_submodule(name)
        if isinstance(module, torch.nn.Linear) and x.dim() > 2:
            x = torch.flatten(x, 1)
        x = module(x)
        return torch.relu(x) if KINDS.of(layer).relu_after(layer) else x

    def merged(self, name: str, how: str, branches: tuple[Branch, ...], results: list) -> Any:
        import torch

        outs = [value for _, value, _ in results]
        if how == "add":
            total = outs[0] * branches[0].scale
            for b, y in zip(branches[1:], outs[1:]):
                total = total + y * b.scale
            return total
        return torch.cat(outs, 1)


def positive_copy(model: "nn.Module") -> "nn.Module":
    """``model`` (changed in place) with every weight positive and constant, biases 0, batch norm on
    zero mean and unit variance, max pooling as average pooling, softmax as the identity, in eval
    mode and float64 (the module docstring says why), its parameters frozen: only the input's
    gradient is asked for, and no backward then computes a weight's (a fifth of its time)."""
    import torch
    from torch import nn

    with torch.no_grad():
        for name, module in list(model.named_modules()):
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                module.weight.fill_(1.0 / module.weight[0].numel())
                if module.bias is not None:
                    module.bias.zero_()
            elif isinstance(module, nn.BatchNorm2d):
                module.reset_parameters()  # running mean 0, variance 1, weight 1, bias 0
            replacement = None
            if isinstance(module, nn.MaxPool2d):
                replacement = nn.AvgPool2d(module.kernel_size, module.stride, module.padding,
                                           ceil_mode=module.ceil_mode, count_include_pad=True)
            elif isinstance(module, nn.AdaptiveMaxPool2d):
                replacement = nn.AdaptiveAvgPool2d(module.output_size)
            elif isinstance(module, nn.Softmax):
                replacement = nn.Identity()
            if replacement is not None:
                parent, _, last = name.rpartition(".")
                setattr(model.get_submodule(parent), last, replacement)
    return model.eval().double().requires_grad_(False)


def _units(n: int) -> list[int]:
    """The units measured along an axis of ``n``: first, second, centre, centre + 1, last but one, last."""
    c = (n - 1) // 2
    return sorted({u for u in (0, 1, c, c + 1, n - 2, n - 1) if 0 <= u < n})


def _measure(out: "torch.Tensor", x: "torch.Tensor") -> list[list[tuple[int, Span | None]]]:
    """Per axis, (unit, (first, last) input index with a nonzero gradient) of the measured units
    of ``out`` ([B, C, H, W], or [B, F] after a linear layer: one unit)."""
    import torch

    b = out.shape[0]
    if out.dim() == 2:
        hs, ws = [0], [0]
        picked = out.sum()
    else:
        hs, ws = _units(out.shape[2]), _units(out.shape[3])
        h = torch.tensor([hs[k % len(hs)] for k in range(b)])
        w = torch.tensor([ws[k % len(ws)] for k in range(b)])
        picked = out[torch.arange(b), :, h, w].sum()
    (grad,) = torch.autograd.grad(picked, x, retain_graph=True)
    nonzero = (grad != 0).any(1)  # [B, H, W]: channels first, once
    result = []
    for units, mask in ((hs, nonzero.any(2)), (ws, nonzero.any(1))):
        n = mask.shape[1]
        any_ = mask.any(1).tolist()
        first = mask.int().argmax(1).tolist()
        last = (n - 1 - mask.flip(1).int().argmax(1)).tolist()
        result.append([(u, (first[k], last[k]) if any_[k] else None) for k, u in
                       ((k, units[k % len(units)]) for k in range(min(b, len(units))))])
    return result


# ---------------------------------------------------------------------- the reconciliation


def _clip(span: Span, within: Span) -> Span:
    return max(span[0], within[0]), min(span[1], within[1])


def _axis(field: ReceptiveField, axis: int, spans: Spans, measured: list[tuple[int, Span | None]],
          flagged: bool, dilated: bool = False) -> AxisCheck:
    firsts, lasts = spans
    within = (min(firsts), max(lasts))
    if dilated:
        return _dilated_axis(field, axis, spans, measured, within)
    expected = [(u, _clip(field.span(u, axis), within)) for u, _ in measured]
    problem = ""
    for (u, got), (_, want) in zip(measured, expected):
        ok = got is not None and ((want[0] <= got[0] and got[1] <= want[1]) if flagged else got == want)
        if not ok and not problem:
            seen = "no input pixel" if got is None else f"rows {got[0]}..{got[1]}"
            problem = f"unit {u}: measured {seen}, analytic span clipped to the reachable rows {want[0]}..{want[1]}"
    if not problem:  # every unit, analytically: the field's span, clipped, against the windows' reach
        for u in range(len(firsts)):
            want, got = _clip(field.span(u, axis), within), (firsts[u], lasts[u])
            if not ((want[0] <= got[0] and got[1] <= want[1]) if flagged else got == want):
                problem = (f"unit {u}: the windows reach rows {got[0]}..{got[1]}, the analytic span clipped "
                           f"to the reachable rows {want[0]}..{want[1]}")
                break
    return AxisCheck(len(firsts), within, tuple(measured), tuple(expected), _derived(measured, within),
                     problem)  # type: ignore[arg-type]


def _derived(measured: list[tuple[int, Span | None]], within: Span) -> tuple[int, int, int] | None:
    """Size, stride and padding from two neighbouring measured units whose fields touch neither border."""
    seen = dict((u, s) for u, s in measured if s is not None)
    for u in sorted(seen):
        a, b = seen[u], seen.get(u + 1)
        if b is not None and within[0] < a[0] and b[1] < within[1]:
            stride = b[0] - a[0]
            return (a[1] - a[0] + 1, stride, u * stride - a[0])
    return None


def _dilated_axis(field: ReceptiveField, axis: int, spans: Spans, measured: list[tuple[int, Span | None]],
                  within: Span) -> AxisCheck:
    """Below a dilated conv, whose taps are ``d`` apart, a unit near a border reaches from its first to
    its last real tap, inside its span clipped: every measured unit must give the windows' reach
    (:class:`_Reach`, tap by tap), and every unit's reach must lie inside its clipped span and equal it
    where the span is not clipped (the units wholly inside the input)."""
    firsts, lasts = spans
    expected = [(u, (firsts[u], lasts[u])) for u, _ in measured]
    problem = ""
    for (u, got), (_, want) in zip(measured, expected):
        if got != want and not problem:
            seen = "no input pixel" if got is None else f"rows {got[0]}..{got[1]}"
            problem = f"unit {u}: measured {seen}, the dilated windows' taps reach rows {want[0]}..{want[1]}"
    if not problem:
        for u in range(len(firsts)):
            span = field.span(u, axis)
            clipped, got = _clip(span, within), (firsts[u], lasts[u])
            inside = clipped[0] <= got[0] and got[1] <= clipped[1]
            if not inside or (clipped == span and got != span):
                problem = (f"unit {u}: the windows reach rows {got[0]}..{got[1]}, the analytic span "
                           f"{span[0]}..{span[1]} (clipped to the reachable rows {clipped[0]}..{clipped[1]})")
                break
    return AxisCheck(len(firsts), within, tuple(measured), tuple(expected), _derived(measured, within),
                     problem)  # type: ignore[arg-type]


def _node(name: str, level: str, field: ReceptiveField, spans: tuple[Spans, Spans],
          measured: list, input_hw: tuple[int, int], dilated: bool = False) -> NodeRF:
    flagged = not field.aligned
    axes = tuple(_axis(field, a, spans[a], measured[a], flagged, dilated) for a in (0, 1))
    problems = [f"{'HW'[a]}: {ax.problem}" for a, ax in enumerate(axes) if ax.problem]
    for a, ax in enumerate(axes):
        if ax.derived and not field.whole and not flagged and ax.derived != (field.size[a], field.stride[a],
                                                                             field.padding[a]):
            problems.append(f"{'HW'[a]}: derived size, stride, padding {ax.derived} differ from the analysis's")
    verdict = MISMATCH if problems else FLAGGED if flagged else EXACT
    note = "; ".join(problems) or (field.note if flagged else "")
    return NodeRF(name, level, field, axes, verdict, note, input_hw)  # type: ignore[arg-type]


def _thin(network: Network, input: Any) -> tuple[Network, Any, str]:
    """The thin copy of ``network`` and its analysis, and its name; the network itself where the
    width variant does not apply to it."""
    try:
        thin = apply_variants(network, THIN)
        return thin, analyze(thin, input), thin.name
    except CalcError:
        return network, None, ""


def check_receptive_fields(spec: "Network | str", input: "tuple[int, int, int] | str | int | None" = None,
                           depth: str = "layer", aux: bool = True, against: str = "built") -> RFCheck:
    """Measure every node's receptive field on the built network (a thin copy: module docstring) by
    gradients at ``input``, and reconcile each with the analysis's field: exact, flagged (an
    over-estimate the analysis names) or MISMATCH. ``depth`` says which nodes a table lists ("layer":
    rows; "branch": and branches and blocks); every node is measured. ``aux`` False leaves the
    auxiliary heads out; ``against`` must be "built" (the measurement needs the network's layers by
    the analysis's names). torch's global RNG state and its thread count are the same afterwards
    (the measurement runs on one thread: on the 2-core development machine, under load, two took
    four times the CPU time and the wall time of one)."""
    from dataclasses import replace

    from inception_calc.pytorch.build import build, require_buildable, require_torch
    from inception_calc.pytorch.crosscheck import CHECK_DEPTHS

    if against != "built":
        raise CalcError(f"receptive fields are measured on the built network only, not against {against!r}",
                        where="against", fix="leave it at 'built' (the default) to check receptive fields")
    if depth not in CHECK_DEPTHS:
        raise CalcError(f"unknown depth {depth!r}", where="depth", fix=f"use one of {', '.join(CHECK_DEPTHS)}")
    network = load_spec(spec)
    if not aux and network.aux_rows:
        network = replace(network, rows=network.main_rows)
    analysis = analyze(network, input)  # a bad spec or input fails in milliseconds, before torch is imported
    require_buildable(analysis)
    torch = require_torch()
    rows = {r.name for r in analysis.rows}
    fields = receptive_fields(analysis)
    started = time.perf_counter()
    thin, thin_analysis, measured_on = _thin(analysis.network, analysis.input)
    if thin_analysis is None or receptive_fields(thin_analysis) != fields:
        thin, thin_analysis, measured_on = analysis.network, analysis, ""
    c, h, w = analysis.input
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the thin copy's maps are one channel wide: more threads only wait on each other
    try:
        with torch.random.fork_rng(devices=[]):
            model = positive_copy(build(thin, analysis.input))
        walk = _levelled(_Forward)((h, w), model)
        x = torch.ones(BATCH, c, h, w, dtype=torch.float64, requires_grad=True)
        with torch.enable_grad():
            walk_rows(walk, thin, analysis.input, x, rows)
            outputs = walk.fields
            reached = reach(analysis.network, analysis.input, rows)
            dilated = any(getattr(layer, "dilation", (1, 1)) != (1, 1)
                          for layer in named_layers(analysis.network).values())
            cache: dict[int, list] = {}
            nodes = []
            for name, field in fields.items():
                out = outputs[name]
                if id(out) not in cache:
                    cache[id(out)] = _measure(out, x)
                nodes.append(_node(name, walk.levels.get(name, "layer"), field, reached[name], cache[id(out)],
                                   (h, w), dilated))
    finally:
        torch.set_num_threads(threads)
    seconds = time.perf_counter() - started
    return RFCheck(analysis.spec, measured_on or analysis.spec, analysis.input, depth, tuple(nodes), seconds,
                   (("torch", torch.__version__.split("+")[0]),))
