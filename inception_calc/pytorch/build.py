"""Build the real PyTorch network a spec describes, its module names equal to the row names.

``build(network)`` returns an ``nn.Module`` whose children are the spec's rows (``conv1``,
``inception3a``, ``aux1``...), whose Inception rows hold their branches (``inception3a.branch2``)
and whose branches hold their layers (``inception3a.branch2.1``), exactly as the analysis names
them, so that fvcore's ``by_module()``, ``named_parameters()`` and the analysis join on names.

Faithful to the spec: each conv is one module (``conv`` then ``bn`` when asked, then ReLU when
asked, like torchvision's ``BasicConv2d``), pooling rounds as each row states (``ceil_mode``), LRN
is ``nn.LocalResponseNorm``, a linear layer flattens its input first. Auxiliary heads run in
training mode only; then the forward returns ``(logits, aux1, aux2, ...)`` in spec order.

torch is imported here, never by the analytic core.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from inception_calc.core.engine import analyze, named_layers
from inception_calc.core.errors import CalcError
from inception_calc.core.extras import require
from inception_calc.core.kinds import KINDS, Conv, Layer
from inception_calc.core.network import Network

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from torch import nn


def require_torch() -> Any:
    """torch, or a CalcError naming the ``torch`` extra that installs it."""
    return require("torch", "torch")


def _modules() -> dict[str, type]:
    """The few module classes the builder needs, defined once torch is imported."""
    torch = require_torch()
    from torch import nn

    def apply(module: "nn.Module", x: "torch.Tensor", relu: bool) -> "torch.Tensor":
        """One named layer or row of a chain or of the network: flatten before a linear layer (so
        that ``nn.Linear`` stays plain, as torchvision's ``fc`` is), then the module, then the ReLU
        the spec gives a linear layer."""
        if isinstance(module, nn.Linear) and x.dim() > 2:
            x = torch.flatten(x, 1)
        x = module(x)
        return torch.relu(x) if relu else x

    class ConvBlock(nn.Module):
        """conv (+ batch norm) (+ ReLU) as one module, like torchvision's ``BasicConv2d``."""

        def __init__(self, cin: int, layer: Conv) -> None:
            super().__init__()
            self.conv = nn.Conv2d(cin, layer.out, layer.kernel, stride=layer.stride, padding=layer.pad,
                                  groups=layer.groups, bias=layer.bias)
            self.bn = nn.BatchNorm2d(layer.out, eps=layer.bn_eps) if layer.bn else None
            self.relu = layer.relu

        def forward(self, x: "torch.Tensor") -> "torch.Tensor":
            x = self.conv(x)
            if self.bn is not None:
                x = self.bn(x)
            return torch.relu(x) if self.relu else x

    class Chain(nn.Module):
        """Named layers applied in order, each through ``apply`` (flatten before a linear layer,
        its ReLU after it)."""

        def __init__(self, named: list[tuple[str, "nn.Module", bool]]) -> None:
            super().__init__()
            self._relu_after: set[str] = set()
            for name, module, relu in named:
                self.add_module(name, module)
                if relu:
                    self._relu_after.add(name)

        def forward(self, x: "torch.Tensor") -> "torch.Tensor":
            for name, module in self.named_children():
                x = apply(module, x, name in self._relu_after)
            return x

    class Concat(nn.Module):
        """Branches run on the same input, concatenated along the channels."""

        def __init__(self, branches: list[tuple[str, "nn.Module"]]) -> None:
            super().__init__()
            for name, module in branches:
                self.add_module(name, module)

        def forward(self, x: "torch.Tensor") -> "torch.Tensor":
            return torch.cat([branch(x) for branch in self.children()], 1)

    class SpecNet(nn.Module):
        """The whole network: main rows in order, auxiliary heads tapped after their rows."""

        def __init__(self, rows: list[tuple[str, "nn.Module", bool]], taps: dict[str, list[str]],
                     spec: str) -> None:
            super().__init__()
            self.spec = spec
            self.main = [name for name, _, _ in rows if name not in {a for t in taps.values() for a in t}]
            self.taps = taps
            self._relu_after = {name for name, _, relu in rows if relu}
            for name, module, _ in rows:
                self.add_module(name, module)

        def _row(self, name: str, x: "torch.Tensor") -> "torch.Tensor":
            return apply(getattr(self, name), x, name in self._relu_after)

        def forward(self, x: "torch.Tensor") -> Any:
            aux_out = []
            for name in self.main:
                x = self._row(name, x)
                if self.training:
                    aux_out += [self._row(head, x) for head in self.taps.get(name, ())]
            return (x, *aux_out) if aux_out else x

    return {"ConvBlock": ConvBlock, "Chain": Chain, "Concat": Concat, "SpecNet": SpecNet}


@lru_cache(maxsize=1)
def kit() -> Any:
    """What a kind's torch methods need (:meth:`LayerKind.module`, :meth:`LayerKind.recognise`):
    ``torch``, ``torch.nn`` and the builder's ``ConvBlock``, so that the kinds never import torch."""
    from types import SimpleNamespace

    torch = require_torch()
    return SimpleNamespace(torch=torch, nn=torch.nn, **_modules())


def _layer_module(layer: Layer, cin: int, in_features: int, m: Any) -> "nn.Module":
    """The module of one spec layer: its kind's definition builds it."""
    return KINDS.of(layer).module(layer, cin, in_features, m)


def check_expressible(network: Network) -> None:
    """Raise CalcError where the builder cannot express the spec: a conv, pool or LRN layer after a
    linear layer, or a concat of a linear branch with a map. The analysis writes a linear layer's
    output as [out, 1, 1] and can go on; the real ``nn.Linear`` gives [N, out], which ``nn.Conv2d``,
    the pools and ``torch.cat`` with a map do not take.
    """
    flat_after: dict[str, bool] = {}
    flat = False
    for row in network.rows:
        where = f"{network.name}, row '{row.name}'"
        row_in = flat_after[row.after] if row.after else flat
        outs = []
        for branch in row.branches:
            state = row_in
            for layer, name in zip(branch.layers, row.layer_names(branch)):
                if KINDS.of(layer).needs_map and state:
                    raise CalcError(f"the builder cannot express a {layer.kind} layer after a linear layer "
                                    f"(nn.Linear gives [N, features], not a map)",
                                    where=where + (f", layer '{name}'" if name != row.name else ""),
                                    fix="put conv, pool and LRN layers before the first linear layer")
                state = state or KINDS.of(layer).flattens
            outs.append(state)
        if len(set(outs)) > 1:
            raise CalcError("the builder cannot concatenate a linear branch's [N, features] with a map",
                            where=where, fix="end every branch of the row with a linear layer, or none")
        flat_after[row.name] = outs[0]
        if not row.after:
            flat = outs[0]


def build(spec: "Network | str", input: "tuple[int, int, int] | str | int | None" = None) -> "nn.Module":
    """The ``nn.Module`` of ``spec`` for inputs of size ``input`` (default the spec's own).

    The input size matters only to linear layers, whose in_features are C * H * W of what reaches
    them; the analysis of the same size supplies every layer's input channels and features.
    """
    require_torch()
    m = kit()
    analysis = analyze(spec, input)
    network = analysis.network
    check_expressible(network)
    layers = named_layers(network)

    def module_for(name: str) -> tuple["nn.Module", bool]:
        node = analysis[name]
        layer = layers[name]
        c, h, w = node.in_shape
        return _layer_module(layer, c, c * h * w, m), KINDS.of(layer).relu_after(layer)

    def chain(names: list[str]) -> "nn.Module":
        return m.Chain([(n.rsplit(".", 1)[1], *module_for(n)) for n in names])

    rows = []
    for row in network.rows:
        if row.layout == "single":
            module, relu = module_for(row.name)
        elif row.layout == "sequence":
            module, relu = chain(row.layer_names(row.branches[0])), False
        else:
            module, relu = m.Concat([(b.name, chain(row.layer_names(b))) for b in row.branches]), False
        rows.append((row.name, module, relu))
    taps: dict[str, list[str]] = {}
    for row in network.aux_rows:
        taps.setdefault(row.after, []).append(row.name)
    return m.SpecNet(rows, taps, network.name)
