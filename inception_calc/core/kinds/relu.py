"""ReLU as a layer of its own: Xception's pre-activation (each middle block begins with one, before
its first separable conv), or any activation a spec wants to place by hand. A conv's own ReLU is the
conv's ``relu`` option, and a block's ReLU after its sum is the block's ``activation``.

No weights, no MACs (a max with zero is not a multiply-accumulate); the output keeps the input's
shape. It is not compared with the real network's modules: torchvision calls ReLU as a function,
timm as a module, and neither changes a count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inception_calc.core.kinds.base import LayerKind


@dataclass(frozen=True, slots=True)
class ReLU:
    """max(x, 0), element by element."""

    name: str = ""

    kind = "relu"
    short = "relu"
    summary = "ReLU"


class ReLUKind(LayerKind):
    name = "relu"
    layer_type = ReLU
    spec_kinds = ("relu",)
    fields = ()

    def derive(self, layer: ReLU, in_shape: Any, out_shape: Any, weights: int, macs: int) -> list[str]:
        return ["no weights, 0 MACs (max(x, 0) per element)"]

    def module(self, layer: ReLU, cin: int, in_features: int, kit: Any) -> Any:
        return kit.nn.ReLU()

    def signature(self, layer: ReLU) -> dict[str, str]:
        return {"layer": "ReLU"}

    @property
    def family(self) -> str:
        return "activation"


KIND = ReLUKind()
