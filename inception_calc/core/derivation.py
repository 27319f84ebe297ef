"""Step-by-step derivations, as the seed article's section 4 does them: for each conv the formula,
the numbers put in and the result; then the sums for weights and for MACs.

The steps follow the Cost tree depth first: each branch's layers in order; after the branches of a
nested block, the block's combination (``repeat.0.mixed: concatenate 3 branches: 32 + 32 + 64 = 128
channels -> 35x35x128``); last, the node's own combination: the channels concatenated, or the
branches added (``add 2 branches: identity 35x35x320 + 0.17 x residual 35x35x320 -> 35x35x320``),
which costs an addition (and a multiply by each scale that is not 1) per element, no
multiply-accumulate of weights: 0 MACs.

The derivation is written from the same formulas the engine uses, and every result it prints is
the analysis's own number (a test checks that the two agree). Before the sums comes the node's receptive
field, step by step (:func:`inception_calc.core.receptive.field_derivation`).
"""

from __future__ import annotations


from inception_calc.core.engine import left_out_head, named_layers
from inception_calc.core.errors import CalcError, did_you_mean
from inception_calc.core.memo import IdentityMemo
from inception_calc.core.values import grouped, hwc
from inception_calc.core.results import Analysis, Cost
from inception_calc.core.kinds import KINDS
from inception_calc.core.receptive import field_derivation
from inception_calc.core.network import Network


def _layer_lines(node: Cost, layer: object) -> list[str]:
    """The header of one layer, its kind's derivation, then its biases and batch norm."""
    lines = [f"{node.name}: {node.summary}, {hwc(node.in_shape)} -> {hwc(node.out_shape)}"]
    lines += ["  " + line for line in KINDS.of(layer).derive(layer, node.in_shape, node.out_shape, node.weights,
                                                               node.macs)]
    if node.biases:
        lines.append(f"  biases  = Cout = {grouped(node.biases)}")
    if node.bn:
        lines.append(f"  bn      = 2 x Cout = {grouped(node.bn)}")
    return lines


def _scales(network: Network) -> dict[str, tuple[float, ...]]:
    """The scales of the branches of every addition (add rows and nested add blocks) by its name."""
    scales = {row.name: tuple(b.scale for b in row.branches) for row in network.rows if row.combine == "add"}
    for row in network.rows:
        scales.update((name, tuple(b.scale for b in block.branches)) for name, block in row.named_blocks()
                      if block.combine == "add")
    return scales


def _relus(network: Network) -> frozenset[str]:
    """The rows and nested blocks that apply a ReLU after combining their branches."""
    names = {row.name for row in network.rows if row.relu}
    for row in network.rows:
        names.update(name for name, block in row.named_blocks() if block.relu)
    return frozenset(names)


def _short(branch: Cost, node: Cost) -> str:
    """A branch's name below its block's (``identity`` of ``repeat.0``), else its last part."""
    if branch.name.startswith(node.name + "."):
        return branch.name[len(node.name) + 1:]
    return branch.name.rsplit(".", 1)[-1]


def _combination(node: Cost, branches: list[Cost], scales: dict[str, tuple[float, ...]], top: bool,
                 relus: frozenset[str] = frozenset()) -> str:
    """How ``node`` combines its branches: concatenated (channels add) or added (shapes equal); then its ReLU."""
    where = "" if top else f"{node.name}: "
    relu = "; then ReLU (no weights, 0 MACs)" if node.name in relus else ""
    if node.kind != "add":
        channels = " + ".join(str(b.out_shape[0]) for b in branches)
        return (f"{where}concatenate {len(branches)} branches: {channels} = {node.out_shape[0]} channels -> "
                f"{hwc(node.out_shape)}{relu}")
    factors = scales.get(node.name, (1.0,) * len(branches))
    terms = " + ".join(f"{'' if k == 1 else f'{k:g} x '}{_short(b, node)} {hwc(b.out_shape)}"
                       for b, k in zip(branches, factors))
    per = "an addition and a multiply by the scale" if any(k != 1 for k in factors) else "an addition"
    return (f"{where}add {len(branches)} branches: {terms} -> {hwc(node.out_shape)}; {per} per element, not "
            f"multiply-accumulates of weights: 0 MACs{relu}")


