"""Validate a parsed spec with its own rows and build its :class:`~inception_calc.core.network.Network`
(files are read by :mod:`~inception_calc.core.files`, names and bases resolved by
:mod:`~inception_calc.core.sources`).

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

from typing import Any

import re
from dataclasses import replace

from inception_calc.core.errors import CalcError, quote
from inception_calc.core.fields import Place, check_known, read_bool, read_choice, read_int, read_name, read_number
from inception_calc.core.inputs import spec_input
from inception_calc.core.kinds import CONV_OPTIONS, KINDS, Layer, layer_default
from inception_calc.core.network import (COMBINES, Block, Branch, Conv, InceptionOptions, Network, Node, Row,
                                          inception_branches, named_nodes)
from inception_calc.core.variants import apply_variants, parse_variants

INCEPTION_COLUMNS = ("n1x1", "n3x3red", "n3x3", "n5x5red", "n5x5", "pool_proj")
LAYER_FIELDS: dict[str, tuple[str, ...]] = {s: KINDS.for_spec(s).field_names() for s in KINDS.spec_kinds}
"""The fields of each spec layer kind, from the kinds' definitions."""
DOUBLE_COLUMNS = ("n3x3dblred", "n3x3dbl")  # BN-Inception's "double #3x3 reduce", "double #3x3"
INCEPTION_OPTIONS = (
    "kernel3x3", "kernel5x5", "pool", "pool_kernel", "pool_rounding", "branch1", "reduce", "project", "stride",
    *CONV_OPTIONS,
)
ROW_KINDS = (*LAYER_FIELDS, "stack", "concat", "add", "inception", "aux")
BLOCK_FIELDS = ("kind", "name", "branches", "module", "activation", *CONV_OPTIONS)
"""The fields of a nested block (a layer table of kind ``concat`` or ``add``)."""
BRANCH_FIELDS = ("name", "layers", "module", "scale")
ACTIVATIONS = ("none", "relu")
RESERVED_NAME = "total"
"""No row may be named so: a claim's ``total.weights`` names the whole network (studies/claims)."""
TOP_FIELDS = ("name", "description", "source", "input", "defaults", "rows", "notes", "base", "variants", "reference")
MAX_LAYERS = 20_000
"""The most primitive layers a spec file's network may have, repeats counted (the largest built-in,
inception-resnet-v2, has 252): every command's work grows with them, and this keeps the slowest
(a report, a compare of two such networks) within seconds."""
LAYERS_FIX = (f"a network has at most {MAX_LAYERS:,} layers (the largest built-in has 252); check that it is the "
              "right file, or give fewer rows or a smaller repeat")

# ----------------------------------------------------------------------------- layers


def _conv_options(table: dict, place: Place, inherited: dict) -> dict:
    """The conv options a row or ``[defaults]`` sets (bias, bn, bn_eps, relu), read with the conv
    kind's own field definitions; absent ones keep ``inherited``."""
    fields = {fld.name: fld for fld in KINDS["conv"].fields}
    return {key: fields[key].read(table, place, inherited[key]) for key in CONV_OPTIONS}


def _layer(table: Any, place: Place, inherited: dict, *, named: bool = True) -> Layer:
    """One primitive layer, read by the kind its ``kind`` field names."""
    if not isinstance(table, dict):
        raise place.error(f"must be a table of fields, got {quote(table)}", 'write {kind = "conv", out = 64, kernel = 1}')
    spec_kind = table.get("kind")
    kind = KINDS.for_spec(spec_kind) if isinstance(spec_kind, str) else None  # a list as the kind is unhashable
    if kind is None:
        raise (place / "field 'kind'").error(
            f"unknown layer kind {quote(spec_kind)}", f"use one of {', '.join(KINDS.spec_kinds)}")
    return kind.read(spec_kind, table, place, inherited, named=named)


def _node(table: Any, place: Place, inherited: dict) -> Node:
    """A node of a branch: a primitive layer, or a nested block (``kind = "concat"`` or ``"add"``)."""
    if isinstance(table, dict) and table.get("kind") in COMBINES:
        return _block(table, place, inherited)
    return _layer(table, place, inherited)


def _block(table: dict, place: Place, inherited: dict) -> Block:
    """A nested block: branches on the block's input, concatenated or added, then its activation."""
    combine = table["kind"]
    check_known(table, BLOCK_FIELDS, place, f"a nested {combine} block")
    name = read_name(table, place, required=False)
    if name:
        place = Place(*place.parts[:-1], f"{place.parts[-1]} '{name}'")
    inner = {**inherited, **_conv_options(table, place, inherited)}
    return Block(_branches(table, place, inner, combine, nested=True), combine=combine, relu=_activation(table, place),
                 name=name, module=read_bool(table, "module", place, True))


