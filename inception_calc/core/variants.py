"""Variants: named transformations of a network, written ``SPEC:variant[,variant...]``.

``googlenet:naive``, ``googlenet:bn,width=0.5``, ``my.toml:factorized-5x5``; in a spec file, a
top-level ``variants = ["bn"]`` (docs/variants.md). Variants apply left to right, each to the
network the one before it made; the result is named ``googlenet:bn,width=0.5``.

* ``naive``: the paper's Figure 2(a) module on every Inception row: no 1x1 reductions before the
  3x3 and the 5x5 (or double 3x3), no projection after the pool, whose channels pass through; the
  width then grows from row to row.
* ``no-reduce``: no 1x1 reductions; the pool projection stays, so every row keeps its width.
* ``factorized-5x5``: each 5x5 conv replaced by two stacked 3x3 convs (Inception v2/v3), both as
  wide as the 5x5 was (``n5x5``), as BN-Inception's double 3x3 and torchvision's Inception v3 are.
* ``bn``: batch norm after every conv, and no conv bias (the norm's shift takes its place), in
  nested blocks and residual branches too.
* ``width=F``: every channel count times F, rounded half up, at least 1
  (:func:`~inception_calc.core.formulas.scaled_channels`); a classifier (the last linear layer of the
  network and of each auxiliary head) keeps its class count. A depthwise conv (groups = its input
  channels) stays depthwise: one group per input channel as scaled, and as many outputs per group. In an addition the branches must still give equal
  channels: the last conv of each branch gives the shortcut's channels (the identity's, i.e. the
  block's input as scaled; else the first branch's), which can differ from F times its own count by
  the rounding of a sum (``mixed_6a``'s 384 + 384 + 320 scaled one by one); a branch that ends in no
  conv it could set is refused, naming it.

``naive``, ``no-reduce`` and ``factorized-5x5`` change the paper's columns of ``kind = "inception"``
rows; a network without such rows (one written branch by branch, as concat and add rows) is refused
with one line saying so.

A variant that cannot apply to a row it targets raises :class:`CalcError` naming the row and why.
Standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Callable, Sequence

from inception_calc.core import formulas as f
from inception_calc.core.errors import CalcError, did_you_mean, quote
from inception_calc.core.network import (MAX_SIZE, Block, Branch, Conv, InceptionOptions, Layer, Linear, Network, Node,
                                          Row, inception_branches)

REDUCTIONS = ("n3x3red", "n5x5red", "n3x3dblred")


@dataclass(frozen=True, slots=True)
class Variant:
    """One variant as written: its name and, for ``width=F``, its value."""

    name: str
    value: str | None = None

    @property
    def text(self) -> str:
        return self.name if self.value is None else f"{self.name}={self.value}"


# ----------------------------------------------------------------------------- helpers


def _inception_rows(network: Network, variant: str) -> list[Row]:
    rows = [r for r in network.rows if r.inception is not None]
    if not rows:
        graph = [r.kind for r in network.rows if r.kind in ("concat", "add")]
        why = (f" ({network.name}'s {' and '.join(sorted(set(graph)))} rows are written branch by branch and have "
               "no paper columns to change)" if graph else "")
        raise CalcError(f"{network.name} has no inception rows{why}", where=f"variant '{network.name}:{variant}'",
                        fix=f"{variant} changes rows of kind = \"inception\"; use it on a spec that has them")
    return rows


def _expanded(row: Row, columns: dict[str, int], options: InceptionOptions) -> Row:
    """The row with new columns and options, its branches expanded again."""
    return replace(row, branches=inception_branches(columns, options), columns=tuple(columns.items()),
                   inception=options)


def _each_inception(network: Network, variant: str,
                    change: Callable[[Row, dict[str, int], InceptionOptions], tuple[dict[str, int], InceptionOptions]]
                    ) -> Network:
    """Apply ``change`` to every Inception row (it raises CalcError when it cannot apply)."""
    targets = {r.name for r in _inception_rows(network, variant)}
    rows = []
    for row in network.rows:
        if row.name in targets:
            assert row.inception is not None
            try:
                columns, options = change(row, dict(row.columns), row.inception)
            except CalcError as exc:
                raise exc.located(f"variant '{network.name}:{variant}', row '{row.name}'") from None
            row = _expanded(row, columns, options)
        rows.append(row)
    return replace(network, rows=tuple(rows))


Path = tuple[int, ...]
"""Where a node sits in its row: the branch index, then the node index, then (inside a nested
block) the block's branch index and node index, and so on."""


