"""Read a spec file (TOML or JSON) into a validated :class:`~inception_calc.core.network.Network`.

The format, in short (docs/spec-format.md has it in full)::

    name = "googlenet"
    description = "..."
    source = "..."
    input = [3, 224, 224]          # the default input size, [C, H, W]

    [defaults]                      # applied to every conv (and linear, for bias)
    bias = true
    bn = false

    [[rows]]
    name = "conv1"
    kind = "conv"                   # conv | maxpool | avgpool | lrn | dropout | linear | softmax
    out = 64                        #   | stack | concat | inception | aux
    kernel = 7
    stride = 2
    pad = 3

Every value is checked on load; a bad one raises :class:`~inception_calc.core.errors.CalcError` naming
the file, the row, the field, the value and the fix.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from inception_calc.core.errors import CalcError, quote
from inception_calc.core.network import (LRN, MAX_SIZE, Branch, Conv, Dropout, InceptionOptions, Layer, Linear, Network, Pool, Row, Softmax,
                   inception_branches)

SPEC_DIR = Path(__file__).parents[1] / "specs"

INCEPTION_COLUMNS = ("n1x1", "n3x3red", "n3x3", "n5x5red", "n5x5", "pool_proj")
CONV_OPTIONS = ("bias", "bn", "bn_eps", "relu")
LAYER_FIELDS: dict[str, tuple[str, ...]] = {
    "conv": ("out", "kernel", "stride", "pad", "groups", *CONV_OPTIONS),
    "maxpool": ("kernel", "stride", "pad", "rounding", "output"),
    "avgpool": ("kernel", "stride", "pad", "rounding", "output"),
    "lrn": ("size", "alpha", "beta", "k"),
    "dropout": ("p",),
    "linear": ("out", "bias", "relu"),
    "softmax": (),
}
DOUBLE_COLUMNS = ("n3x3dblred", "n3x3dbl")  # BN-Inception's "double #3x3 reduce", "double #3x3"
INCEPTION_OPTIONS = (
    "kernel3x3", "kernel5x5", "pool", "pool_kernel", "pool_rounding", "branch1", "reduce", "project", "stride",
    *CONV_OPTIONS,
)
ROW_KINDS = (*LAYER_FIELDS, "stack", "concat", "inception", "aux")
TOP_FIELDS = ("name", "description", "source", "input", "defaults", "rows", "notes", "base", "variants")


class _Place:
    """Where a value sits, for error messages: ``file, row 5 'inception3a', layer 1, field 'out'``."""

    def __init__(self, *parts: str) -> None:
        self.parts = tuple(p for p in parts if p)

    def __truediv__(self, part: str) -> "_Place":
        return _Place(*self.parts, part)

    def __str__(self) -> str:
        return ", ".join(self.parts)

    def error(self, what: str, fix: str = "") -> CalcError:
        return CalcError(what, where=str(self), fix=fix)


# ----------------------------------------------------------------------------- field readers


def _check_known(table: dict, known: tuple[str, ...], place: _Place, what: str) -> None:
    for key in table:
        if not isinstance(key, str):
            raise place.error(f"field names must be text, got {quote(key)}", f"known fields: {', '.join(known)}")
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known fields: {', '.join(known)}"
            raise place.error(f"unknown field '{key}' for {what}", hint)


def _int(table: dict, key: str, place: _Place, *, default: int | None = None, minimum: int = 1,
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


def _pair(table: dict, key: str, place: _Place, *, default: tuple[int, int] | None = None,
          minimum: int = 1) -> tuple[int, int]:
    value = table.get(key)
    if isinstance(value, list):
        if len(value) != 2:
            raise (place / f"field '{key}'").error(
                f"must be one integer or [height, width], got {quote(value)}", f"write {key} = 3 or {key} = [1, 7]")
        h = _int({key: value[0]}, key, place, minimum=minimum)
        w = _int({key: value[1]}, key, place, minimum=minimum)
        return (h, w)
    if key not in table and default is not None:
        return default
    n = _int(table, key, place, minimum=minimum)
    return (n, n)


def _bool(table: dict, key: str, place: _Place, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise (place / f"field '{key}'").error(f"must be true or false, got {quote(value)}",
                                               f"write {key} = true or {key} = false")
    return value


def _number(table: dict, key: str, place: _Place, default: float, *, low: float = 0.0,
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


def _choice(table: dict, key: str, place: _Place, choices: tuple[str, ...], default: str | None) -> str:
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


def _name(table: dict, place: _Place, *, required: bool) -> str:
    value = table.get("name", "")
    if value == "" and not required:
        return ""
    if not isinstance(value, str) or not value.replace("_", "").replace("-", "").isalnum():
        raise (place / "field 'name'").error(
            f"must be a name of letters, digits, '_' or '-', got {quote(value)}",
            "dots are reserved for branch and layer names below a row")
    return value


# ----------------------------------------------------------------------------- layers


def _conv_options(table: dict, place: _Place, inherited: dict) -> dict:
    return {
        "bias": _bool(table, "bias", place, inherited["bias"]),
        "bn": _bool(table, "bn", place, inherited["bn"]),
        "bn_eps": _number(table, "bn_eps", place, inherited["bn_eps"], low_open=True),
        "relu": _bool(table, "relu", place, inherited["relu"]),
    }


def _conv(table: dict, place: _Place, inherited: dict, name: str = "") -> Conv:
    kernel = _pair(table, "kernel", place)
    pad = _pair(table, "pad", place, default=(0, 0), minimum=0)
    groups = _int(table, "groups", place, default=1)
    out = _int(table, "out", place, fix="give the number of output channels")
    if out % groups:
        raise (place / "field 'groups'").error(
            f"{groups} groups do not divide out = {out}", "choose groups that divide both channel counts")
    return Conv(out=out, kernel=kernel, stride=_pair(table, "stride", place, default=(1, 1)), pad=pad,
                groups=groups, name=name, **_conv_options(table, place, inherited))


def _pool(op: str, table: dict, place: _Place, name: str = "") -> Pool:
    if "output" in table:
        for key in ("kernel", "stride", "pad", "rounding"):
            if key in table:
                raise (place / f"field '{key}'").error(
                    "an adaptive pool (output = ...) takes no window fields", f"remove {key}")
        return Pool(op=op, output=_pair(table, "output", place), name=name)
    kernel = _pair(table, "kernel", place)
    pad = _pair(table, "pad", place, default=(0, 0), minimum=0)
    if pad[0] * 2 > kernel[0] or pad[1] * 2 > kernel[1]:
        raise (place / "field 'pad'").error(
            f"padding {list(pad)} exceeds half the kernel {list(kernel)}",
            "pooling pads at most kernel // 2 on each side")
    return Pool(op=op, kernel=kernel, stride=_pair(table, "stride", place, default=kernel), pad=pad,
                rounding=_choice(table, "rounding", place, ("floor", "ceil"), None), name=name)


def _layer(table: Any, place: _Place, inherited: dict, *, named: bool = True) -> Layer:
    if not isinstance(table, dict):
        raise place.error(f"must be a table of fields, got {quote(table)}", 'write {kind = "conv", out = 64, kernel = 1}')
    kind = table.get("kind")
    if not isinstance(kind, str) or kind not in LAYER_FIELDS:  # a list as the kind is unhashable
        raise (place / "field 'kind'").error(
            f"unknown layer kind {quote(kind)}", f"use one of {', '.join(LAYER_FIELDS)}")
    _check_known(table, ("kind", "name", *LAYER_FIELDS[kind]) if named else ("kind", *LAYER_FIELDS[kind]),
                 place, f"a {kind} layer")
    name = _name(table, place, required=False) if named else ""
    if kind == "conv":
        return _conv(table, place, inherited, name)
    if kind in ("maxpool", "avgpool"):
        return _pool(kind[:3], table, place, name)
    if kind == "lrn":
        return LRN(size=_int(table, "size", place, default=5), alpha=_number(table, "alpha", place, 1e-4),
                   beta=_number(table, "beta", place, 0.75), k=_number(table, "k", place, 1.0), name=name)
    if kind == "dropout":
        return Dropout(p=_number(table, "p", place, 0.5, high=1.0), name=name)
    if kind == "linear":
        return Linear(out=_int(table, "out", place, fix="give the number of output features"),
                      bias=_bool(table, "bias", place, inherited["bias"]),
                      relu=_bool(table, "relu", place, False), name=name)
    return Softmax(name=name)


def _layers(table: dict, place: _Place, inherited: dict) -> tuple[Layer, ...]:
    layers = table.get("layers")
    if not isinstance(layers, list) or not layers:
        raise (place / "field 'layers'").error(
            "missing or empty", 'give layers = [{kind = "conv", out = 64, kernel = 1}, ...]')
    result = tuple(_layer(t, place / f"layer {i}", inherited) for i, t in enumerate(layers))
    names = [layer.name for layer in result if layer.name]
    if len(names) != len(set(names)):
        raise place.error(f"layer names repeat: {names}", "give each layer its own name")
    return result


# ----------------------------------------------------------------------------- rows


def _inception(table: dict, place: _Place, inherited: dict) -> tuple[tuple[Branch, ...], tuple, InceptionOptions]:
    """Validate an Inception row's columns and options and expand them into branches (Figure 2(b);
    2(a) with reduce = false, project = false; BN-Inception's double 3x3 with n3x3dblred, n3x3dbl)."""
    opts = _conv_options(table, place, inherited)
    branch1 = _bool(table, "branch1", place, True)
    reduce = _bool(table, "reduce", place, True)
    project = _bool(table, "project", place, True)
    double = [c for c in DOUBLE_COLUMNS if c in table]
    if double and any(c in table for c in ("n5x5red", "n5x5", "kernel5x5")):
        given = next(c for c in ("n5x5red", "n5x5", "kernel5x5") if c in table)
        raise (place / f"field '{given}'").error(
            f"given beside the double 3x3 columns ({', '.join(double)}); a row has a 5x5 branch or a double 3x3 one",
            "keep n5x5red, n5x5 or n3x3dblred, n3x3dbl, not both")
    third = DOUBLE_COLUMNS if double else ("n5x5red", "n5x5")
    wanted = ("n1x1", "n3x3red", "n3x3", *third, "pool_proj")
    switches = (("n1x1", "branch1", branch1), ("n3x3red", "reduce", reduce), (third[0], "reduce", reduce),
                ("pool_proj", "project", project))
    absent = [c for c, _, on in switches if not on]
    for column, switch, on in switches:
        if not on and column in table:
            raise (place / f"field '{column}'").error(f"given, but the row has {switch} = false",
                                                      f"remove {column}")
    columns = {c: _int(table, c, place, fix=f"give the paper's '{c}' column (a positive integer)")
               for c in wanted if c not in absent}
    k3 = _int(table, "kernel3x3", place, default=3)
    k5 = _int(table, "kernel5x5", place, default=5)
    for key, k in (("kernel3x3", k3), ("kernel5x5", k5)):
        if k % 2 == 0:
            raise (place / f"field '{key}'").error(
                f"must be odd to keep the map size ('same' padding), got {k}", f"use {k - 1} or {k + 1}")
    pool_kernel = _int(table, "pool_kernel", place, default=3)
    if pool_kernel % 2 == 0:
        raise (place / "field 'pool_kernel'").error(f"must be odd to keep the map size, got {pool_kernel}",
                                                    f"use {pool_kernel - 1} or {pool_kernel + 1}")
    options = InceptionOptions(
        kernel3x3=k3, kernel5x5=k5, pool=_choice(table, "pool", place, ("max", "avg"), "max"),
        pool_kernel=pool_kernel, pool_rounding=_choice(table, "pool_rounding", place, ("floor", "ceil"), "floor"),
        branch1=branch1, reduce=reduce, project=project, stride=_int(table, "stride", place, default=1), **opts)
    return inception_branches(columns, options), tuple(columns.items()), options