def _activation(table: dict, place: Place) -> bool:
    """A block's activation after it combines its branches: ``"relu"`` or ``"none"`` (the default)."""
    return read_choice(table, "activation", place, ACTIVATIONS, "none") == "relu"


def _layers(table: dict, place: Place, inherited: dict, *, empty: bool = False) -> tuple[Node, ...]:
    """A branch's nodes; ``empty``: the list may be empty (a branch of an addition: the identity)."""
    layers = table.get("layers", [] if empty else None)
    fix = 'give layers = [{kind = "conv", out = 64, kernel = 1}, ...]'
    if layers is not None and not isinstance(layers, list):
        got = "a table" if isinstance(layers, dict) else quote(layers)
        raise (place / "field 'layers'").error(f"must be a list of layer tables, got {got}", fix)
    if not (layers or empty):
        raise (place / "field 'layers'").error("missing or empty", fix)
    result = tuple(_node(t, place / f"layer {i}", inherited) for i, t in enumerate(layers))
    names = [layer.name for layer in result if layer.name]
    if len(names) != len(set(names)):
        raise place.error(f"layer names repeat: {names}", "give each layer its own name")
    return result


# ----------------------------------------------------------------------------- rows


def _option(name: str) -> object:
    """An Inception row option's default: :class:`InceptionOptions`'s own."""
    return layer_default(InceptionOptions, name)


def _inception(table: dict, place: Place, inherited: dict) -> tuple[tuple[Branch, ...], tuple, InceptionOptions]:
    """Validate an Inception row's columns and options and expand them into branches (Figure 2(b);
    2(a) with reduce = false, project = false; BN-Inception's double 3x3 with n3x3dblred, n3x3dbl)."""
    opts = _conv_options(table, place, inherited)
    branch1 = read_bool(table, "branch1", place, _option("branch1"))
    reduce = read_bool(table, "reduce", place, _option("reduce"))
    project = read_bool(table, "project", place, _option("project"))
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
    columns = {c: read_int(table, c, place, fix=f"give the paper's '{c}' column (a positive integer)")
               for c in wanted if c not in absent}
    k3 = read_int(table, "kernel3x3", place, default=_option("kernel3x3"))
    k5 = read_int(table, "kernel5x5", place, default=_option("kernel5x5"))
    for key, k in (("kernel3x3", k3), ("kernel5x5", k5)):
        if k % 2 == 0:
            raise (place / f"field '{key}'").error(
                f"must be odd to keep the map size ('same' padding), got {k}", f"use {k - 1} or {k + 1}")
    pool_kernel = read_int(table, "pool_kernel", place, default=_option("pool_kernel"))
    if pool_kernel % 2 == 0:
        raise (place / "field 'pool_kernel'").error(f"must be odd to keep the map size, got {pool_kernel}",
                                                    f"use {pool_kernel - 1} or {pool_kernel + 1}")
    options = InceptionOptions(
        kernel3x3=k3, kernel5x5=k5, pool=read_choice(table, "pool", place, ("max", "avg"), _option("pool")),
        pool_kernel=pool_kernel,
        pool_rounding=read_choice(table, "pool_rounding", place, ("floor", "ceil"), _option("pool_rounding")),
        branch1=branch1, reduce=reduce, project=project,
        stride=read_int(table, "stride", place, default=_option("stride")), **opts)
    return inception_branches(columns, options), tuple(columns.items()), options


def _branches(table: dict, place: Place, inherited: dict, combine: str = "concat", *,
              nested: bool = False) -> tuple[Branch, ...]:
    """The branches of a concat or add row or block. A branch may set ``module = false`` (it only
    groups its layers, whose names sit at the enclosing level) and, in an addition, ``scale`` (its
    output is multiplied by it) and no layers at all (the identity)."""
    items = table.get("branches")
    example = 'give branches = [{layers = [...]}, {layers = [...]}]'
    if not isinstance(items, list) or not items:
        raise (place / "field 'branches'").error("has no branch; a block needs a list of at least two branches",
                                                 example)
    if len(items) < 2:
        raise (place / "field 'branches'").error(
            f"has one branch; {'an' if combine == 'add' else 'a'} {combine} {'block' if nested else 'row'} combines "
            "at least two", f"{example}, or " + ("put its layers in the enclosing branch" if nested
                                                 else 'write them as a kind = "stack" row'))
    branches = []
    for i, item in enumerate(items, start=1):
        bplace = place / f"branch {i}"
        if not isinstance(item, dict):
            raise bplace.error(f"must be a table with layers, got {quote(item)}", "write {layers = [...]}")
        check_known(item, BRANCH_FIELDS if combine == "add" else ("name", "layers", "module"), bplace,
                    f"a branch of {'an addition' if combine == 'add' else 'a concatenation'}")
        name = read_name(item, bplace, required=False) or f"branch{i}"
        bplace = Place(*bplace.parts[:-1], f"{bplace.parts[-1]} '{name}'")
        scale = read_number(item, "scale", bplace, 1.0, low=0.0) if combine == "add" else 1.0
        branches.append(Branch(name, _layers(item, bplace, inherited, empty=combine == "add"), scale=scale,
                               module=read_bool(item, "module", bplace, True)))
    names = [b.name for b in branches]
    if len(names) != len(set(names)):
        raise place.error(f"branch names repeat: {names}", "give each branch its own name")
    return tuple(branches)


