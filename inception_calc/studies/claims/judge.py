"""A claim judged against the exact analysis: the node it names, the computed value, whether it
holds, and, when it does not, the readings under which it would (hints).

Standard library only (the verify command never imports torch).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from inception_calc.core.derivation import derivation
from inception_calc.core.engine import analyze, left_out_head
from inception_calc.core.errors import CalcError, did_you_mean
from inception_calc.core.results import Analysis, Cost, Sums
from inception_calc.core.values import WrittenNumber, WrittenShape, grouped, parse_number, within_precision
from inception_calc.studies.claims.grammar import FIELDS, SHAPES, TOTAL, TRAINING, Claim, Convention

@dataclass(frozen=True)
class Verdict:
    """A claim judged: ``holds``; the ``computed`` value (an int, or a [C, H, W] shape); for
    counts the ``difference`` claimed - computed and its share of the computed value; the
    derivation of the node; and ``hints``: readings under which a failing claim would hold."""

    claim: Claim
    holds: bool
    computed: int | tuple[int, int, int]
    difference: Fraction | None = None
    relative: float | None = None
    derivation: str = ""
    hints: tuple[str, ...] = field(default=())
    input: tuple[int, int, int] = (0, 0, 0)  # the input size the claim was judged at


# ----------------------------------------------------------------------------- the node and its value


def resolve(analysis: Analysis, name: str, where: str = "") -> Cost | Sums:
    """The node a claim names: ``total``, a row, or any branch, block or layer below it by its
    dotted name (``inception3a.branch2.1``; ``features.6.branch1.0`` below the dotted row
    ``features.6``; ``repeat.0.conv2d``, which a branch that is no module puts at the row's level).
    A name that is not there raises CalcError listing what is (the rows, or the parts one level below
    the longest name that is there)."""
    if name == TOTAL and not any(r.name == TOTAL for r in analysis.rows):
        return analysis.totals.inference
    parts = name.split(".")
    rows = {r.name: r for r in analysis.rows}
    # the row: the longest row name that is the claim's name or a dotted prefix of it (rows may be dotted)
    row = max((r for r in analysis.rows if name == r.name or name.startswith(r.name + ".")),
              key=lambda r: len(r.name), default=None)
    if row is None:
        head = left_out_head(analysis, name, where)
        if head is not None:
            raise head
        if parts[0] == TOTAL and TOTAL not in rows:
            raise CalcError(f"{TOTAL} takes no sub-name, got {name!r}", where=where,
                            fix=f"claim {TOTAL}.QUANTITY: the inference total (the main rows, auxiliary heads left out)")
        stem = any(r.startswith(parts[0] + ".") for r in rows)  # 'features.99' beside rows features.0 ...
        missing = ".".join(parts[:2]) if stem else parts[0]
        hint = did_you_mean(missing, [*rows, TOTAL])
        raise CalcError(f"no row {missing!r} in {analysis.spec}", where=where,
                        fix=f"{hint}known rows: {', '.join(rows)}, and {TOTAL} (the whole network)")
    nodes = list(row.walk("conv"))
    found = next((n for n in nodes if n.name == name), None)
    if found is not None:
        return found
    # the longest name that is there and prefixes the claim's, and the parts one segment below it
    parent = max((n for n in nodes if name.startswith(n.name + ".")), key=lambda n: len(n.name))
    part = name[len(parent.name) + 1:].split(".")[0]
    below = [n for n in nodes if n.name.startswith(parent.name + ".") and "." not in n.name[len(parent.name) + 1:]]
    levels = {n.level for n in below}
    kind = "branch" if levels == {"branch"} else "layer" if levels <= {"conv"} else "node"
    known = ", ".join(n.name[len(parent.name) + 1:] for n in below)
    inner = [n.name for n in parent.walk("conv") if n is not parent]
    if not below and inner:  # a block or branch that is no module: its parts are named without it
        kind = "part"
        fix = f"its parts are named without it (no module holds them): {', '.join(inner)}"
    elif not below:
        fix = f"{parent.name} is a single layer: claim {parent.name}.QUANTITY"
    else:
        fix = f"its {'branches' if kind == 'branch' else kind + 's'}: {known}"
    raise CalcError(f"{parent.name} has no {kind} {part!r}", where=where, fix=fix)


def computed_value(node: Cost | Sums, quantity: str, convention: Convention,
                   analysis: Analysis | None = None) -> int | tuple[int, ...]:
    """The analysis's value of ``quantity`` for ``node``; FLOPs follow the convention; a receptive
    field's size, stride or padding as (H, W) (``analysis`` needed)."""
    if quantity in FIELDS:
        if isinstance(node, Sums) or analysis is None:
            raise CalcError("the whole network has no single receptive field",
                            fix=f"claim a row's, e.g. inception3a.{quantity}")
        field = analysis.receptive_fields[node.name]
        return {"rf": field.size, "rf_stride": field.stride, "rf_padding": field.padding}[quantity]
    if quantity in TRAINING:
        if analysis is None:
            raise CalcError(f"{quantity} needs the analysis", fix="pass analysis=")
        from inception_calc.core.training import claimed_value

        return claimed_value(analysis, node.name if isinstance(node, Cost) else None, quantity)
    if quantity == "flops" and convention.flops == "macs":
        return node.macs
    if quantity in SHAPES and isinstance(node, Sums):
        raise CalcError(f"the whole network has no single {quantity}",
                        fix=f"claim a row's {quantity}, e.g. fc.{quantity}")
    return getattr(node, quantity)


# ----------------------------------------------------------------------------- judging


def _holds(written: WrittenNumber | WrittenShape, op: str, computed: int | tuple[int, ...]) -> bool:
    if isinstance(computed, tuple) and len(computed) == 2:  # a receptive field's (H, W): each axis
        if isinstance(written, WrittenShape):
            return (written.height, written.width) == computed
        return all(_holds(written, op, axis) for axis in computed)
    if isinstance(written, WrittenShape):
        return written.matches(computed)  # shapes are exact under both operators
    if op == "=":
        return written.value == computed
    return within_precision(computed, written.value, written.unit)


def _total_derivation(analysis: Analysis, quantity: str, convention: Convention) -> str:
    rows = [r for r in analysis.rows if not r.aux]
    values = [computed_value(r, quantity, convention) for r in rows]
    terms = " + ".join(f"{r.name} {grouped(v)}" for r, v in zip(rows, values) if v)
    total = computed_value(analysis.totals.inference, quantity, convention)
    return (f"total {quantity} of {analysis.spec} at input {'x'.join(map(str, analysis.input))}, inference (the main "
            f"rows; auxiliary heads left out):\n  {quantity} = {terms or '0'} = {grouped(total)}\n")


def _label(node: Cost | Sums) -> str:
    return node.name if isinstance(node, Cost) else TOTAL


def _hints(claim: Claim, node: Cost | Sums, analysis: Analysis) -> tuple[str, ...]:
    """Readings under which a failing claim would hold: the other K, the other FLOPs meaning, a
    sibling quantity (weights for params: biases left out), ``~`` for ``=``, the other shape order,
    another row."""
    written, hints = claim.written, []
    if claim.quantity in FIELDS:
        fields = analysis.receptive_fields
        field = fields[node.name]
        if not field.aligned:
            hints.append(f"{_label(node)}'s field is not aligned: {field.note}")
        if field.whole:
            hints.append(f"{_label(node)} sees the whole input ({field.text})")
        for other, value in (("rf", field.size), ("rf_stride", field.stride), ("rf_padding", field.padding)):
            if other != claim.quantity and _holds(written, claim.op, value):
                hints.append(f"{written.text} is {_label(node)}'s {other}, not its {claim.quantity}")
        if not hints:
            others = [n for n, f in fields.items() if n != node.name and _holds(
                written, claim.op, {"rf": f.size, "rf_stride": f.stride, "rf_padding": f.padding}[claim.quantity])]
            if others:
                hints.append(f"holds for {', '.join(others[:3])}{' ...' if len(others) > 3 else ''}: a different row?")
        return tuple(hints)
    if isinstance(written, WrittenShape):
        if written.order == "CHW" and written.channels is not None:
            as_hwc = WrittenShape(written.text, written.width, written.channels, written.height, "HWC")
            if as_hwc.matches(computed_value(node, claim.quantity, claim.convention)):
                hints.append(f"holds if {written.text} is read as H, W, C; brackets mean [C, H, W]: "
                             f"write {written.channels}x{written.height}x{written.width}")
        if claim.quantity == "out_shape":
            shown = f"would give {written.height}x{written.width}"
            hints += [f"{note}" for note in analysis.warnings
                      if note.startswith(f"{_label(node)}") and shown in note]
        other = "in_shape" if claim.quantity == "out_shape" else "out_shape"
        if written.matches(getattr(node, other)):
            hints.append(f"{written.text} is {_label(node)}'s {other}, not its {claim.quantity}")
        return tuple(hints)
    computed = computed_value(node, claim.quantity, claim.convention, analysis)
    if claim.op == "=" and within_precision(computed, written.value, written.unit):
        hints.append(f"holds at the written precision: write '~' instead of '='")
    if written.k is not None:
        other_k = 1024 if written.k == 1000 else 1000
        reread = parse_number(written.text, other_k)
        if _holds(reread, claim.op, computed):
            hints.append(f"holds if K = {other_k} (k = {other_k})")
    if claim.quantity == "flops":
        other = replace(claim.convention, flops="macs" if claim.convention.flops == "2macs" else "2macs")
        if _holds(written, claim.op, computed_value(node, "flops", other)):
            meaning = "FLOPs means MACs" if other.flops == "macs" else "FLOPs = 2 x MACs"
            hints.append(f"holds if {meaning} (flops = \"{other.flops}\")")
    siblings = {
        "weights": node.weights, "weights + biases": node.weights + node.biases, "params": node.params,
        "macs": node.macs, "flops (2 x MACs)": 2 * node.macs, "activations": node.activations,
    }
    for label, value in (siblings.items() if not hints else ()):
        if label != claim.quantity and value != computed and _holds(written, claim.op, value):
            extra = ""
            if claim.quantity == "params" and label == "weights":
                counted = "biases" if not node.bn else "biases and batch-norm parameters"
                extra = f": params also count the {grouped(node.biases + node.bn)} {counted}"
            hints.append(f"{written.text} is {_label(node)}'s {label}{extra}")
            break
    if isinstance(node, Cost) and not hints:
        others = [c.name for r in analysis.rows for c in r.walk("conv") if c.name != node.name
                  and _holds(written, claim.op, computed_value(c, claim.quantity, claim.convention, analysis))]
        if others:
            shown = ", ".join(others[:3]) + (" ..." if len(others) > 3 else "")
            hints.append(f"holds for {shown}: a different row?")
    return tuple(hints)


def _ratio(difference: Fraction, computed: int) -> float | None:
    """difference / computed as a float; None when computed is 0, or the ratio is beyond a float's
    range (a claim of 1e400 against a count of 10^8)."""
    if not computed:
        return None
    try:
        return float(difference / computed)
    except OverflowError:
        return None


def evaluate(claim: Claim, analysis: Analysis, *, derive: bool = True) -> Verdict:
    """Judge one claim against ``analysis`` (which must be the claim's spec at its input)."""
    place = claim.where or f"claim {claim.text!r}"
    node = resolve(analysis, claim.node, place)
    try:
        computed = computed_value(node, claim.quantity, claim.convention, analysis)
    except CalcError as exc:  # total.out_shape
        raise exc.located(place) from None
    holds = _holds(claim.written, claim.op, computed)
    difference = relative = None
    if isinstance(claim.written, WrittenNumber) and not isinstance(computed, tuple):
        difference = claim.written.value - computed
        relative = _ratio(difference, computed)
    text = ""
    if derive and claim.quantity in TRAINING:
        from inception_calc.core.training import default_step, derive as derive_training

        step = default_step(analysis)
        text = "\n".join(derive_training(step, node.name) if isinstance(node, Cost) else
                         [f"total {claim.quantity} of the training step (batch 1, fp32, SGD momentum, auxiliary "
                          f"heads included) = {grouped(computed)}"]) + "\n"
    elif derive:
        text = (_total_derivation(analysis, claim.quantity, claim.convention) if isinstance(node, Sums)
                else derivation(analysis, node.name))
    hints = () if holds else _hints(claim, node, analysis)
    return Verdict(claim, holds, computed, difference, relative, text, hints, analysis.input)


def verify(claims: list[Claim], *, derive: bool = True) -> list[Verdict]:
    """Judge every claim, each against its own spec and input (analysed once per pair). Every claim
    is resolved before any verdict is returned, so a bad name stops the run before any output."""
    analyses: dict[tuple[str, Any], Analysis] = {}
    for claim in claims:
        key = (claim.spec, claim.input)
        if key not in analyses:
            analyses[key] = analyze(claim.spec, claim.input)
        resolve(analyses[key], claim.node, claim.where or f"claim {claim.text!r}")
    return [evaluate(c, analyses[(c.spec, c.input)], derive=derive) for c in claims]
