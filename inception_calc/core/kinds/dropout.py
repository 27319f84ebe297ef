"""Dropout: zeroes each element with probability ``p`` while training; no weights, no MACs, and the
output keeps the input's shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inception_calc.core.kinds.base import Field, LayerKind


@dataclass(frozen=True, slots=True)
class Dropout:
    p: float = 0.5
    name: str = ""

    kind = "dropout"
    short = "dropout"

    @property
    def summary(self) -> str:
        return f"dropout {self.p:g}"


class DropoutKind(LayerKind):
    name = "dropout"
    layer_type = Dropout
    spec_kinds = ("dropout",)
    fields = (Field("p", "number", "the probability of zeroing an element", high=1.0),)

    def module(self, layer: Dropout, cin: int, in_features: int, kit: Any) -> Any:
        return kit.nn.Dropout(layer.p)

    def recognise(self, module: Any, kit: Any) -> Dropout | None:
        return Dropout(p=module.p) if isinstance(module, kit.nn.Dropout) else None

    def signature(self, layer: Dropout) -> dict[str, str]:
        return {"layer": "dropout", "p": f"{layer.p:g}"}


KIND = DropoutKind()