def _map_branch(branch: Branch, change: Callable[[Layer, Path], Layer], path: Path) -> Branch:
    """``branch`` with ``change`` applied to each primitive layer, nested blocks included; the
    branch's name, scale and module flag and each block's fields are kept."""
    nodes: list[Node] = []
    for j, node in enumerate(branch.layers):
        if isinstance(node, Block):
            nodes.append(replace(node, branches=tuple(_map_branch(b, change, (*path, j, k))
                                                      for k, b in enumerate(node.branches))))
        else:
            nodes.append(change(node, (*path, j)))
    return replace(branch, layers=tuple(nodes))


def _map_layers(row: Row, change: Callable[[Layer, Path], Layer]) -> Row:
    """The row with ``change(layer, path)`` applied to each primitive layer (nested ones too)."""
    return replace(row, branches=tuple(_map_branch(b, change, (i,)) for i, b in enumerate(row.branches)))


def _layers_of(branches: tuple[Branch, ...]) -> list[Layer]:
    """Every primitive layer of ``branches``, nested blocks included."""
    found: list[Layer] = []
    for branch in branches:
        for node in branch.layers:
            found += _layers_of(node.branches) if isinstance(node, Block) else [node]
    return found


# ----------------------------------------------------------------------------- the variants


def naive(network: Network, value: str | None = None) -> Network:
    """Figure 2(a): drop the 1x1 reductions and the pool projection of every Inception row."""

    def change(row: Row, columns: dict[str, int], o: InceptionOptions) -> tuple[dict[str, int], InceptionOptions]:
        if not o.reduce and not o.project:
            raise CalcError("it is naive already (reduce = false, project = false)",
                            fix="drop 'naive' from the variants")
        kept = {c: n for c, n in columns.items() if c not in (*REDUCTIONS, "pool_proj")}
        return kept, replace(o, reduce=False, project=False)

    return _each_inception(network, "naive", change)


def no_reduce(network: Network, value: str | None = None) -> Network:
    """Drop the 1x1 reductions before the 3x3 and 5x5 of every Inception row; keep the projection."""

    def change(row: Row, columns: dict[str, int], o: InceptionOptions) -> tuple[dict[str, int], InceptionOptions]:
        if not o.reduce:
            raise CalcError("it has no 1x1 reductions already (reduce = false)", fix="drop 'no-reduce'")
        return {c: n for c, n in columns.items() if c not in REDUCTIONS}, replace(o, reduce=False)

    return _each_inception(network, "no-reduce", change)


def factorized_5x5(network: Network, value: str | None = None) -> Network:
    """Each 5x5 conv becomes 3x3 ``n5x5`` then 3x3 ``n5x5`` (the middle layer as wide as the output).

    Cost of the branch's k x k part on an r-channel input with o outputs, per output pixel:
    5x5: 25 r o; two 3x3 with a middle width m: 9 r m + 9 m o. With m = o this is 9 o (r + o),
    a ratio of 9 (r + o) / (25 r) to the 5x5: the (9 + 9) / 25 = 72% rule holds when r = o only.
    """

    def change(row: Row, columns: dict[str, int], o: InceptionOptions) -> tuple[dict[str, int], InceptionOptions]:
        if "n3x3dbl" in columns:
            raise CalcError("it has no 5x5 branch to factorize: its third branch is a double 3x3 already",
                            fix="drop 'factorized-5x5' for this spec")
        if o.kernel5x5 != 5:
            k = o.kernel5x5
            raise CalcError(f"its '5x5' branch has a {k}x{k} kernel (kernel5x5 = {k}); only a 5x5 factorizes "
                            "into two 3x3", fix="drop 'factorized-5x5', or set kernel5x5 = 5 in the spec")
        renamed = {"n5x5red": "n3x3dblred", "n5x5": "n3x3dbl"}
        return {renamed.get(c, c): n for c, n in columns.items()}, o

    return _each_inception(network, "factorized-5x5", change)