def _concat(table: dict, place: _Place, inherited: dict) -> tuple[Branch, ...]:
    items = table.get("branches")
    if not isinstance(items, list) or len(items) < 2:
        raise (place / "field 'branches'").error(
            "needs a list of at least two branches", 'give branches = [{layers = [...]}, {layers = [...]}]')
    branches = []
    for i, item in enumerate(items, start=1):
        bplace = place / f"branch {i}"
        if not isinstance(item, dict):
            raise bplace.error(f"must be a table with layers, got {quote(item)}", "write {layers = [...]}")
        _check_known(item, ("name", "layers"), bplace, "a branch")
        name = _name(item, bplace, required=False) or f"branch{i}"
        branches.append(Branch(name, _layers(item, bplace, inherited)))
    names = [b.name for b in branches]
    if len(names) != len(set(names)):
        raise place.error(f"branch names repeat: {names}", "give each branch its own name")
    return tuple(branches)


def _row(table: Any, place: _Place, inherited: dict) -> Row:
    if not isinstance(table, dict):
        raise place.error(f"must be a table of fields, got {quote(table)}",
                          'write each row as a [[rows]] table with name = "..." and kind = "..."')
    name = _name(table, place, required=True)
    place = _Place(*place.parts[:-1], f"{place.parts[-1]} '{name}'")
    kind = table.get("kind")
    if kind not in ROW_KINDS:
        raise (place / "field 'kind'").error(f"unknown row kind {quote(kind)}", f"use one of {', '.join(ROW_KINDS)}")
    note = table.get("note", "")
    if not isinstance(note, str):
        raise (place / "field 'note'").error(f"must be text, got {quote(note)}", 'write note = "..."')
    common = ("name", "kind", "note")
    if kind == "inception":
        _check_known(table, (*common, *INCEPTION_COLUMNS, *DOUBLE_COLUMNS, *INCEPTION_OPTIONS), place,
                     "an inception row")
        branches, columns, options = _inception(table, place, inherited)
        return Row(name, kind, branches, columns=columns, note=note, inception=options)
    if kind == "concat":
        _check_known(table, (*common, "branches", *CONV_OPTIONS), place, "a concat row")
        return Row(name, kind, _concat(table, place, {**inherited, **_conv_options(table, place, inherited)}),
                   note=note)
    if kind in ("stack", "aux"):
        extra = ("after",) if kind == "aux" else ()
        _check_known(table, (*common, "layers", *extra, *CONV_OPTIONS), place, f"a {kind} row")
        inner = {**inherited, **_conv_options(table, place, inherited)}
        after = None
        if kind == "aux":
            after = table.get("after")
            if not isinstance(after, str) or not after:
                raise (place / "field 'after'").error("missing", "name the row whose output the head reads")
        return Row(name, kind, (Branch("", _layers(table, place, inner)),), after=after, note=note)
    layer_table = {k: v for k, v in table.items() if k not in ("name", "note")}
    layer = _layer(layer_table, place, inherited, named=False)
    return Row(name, kind, (Branch("", (layer,)),), note=note)


