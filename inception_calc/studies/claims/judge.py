"""A claim judged against the exact analysis: the node it names, the computed value, whether it
holds, and, when it does not, the readings under which it would (hints).

Standard library only (the verify command never imports torch).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Callable

from inception_calc.core.derivation import derivation
from inception_calc.core.engine import analyze, left_out_head
from inception_calc.core.errors import CalcError, did_you_mean
from inception_calc.core.memo import IdentityMemo
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
    if name == TOTAL and TOTAL not in analysis.nodes:  # no row is named so
        return analysis.totals.inference
    if name in analysis.nodes:  # every name of a network is its own (loader._check_names): a look-up
        return analysis.nodes[name]
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
    if quantity == "counted":
        return counted_value(node, convention, analysis)
    if quantity == "flops" and convention.flops == "macs":
        return node.macs
    if quantity in SHAPES and isinstance(node, Sums):
        raise CalcError(f"the whole network has no single {quantity}",
                        fix=f"claim a row's {quantity}, e.g. fc.{quantity}")
    return getattr(node, quantity)


# ----------------------------------------------------------------------------- judging


_COUNTED = IdentityMemo(16)  # analysis -> {convention name: Counted}


def counted_value(node: Cost | Sums, convention: Convention, analysis: Analysis | None) -> int:
    """The node's (the network's, for ``total``) count under the claim's counter convention."""
    if not convention.counter:
        raise CalcError("a counted claim needs a counter's convention",
                        fix="give --convention NAME (or convention = \"thop\" in the claims file): "
                            "inception-calc conventions lists them")
    if analysis is None:
        raise CalcError("counted needs the analysis", fix="pass analysis=")
    counted = _counted(analysis, convention.counter)
    return counted.total if isinstance(node, Sums) else counted.by_node[node.name]


def _counted(analysis: Analysis, name: str) -> Any:
    """``count(analysis, name)``, made once per analysis and convention."""
    from inception_calc.core.conventions import count

    by_name = _COUNTED.get_or_make(analysis, lambda a: {})
    if name not in by_name:
        by_name[name] = count(analysis, name)
    return by_name[name]


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


_TOTALS = IdentityMemo(4)
"""Per analysis: {(quantity, convention): the total's derivation}, written once for every claim of it."""


def _total_derivation(analysis: Analysis, quantity: str, convention: Convention) -> str:
    table = _TOTALS.get_or_make(analysis, lambda a: {})
    if (quantity, convention) not in table:
        table[(quantity, convention)] = _written_total(analysis, quantity, convention)
    return table[(quantity, convention)]


def _written_total(analysis: Analysis, quantity: str, convention: Convention) -> str:
    rows = [r for r in analysis.rows if not r.aux]
    values = [computed_value(r, quantity, convention, analysis) for r in rows]
    terms = " + ".join(f"{r.name} {grouped(v)}" for r, v in zip(rows, values) if v)
    total = computed_value(analysis.totals.inference, quantity, convention, analysis)
    return (f"total {quantity} of {analysis.spec} at input {'x'.join(map(str, analysis.input))}, inference (the main "
            f"rows; auxiliary heads left out):\n  {quantity} = {terms or '0'} = {grouped(total)}\n")


def _counted_derivation(analysis: Analysis, node: Cost | Sums, convention: Convention) -> str:
    """``NAME counted as thop counts = MACs 9,408 + bn 3,211,264 = ...``: the MACs and each term."""
    counted = _counted(analysis, convention.counter)
    if isinstance(node, Sums):
        name, macs, terms, total = "total", counted.macs, counted.terms, counted.total
    else:
        name, macs, terms, total = node.name, node.macs, counted.node_terms[node.name], counted.by_node[node.name]
    conv = counted.convention
    parts = " + ".join([f"MACs {grouped(macs)}", *(f"{t} {grouped(v)}" for t, v in terms.items() if v)])
    return (f"{name} counted as {conv.tool} {conv.version} counts ({conv.name}: {conv.summary}):\n"
            f"  counted = {parts} = {grouped(total)}\n")


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
            others = _others(analysis, claim, node.name)
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
        others = _others(analysis, claim, node.name)
        if others:
            shown = ", ".join(others[:3]) + (" ..." if len(others) > 3 else "")
            hints.append(f"holds for {shown}: a different row?")
    return tuple(hints)


