"""Step-by-step derivations, as the seed article's section 4 does them: for each conv the formula,
the numbers put in and the result; then the sums for weights and for MACs.

The derivation is written from the same formulas the engine uses, and every result it prints is
the analysis's own number (a test checks that the two agree).
"""

from __future__ import annotations

from inception_calc.core.engine import named_layers
from inception_calc.core.errors import CalcError
from inception_calc.core.values import grouped, hwc
from inception_calc.core.results import Analysis, Cost
from inception_calc.core.kinds import KINDS


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


def _sum_line(label: str, values: list[int], total: int) -> str:
    terms = [v for v in values if v] or [0]
    if len(terms) == 1:
        return f"{label} = {grouped(total)}"
    return f"{label} = {' + '.join(grouped(v) for v in terms)} = {grouped(total)}"


def derivation(analysis: Analysis, name: str) -> str:
    """The derivation of the node ``name`` (a row, a branch or a layer) of ``analysis``."""
    try:
        node = analysis[name]
    except KeyError:
        rows = ", ".join(r.name for r in analysis.rows)
        raise CalcError(f"no row, branch or layer named {name!r} in {analysis.spec}", where="name",
                        fix=f"use one of: {rows} (or a dotted branch or layer name, e.g. inception3a.branch2)"
                        ) from None
    layers = named_layers(analysis.network)
    leaves = [n for n in node.walk("conv") if n.name in layers]
    c, h, w = analysis.input
    lines = [f"{node.name} in {analysis.spec} at input {c}x{h}x{w}: {hwc(node.in_shape)} -> {hwc(node.out_shape)}"
             f" (H x W x C)", f"  {node.summary}", ""]
    for leaf in leaves:
        lines += _layer_lines(leaf, layers[leaf.name]) + [""]
    branches = [b for b in node.children if b.level == "branch"]
    if branches:
        channels = " + ".join(str(b.out_shape[0]) for b in branches)
        lines += [f"concatenate {len(branches)} branches: {channels} = {node.out_shape[0]} channels -> "
                  f"{hwc(node.out_shape)}", ""]
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