def _row(table: Any, place: Place, inherited: dict) -> Row:
    if not isinstance(table, dict):
        raise place.error(f"must be a table of fields, got {quote(table)}",
                          'write each row as a [[rows]] table with name = "..." and kind = "..."')
    name = read_name(table, place, required=True)
    place = Place(*place.parts[:-1], f"{place.parts[-1]} '{name}'")
    kind = table.get("kind")
    if kind not in ROW_KINDS:
        raise (place / "field 'kind'").error(f"unknown row kind {quote(kind)}", f"use one of {', '.join(ROW_KINDS)}")
    note = table.get("note", "")
    if not isinstance(note, str):
        raise (place / "field 'note'").error(f"must be text, got {quote(note)}", 'write note = "..."')
    common = ("name", "kind", "note", "repeat")
    if kind == "inception":
        check_known(table, (*common, *INCEPTION_COLUMNS, *DOUBLE_COLUMNS, *INCEPTION_OPTIONS), place,
                     "an inception row")
        branches, columns, options = _inception(table, place, inherited)
        return Row(name, kind, branches, columns=columns, note=note, inception=options)
    if kind in COMBINES:
        check_known(table, (*common, "branches", "activation", *CONV_OPTIONS), place, f"a {kind} row")
        branches = _branches(table, place, {**inherited, **_conv_options(table, place, inherited)}, kind)
        return Row(name, kind, branches, note=note, combine=kind, relu=_activation(table, place))
    if kind in ("stack", "aux"):
        extra = ("after",) if kind == "aux" else ()
        check_known(table, (*common, "layers", *extra, *CONV_OPTIONS), place, f"a {kind} row")
        inner = {**inherited, **_conv_options(table, place, inherited)}
        after = None
        if kind == "aux":
            after = table.get("after")
            if not isinstance(after, str) or not after:
                raise (place / "field 'after'").error("missing", "name the row whose output the head reads")
        return Row(name, kind, (Branch("", _layers(table, place, inner)),), after=after, note=note)
    layer_table = {k: v for k, v in table.items() if k not in ("name", "note", "repeat")}
    layer = _layer(layer_table, place, inherited, named=False)
    return Row(name, kind, (Branch("", (layer,)),), note=note)


REFERENCE_LIBRARIES = ("torchvision", "timm")


def _reference(data: dict, top: Place) -> str:
    """``"timm:inception_v4"``: the implementation the spec reproduces, module name for module name
    (what ``check --against torchvision|timm`` builds); "" for none."""
    value = data.get("reference", "")
    if value:
        library, _, model = value.partition(":")
        if library not in REFERENCE_LIBRARIES or not model.isidentifier():
            raise (top / "field 'reference'").error(
                f"must be LIBRARY:MODEL with LIBRARY one of {', '.join(REFERENCE_LIBRARIES)}, got {quote(value)}",
                'write reference = "timm:inception_v4" or reference = "torchvision:inception_v3"')
    return value


def _repeated(row: Row, table: dict, place: Place) -> tuple[Row, ...]:
    """The row, or with ``repeat = N`` N copies of it, the number its name ends with counting up
    (``features.6`` with repeat = 4: features.6 to features.9; ``repeat.0`` with 10: repeat.0 to repeat.9)."""
    place = Place(*place.parts[:-1], f"{place.parts[-1]} '{row.name}'")
    count = read_int(table, "repeat", place, default=1)
    if count == 1:
        return (row,)
    match = re.fullmatch(r"(.*?)(\d+)", row.name)
    if match is None:
        raise (place / "field 'repeat'").error(
            "a repeated row's name must end with a number, which counts up", f"name it {row.name}.0 or {row.name}1")
    stem, digits = match.group(1), match.group(2)
    if count > 10_000:
        raise (place / "field 'repeat'").error(f"repeats {count} times; at most 10000", "write a smaller repeat")
    # the first copy keeps the name as written; the others count up at its width (b.09: b.09, b.10, b.11)
    return tuple(replace(row, name=f"{stem}{int(digits) + k:0{len(digits)}d}") for k in range(count))