class _Values:
    """One quantity of every node of an analysis, sorted by value, for the nodes at which a written
    value holds: two bisections and a sort of the hits' places, not a walk of every node per claim
    (2,000 claims against a network of 10,000 layers). A receptive field's value is its (H, W) pair,
    sorted by H; the W of each hit is then checked."""

    def __init__(self, names: list[str], values: list) -> None:
        self.names = names
        order = sorted(range(len(values)), key=lambda i: values[i])
        self.values = [values[i] for i in order]
        self.keys = [v[0] if isinstance(v, tuple) else v for v in self.values]
        self.places = order

    def holding(self, written: WrittenNumber | WrittenShape, op: str, most: int) -> list[str]:
        """The names (in walk order, at most ``most``) of the nodes whose value ``written`` holds for."""
        if isinstance(written, WrittenShape):  # an (H, W) field: exactly that pair
            low = high = Fraction(written.height)
            want = (written.height, written.width)
            test = lambda v: v == want  # noqa: E731
        else:
            low, high = (written.value, written.value) if op == "=" else written.interval()
            bottom, top = math.ceil(low), math.floor(high)  # the values are integers
            test = lambda v: not isinstance(v, tuple) or all(bottom <= a <= top for a in v)  # noqa: E731
        start, end = bisect.bisect_left(self.keys, low), bisect.bisect_right(self.keys, high)
        hits = sorted(self.places[i] for i in range(start, end) if test(self.values[i]))
        return [self.names[i] for i in hits[:most]]


_VALUES = IdentityMemo(4)
"""Per analysis: {(quantity, convention): _Values}."""


def _others(analysis: Analysis, claim: Claim, name: str) -> list[str]:
    """The other nodes (at most 4, in walk order) for which ``claim`` would hold: "a different row?"."""
    table = _VALUES.get_or_make(analysis, lambda a: {})
    key = (claim.quantity, claim.convention)
    if key not in table:
        if claim.quantity in FIELDS:
            fields = analysis.receptive_fields
            attribute = {"rf": "size", "rf_stride": "stride", "rf_padding": "padding"}[claim.quantity]
            names = list(fields)
            values = [tuple(getattr(fields[n], attribute)) for n in names]
        else:
            nodes = [c for r in analysis.rows for c in r.walk("conv")]
            names = [c.name for c in nodes]
            values = [computed_value(c, claim.quantity, claim.convention, analysis) for c in nodes]
        table[key] = _Values(names, values)
    return [n for n in table[key].holding(claim.written, claim.op, 5) if n != name][:4]


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
    elif derive and claim.quantity == "counted":
        text = _counted_derivation(analysis, node, claim.convention)
    elif derive:
        text = (_total_derivation(analysis, claim.quantity, claim.convention) if isinstance(node, Sums)
                else derivation(analysis, node.name))
    hints = () if holds else _hints(claim, node, analysis)
    return Verdict(claim, holds, computed, difference, relative, text, hints, analysis.input)


def verify(claims: list[Claim], *, derive: bool = True, progress: Callable[[str], None] | None = None) -> list[Verdict]:
    """Judge every claim, each against its own spec and input (analysed once per pair). Every claim
    is resolved before any verdict is returned, so a bad name stops the run before any output.
    ``progress``, when given, is told each claim before it is judged (text: "claim 3 of 2,000")."""
    analyses: dict[tuple[str, Any], Analysis] = {}
    say = progress or (lambda text: None)
    for claim in claims:
        key = (claim.spec, claim.input)
        if key not in analyses:
            say(f"analysing spec {len(analyses) + 1}")
            analyses[key] = analyze(claim.spec, claim.input)
        resolve(analyses[key], claim.node, claim.where or f"claim {claim.text!r}")
    verdicts = []
    for i, claim in enumerate(claims, start=1):
        say(f"claim {i:,} of {len(claims):,}")
        verdicts.append(evaluate(claim, analyses[(claim.spec, claim.input)], derive=derive))
    return verdicts
