"""Softmax over the classes: no weights, no MACs (its exponentials and divisions are not
multiply-accumulates of weights); the output keeps the input's shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inception_calc.core.kinds.base import LayerKind


@dataclass(frozen=True, slots=True)
class Softmax:
    name: str = ""

    kind = "softmax"
    summary = short = "softmax"


class SoftmaxKind(LayerKind):
    name = "softmax"
    layer_type = Softmax
    spec_kinds = ("softmax",)

    def module(self, layer: Softmax, cin: int, in_features: int, kit: Any) -> Any:
        return kit.nn.Softmax(dim=1)

    def recognise(self, module: Any, kit: Any) -> Softmax | None:
        return Softmax() if isinstance(module, kit.nn.Softmax) else None


KIND = SoftmaxKind()
