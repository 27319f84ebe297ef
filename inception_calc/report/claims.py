"""The verdicts of ``inception-calc verify`` (:func:`inception_calc.studies.claims.verify`) as
text, one block per claim (PASS/FAIL, computed and claimed values, the difference, the hints, the
derivation) and a summary line; and as JSON (docs/claims.md has both).
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

from inception_calc.core.values import WrittenShape, hwc, plain
from inception_calc.studies.claims import FIELDS, Claim, Verdict


def _show(value: int | tuple[int, ...] | Fraction) -> str:
    if isinstance(value, tuple) and len(value) == 2:  # a receptive field's (H, W)
        return f"{value[0]}x{value[1]}"
    return hwc(value) if isinstance(value, tuple) else plain(value)


def _claimed(claim: Claim) -> str:
    written = claim.written
    if isinstance(written, WrittenShape):
        c, h, w = written.chw()
        if claim.quantity in FIELDS:
            return f"{h}x{w}"
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
    unit = "" if not isinstance(verdict.computed, tuple) else " (H x W)" if len(verdict.computed) == 2 else \
        " (H x W x C)"
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
    """``all 3 claims hold``, or ``1 of 3 claims fail: [2] inception3a.macs``; of a single claim,
    ``the claim holds`` or ``the claim fails: [1] inception3a.macs``."""
    failed = [(i, v) for i, v in enumerate(verdicts, start=1) if not v.holds]
    if not failed:
        return "the claim holds" if len(verdicts) == 1 else f"all {len(verdicts)} claims hold"
    names = ", ".join(f"[{i}] {v.claim.node}.{v.claim.quantity}" for i, v in failed)
    if len(verdicts) == 1:
        return f"the claim fails: {names}"
    return f"{len(failed)} of {len(verdicts)} claims fail: {names}"


def to_text(verdicts: list[Verdict], title: str = "", derive: bool = True) -> str:
    """Every verdict's block (with its derivation when ``derive``), then the summary line."""
    lines = [f"claims: {title}", ""] if title else []
    seen: dict[str, int] = {}
    for i, verdict in enumerate(verdicts, start=1):
        lines += verdict_lines(i, verdict, seen, derive) + [""]
    lines.append(summary_line(verdicts))
    return "\n".join(lines) + "\n"


def to_json(verdicts: list[Verdict], title: str = "") -> str:
    """The JSON form: the title, how many claims hold and fail, the summary line, and each verdict
    (:func:`verdict_dict`)."""
    data = {"title": title, "holds": sum(v.holds for v in verdicts), "fails": sum(not v.holds for v in verdicts),
            "summary": summary_line(verdicts), "claims": [verdict_dict(v) for v in verdicts]}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def verdict_dict(verdict: Verdict) -> dict[str, Any]:
    """One verdict as JSON data: the claim as read, the claimed value (with its interval under ``~``)
    and the computed one, the difference, the hints and the derivation; exact integers stay integers."""
    claim, written = verdict.claim, verdict.claim.written
    data: dict[str, Any] = {
        "claim": claim.text, "node": claim.node, "quantity": claim.quantity, "op": claim.op,
        "value": written.text, "holds": verdict.holds,
        "spec": claim.spec, "input": list(verdict.input),
        "convention": {"k": claim.convention.k, "flops": claim.convention.flops},
    }
    if isinstance(written, WrittenShape) or isinstance(verdict.computed, tuple):
        data["claimed"] = list(written.chw()) if isinstance(written, WrittenShape) else _json_number(written.value)
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