def batch_norm(network: Network, value: str | None = None) -> Network:
    """Batch norm after every conv and no conv bias; linear layers keep theirs."""
    changed = 0

    def conv(layer: Layer, _: Path) -> Layer:
        nonlocal changed
        if isinstance(layer, Conv) and (layer.bias or not layer.bn):
            changed += 1
            return replace(layer, bias=False, bn=True)
        return layer

    rows = []
    for row in network.rows:
        if row.inception is not None:
            options = replace(row.inception, bias=False, bn=True)
            if options != row.inception:
                changed += 1
            rows.append(_expanded(row, dict(row.columns), options))
        else:
            rows.append(_map_layers(row, conv))
    if not changed:
        has_conv = any(isinstance(layer, Conv) for r in network.rows for layer in _layers_of(r.branches))
        what = "every conv has batch norm and no bias already" if has_conv else f"{network.name} has no conv"
        raise CalcError(what, where=f"variant '{network.name}:bn'", fix="drop 'bn' from the variants")
    return replace(network, rows=tuple(rows))


_EXPONENT = re.compile(r"[eE]\s*([+-]?\d+)")


def parse_width(value: str | None) -> Fraction:
    """The factor F of ``width=F``: a positive decimal or fraction (``0.5``, ``1/2``, ``1.25``)."""
    fix = "write width=F with F a positive number, e.g. width=0.5 or width=3/4"
    if value is None or not value.strip():
        raise CalcError("width needs a factor", where="variant 'width'", fix=fix)
    exponent = _EXPONENT.search(value.strip())  # Fraction("1e999999999") would compute 10^999999999
    if len(value.strip()) > 40 or (exponent and abs(int(exponent[1])) > 30):
        raise CalcError(f"the factor {quote(value)} is out of range", where="variant 'width'",
                        fix="write it in at most 40 characters, with an exponent within ±30")
    try:
        factor = Fraction(value.strip())
    except (ValueError, ZeroDivisionError):
        raise CalcError(f"cannot read the factor {quote(value)}", where="variant 'width'", fix=fix) from None
    if factor <= 0:
        raise CalcError(f"the factor must be greater than 0, got {value}", where="variant 'width'", fix=fix)
    return factor


def _classifiers(network: Network) -> set[tuple[str, Path]]:
    """(row, path) of the last linear layer of the main rows and of each head."""
    found: set[tuple[str, Path]] = set()
    main_last = None
    for row in network.rows:
        linears: list[tuple[str, Path]] = []

        def note(layer: Layer, at: Path) -> Layer:
            if isinstance(layer, Linear):
                linears.append((row.name, at))
            return layer

        _map_layers(row, note)
        if not linears:
            continue
        if row.is_aux:
            found.add(linears[-1])
        else:
            main_last = linears[-1]
    if main_last:
        found.add(main_last)
    return found


