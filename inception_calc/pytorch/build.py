"""Build the real PyTorch network a spec describes, its module names equal to the analysis's names.

``build(network)`` returns an ``nn.Module`` in which every node of the graph model has the module
path of its dotted name: rows (``conv1``, ``inception3a``, and dotted rows such as ``features.6``,
module ``6`` of a container ``features``), their branches (``inception3a.branch2``), nested blocks
and their layers (``inception3a.branch2.1``), so that fvcore's ``by_module()``,
``named_parameters()`` and the analysis join on names. A branch or block that is no module
(``module = false``) has no container: its layers sit at the enclosing level, and the container
above it runs it. The forward interprets the graph (rows -> branches -> nodes): each container
holds a small plan that names its descendants, rather than relying on the nesting of containers.

Faithful to the spec: each conv is one module (``conv`` then ``bn`` when asked, then ReLU when
asked, like torchvision's ``BasicConv2d``), pooling rounds as each row states (``ceil_mode``),
average pools count the padding or not (``count_include_pad``), LRN is ``nn.LocalResponseNorm``,
standalone batch norm and ReLU layers are their modules, a linear layer flattens its input first.
Branches are concatenated along the channels, or added (``sum(scale_i * branch_i(x))``, an empty
branch the identity), then a ReLU (a function call) when the row or block asks. Auxiliary heads run
in training mode only; then the forward returns ``(logits, aux1, aux2, ...)`` in spec order.

torch is imported here, never by the analytic core.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from inception_calc.core.engine import analyze
from inception_calc.core.errors import CalcError
from inception_calc.core.extras import require
from inception_calc.core.kinds import KINDS, Conv, Layer
from inception_calc.core.loader import MAX_LAYERS
from inception_calc.core.network import Block, Branch, Network, Row, layer_prefix, node_names

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
        return nn.functional.relu(x) if relu else x

    class ConvBlock(nn.Module):
        """conv (+ batch norm) (+ ReLU) as one module, like torchvision's ``BasicConv2d``."""

        def __init__(self, cin: int, layer: Conv) -> None:
            super().__init__()
            self.conv = nn.Conv2d(cin, layer.out, layer.kernel, stride=layer.stride, padding=layer.pad,
                                  dilation=layer.dilation, groups=layer.groups, bias=layer.bias)
            self.bn = nn.BatchNorm2d(layer.out, eps=layer.bn_eps) if layer.bn else None
            self.relu = layer.relu

        def forward(self, x: "torch.Tensor") -> "torch.Tensor":
            x = self.conv(x)
            if self.bn is not None:
                x = self.bn(x)
            return nn.functional.relu(x) if self.relu else x

    def run(owner: "nn.Module", plan: tuple, x: "torch.Tensor") -> "torch.Tensor":
        """Interpret one step of a plan (see :func:`_plans`) on ``x``; module names are relative to ``owner``."""
        op = plan[0]
        if op == "layer":
            return apply(owner.get_submodule(plan[1]), x, plan[2])
        if op == "call":
            return owner.get_submodule(plan[1])(x)
        if op == "seq":
            for step in plan[1]:
                x = run(owner, step, x)
            return x
        _, combine, branches, relu = plan  # "combine"
        outs = [run(owner, branch, x) for _, branch in branches]
        if combine == "add":
            out = None
            for (scale, _), y in zip(branches, outs):
                y = y * scale if scale != 1 else y
                out = y if out is None else out + y
        else:
            out = torch.cat(outs, 1)
        return nn.functional.relu(out) if relu else out

    class Group(nn.Module):
        """A container the names make (a row, a branch or a block that is a module; or a plain
        namespace such as timm's ``features``, holding rows ``features.0``...). When it is a node of
        the graph, ``plan`` says how its forward runs its descendants (by their relative names);
        a namespace has no plan and is never called."""

        def __init__(self) -> None:
            super().__init__()
            self.plan: tuple | None = None

        def forward(self, x: "torch.Tensor") -> "torch.Tensor":
            if self.plan is None:
                raise RuntimeError(f"{type(self).__name__} is a namespace of modules, not a node of the graph")
            return run(self, self.plan, x)

    class SpecNet(nn.Module):
        """The whole network: main rows in order, auxiliary heads tapped after their rows."""

        def __init__(self, spec: str) -> None:
            super().__init__()
            self.spec = spec
            self.main: list[tuple] = []
            self.taps: dict[str, list[tuple]] = {}

        def forward(self, x: "torch.Tensor") -> Any:
            aux_out = []
            for name, step in self.main:
                x = run(self, step, x)
                if self.training:
                    aux_out += [run(self, head, x) for head in self.taps.get(name, ())]
            return (x, *aux_out) if aux_out else x

    return {"ConvBlock": ConvBlock, "Group": Group, "SpecNet": SpecNet}


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
    """Raise CalcError where the builder cannot express the spec: a conv, pool, LRN or batch-norm
    layer after a linear layer, or a concat or sum of a linear branch with a map, at any depth. The
    analysis writes a linear layer's output as [out, 1, 1] and can go on; the real ``nn.Linear``
    gives [N, out], which ``nn.Conv2d``, the pools and ``torch.cat`` with a map do not take.
    """
    flat_after: dict[str, bool] = {}
    flat = False

    def branch(where: str, row: Row, b: Branch, names: list[str], prefix: str, state: bool) -> bool:
        for node, name in zip(b.layers, names):
            if isinstance(node, Block):
                inner = name if node.module else prefix
                outs = [branch(where, row, sub, node_names(inner, sub), layer_prefix(inner, sub), state)
                        for sub in node.branches]
                combined(where + f", block '{name}'", node.combine, outs)
                state = outs[0]
                continue
            if KINDS.of(node).needs_map and state:
                raise CalcError(f"the builder cannot express a {node.kind} layer after a linear layer "
                                f"(nn.Linear gives [N, features], not a map)",
                                where=where + (f", layer '{name}'" if name != row.name else ""),
                                fix="put conv, pool and LRN layers before the first linear layer")
            state = state or KINDS.of(node).flattens
        return state

    def combined(where: str, combine: str, outs: list[bool]) -> None:
        if len(set(outs)) > 1:
            verb = "add" if combine == "add" else "concatenate"
            raise CalcError(f"the builder cannot {verb} a linear branch's [N, features] with a map",
                            where=where, fix="end every branch of the row with a linear layer, or none")

    for row in network.rows:
        where = f"{network.name}, row '{row.name}'"
        row_in = flat_after[row.after] if row.after else flat
        outs = []
        for b in row.branches:
            prefix = row.name if row.layout == "single" else layer_prefix(row.name, b)
            outs.append(branch(where, row, b, row.layer_names(b), prefix, row_in))
        combined(where, row.combine, outs)
        flat_after[row.name] = outs[0]
        if not row.after:
            flat = outs[0]


