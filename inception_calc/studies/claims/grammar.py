"""The grammar of a claim: ``ROW[.BRANCH[.LAYER]].QUANTITY OP VALUE`` (docs/claims.md), and the
convention its value is read with.

    inception3a.weights = 163,328
    inception3a.branch2.1.weights = 110,592
    inception3a.macs ~ 1.28e8
    inception3a.out_shape = 28x28x256
    total.params ~ 7.0M
    inception3a.rf = 59x59            (the receptive field, H x W; ``= 59``: both axes)
    inception3a.rf_stride = 8
    inception3a.rf_padding = 23

``=`` holds when the value is exactly the computed one; ``~`` when the computed value rounds to
the value at the precision it is written with (:mod:`inception_calc.core.values`). ``total`` names the
whole network (the main rows, inference). A :class:`Convention` says how the value is read: K =
1000 or 1024 for the K/M/G suffixes, and whether "FLOPs" means 2 x MACs or MACs.

Reading only: the names a claim uses are checked against an analysis when it is judged
(:mod:`inception_calc.studies.claims.judge`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from inception_calc.core.errors import CalcError, did_you_mean
from inception_calc.core.errors import quote as quoted  # "quote" is a claim's field here
from inception_calc.core.values import WrittenNumber, WrittenShape, parse_written
from inception_calc.core.loader import RESERVED_NAME

COUNTS = ("weights", "biases", "bn", "params", "macs", "flops", "activations")
SHAPES = ("out_shape", "in_shape")
FIELDS = ("rf", "rf_stride", "rf_padding")
"""The receptive field's size, effective stride and effective padding (H x W, or one number for both)."""
TRAINING = ("backward_macs", "grad_input_macs", "grad_weight_macs", "saved_bytes", "param_bytes", "grad_bytes",
            "optimizer_bytes", "peak_bytes")
"""A training step's (batch 1, fp32, SGD momentum; core/training.py, docs/training.md): ``total`` is the whole step."""
COUNTED = ("counted",)
"""The node's count under the claim's counter convention (``--convention``, core/conventions.py)."""
QUANTITIES = COUNTS + SHAPES + FIELDS + TRAINING + COUNTED
OPERATORS = {"=": "=", "==": "=", "~": "~", "≈": "~"}
K_VALUES = (1000, 1024)
FLOPS_MEANINGS = {"2macs": "FLOPs = 2 x MACs", "macs": "FLOPs = MACs (the claim says FLOPs for multiply-adds)"}
TOTAL = RESERVED_NAME  # the whole network; core/loader.py refuses it as a row name
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
    counter: str = ""  # the convention ``counted`` follows (core/conventions.py); "" for none

    def describe(self) -> str:
        counted = f", counted as {self.counter} counts" if self.counter else ""
        return f"K = {self.k}, {FLOPS_MEANINGS[self.flops].split(' (')[0]}{counted}"


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
        hint = did_you_mean(quantity, QUANTITIES)
        raise CalcError(f"unknown quantity {quantity!r} in claim {text!r}", where=place,
                        fix=f"{hint}known quantities: {', '.join(QUANTITIES)}")
    written = parse_written(value, convention.k, where=place)
    if quantity in SHAPES and not isinstance(written, WrittenShape):
        raise CalcError(f"{quantity} is a shape, but {value!r} is a number", where=place,
                        fix="write the shape as 28x28x256 (H x W x C) or [256, 28, 28] (C, H, W)")
    if quantity in FIELDS and isinstance(written, WrittenShape) and written.channels is not None:
        raise CalcError(f"{quantity} is H x W, but {value!r} has three parts", where=place,
                        fix=f"write {quantity} as 59x59 (H x W) or 59 (both axes)")
    if quantity in COUNTS and not isinstance(written, WrittenNumber):
        raise CalcError(f"{quantity} is a count, but {value!r} is a shape", where=place,
                        fix="write a number such as 163,328 or 0.16M, or claim out_shape")
    return Claim(text.strip(), node, quantity, op, written, convention, spec, input, place if where else "",
                 quote, note)