def _defaults(table: Any, place: _Place) -> dict:
    base = {"bias": True, "bn": False, "bn_eps": 1e-5, "relu": True}
    if table is None:
        return base
    if not isinstance(table, dict):
        raise place.error(f"must be a table, got {quote(table)}", "write [defaults] with bias, bn, bn_eps or relu")
    _check_known(table, CONV_OPTIONS, place, "[defaults]")
    return _conv_options(table, place, base)


_SIZE_PART = re.compile(r"\s*(\d+)\s*")  # digits (any script's: int() reads them); no sign, '_' or '.'


def input_size_parts(value: Any, where: str = "input") -> tuple[int, ...]:
    """The 1 to 3 sizes an input is written with (``224``, ``"299x299"``, ``"3x299x299"`` or a list),
    each a positive integer of at most :data:`~inception_calc.core.network.MAX_SIZE`; N and HxW leave the
    channels to the network (see :func:`parse_input`)."""
    fix = "write N (CxNxN), HxW (CxHxW) or CxHxW, e.g. 224, 3x299x299; C is the spec's input channels, 3 by default"
    if isinstance(value, str):
        parts = [_SIZE_PART.fullmatch(p) for p in value.lower().replace("×", "x").replace(",", "x").split("x")]
        if not all(parts):
            raise CalcError(f"cannot read input size {quote(value)}", where=where, fix=fix)
        if any(len(m[1]) > 19 for m in parts):  # 2^63 - 1 has 19 digits; longer ones str -> int need not read
            raise CalcError(f"input size {quote(value)} is too large: at most 2^63 - 1 per side", where=where, fix=fix)
        numbers = [int(m[1]) for m in parts]
    elif isinstance(value, bool):
        raise CalcError(f"cannot read input size {quote(value)}", where=where, fix=fix)
    elif isinstance(value, int):
        numbers = [value]
    elif isinstance(value, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        numbers = list(value)
    else:
        raise CalcError(f"cannot read input size {quote(value)}", where=where, fix=fix)
    if not 1 <= len(numbers) <= 3 or any(n <= 0 for n in numbers):
        raise CalcError(f"input size {quote(value)} must be 1 to 3 positive integers", where=where, fix=fix)
    if any(n > MAX_SIZE for n in numbers):
        raise CalcError(f"input size {quote(value)} is too large: at most 2^63 - 1 per side", where=where, fix=fix)
    return tuple(numbers)


def parse_input(value: Any, where: str = "input", channels: int = 3) -> tuple[int, int, int]:
    """An input size as (C, H, W): N is C x N x N and HxW is C x H x W, with C = ``channels`` (the
    network's own input channels when a network is known, else 3)."""
    numbers = input_size_parts(value, where)
    if len(numbers) == 1:
        return (channels, numbers[0], numbers[0])
    if len(numbers) == 2:
        return (channels, numbers[0], numbers[1])
    return (numbers[0], numbers[1], numbers[2])


def _variants_field(data: dict, top: _Place) -> tuple:
    from inception_calc.core.variants import parse_variants

    items = data.get("variants", [])
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise (top / "field 'variants'").error(
            f"must be a list of variant names, got {quote(items)}", 'write variants = ["bn", "width=0.5"]')
    return parse_variants(items, str(top / "field 'variants'")) if items else ()


def _based(data: dict, top: _Place, chain: tuple[str, ...]) -> Network:
    """A spec written as ``base = "googlenet"`` plus ``variants``: the base network, renamed and
    re-described if the file says so, with its own input size if the file gives one."""
    from inception_calc.core.variants import apply_variants

    base = data["base"]
    place = top / "field 'base'"
    if not isinstance(base, str) or not base or "\x00" in base:
        raise place.error(f"must be a built-in spec name or a file path, got {quote(base)}",
                          'write base = "googlenet" or base = "other.toml"')
    if "rows" in data or "defaults" in data:
        given = "rows" if "rows" in data else "defaults"
        raise (top / f"field '{given}'").error("given beside 'base'; a spec has its own rows or a base, not both",
                                               f"remove {given}, or remove base")
    variants = _variants_field(data, top)
    if base in builtin_names():
        network = load_builtin(base)
    else:
        path = Path(base) if Path(base).is_absolute() else Path(top.parts[0]).parent / base
        here = (*chain, str(Path(top.parts[0]).resolve()))
        if str(path.resolve()) in here:
            raise place.error(f"{quote(base)} leads back to a spec already on the way here, a cycle",
                              "name a built-in spec or a file with its own rows")
        try:
            raw = _read(path)
        except CalcError as exc:
            raise exc.located(str(place)) from None
        network = network_from_dict(raw, str(path), here)  # its errors name its own file
    if variants:
        try:
            network = apply_variants(network, variants)
        except CalcError as exc:
            raise exc.located(top.parts[0]) from None
    changes: dict[str, Any] = {"path": top.parts[0]}
    for key in ("name", "description", "source"):
        if key in data:
            if not isinstance(data[key], str) or not data[key]:
                raise (top / f"field '{key}'").error(f"must be text, got {quote(data[key])}", f'write {key} = "..."')
            changes[key] = data[key]
    if "input" in data:
        changes["input"] = parse_input(data["input"], str(top / "field 'input'"), channels=network.input[0])
    if "notes" in data:
        notes = data["notes"]
        if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
            raise (top / "field 'notes'").error(f"must be a list of strings, got {quote(notes)}",
                                                'write notes = ["...", "..."]')
        changes["notes"] = network.notes + tuple(notes)
    return replace(network, **changes)


def network_from_dict(data: Any, origin: str = "spec", _chain: tuple[str, ...] = ()) -> Network:
    """Validate a parsed spec (a dict, as from TOML or JSON) and build its :class:`Network`.

    A spec has its own ``rows``, or a ``base`` (a built-in name, or a file path relative to this
    file) whose network it starts from; either may list ``variants`` to apply (docs/variants.md).
    """
    top = _Place(origin)
    if not isinstance(data, dict):
        raise top.error(f"a spec must be a table at the top level, got {quote(data)}",
                        'start it with name = "..." and [[rows]] tables (docs/spec-format.md)')
    _check_known(data, TOP_FIELDS, top, "a spec")
    if "base" in data:
        return _based(data, top, _chain)
    variants = _variants_field(data, top)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise (top / "field 'name'").error("missing", 'give the network a name = "..."')
    for key in ("description", "source"):
        if not isinstance(data.get(key, ""), str):
            raise (top / f"field '{key}'").error(f"must be text, got {quote(data[key])}", f'write {key} = "..."')
    notes = data.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise (top / "field 'notes'").error(f"must be a list of strings, got {quote(notes)}",
                                            'write notes = ["...", "..."]')
    inherited = _defaults(data.get("defaults"), top / "[defaults]")
    rows_data = data.get("rows")
    if not isinstance(rows_data, list) or not rows_data:
        raise (top / "field 'rows'").error("missing or empty", "add [[rows]] tables, one per layer")
    rows = tuple(_row(t, top / f"row {i}", inherited) for i, t in enumerate(rows_data, start=1))
    seen: dict[str, int] = {}
    for i, row in enumerate(rows, start=1):
        if row.name in seen:
            raise (top / f"row {i} '{row.name}'").error(
                f"the name repeats row {seen[row.name]}", "give each row its own name")
        if row.after is not None:
            main = [r.name for r in rows[: i - 1] if not r.is_aux]
            if row.after not in main:
                raise (top / f"row {i} '{row.name}'" / "field 'after'").error(
                    f"names {quote(row.after)}, which is no main row before it",
                    f"use one of: {', '.join(main) or '(no rows before it)'}")
        seen[row.name] = i
    if rows[0].is_aux:
        raise (top / "row 1").error("the first row cannot be an auxiliary head",
                                    "put the aux row after the main row it reads")
    network = Network(name=name, rows=rows, description=data.get("description", ""),
                      source=data.get("source", ""), notes=tuple(notes),
                      input=parse_input(data.get("input", [3, 224, 224]), str(top / "field 'input'")),
                      path=origin)
    if variants:
        from inception_calc.core.variants import apply_variants

        try:
            network = apply_variants(network, variants)
        except CalcError as exc:
            raise exc.located(origin) from None
    return network


# ----------------------------------------------------------------------------- files and names


def read_text(path: Path, what: str = "spec file") -> str:
    """A file's UTF-8 text; every way reading it can fail is a CalcError naming the file."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CalcError("no such file", where=str(path), fix="check the path, or run 'inception-calc specs'") from None
    except IsADirectoryError:
        raise CalcError(f"is a directory, not a {what}", where=str(path),
                        fix=f"give the path of a .toml{' or .json' if what == 'spec file' else ''} {what}") from None
    except UnicodeDecodeError as exc:
        raise CalcError(f"cannot read the file ({exc.__class__.__name__}: {exc})", where=str(path),
                        fix="save it as UTF-8 text") from None
    except OSError as exc:
        raise CalcError(f"cannot read the file ({exc.__class__.__name__}: {exc})", where=str(path),
                        fix="check that the file is readable (its permissions)") from None
    except ValueError as exc:  # a path with a NUL character in it
        raise CalcError(f"cannot read the file ({exc})", where=quote(str(path)), fix="check the path") from None


def parse_text(text: str, where: str, fmt: str = "toml") -> Any:
    """Parse TOML (or JSON, ``fmt="json"``) text; every way it can be malformed is a CalcError,
    including what the parsers raise besides their own errors: nesting too deep for Python's
    recursion limit, an integer too long for ``int()`` (over 4300 digits), a lone surrogate."""
    import tomllib

    syntax = f"fix the {fmt.upper()} syntax there"
    try:
        if fmt == "json":
            data = json.loads(text)
            json.dumps(data, ensure_ascii=False).encode("utf-8")  # a lone surrogate (\ud800) fails here
            return data
        return tomllib.loads(text)
    except json.JSONDecodeError as exc:
        raise CalcError(f"malformed JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
                        where=where, fix=syntax) from None
    except tomllib.TOMLDecodeError as exc:
        raise CalcError(f"malformed TOML: {exc}", where=where, fix=syntax) from None
    except RecursionError:
        raise CalcError(f"malformed {fmt.upper()}: nested too deeply to read", where=where,
                        fix="a spec nests tables and lists a few levels deep; remove the extra levels") from None
    except UnicodeEncodeError as exc:
        raise CalcError(f"malformed JSON: a text holds {quote(exc.object[exc.start:exc.end])}, half a surrogate "
                        "pair, not a character", where=where, fix="write the character itself, or both halves") from None
    except ValueError as exc:  # int(): "Exceeds the limit (4300 digits) for integer string conversion"
        raise CalcError(f"malformed {fmt.upper()}: a number with more than 4300 digits ({str(exc).split(':')[0]})",
                        where=where, fix="no size or count needs more than 19 digits") from None


def _read(path: Path) -> Any:
    return parse_text(read_text(path), str(path), "json" if path.suffix.lower() == ".json" else "toml")


def load_file(path: str | Path) -> Network:
    """Load and validate a spec file; ``.json`` is read as JSON, anything else as TOML."""
    path = Path(path)
    return network_from_dict(_read(path), str(path))


def builtin_names() -> list[str]:
    return sorted(p.stem for p in SPEC_DIR.glob("*.toml"))


@lru_cache(maxsize=None)
def load_builtin(name: str) -> Network:
    """A built-in spec by name, read once (a Network is frozen, so one copy serves every caller)."""
    path = SPEC_DIR / f"{name}.toml"
    if not path.is_file():
        raise CalcError(f"unknown spec {quote(name)}", where="spec", fix=f"use one of {', '.join(builtin_names())} or a .toml/.json file")
    return replace(network_from_dict(_read(path), path.name), path="")


SpecResolver = Callable[[str], Network]


def load_spec(text: str | Path | Network) -> Network:
    """A network from a built-in name (``googlenet``), a file path, or a Network (returned as is);
    ``SPEC:variant[,variant...]`` applies variants to it (``googlenet:naive``, docs/variants.md)."""
    if isinstance(text, Network):
        return text
    if isinstance(text, Path):
        return load_file(text)
    if not isinstance(text, str) or not text or "\x00" in text:
        raise CalcError(f"cannot read spec {quote(text)}", where="spec", fix="give a built-in name or a file path")
    if text in builtin_names():
        return load_builtin(text)
    path = Path(text)
    if ":" in text and not path.exists():
        from inception_calc.core.variants import apply_variants, parse_variants

        base, _, names = text.rpartition(":")
        variants = parse_variants(names, where=f"spec {quote(text)}")
        return apply_variants(load_spec(base), variants)
    if path.exists() or path.suffix.lower() in (".toml", ".json") or "/" in text:
        return load_file(path)
    return load_builtin(text)