class _Width:
    """``width=F`` over the graph: each node scaled in order, the input channels of each (before and
    after scaling) carried along, so that depthwise convs keep a group per channel and the branches
    of an addition keep equal channels."""

    def __init__(self, network: Network, value: str | None) -> None:
        self.factor = parse_width(value)
        self.value = value
        self.keep = _classifiers(network)
        self.where = f"variant '{network.name}:width={value}'"
        self.row = ""

    def scaled(self, channels: int) -> int:
        out = f.scaled_channels(channels, self.factor)
        if out > MAX_SIZE:
            raise CalcError(f"{channels} channels x {self.value} = {out} is more than 2^63 - 1 (PyTorch's largest "
                            "tensor size)", where=f"{self.where}, row '{self.row}'", fix="choose a smaller factor")
        return out

    def conv(self, layer: Conv, out: int, cin: tuple[int, int], name: str) -> Conv:
        """``layer`` giving ``out`` channels on an input of ``cin`` = (channels before, after scaling)."""
        groups = layer.groups
        if groups > 1 and groups == cin[0] and layer.out % groups == 0:
            # depthwise (one group per input channel, out a multiple of it): so it stays, whatever F
            groups, out = cin[1], layer.out // groups * cin[1]
        if out % groups or cin[1] % groups:
            raise CalcError(f"{groups} groups do not divide the scaled widths ({cin[1]} in, {out} out; "
                            f"{cin[0]} and {layer.out} x {self.value})", where=f"{self.where}, {name}",
                            fix="choose a factor that keeps the widths multiples of the groups")
        return replace(layer, out=out, groups=groups)

    def layer(self, layer: Layer, cin: tuple[int, int], at: tuple[str, Path], name: str) -> tuple[Layer, tuple[int, int]]:
        if isinstance(layer, Linear):
            out = layer.out if at in self.keep else self.scaled(layer.out)
            return replace(layer, out=out), (layer.out, out)
        if isinstance(layer, Conv):
            new = self.conv(layer, self.scaled(layer.out), cin, name)
            return new, (layer.out, new.out)
        return layer, cin

    def branch(self, branch: Branch, cin: tuple[int, int], path: Path, name: str) -> tuple[Branch, tuple[int, int]]:
        nodes: list[Node] = []
        for j, node in enumerate(branch.layers):
            if isinstance(node, Block):
                where = f"{name}, block '{node.name or j}'"
                branches, cin = self.combine(node.branches, node.combine, cin, (*path, j), where)
                nodes.append(replace(node, branches=branches))
            else:
                new, cin = self.layer(node, cin, (self.row, (*path, j)), f"{name}, layer '{node.name or j}'")
                nodes.append(new)
        return replace(branch, layers=tuple(nodes)), cin

    def combine(self, branches: tuple[Branch, ...], combine: str, cin: tuple[int, int], path: Path,
                where: str) -> tuple[tuple[Branch, ...], tuple[int, int]]:
        done = [self.branch(b, cin, (*path, k), f"{where}, branch '{b.name}'") for k, b in enumerate(branches)]
        if combine == "concat":
            return tuple(b for b, _ in done), (sum(c[0] for _, c in done), sum(c[1] for _, c in done))
        identity = any(not b.layers for b in branches)
        target = cin[1] if identity else done[0][1][1]
        shortcut = "the identity's" if identity else f"branch '{branches[0].name}''s"
        added = []
        for branch, (before, after) in done:
            if after != target:
                branch = self.last_conv_to(branch, target, f"{where}, branch '{branch.name}'", shortcut, after)
            added.append(branch)
        return tuple(added), (done[0][1][0], target)

    def last_conv_to(self, branch: Branch, target: int, where: str, shortcut: str, given: int) -> Branch:
        """``branch`` with its last conv giving ``target`` channels: only layers that keep the
        channels (batch norm, ReLU, pooling, dropout) may follow it."""
        for j in range(len(branch.layers) - 1, -1, -1):
            node = branch.layers[j]
            if isinstance(node, Conv):
                last = replace(node, out=target)
                if target % node.groups:
                    raise CalcError(f"{node.groups} groups do not divide the shortcut's {target} channels",
                                    where=f"{self.where}, {where}", fix="choose another factor")
                return replace(branch, layers=(*branch.layers[:j], last, *branch.layers[j + 1:]))
            if isinstance(node, (Block, Linear)):
                break
        raise CalcError(f"the branch gives {given} channels scaled and the addition's shortcut ({shortcut}) "
                        f"{target}, and it ends in no conv whose width could follow the shortcut",
                        where=f"{self.where}, {where}",
                        fix="end the branch with a conv, or choose a factor that scales both sides alike")

    def network(self, network: Network) -> Network:
        outputs: dict[str, tuple[int, int]] = {}
        channels = (network.input[0], network.input[0])  # the image's channels are not scaled
        rows = []
        for row in network.rows:
            self.row = row.name
            cin = outputs[row.after] if row.after is not None else channels
            where = f"row '{row.name}'"
            if row.inception is not None:
                columns = {c: self.scaled(n) for c, n in row.columns}
                new = _expanded(row, columns, row.inception)
                out = (sum(_branch_out(b, cin[0]) for b in row.branches),
                       sum(_branch_out(b, cin[1]) for b in new.branches))
            elif row.layout == "single":  # the row is the layer: errors name the row alone
                layer, out = self.layer(row.branches[0].layers[0], cin, (row.name, (0, 0)), where)
                new = replace(row, branches=(replace(row.branches[0], layers=(layer,)),))
            elif row.layout == "sequence":
                branch, out = self.branch(row.branches[0], cin, (0,), where)
                new = replace(row, branches=(branch,))
            else:
                branches, out = self.combine(row.branches, row.combine, cin, (), where)
                new = replace(row, branches=branches)
            rows.append(new)
            outputs[row.name] = out
            if row.after is None:
                channels = out
        return replace(network, rows=tuple(rows))


