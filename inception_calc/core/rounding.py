"""Where a pooling layer's output size depends on its rounding rule (floor or ceil).

A window pool gives ``floor((H + 2p - k) / s) + 1`` or the ceil form of it
(:func:`~inception_calc.core.formulas.pool_output_size`); the two differ exactly when
``(H + 2p - k)`` is not a multiple of ``s`` (less PyTorch's dropped last window). An analysis notes
every pool whose rounding changed its output at that input (``Analysis.warnings``).

Each layer kind says whether it has such a rule (``LayerKind.rounding_alternative``). This module
sits below the results: it needs only the network model and the layer kinds, so that the results
can ask for their warnings without reaching up to the engine.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from inception_calc.core.kinds import KINDS, Layer
from inception_calc.core.network import Network

Shape = tuple[int, int, int]


def primitive_layers(network: Network) -> Iterator[tuple[str, Layer]]:
    """Every primitive layer of the network with its dotted name (``inception3a.branch2.1``), in
    the network's order: rows, their branches, their layers, named as the built module names them
    (:meth:`~inception_calc.core.network.Row.named_layers`)."""
    for row in network.rows:
        yield from row.named_layers()


def window_pools(network: Network) -> dict[str, Layer]:
    """The layers a rounding rule applies to (window pools, not adaptive ones), by dotted name:
    those whose kind gives a :meth:`~inception_calc.core.kinds.base.LayerKind.rounding_alternative`."""
    return {name: layer for name, layer in primitive_layers(network)
            if KINDS.of(layer).rounding_alternative(layer, (1, 1, 1)) is not None}


def rounding_note(name: str, layer: Layer, in_shape: Shape, out_shape: Shape) -> str | None:
    """``"maxpool1: ceil rounding gives 56x56, floor would give 55x55"`` when the other rounding
    rule would give another output size at ``in_shape`` ([C, H, W]), else None."""
    alternative = KINDS.of(layer).rounding_alternative(layer, in_shape)
    if alternative is None:
        return None
    rounding, other, alt = alternative
    if tuple(alt) == tuple(out_shape[1:]):
        return None
    return (f"{name}: {rounding} rounding gives {out_shape[1]}x{out_shape[2]}, "
            f"{other} would give {alt[0]}x{alt[1]}")


def rounding_notes(network: Network, rows: Iterable[Any]) -> tuple[str, ...]:
    """Every :func:`rounding_note` of an analysis's rows (``Cost`` trees), in the rows' order."""
    pools = window_pools(network)
    notes = (rounding_note(node.name, pools[node.name], node.in_shape, node.out_shape)
             for row in rows for node in row.walk("conv") if node.name in pools)
    return tuple(note for note in notes if note)