class _Tree:
    """The module tree the dotted names make: ``features.6.branch1.0`` is module ``0`` of container
    ``branch1`` of container ``6`` of container ``features``; missing containers are made as
    :class:`Group` s (namespaces until given a plan)."""

    def __init__(self, root: "nn.Module", m: Any, where: str) -> None:
        self.root, self.m, self.where = root, m, where
        self.modules: dict[str, "nn.Module"] = {"": root}

    def group(self, path: str) -> "nn.Module":
        """The container at ``path``, made (with its parents) when missing."""
        module = self.modules.get(path)
        if module is None:
            module = self.place(path, self.m.Group())
        elif not isinstance(module, (self.m.Group, self.m.SpecNet)):
            raise CalcError(f"the builder cannot put modules below the layer '{path}'", where=self.where,
                            fix="give the layer and the nodes after it names that do not nest in one another")
        return module

    def place(self, path: str, module: "nn.Module") -> "nn.Module":
        parent, _, last = path.rpartition(".")
        if path in self.modules:
            raise CalcError(f"two modules would be named '{path}'", where=self.where, fix="rename one of them")
        self.group(parent).add_module(last, module)
        self.modules[path] = module
        return module


def _relative(container: str, name: str) -> str:
    return name[len(container) + 1:] if container else name


