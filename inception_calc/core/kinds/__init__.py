"""The registry of primitive layer kinds: one definition per kind (docs/architecture.md).

Each module of this package defines one kind (its layer dataclass and its :class:`LayerKind`);
:data:`KINDS` lists them explicitly, in the order the torch side tries to recognise modules (a conv
block before the plain modules). Adding a kind is one new module here, one entry in the tuple below,
and its tests.
"""

from __future__ import annotations

from typing import Any, Iterator, Union

from inception_calc.core.kinds import bn, conv, dropout, linear, lrn, pool, relu, softmax
from inception_calc.core.kinds.base import CONV_OPTIONS, Field, LayerKind, WindowTooLarge, layer_default
from inception_calc.core.kinds.bn import BatchNorm
from inception_calc.core.kinds.conv import Conv
from inception_calc.core.kinds.dropout import Dropout
from inception_calc.core.kinds.linear import Linear
from inception_calc.core.kinds.lrn import LRN
from inception_calc.core.kinds.pool import Pool
from inception_calc.core.kinds.relu import ReLU
from inception_calc.core.kinds.softmax import Softmax

Layer = Union[Conv, Pool, LRN, BatchNorm, ReLU, Dropout, Linear, Softmax]


class Registry:
    """Kinds by name, by spec ``kind`` and by layer type; a second kind of a name, a spec kind or a
    type already registered is refused (as torch.utils.flop_counter's registry refuses duplicates)."""

    def __init__(self, kinds: tuple[LayerKind, ...]) -> None:
        self._by_name: dict[str, LayerKind] = {}
        self._by_spec: dict[str, LayerKind] = {}
        self._by_type: dict[type, LayerKind] = {}
        for kind in kinds:
            self.register(kind)

    def register(self, kind: LayerKind) -> None:
        clashes = ([kind.name] if kind.name in self._by_name else []) + \
                  [s for s in kind.spec_kinds if s in self._by_spec] + \
                  ([kind.layer_type.__name__] if kind.layer_type in self._by_type else [])
        if clashes:
            raise ValueError(f"layer kind {kind.name!r} is registered already (clashing: {', '.join(clashes)})")
        self._by_name[kind.name] = kind
        self._by_spec.update(dict.fromkeys(kind.spec_kinds, kind))
        self._by_type[kind.layer_type] = kind

    def __iter__(self) -> Iterator[LayerKind]:
        return iter(self._by_name.values())

    def __getitem__(self, name: str) -> LayerKind:
        return self._by_name[name]

    def of(self, layer: Any) -> LayerKind:
        """The kind of a layer object (a Conv, a Pool...)."""
        return self._by_type[type(layer)]

    def for_spec(self, spec_kind: str) -> LayerKind | None:
        """The kind a spec's ``kind = "..."`` names, or None."""
        return self._by_spec.get(spec_kind)

    @property
    def spec_kinds(self) -> tuple[str, ...]:
        return tuple(self._by_spec)


KINDS = Registry((conv.KIND, pool.KIND, lrn.KIND, bn.KIND, relu.KIND, dropout.KIND, linear.KIND, softmax.KIND))

__all__ = ["CONV_OPTIONS", "KINDS", "LRN", "BatchNorm", "Conv", "ReLU", "Dropout", "Field", "Layer", "LayerKind", "Linear", "Pool",
           "Registry", "Softmax", "WindowTooLarge", "layer_default"]
