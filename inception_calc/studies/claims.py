"""Hand calculations checked against the exact analysis: read claims, evaluate them, say why.

A claim reads ``ROW[.BRANCH[.LAYER]].QUANTITY OP VALUE`` (docs/claims.md)::

    inception3a.weights = 163,328
    inception3a.branch2.1.weights = 110,592
    inception3a.macs ~ 1.28e8
    inception3a.out_shape = 28x28x256
    total.params ~ 7.0M

``=`` holds when the value is exactly the computed one; ``~`` when the computed value rounds to
the value at the precision it is written with (:mod:`inception_calc.core.values`). ``total`` names the
whole network (the main rows, inference). A :class:`Convention` says how the value is read: K =
1000 or 1024 for the K/M/G suffixes, and whether "FLOPs" means 2 x MACs or MACs.

Standard library only (the verify command never imports torch).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from inception_calc.core.engine import analyze
from inception_calc.core.errors import CalcError
from inception_calc.core.errors import quote as quoted  # "quote" is a claim's field here
from inception_calc.core.derivation import derivation
from inception_calc.core.inputs import input_size_parts
from inception_calc.core.files import parse_text, read_text
from inception_calc.core.values import grouped, hwc
from inception_calc.core.results import Analysis, Cost, Sums
from inception_calc.core.values import WrittenNumber, WrittenShape, parse_number, parse_written, plain, within_precision

COUNTS = ("weights", "biases", "bn", "params", "macs", "flops", "activations")
SHAPES = ("out_shape", "in_shape")
QUANTITIES = COUNTS + SHAPES
OPERATORS = {"=": "=", "==": "=", "~": "~", "≈": "~"}
K_VALUES = (1000, 1024)
FLOPS_MEANINGS = {"2macs": "FLOPs = 2 x MACs", "macs": "FLOPs = MACs (the claim says FLOPs for multiply-adds)"}
TOTAL = "total"
GRAMMAR = "ROW[.BRANCH[.LAYER]].QUANTITY OP VALUE, e.g. inception3a.branch2.weights = 129,024"

# the value is stripped after the match: a lazy (?P<value>.*?)\s*$ took time quadratic in its length
_CLAIM = re.compile(r"^\s*(?P<target>[^\s=~≈]+)\s*(?P<op>==|=|~|≈)(?P<value>.*)$")


@dataclass(frozen=True)
class Convention:
    """How a claim's value is read: ``k`` is the K of the K/M/G/T suffixes (1000 or 1024);
    ``flops`` is "2macs" (FLOPs = 2 x MACs, the default) or "macs" (the writer's FLOPs are
    multiply-adds, as many papers write them)."""

    k: int = 1000
    flops: str = "2macs"

    def describe(self) -> str:
        return f"K = {self.k}, {FLOPS_MEANINGS[self.flops].split(' (')[0]}"


def check_convention(k: Any = None, flops: Any = None, where: str = "") -> None:
    """Raise CalcError for a K other than 1000/1024 or a FLOPs meaning other than 2macs/macs."""
    if k is not None and (type(k) is not int or k not in K_VALUES):  # 1000.0 would make every value a float
        raise CalcError(f"unknown convention k = {quoted(k)}", where=where, fix="use k = 1000 or k = 1024")
    if flops is not None and (not isinstance(flops, str) or flops not in FLOPS_MEANINGS):
        raise CalcError(f"unknown convention flops = {quoted(flops)}", where=where,
                        fix='use flops = "2macs" (FLOPs = 2 x MACs) or flops = "macs" (FLOPs means MACs)')


@dataclass(frozen=True)
class Claim:
    """One claim as read: the node it names, the quantity, the operator ("=" or "~"), the value as
    written, and where it came from (a file's claim number, a quote of the source, a note)."""

    text: str
    node: str
    quantity: str
    op: str
    written: WrittenNumber | WrittenShape
    convention: Convention = Convention()
    spec: str = "googlenet"
    input: tuple[int, ...] | None = None
    where: str = ""
    quote: str = ""
    note: str = ""


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


# ----------------------------------------------------------------------------- reading claims


def parse_claim(text: str, convention: Convention = Convention(), *, spec: str = "googlenet",
                input: tuple[int, ...] | None = None, where: str = "", quote: str = "", note: str = "") -> Claim:
    """Read ``ROW[.BRANCH[.LAYER]].QUANTITY OP VALUE``; names are checked later, against the
    analysis (:func:`resolve`)."""
    place = where or f"claim {quoted(text)}"
    if not isinstance(text, str):
        raise CalcError(f"a claim must be text, got {quoted(text)}", where=place, fix=f"write {GRAMMAR}")
    match = _CLAIM.match(text)
    if not match and text.strip()[:1] in ("=", "~", "≈"):
        raise CalcError(f"cannot read the claim {text!r}: no name before the operator", where=place,
                        fix=f"write {GRAMMAR}")
    operator = re.search(r"<=|>=|!=|<|>", text)
    if not match and operator:
        raise CalcError(f"cannot read the claim {text!r}: unknown operator {operator[0]!r}", where=place,
                        fix=f"write {GRAMMAR}; the operator is = (exact) or ~ (at the written precision)")
    if not match and any(op in text for op in "=~≈"):
        raise CalcError(f"cannot read the claim {text!r}: the name before the operator has a space in it",
                        where=place, fix=f"write the name as one dotted word: {GRAMMAR}")
    if not match:
        raise CalcError(f"cannot read the claim {text!r}: no operator", where=place,
                        fix=f"write {GRAMMAR}; the operator is = (exact) or ~ (at the written precision)")
    target, op, value = match["target"], OPERATORS[match["op"]], match["value"].strip()
    if not value:
        raise CalcError(f"the claim {text!r} has no value after '{match['op']}'", where=place, fix=f"write {GRAMMAR}")
    node, _, quantity = target.rpartition(".")
    if not node or not quantity:
        raise CalcError(f"the claim {text!r} names no quantity", where=place,
                        fix=f"end the name with .QUANTITY, one of {', '.join(QUANTITIES)}")
    if quantity not in QUANTITIES:
        close = difflib.get_close_matches(quantity, QUANTITIES, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise CalcError(f"unknown quantity {quantity!r} in claim {text!r}", where=place,
                        fix=f"{hint}known quantities: {', '.join(QUANTITIES)}")
    written = parse_written(value, convention.k, where=place)
    if quantity in SHAPES and not isinstance(written, WrittenShape):
        raise CalcError(f"{quantity} is a shape, but {value!r} is a number", where=place,
                        fix="write the shape as 28x28x256 (H x W x C) or [256, 28, 28] (C, H, W)")
    if quantity in COUNTS and not isinstance(written, WrittenNumber):
        raise CalcError(f"{quantity} is a count, but {value!r} is a shape", where=place,
                        fix="write a number such as 163,328 or 0.16M, or claim out_shape")
    return Claim(text.strip(), node, quantity, op, written, convention, spec, input, place if where else "",
                 quote, note)


def resolve(analysis: Analysis, name: str, where: str = "") -> Cost | Sums:
    """The node a claim names: ``total``, a row, ``row.branch`` or ``row.branch.layer``; a name
    that is not there raises CalcError listing what is (the rows, or the parts of the row)."""
    if name == TOTAL and not any(r.name == TOTAL for r in analysis.rows):
        return analysis.totals.inference
    parts = name.split(".")
    rows = {r.name: r for r in analysis.rows}
    if parts[0] == TOTAL and TOTAL not in rows:
        raise CalcError(f"{TOTAL} takes no sub-name, got {name!r}", where=where,
                        fix=f"claim {TOTAL}.QUANTITY: the inference total (the main rows, auxiliary heads left out)")
    if parts[0] not in rows:
        close = difflib.get_close_matches(parts[0], list(rows) + [TOTAL], n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise CalcError(f"no row {parts[0]!r} in {analysis.spec}", where=where,
                        fix=f"{hint}known rows: {', '.join(rows)}, and {TOTAL} (the whole network)")
    node = rows[parts[0]]
    for part in parts[1:]:
        children = {c.name: c for c in node.children}
        kind = "branch" if node.children and node.children[0].level == "branch" else "layer"
        wanted = f"{node.name}.{part}"
        if wanted not in children:
            known = ", ".join(c.name.rsplit(".", 1)[-1] for c in node.children)
            fix = f"its {kind}es: {known}" if kind == "branch" else (
                f"its layers: {known}" if known else f"{node.name} is a single layer: claim {node.name}.QUANTITY")
            raise CalcError(f"{node.name} has no {kind} {part!r}", where=where, fix=fix)
        node = children[wanted]
    return node


def computed_value(node: Cost | Sums, quantity: str, convention: Convention) -> int | tuple[int, int, int]:
    """The analysis's value of ``quantity`` for ``node``; FLOPs follow the convention."""
    if quantity == "flops" and convention.flops == "macs":
        return node.macs
    if quantity in SHAPES and isinstance(node, Sums):
        raise CalcError(f"the whole network has no single {quantity}",
                        fix=f"claim a row's {quantity}, e.g. fc.{quantity}")
    return getattr(node, quantity)


# ----------------------------------------------------------------------------- judging


def _holds(written: WrittenNumber | WrittenShape, op: str, computed: int | tuple[int, int, int]) -> bool:
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
    computed = computed_value(node, claim.quantity, claim.convention)
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
                  and _holds(written, claim.op, computed_value(c, claim.quantity, claim.convention))]
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
        computed = computed_value(node, claim.quantity, claim.convention)
    except CalcError as exc:  # total.out_shape
        raise exc.located(place) from None
    holds = _holds(claim.written, claim.op, computed)
    difference = relative = None
    if isinstance(claim.written, WrittenNumber):
        difference = claim.written.value - computed
        relative = _ratio(difference, computed)
    text = ""
    if derive:
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


# ----------------------------------------------------------------------------- claims files

FILE_FIELDS = ("title", "source", "spec", "input", "k", "flops", "claims")
CLAIM_FIELDS = ("claim", "quote", "note", "spec", "input", "k", "flops")


@dataclass(frozen=True)
class Settings:
    """What a claim is read with: the spec, the input size and the convention."""

    spec: str = "googlenet"
    input: tuple[int, ...] | None = None  # as written (N, HxW or CxHxW); the analysis completes it
    k: int = 1000
    flops: str = "2macs"

    def over(self, table: dict, where: str) -> "Settings":
        """These settings with the ones ``table`` gives put over them (checked)."""
        check_convention(table.get("k"), table.get("flops"), where)
        spec = table.get("spec", self.spec)
        if not isinstance(spec, str) or not spec:
            raise CalcError(f"spec must be a built-in name or a file path, got {quoted(spec)}", where=where,
                            fix='write spec = "googlenet" or spec = "my.toml"')
        given = table.get("input")
        return Settings(spec, self.input if given is None else input_size_parts(given, f"{where}, field 'input'"),
                        table.get("k", self.k), table.get("flops", self.flops))

    def convention(self) -> Convention:
        return Convention(self.k, self.flops)


def _text_field(table: dict, key: str, where: str) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise CalcError(f"field '{key}' must be text, got {quoted(value)}", where=where, fix=f'write {key} = "..."')
    return value


def _check_fields(table: dict, known: tuple[str, ...], where: str, what: str) -> None:
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            raise CalcError(f"unknown field '{key}' in {what}", where=where,
                            fix=f"did you mean '{close[0]}'?" if close else f"known fields: {', '.join(known)}")


def claims_from_dict(data: Any, origin: str, base: Settings = Settings(),
                     override: dict | None = None) -> tuple[str, list[Claim]]:
    """The claims of a parsed claims file: (its title, the claims). Settings, most specific
    first: the claim's own fields, then ``override`` (the command line), then the file's top level,
    then ``base``."""
    if not isinstance(data, dict):
        raise CalcError(f"a claims file must be a table at the top level, got {quoted(data)}", where=origin,
                        fix='write claims = ["inception3a.weights = 163,328", ...] (docs/claims.md)')
    _check_fields(data, FILE_FIELDS, origin, "a claims file")
    title = _text_field(data, "title", origin) or _text_field(data, "source", origin)
    top = base.over(data, origin).over(override or {}, "the command line")
    items = data.get("claims")
    if not isinstance(items, list) or not items:
        raise CalcError("no claims", where=origin,
                        fix='add claims = ["inception3a.weights = 163,328", ...] or [[claims]] tables with claim = "..."')
    claims = []
    for i, item in enumerate(items, start=1):
        where = f"{origin}, claim {i}"
        table = {"claim": item} if isinstance(item, str) else item
        if not isinstance(table, dict):
            raise CalcError(f"a claim must be text or a table, got {quoted(item)}", where=where, fix=f"write {GRAMMAR}")
        _check_fields(table, CLAIM_FIELDS, where, "a claim")
        if "claim" not in table:
            raise CalcError("the table has no 'claim' field", where=where, fix=f'add claim = "{GRAMMAR.split(", e.g. ")[1]}"')
        settings = top.over(table, where)
        claims.append(parse_claim(table["claim"], settings.convention(), spec=settings.spec, input=settings.input,
                                  where=where, quote=_text_field(table, "quote", where),
                                  note=_text_field(table, "note", where)))
    return title, claims


def load_claims(path: str | Path, base: Settings = Settings(), override: dict | None = None) -> tuple[str, list[Claim]]:
    """Read a claims file (TOML): its title and its claims (see :func:`claims_from_dict`)."""
    path = Path(path)
    try:
        text = read_text(path, "claims file")
    except CalcError as exc:
        if exc.what == "no such file":
            raise CalcError("no such claims file", where=exc.where, fix="check the path") from None
        raise
    return claims_from_dict(parse_text(text, str(path)), str(path), base, override)


# ----------------------------------------------------------------------------- output


def _show(value: int | tuple[int, int, int] | Fraction) -> str:
    return hwc(value) if isinstance(value, tuple) else plain(value)


def _claimed(claim: Claim) -> str:
    written = claim.written
    if isinstance(written, WrittenShape):
        c, h, w = written.chw()
        return f"{h}x{w}" + (f"x{c}" if c is not None else " (channels not compared)")
    reading = written.text if written.text == plain(written.value) else f"{written.text} = {plain(written.value)}"
    if claim.op == "~":
        low, high = written.interval()
        reading += f", i.e. [{plain(low)}, {plain(high)}] at its written precision"
    return reading


def verdict_lines(index: int, verdict: Verdict, derivation_of: dict[str, int], derive: bool) -> list[str]:
    """The text block of one verdict: PASS/FAIL, computed, claimed, difference, hints, derivation
    (in full the first time a node appears, then a pointer back)."""
    claim = verdict.claim
    lines = [f"[{index}] {'PASS' if verdict.holds else 'FAIL'}  {claim.text}"]
    if claim.quote:
        lines.append(f"      source says: {claim.quote}")
    if claim.note:
        lines.append(f"      note: {claim.note}")
    unit = " (H x W x C)" if isinstance(verdict.computed, tuple) else ""
    lines.append(f"      computed {_show(verdict.computed)}{unit}; claimed {_claimed(claim)}")
    if verdict.difference is not None:
        share = "" if verdict.relative is None else f" ({verdict.relative:+.2%} of the computed value)"
        lines.append(f"      difference claimed - computed = {'+' if verdict.difference > 0 else ''}"
                     f"{plain(verdict.difference)}{share}")
    lines.append(f"      convention: {claim.convention.describe()}; spec {claim.spec} at input "
                 f"{'x'.join(map(str, verdict.input))}")
    lines += [f"      hint: {h}" for h in verdict.hints]
    if derive:
        key = f"{claim.spec}|{claim.input}|{verdict.derivation}"
        if key in derivation_of:
            lines.append(f"      derivation: as in [{derivation_of[key]}] above")
        else:
            derivation_of[key] = index
            lines.append("      derivation:")
            lines += [f"        {line}".rstrip() for line in verdict.derivation.splitlines()]
    return lines


def summary_line(verdicts: list[Verdict]) -> str:
    failed = [(i, v) for i, v in enumerate(verdicts, start=1) if not v.holds]
    if not failed:
        return f"all {len(verdicts)} claims hold"
    names = ", ".join(f"[{i}] {v.claim.node}.{v.claim.quantity}" for i, v in failed)
    return f"{len(failed)} of {len(verdicts)} claims fail: {names}"


def to_text(verdicts: list[Verdict], title: str = "", derive: bool = True) -> str:
    lines = [f"claims: {title}", ""] if title else []
    seen: dict[str, int] = {}
    for i, verdict in enumerate(verdicts, start=1):
        lines += verdict_lines(i, verdict, seen, derive) + [""]
    lines.append(summary_line(verdicts))
    return "\n".join(lines) + "\n"


def verdict_dict(verdict: Verdict) -> dict[str, Any]:
    claim, written = verdict.claim, verdict.claim.written
    data: dict[str, Any] = {
        "claim": claim.text, "node": claim.node, "quantity": claim.quantity, "op": claim.op,
        "value": written.text, "holds": verdict.holds,
        "spec": claim.spec, "input": list(verdict.input),
        "convention": {"k": claim.convention.k, "flops": claim.convention.flops},
    }
    if isinstance(written, WrittenShape):
        data["claimed"] = list(written.chw())
        data["computed"] = list(verdict.computed)
    else:
        low, high = written.interval() if claim.op == "~" else (written.value, written.value)
        data.update(claimed=_json_number(written.value), low=_json_number(low), high=_json_number(high),
                    computed=verdict.computed, difference=_json_number(verdict.difference),
                    relative=verdict.relative)
    data.update(hints=list(verdict.hints), derivation=verdict.derivation)
    if claim.where:
        data["where"] = claim.where
    if claim.quote:
        data["quote"] = claim.quote
    if claim.note:
        data["note"] = claim.note
    return data


def _json_number(value: Fraction | None) -> int | float | None:
    if value is None:
        return None
    return value.numerator if value.denominator == 1 else float(value)
