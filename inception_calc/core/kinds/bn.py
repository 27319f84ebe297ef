"""Batch normalisation as a layer of its own (``nn.BatchNorm2d``), as Xception writes it after a
separable conv or on a shortcut (``block1.skipbn``); a conv's own batch norm is the conv's ``bn``
option instead.

Cost: 2 affine parameters per channel (gamma, beta; the running mean and variance are buffers, not
parameters), no weights and no MACs; fvcore counts it per output element in eval mode
(docs/conventions.md). The output keeps the input's shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inception_calc.core import formulas as f
from inception_calc.core.kinds.base import Counts, Field, LayerKind, Shape


@dataclass(frozen=True, slots=True)
class BatchNorm:
    """Batch normalisation over the channels of a map."""

    eps: float = 1e-5
    name: str = ""

    kind = "bn"
    short = "bn"

    @property
    def summary(self) -> str:
        return f"batch norm, eps {self.eps:g}"


class BatchNormKind(LayerKind):
    name = "bn"
    layer_type = BatchNorm
    spec_kinds = ("bn",)
    needs_map = True
    fields = (Field("eps", "number", "the eps added to the variance", low_open=True),)

    def cost(self, layer: BatchNorm, shape: Shape) -> Counts:
        return shape, 0, 0, f.batch_norm_params(shape[0]), 0

    def derive(self, layer: BatchNorm, in_shape: Shape, out_shape: Shape, weights: int, macs: int) -> list[str]:
        return ["no weights; 2 affine parameters per channel (gamma, beta), 0 MACs"]

    def module(self, layer: BatchNorm, cin: int, in_features: int, kit: Any) -> Any:
        return kit.nn.BatchNorm2d(cin, eps=layer.eps)

    def recognise(self, module: Any, kit: Any) -> BatchNorm | None:
        if isinstance(module, kit.nn.BatchNorm2d):
            return BatchNorm(eps=module.eps)
        return None

    def signature(self, layer: BatchNorm) -> dict[str, str]:
        return {"layer": "batch norm", "eps": f"{layer.eps:g}"}

    def fvcore_elements(self, layer: BatchNorm, in_shape: Shape, out_shape: Shape) -> dict[str, int]:
        return {"batch_norm": f.elements(*out_shape)}


KIND = BatchNormKind()
