"""Where a pooling layer's output size depends on its rounding rule (floor or ceil).

A window pool gives ``floor((H + 2p - k) / s) + 1`` or the ceil form of it
(:func:`~inception_calc.core.formulas.pool_output_size`); the two differ exactly when
``(H + 2p - k)`` is not a multiple of ``s`` (less PyTorch's dropped last window). An analysis notes
every pool whose rounding changed its output at that input (``Analysis.warnings``).

This module sits below the results: it needs only the network model and the formulas, so that the
results can ask for their warnings without reaching up to the engine.
"""

from __future__ import annotations

from typing import Iterator

from inception_calc.core import formulas as f
from inception_calc.core.network import Layer, Network, Pool

Shape = tuple[int, int, int]


def primitive_layers(network: Network) -> Iterator[tuple[str, Layer]]:
    """Every primitive layer of the network with its dotted name (``inception3a.branch2.1``), in
    the network's order: rows, their branches, their layers, named as the built module names them
    (:meth:`~inception_calc.core.network.Row.layer_names`)."""
    for row in network.rows:
        for branch in row.branches:
            yield from zip(row.layer_names(branch), branch.layers)


def window_pools(network: Network) -> dict[str, Pool]:
    """The pools with a window (not adaptive), by dotted name: those a rounding rule applies to."""
    return {name: layer for name, layer in primitive_layers(network)
            if isinstance(layer, Pool) and not layer.output}


def rounding_note(name: str, pool: Pool, in_shape: Shape, out_shape: Shape) -> str | None:
    """``"maxpool1: ceil rounding gives 56x56, floor would give 55x55"`` when the other rounding
    rule would give another output size at ``in_shape`` ([C, H, W]), else None."""
    other = "floor" if pool.rounding == "ceil" else "ceil"
    alt = tuple(f.pool_output_size(in_shape[i + 1], pool.kernel[i], pool.stride[i], pool.pad[i], other)
                for i in (0, 1))
    if alt == tuple(out_shape[1:]):
        return None
    return (f"{name}: {pool.rounding} rounding gives {out_shape[1]}x{out_shape[2]}, "
            f"{other} would give {alt[0]}x{alt[1]}")
