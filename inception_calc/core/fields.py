"""Field readers for spec tables: each reads one field, checks it, and on a bad value raises a
:class:`~inception_calc.core.errors.CalcError` that names the place, quotes the value and says how to
fix it (``file, row 5 'inception3a', layer 1, field 'out': must be a positive integer, got 0; ...``).

A :class:`Place` says where a value sits. The readers take the table, the key, the place, and the
default (``None`` where the field is required).
"""

from __future__ import annotations

import math
from inception_calc.core.errors import CalcError, did_you_mean, quote

MAX_SIZE = 2**63 - 1
"""The largest size or channel count a spec, an input size or a variant may give: PyTorch's (int64)
limit on a tensor dimension. It keeps every count printable and every ratio a float can hold
(a conv's MACs are below MAX_SIZE ** 6, about 10^114)."""


class Place:
    """Where a value sits, for error messages: ``file, row 5 'inception3a', layer 1, field 'out'``."""

    def __init__(self, *parts: str) -> None:
        self.parts = tuple(p for p in parts if p)

    def __truediv__(self, part: str) -> "Place":
        return Place(*self.parts, part)

    def __str__(self) -> str:
        return ", ".join(self.parts)

    def error(self, what: str, fix: str = "") -> CalcError:
        return CalcError(what, where=str(self), fix=fix)


def check_known(table: dict, known: tuple[str, ...], place: Place, what: str) -> None:
    for key in table:
        if not isinstance(key, str):
            raise place.error(f"field names must be text, got {quote(key)}", f"known fields: {', '.join(known)}")
        if key not in known:
            hint = did_you_mean(key, known).rstrip() or f"known fields: {', '.join(known)}"
            raise place.error(f"unknown field '{key}' for {what}", hint)


def read_int(table: dict, key: str, place: Place, *, default: int | None = None, minimum: int = 1,
         fix: str = "") -> int:
    if key not in table:
        if default is None:
            raise (place / f"field '{key}'").error("missing", fix or f"add {key} = <integer>")
        return default
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise (place / f"field '{key}'").error(
            f"must be an integer, got {quote(value)}", fix or f"write {key} = <integer>")
    if value < minimum:
        need = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise (place / f"field '{key}'").error(f"must be {need}, got {quote(value)}",
                                               fix or f"give {key} a value of at least {minimum}")
    if value > MAX_SIZE:
        raise (place / f"field '{key}'").error(
            f"must be at most 2^63 - 1 (PyTorch's largest tensor size), got {quote(value)}",
            fix or "give a size a network could have")
    return value


def read_pair(table: dict, key: str, place: Place, *, default: tuple[int, int] | None = None,
          minimum: int = 1) -> tuple[int, int]:
    value = table.get(key)
    if isinstance(value, list):
        if len(value) != 2:
            raise (place / f"field '{key}'").error(
                f"must be one integer or [height, width], got {quote(value)}", f"write {key} = 3 or {key} = [1, 7]")
        h = read_int({key: value[0]}, key, place, minimum=minimum)
        w = read_int({key: value[1]}, key, place, minimum=minimum)
        return (h, w)
    if key not in table and default is not None:
        return default
    n = read_int(table, key, place, minimum=minimum)
    return (n, n)


def read_bool(table: dict, key: str, place: Place, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise (place / f"field '{key}'").error(f"must be true or false, got {quote(value)}",
                                               f"write {key} = true or {key} = false")
    return value


def read_number(table: dict, key: str, place: Place, default: float, *, low: float = 0.0,
            high: float | None = None, low_open: bool = False) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise (place / f"field '{key}'").error(f"must be a number, got {quote(value)}", f"write {key} = <number>")
    try:
        value = float(value)
    except OverflowError:  # an integer beyond float range
        value = math.inf
    if not math.isfinite(value):
        raise (place / f"field '{key}'").error(f"must be a finite number, got {quote(table.get(key))}",
                                               f"write {key} = <number>, or leave it out for {default}")
    if value < low or (low_open and value == low) or (high is not None and value > high):
        upper = f" and at most {high}" if high is not None else ""
        raise (place / f"field '{key}'").error(
            f"must be {'greater than' if low_open else 'at least'} {low}{upper}, got {value}",
            f"leave it out for {default}")
    return value


def read_choice(table: dict, key: str, place: Place, choices: tuple[str, ...], default: str | None) -> str:
    if key not in table:
        if default is None:
            raise (place / f"field '{key}'").error(
                "missing", f"state it: {key} = " + " or ".join(f'"{c}"' for c in choices))
        return default
    value = table[key]
    if value not in choices:
        raise (place / f"field '{key}'").error(
            f"must be one of {', '.join(choices)}, got {quote(value)}",
            f"write {key} = " + " or ".join(f'"{c}"' for c in choices))
    return value


def read_name(table: dict, place: Place, *, required: bool, dotted: bool = True) -> str:
    """A row, branch or layer name: letters, digits, ``_`` and ``-``; with ``dotted``, a dotted
    module path of such parts (``features.6``, ``rep.0.conv1``), as PyTorch names nested modules."""
    value = table.get("name", "")
    if value == "" and not required:
        return ""
    parts = value.split(".") if isinstance(value, str) and dotted else [value]
    if not all(isinstance(p, str) and p.replace("_", "").replace("-", "").isalnum() for p in parts):
        shape = "a dotted module path of such names (features.6)" if dotted else "no dots"
        raise (place / "field 'name'").error(
            f"must be a name of letters, digits, '_' or '-', or {shape}, got {quote(value)}",
            "write a name such as conv1, branch_pool or features.6")
    return value