def _branch_out(branch: Branch, cin: int) -> int:
    """The channels ``branch`` gives on ``cin`` input channels (a scaled Inception row's branches)."""
    for node in branch.layers:
        if isinstance(node, Block):
            outs = [_branch_out(b, cin) for b in node.branches]
            cin = sum(outs) if node.combine == "concat" else outs[0]
        elif isinstance(node, (Conv, Linear)):
            cin = node.out
    return cin


def width(network: Network, value: str | None) -> Network:
    """Every channel count (conv and linear outputs, Inception columns) times F, rounded half up;
    classifiers keep their classes, depthwise convs a group per channel, additions equal channels."""
    return _Width(network, value).network(network)


@dataclass(frozen=True, slots=True)
class _Kind:
    apply: Callable[[Network, str | None], Network]
    takes_value: bool
    help: str


VARIANTS: dict[str, _Kind] = {
    "naive": _Kind(naive, False, "no 1x1 reductions and no pool projection (Figure 2(a)); widths grow"),
    "no-reduce": _Kind(no_reduce, False, "no 1x1 reductions before the 3x3 and 5x5; the pool projection stays"),
    "factorized-5x5": _Kind(factorized_5x5, False, "each 5x5 as two stacked 3x3, the middle one n5x5 wide"),
    "bn": _Kind(batch_norm, False, "batch norm after every conv, no conv bias"),
    "width": _Kind(width, True, "every channel count times F, rounded half up, at least 1; classifiers kept"),
}


def known_variants() -> str:
    return ", ".join(f"{name}=F" if kind.takes_value else name for name, kind in VARIANTS.items())


def parse_variants(items: str | Sequence[str], where: str = "") -> tuple[Variant, ...]:
    """``"bn,width=0.5"`` (or ``["bn", "width=0.5"]``) as checked :class:`Variant` s."""
    texts = items.split(",") if isinstance(items, str) else list(items)
    place = where or "variants"
    if not texts or (isinstance(items, str) and not items.strip()):
        raise CalcError("no variant given", where=place, fix=f"name one or more of: {known_variants()}")
    result = []
    for text in texts:
        if not isinstance(text, str) or not text.strip():
            raise CalcError(f"empty variant in {quote(items)}", where=place,
                            fix=f"separate variants by single commas; known: {known_variants()}")
        name, eq, value = text.strip().partition("=")
        name = name.strip()
        kind = VARIANTS.get(name)
        if kind is None:
            hint = did_you_mean(name, VARIANTS)
            raise CalcError(f"unknown variant {name!r}", where=place, fix=f"{hint}known variants: {known_variants()}")
        if kind.takes_value and not eq:
            raise CalcError(f"{name} needs a value", where=place, fix=f"write {name}=F, e.g. {name}=0.5")
        if not kind.takes_value and eq:
            raise CalcError(f"{name} takes no value, got {text.strip()!r}", where=place, fix=f"write {name}")
        if kind.takes_value:
            try:
                parse_width(value)  # a bad value fails here, before any network is loaded
            except CalcError as exc:
                raise CalcError(exc.what, where=place, fix=exc.fix) from None
        result.append(Variant(name, value.strip() if eq else None))
    return tuple(result)


def apply_variants(network: Network, variants: str | Sequence[str] | Sequence[Variant]) -> Network:
    """``network`` with each variant applied in turn, named ``network.name:variant,variant``."""
    if isinstance(variants, str) or any(isinstance(v, str) for v in variants):
        variants = parse_variants(variants)  # type: ignore[arg-type]
    parsed: tuple[Variant, ...] = tuple(variants)  # type: ignore[arg-type]
    for variant in parsed:
        network = VARIANTS[variant.name].apply(network, variant.value)
    text = ",".join(v.text for v in parsed)
    notes = tuple(f"variant {v.text}: {VARIANTS[v.name].help}" for v in parsed)
    return replace(network, name=f"{network.name}:{text}", notes=network.notes + notes)
