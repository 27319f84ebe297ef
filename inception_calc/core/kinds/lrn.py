"""Local response normalisation across channels (Caffe ``LRN``, ``nn.LocalResponseNorm``).

No weights and no MACs: ``b = a / (k + alpha/n * sum of a^2 over n channels)^beta`` multiplies
activations by each other, not by weights. The output keeps the input's shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inception_calc.core.kinds.base import Field, LayerKind


@dataclass(frozen=True, slots=True)
class LRN:
    """Local response normalisation across channels (Caffe ``LRN``, ``nn.LocalResponseNorm``)."""

    size: int = 5
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0
    name: str = ""

    kind = "lrn"
    short = "lrn"

    @property
    def summary(self) -> str:
        return f"LRN size {self.size}, alpha {self.alpha:g}, beta {self.beta:g}, k {self.k:g}"


class LRNKind(LayerKind):
    name = "lrn"
    layer_type = LRN
    spec_kinds = ("lrn",)
    needs_map = True
    fields = (
        Field("size", "count", "channels in the normalisation window (n)"),
        Field("alpha", "number", "scale (alpha)"),
        Field("beta", "number", "exponent (beta)"),
        Field("k", "number", "additive constant (k)"),
    )

    def module(self, layer: LRN, cin: int, in_features: int, kit: Any) -> Any:
        return kit.nn.LocalResponseNorm(layer.size, alpha=layer.alpha, beta=layer.beta, k=layer.k)

    def recognise(self, module: Any, kit: Any) -> LRN | None:
        if isinstance(module, kit.nn.LocalResponseNorm):
            return LRN(size=module.size, alpha=module.alpha, beta=module.beta, k=module.k)
        return None

    def signature(self, layer: LRN) -> dict[str, str]:
        return {"layer": "LRN", "size": str(layer.size), "alpha": f"{layer.alpha:g}", "beta": f"{layer.beta:g}",
                "k": f"{layer.k:g}"}


KIND = LRNKind()