MAX_BUILT_LAYERS = 2_000
"""The most primitive layers of a network built in torch (check, bench): 8 times the largest built-in's 252."""


def require_buildable(analysis: Any, where: str = "spec") -> None:
    """Refuse, before torch is imported, a network of more than :data:`MAX_BUILT_LAYERS` layers."""
    layers = sum(1 for row in analysis.network.rows for _ in row.named_layers())
    if layers > MAX_BUILT_LAYERS:
        raise CalcError(f"{analysis.spec} has {layers:,} layers, more than the {MAX_BUILT_LAYERS:,} a torch build "
                        "runs in seconds (check's counters and bench's per-layer timing take a millisecond or more a "
                        "layer)", where=where, fix=f"check or time a smaller network; report, explain and verify "
                                                    f"take networks of up to {MAX_LAYERS:,} layers")


def build(spec: "Network | str", input: "tuple[int, int, int] | str | int | None" = None) -> "nn.Module":
    """The ``nn.Module`` of ``spec`` for inputs of size ``input`` (default the spec's own).

    Every module's qualified name is the analysis's dotted name of its node: a row, a branch or a
    block that is a module is a container whose forward runs its part of the graph (branches run on
    its input and are concatenated, or added each times its ``scale``, then the ReLU when asked); a
    branch or block that is no module is run by the container above it, its layers named there.

    The input size matters only to linear layers, whose in_features are C * H * W of what reaches
    them; the analysis of the same size supplies every layer's input channels and features.
    """
    analysis = analyze(spec, input)
    require_buildable(analysis)
    require_torch()
    m = kit()
    network = analysis.network
    if analysis.left_out:  # auxiliary heads that do not fit at this input (they run only in training): none built
        present = {row.name for row in analysis.rows}
        network = replace(network, rows=tuple(row for row in network.rows if row.name in present))
    check_expressible(network)
    nodes = {node.name: node for row in analysis.rows for node in row.walk("conv")}
    model = m.SpecNet(network.name)
    tree = _Tree(model, m, network.name)

    def layer(name: str, node: Layer, container: str) -> tuple:
        c, h, w = nodes[name].in_shape
        tree.place(name, _layer_module(node, c, c * h * w, m))
        return ("layer", _relative(container, name), KINDS.of(node).relu_after(node))

    def container(path: str, parent: str) -> tuple[Any, tuple]:
        return tree.group(path), ("call", _relative(parent, path))

    def branch_plan(b: Branch, prefix: str, owner: str) -> tuple:
        names = node_names(prefix, b)
        inner = layer_prefix(prefix, b)
        if b.module and b.name:
            group, call = container(inner, owner)
            group.plan = sequence_plan(b, names, inner, inner)
            return call
        return sequence_plan(b, names, inner, owner)

    def sequence_plan(b: Branch, names: list[str], prefix: str, owner: str) -> tuple:
        steps = []
        for name, node in zip(names, b.layers):
            if not isinstance(node, Block):
                steps.append(layer(name, node, owner))
            elif node.module:
                group, call = container(name, owner)
                group.plan = block_plan(node, name, name)
                steps.append(call)
            else:
                steps.append(block_plan(node, prefix, owner))
        return ("seq", tuple(steps))

    def block_plan(node: "Block | Row", prefix: str, owner: str) -> tuple:
        return ("combine", node.combine, tuple((b.scale, branch_plan(b, prefix, owner)) for b in node.branches),
                node.relu)

    steps = {}
    for row in network.rows:
        if row.layout == "single":
            steps[row.name] = layer(row.name, row.branches[0].layers[0], "")
            continue
        group, steps[row.name] = container(row.name, "")
        if row.layout == "sequence":
            b = row.branches[0]
            group.plan = sequence_plan(b, row.layer_names(b), row.name, row.name)
        else:
            group.plan = block_plan(row, row.name, row.name)
    heads = {row.name for row in network.aux_rows}
    model.main = [(row.name, steps[row.name]) for row in network.rows if row.name not in heads]
    for row in network.aux_rows:
        model.taps.setdefault(row.after, []).append(steps[row.name])
    return model
