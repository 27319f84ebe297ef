"""A fully connected layer on the flattened input (in_features = C * H * W): fields, cost,
derivation, torch module and reconciliation.

Cost (docs/formulas.md): weights ``in * out``; MACs = weights (one multiply-accumulate per weight
per image); biases ``out`` with a bias. The output is written [out, 1, 1] (Table 1's 1x1x1000).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

from inception_calc.core import formulas as f
from inception_calc.core.kinds.base import INHERITED, REQUIRED, Counts, Field, LayerKind, Shape, Window
from inception_calc.core.values import grouped


@dataclass(frozen=True, slots=True)
class Linear:
    """A fully connected layer on the flattened input (in_features = C * H * W)."""

    out: int
    bias: bool = True
    relu: bool = False
    name: str = ""

    kind = "linear"

    @property
    def summary(self) -> str:
        return f"linear, {self.out}" + (" +bias" if self.bias else "")

    @property
    def short(self) -> str:
        return f"fc {self.out}"


class LinearKind(LayerKind):
    name = "linear"
    layer_type = Linear
    spec_kinds = ("linear",)
    flattens = True
    fields = (
        Field("out", "count", "output features", REQUIRED, fix="give the number of output features"),
        Field("bias", "bool", "a bias per output feature", INHERITED),
        Field("relu", "bool", "ReLU after the layer"),
    )

    def cost(self, layer: Linear, shape: Shape) -> Counts:
        weights = f.linear_weights(shape[0] * shape[1] * shape[2], layer.out)
        return (layer.out, 1, 1), weights, f.bias_count(layer.out, layer.bias), 0, f.linear_macs(weights)

    def derive(self, layer: Linear, in_shape: Shape, out_shape: Shape, weights: int, macs: int) -> list[str]:
        c, h, w = in_shape
        return [f"weights = in x out = ({c} x {h} x {w}) x {out_shape[0]} = {grouped(weights)}",
                f"MACs    = weights = {grouped(macs)}"]

    def receptive_window(self, layer: Linear, in_shape: Shape) -> Window:
        """Every output feature depends on every input element: the whole input."""
        return Window(whole=True)

    def scaled(self, layer: Linear, scale: Callable[[int], int]) -> Linear:
        return replace(layer, out=scale(layer.out))

    def module(self, layer: Linear, cin: int, in_features: int, kit: Any) -> Any:
        return kit.nn.Linear(in_features, layer.out, bias=layer.bias)

    def recognise(self, module: Any, kit: Any) -> Linear | None:
        if isinstance(module, kit.nn.Linear):
            return Linear(out=module.out_features, bias=module.bias is not None)
        return None

    def relu_after(self, layer: Linear) -> bool:
        return layer.relu

    def signature(self, layer: Linear) -> dict[str, str]:
        return {"layer": "linear", "out": str(layer.out), "bias": "yes" if layer.bias else "no"}


KIND = LinearKind()