def _all_rows(rows_data: list, top: Place, inherited: dict) -> tuple[Row, ...]:
    """Every row, repeats expanded, refused once the layers pass :data:`MAX_LAYERS` (before the
    rest are read: a file of 300,000 rows stops at the limit)."""
    if len(rows_data) > MAX_LAYERS:
        raise (top / "field 'rows'").error(f"has {len(rows_data):,} rows, more than {MAX_LAYERS:,} layers",
                                           LAYERS_FIX)
    rows: list[Row] = []
    layers = 0
    for i, table in enumerate(rows_data, start=1):
        row = _row(table, top / f"row {i}", inherited)
        copies = _repeated(row, table, top / f"row {i}")
        layers += len(copies) * sum(1 for _ in row.named_layers())
        if layers > MAX_LAYERS:
            raise (top / f"row {i} '{row.name}'").error(
                f"brings the network to {layers:,} layers, more than {MAX_LAYERS:,}", LAYERS_FIX)
        rows += copies
    return tuple(rows)


def _check_names(rows: tuple[Row, ...], top: Place) -> None:
    """Every row, branch, block and layer name of the network is unique (dotted row names such as
    ``features.6`` could otherwise meet a layer of another row)."""
    owner: dict[str, str] = {row.name: row.name for row in rows}  # rows that repeat: the check after this one
    for i, row in enumerate(rows, start=1):
        for name in named_nodes(row):
            if name in owner:
                raise (top / f"row {i} '{row.name}'").error(
                    f"the name '{name}' is given twice (also in row '{owner[name]}')",
                    "give every row, branch and layer its own dotted name")
            owner[name] = row.name


def _defaults(table: Any, place: Place) -> dict:
    base = {key: layer_default(Conv, key) for key in CONV_OPTIONS}
    if table is None:
        return base
    if not isinstance(table, dict):
        raise place.error(f"must be a table, got {quote(table)}", "write [defaults] with bias, bn, bn_eps or relu")
    check_known(table, CONV_OPTIONS, place, "[defaults]")
    return _conv_options(table, place, base)


def variants_field(data: dict, top: Place) -> tuple:
    items = data.get("variants", [])
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise (top / "field 'variants'").error(
            f"must be a list of variant names, got {quote(items)}", 'write variants = ["bn", "width=0.5"]')
    return parse_variants(items, str(top / "field 'variants'")) if items else ()


def network_from_rows(data: dict, origin: str = "spec") -> Network:
    """The :class:`Network` of a parsed spec with its own ``rows`` (a spec with a ``base`` is
    resolved by :func:`inception_calc.core.sources.network_from_dict`), every field checked."""
    top = Place(origin)
    variants = variants_field(data, top)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise (top / "field 'name'").error("missing", 'give the network a name = "..."')
    for key in ("description", "source", "reference"):
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
    rows = _all_rows(rows_data, top, inherited)
    _check_names(rows, top)
    seen: dict[str, int] = {}
    main: dict[str, None] = {}  # the main rows so far, in order: one look-up per aux row, not a walk
    for i, row in enumerate(rows, start=1):
        if row.name in seen:
            raise (top / f"row {i} '{row.name}'").error(
                f"the name repeats row {seen[row.name]}", "give each row its own name")
        if row.name == RESERVED_NAME:
            raise (top / f"row {i} '{row.name}'").error(
                f"'{RESERVED_NAME}' is reserved: a claim's {RESERVED_NAME}.QUANTITY means the whole network",
                f"name the row otherwise, say {RESERVED_NAME}_{i}")
        if row.after is not None:
            if row.after not in main:
                raise (top / f"row {i} '{row.name}'" / "field 'after'").error(
                    f"names {quote(row.after)}, which is no main row before it",
                    f"use one of: {', '.join(main) or '(no rows before it)'}")
        elif not row.is_aux:
            main[row.name] = None
        seen[row.name] = i
    if rows[0].is_aux:
        raise (top / "row 1").error("the first row cannot be an auxiliary head",
                                    "put the aux row after the main row it reads")
    network = Network(name=name, rows=rows, description=data.get("description", ""),
                      source=data.get("source", ""), notes=tuple(notes), reference=_reference(data, top),
                      input=spec_input(data.get("input", [3, 224, 224]), str(top / "field 'input'")),
                      path=origin)
    if variants:
        try:
            network = apply_variants(network, variants)
        except CalcError as exc:
            raise exc.located(origin) from None
    return network