def _steps(node: Cost, layers: dict, scales: dict[str, tuple[float, ...]], top: bool = False,
           relus: frozenset[str] = frozenset()) -> list[str]:
    """The derivation of ``node``'s subtree: its layers, and after each block's branches the block's combination."""
    if node.name in layers:
        return _layer_lines(node, layers[node.name]) + [""]
    lines: list[str] = []
    for child in node.children:
        lines += _steps(child, layers, scales, relus=relus)
    branches = [b for b in node.children if b.level == "branch"]
    if branches:
        lines += [_combination(node, branches, scales, top, relus), ""]
    return lines


def _sum_line(label: str, values: list[int], total: int) -> str:
    terms = [v for v in values if v] or [0]
    if len(terms) == 1:
        return f"{label} = {grouped(total)}"
    return f"{label} = {' + '.join(grouped(v) for v in terms)} = {grouped(total)}"


def _missing(analysis: Analysis, name: str) -> CalcError:
    """The error for a name that is no node: below the longest node name that prefixes it (rows may
    be dotted, and a branch that is no module puts its layers at the row's level), the names one
    segment further down; else the rows, with a dotted name of this network as the example."""
    head = left_out_head(analysis, name, "name")
    if head is not None:
        return head
    nodes = [n for row in analysis.rows for n in row.walk("conv")]
    parent = max((n for n in nodes if name.startswith(n.name + ".")), key=lambda n: len(n.name), default=None)
    if parent is not None:
        part = name[len(parent.name) + 1:].split(".")[0]
        below = [n.name[len(parent.name) + 1:] for n in nodes if n.name.startswith(parent.name + ".")
                 and "." not in n.name[len(parent.name) + 1:]]
        inner = [n.name for n in parent.walk("conv") if n is not parent]
        if below:
            fix = f"{did_you_mean(part, below, n=3)}use one of its parts: {', '.join(dict.fromkeys(below))}"
        elif inner:  # a block whose branches are no modules: its parts are named at the enclosing level
            fix = f"its parts are named without it (no module holds them): {', '.join(dict.fromkeys(inner))}"
        else:
            fix = f"{parent.name} is a single layer: explain {parent.name}"
        return CalcError(f"{parent.name} in {analysis.spec} has no part {part!r}", where="name", fix=fix)
    rows = ", ".join(r.name for r in analysis.rows)
    # a misspelt row among the rows, a misspelt branch among the branches: names of as many dots first
    level = [n.name for n in nodes if n.name.count(".") == name.count(".")]
    hint = did_you_mean(name, level, n=3) or did_you_mean(name, [n.name for n in nodes], n=3)
    example = next((b[1].name for r in analysis.rows
                    if len(b := [c for c in r.children if c.level == "branch"]) >= 2), None)
    dotted = f", e.g. {example}" if example else ""
    return CalcError(f"no row, branch or layer named {name!r} in {analysis.spec}", where="name",
                     fix=f"{hint}use one of: {rows} (or a dotted branch or layer name{dotted})")


_NETWORK_TABLES = IdentityMemo(4)
"""Each network's layers, scales and ReLUs by name: made once, not once a node (verify's 2,000 claims)."""


def derivation(analysis: Analysis, name: str) -> str:
    """The derivation of the node ``name`` (a row, a branch or a layer) of ``analysis``."""
    try:
        node = analysis[name]
    except KeyError:
        raise _missing(analysis, name) from None
    layers, scales, relus = _NETWORK_TABLES.get_or_make(
        analysis.network, lambda n: (named_layers(n), _scales(n), _relus(n)))
    leaves = [n for n in node.walk("conv") if n.name in layers]
    c, h, w = analysis.input
    lines = [f"{node.name} in {analysis.spec} at input {c}x{h}x{w}: {hwc(node.in_shape)} -> {hwc(node.out_shape)}"
             f" (H x W x C)", f"  {node.summary}", ""]
    lines += _steps(node, layers, scales, top=True, relus=relus)
    lines += [*field_derivation(analysis, node.name), ""]
    lines.append(_sum_line("weights", [n.weights for n in leaves], node.weights))
    lines.append(_sum_line("MACs   ", [n.macs for n in leaves], node.macs))
    if node.biases:
        lines.append(_sum_line("biases ", [n.biases for n in leaves], node.biases))
    if node.bn:
        lines.append(_sum_line("bn     ", [n.bn for n in leaves], node.bn))
    lines.append(f"params  = weights + biases + bn = {grouped(node.weights)} + {grouped(node.biases)} + "
                 f"{grouped(node.bn)} = {grouped(node.params)}")
    lines.append(f"FLOPs   = 2 x MACs = {grouped(node.flops)}")
    return "\n".join(lines) + "\n"
