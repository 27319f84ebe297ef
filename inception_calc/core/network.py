"""The network a spec file describes, as frozen rows of primitive layers.

A :class:`Network` is an ordered tuple of :class:`Row` s, as in the paper's Table 1. Every row,
whatever its kind in the file, is held in one shape: a tuple of :class:`Branch` es whose outputs
are concatenated along the channels, each branch a sequence of primitive layers. A plain conv row
is one branch of one layer; ``conv2`` (1x1 reduce then 3x3) is one branch of two; an Inception row
is up to four branches. The engine and the builder therefore need no case per row kind.

Names: a row's name is its module name in the built network. Layers and branches get dotted
names below it, as torchvision's ``googlenet`` names them:

* ``single``  rows (one branch, one layer): the row is the layer (``conv1``);
* ``sequence`` rows (one branch, several layers): ``conv2.0``, ``conv2.1`` or the layers' own
  names (``aux1.conv``, ``aux1.fc1``);
* ``concat`` rows (several branches): ``inception3a.branch2``, and its layers
  ``inception3a.branch2.0``, ``inception3a.branch2.1``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterator, Union

from inception_calc.core.fields import MAX_SIZE
from inception_calc.core.kinds import LRN, BatchNorm, Conv, Dropout, Layer, Linear, Pool, ReLU, Softmax
from inception_calc.core.kinds.base import Pair

__all__ = ["COMBINES", "LRN", "BatchNorm", "ReLU", "MAX_SIZE", "Block", "Branch", "Node", "collapsed", "named_nodes", "node_names", "Conv", "Dropout", "InceptionOptions", "Layer", "Linear", "Network", "Pair",
           "Pool", "Row", "Softmax", "inception_branches"]
"""The primitive layers are defined, one module per kind, in :mod:`inception_calc.core.kinds`; they
are importable from here too."""


@dataclass(frozen=True, slots=True)
class Branch:
    """A sequence of nodes (primitive layers and nested :class:`Block` s) run one after another.

    ``scale``: in a block that adds its branches, this branch's output is multiplied by it
    (Inception-ResNet's ``x + 0.17 * conv(...)``). ``module``: whether the branch is a module of its
    own in the built network; when False it only groups its layers in the analysis and their names
    sit at the enclosing level (torchvision's ``Mixed_5b.branch5x5_1`` and ``Mixed_5b.branch5x5_2``
    are one branch of Mixed_5b, but no module holds the two). A branch with no layers is the identity.
    """

    name: str
    layers: "tuple[Node, ...]"
    scale: float = 1.0
    module: bool = True


COMBINES = ("concat", "add")


@dataclass(frozen=True, slots=True)
class Block:
    """A nested parallel block inside a branch: its branches run on the block's input and are
    concatenated along the channels (``combine = "concat"``, InceptionE's 1x3 beside 3x1) or added
    (``"add"``: a residual, every branch giving the same C x H x W, each times its ``scale``), then
    a ReLU when ``relu``. Named like a layer (its ``name``, else its index in the branch)."""

    branches: tuple[Branch, ...]
    combine: str = "concat"
    relu: bool = False
    name: str = ""
    module: bool = True

    @property
    def kind(self) -> str:
        return self.combine

    @property
    def short(self) -> str:
        return "(" + combined_summary(self.branches, self.combine, self.relu) + ")"

    summary = short


Node = Union[Layer, Block]
"""What a branch holds: a primitive layer or a nested block."""


def branch_summary(branch: Branch) -> str:
    """``1x1 64 > 3x3 192``; ``identity`` for a branch with no layers."""
    return " > ".join(node.short for node in branch.layers) or "identity"


def combined_summary(branches: tuple[Branch, ...], combine: str, relu: bool) -> str:
    """Branches side by side (``a | b``) or added (``identity + 0.17 x (a)``), then ``> relu``."""
    if combine == "add":  # a term of several nodes in parentheses: "(a > b) + (c > d)", "identity + 0.17 x (e)"
        parts = [branch_summary(b) if b.scale == 1 and len(b.layers) < 2 else
                 f"({branch_summary(b)})" if b.scale == 1 else f"{b.scale:g} x ({branch_summary(b)})"
                 for b in branches]
        text = " + ".join(parts)
    else:
        text = " | ".join(branch_summary(b) for b in branches)
    return text + (" > relu" if relu else "")


def layer_prefix(prefix: str, branch: Branch) -> str:
    """The prefix of the names of ``branch``'s nodes: the branch's own dotted name when it is a
    module (or a row's unnamed sequence), else the enclosing level's."""
    return f"{prefix}.{branch.name}" if branch.name and branch.module else prefix


def node_names(prefix: str, branch: Branch) -> list[str]:
    """The dotted name of each node of ``branch`` below ``prefix``: its own name, else its index;
    the sole unnamed layer of a branch that is no module takes the branch's name."""
    inner = layer_prefix(prefix, branch)
    if not branch.module and branch.name and len(branch.layers) == 1 and not branch.layers[0].name:
        return [f"{prefix}.{branch.name}"]
    return [f"{inner}.{node.name or i}" for i, node in enumerate(branch.layers)]


def collapsed(branch: Branch) -> bool:
    """A branch that is no module and holds one primitive layer is that layer: the analysis shows
    the layer in the branch's place (``repeat.0.branch0``) rather than a branch holding it."""
    return not branch.module and len(branch.layers) == 1 and not isinstance(branch.layers[0], Block)


@dataclass(frozen=True, slots=True)
class InceptionOptions:
    """How an Inception row's columns expand into branches (see :func:`inception_branches`).

    ``branch1``: the 1x1 branch (BN-Inception's 3c and 4e have none); ``reduce``: 1x1 reductions
    before the 3x3 and the 5x5 (or double 3x3); ``project``: a 1x1 projection after the pool
    (without it the pool's channels pass through, Figure 2(a));
    ``stride``: the stride of the module's last conv in each branch and of its pool (BN-Inception's
    3c and 4e); the conv options apply to every conv of the row.
    """

    kernel3x3: int = 3
    kernel5x5: int = 5
    pool: str = "max"
    pool_kernel: int = 3
    pool_rounding: str = "floor"
    branch1: bool = True
    reduce: bool = True
    project: bool = True
    stride: int = 1
    bias: bool = True
    bn: bool = False
    bn_eps: float = 1e-5
    relu: bool = True


def inception_branches(columns: dict[str, int], options: InceptionOptions) -> tuple[Branch, ...]:
    """The branches of an Inception row, from the paper's columns and the row's options.

    branch1: 1x1 ``n1x1`` (absent with ``branch1 = false``, as in BN-Inception's 3c and 4e);
    branch2: 1x1 ``n3x3red`` (when reducing), then 3x3 ``n3x3``;
    branch3: 1x1 ``n5x5red`` (when reducing), then 5x5 ``n5x5``; or, for BN-Inception's double
    3x3 columns, 1x1 ``n3x3dblred`` (when reducing), then 3x3 ``n3x3dbl`` twice;
    branch4: the pool, then 1x1 ``pool_proj`` (when projecting).

    Every conv pads to keep the map size ('same'); the last conv of each branch and the pool take
    the row's stride. A layer keeps the index it has in the full branch (reduction included) as its
    name, so ``inception3a.branch2.1`` is the 3x3 with or without the reduction before it.
    """
    o = options
    conv_opts = {"bias": o.bias, "bn": o.bn, "bn_eps": o.bn_eps, "relu": o.relu}

    def conv(out: int, k: int, stride: int = 1) -> Conv:
        return Conv(out=out, kernel=(k, k), stride=(stride, stride), pad=(k // 2, k // 2), **conv_opts)

    def branch(name: str, full: list[Layer | None]) -> Branch:
        layers, skipped = [], False
        for index, layer in enumerate(full):
            if layer is None:
                skipped = True
            else:
                layers.append(replace(layer, name=str(index)) if skipped else layer)
        return Branch(name, tuple(layers))

    def reduction(column: str) -> Conv | None:
        return conv(columns[column], 1) if o.reduce else None

    branches = []
    if o.branch1:
        branches.append(Branch("branch1", (conv(columns["n1x1"], 1, o.stride),)))
    branches.append(branch("branch2", [reduction("n3x3red"), conv(columns["n3x3"], o.kernel3x3, o.stride)]))
    if "n3x3dbl" in columns:
        branches.append(branch("branch3", [reduction("n3x3dblred"), conv(columns["n3x3dbl"], 3),
                                           conv(columns["n3x3dbl"], 3, o.stride)]))
    else:
        branches.append(branch("branch3", [reduction("n5x5red"), conv(columns["n5x5"], o.kernel5x5, o.stride)]))
    pool = Pool(op=o.pool, kernel=(o.pool_kernel,) * 2, stride=(o.stride,) * 2, pad=(o.pool_kernel // 2,) * 2,
                rounding=o.pool_rounding)
    branches.append(branch("branch4", [pool, conv(columns["pool_proj"], 1) if o.project else None]))
    return tuple(branches)


@dataclass(frozen=True)
class Row:
    """One row of the table: its name, the kind it was written as, and its branches.

    ``columns`` keeps the numbers the row was written with (an Inception row's paper columns),
    for reports and derivations. ``inception`` keeps an Inception row's options, so that a variant
    can change columns or options and expand the row again. ``after`` is set on auxiliary heads:
    the main row they read.
    """

    name: str
    kind: str
    branches: tuple[Branch, ...]
    columns: tuple[tuple[str, int], ...] = ()
    after: str | None = None
    note: str = ""
    inception: InceptionOptions | None = None
    combine: str = "concat"
    relu: bool = False

    @property
    def is_aux(self) -> bool:
        return self.after is not None

    @property
    def layout(self) -> str:
        """``single`` (the row is one layer), ``sequence`` (one unnamed branch of nodes), ``concat``
        or ``add`` (branches combined)."""
        if self.combine == "add":
            return "add"
        if len(self.branches) > 1 or self.relu or self.branches[0].name:
            return "concat"
        only = self.branches[0].layers
        return "single" if len(only) == 1 and not isinstance(only[0], Block) else "sequence"

    def layer_names(self, branch: Branch) -> list[str]:
        """The dotted name of each node of ``branch`` (one of this row's), as the built module names it."""
        if self.layout == "single":
            return [self.name]
        return node_names(self.name, branch)

    def named_layers(self) -> Iterator[tuple[str, Layer]]:
        """Every primitive layer of the row, nested blocks included, with its dotted name, in order."""
        return ((name, node) for name, node, _ in self.named_nodes() if not isinstance(node, Block))

    def named_blocks(self) -> Iterator[tuple[str, Block]]:
        """Every nested block of the row with its dotted name, outer blocks first."""
        return ((name, node) for name, node, _ in self.named_nodes() if isinstance(node, Block))

    def named_nodes(self) -> Iterator[tuple[str, "Node", str]]:
        """Every node of the row (layers and nested blocks, depth first) with its dotted name and the
        prefix its branches' names take (a block's own name, or its parent's when it is no module)."""
        for branch in self.branches:
            prefix = self.name if self.layout == "single" else layer_prefix(self.name, branch)
            yield from _named_nodes(self.layer_names(branch), prefix, branch)


def named_nodes(row: Row) -> list[str]:
    """The dotted names of every node below ``row`` as the analysis names them: branches (a branch
    that is no module and holds one layer is that layer), nested blocks and their branches, layers."""
    names: list[str] = []

    def branch(prefix: str, b: Branch, top: bool) -> None:
        if not (top and row.layout == "sequence") and not collapsed(b):
            names.append(f"{prefix}.{b.name}")
        inner = layer_prefix(prefix, b)
        for name, node in zip(node_names(prefix, b), b.layers):
            names.append(name)
            if isinstance(node, Block):
                for sub in node.branches:
                    branch(name if node.module else inner, sub, False)

    if row.layout != "single":
        for b in row.branches:
            branch(row.name, b, True)
    return names


def _named_nodes(names: list[str], prefix: str, branch: Branch) -> Iterator[tuple[str, "Node", str]]:
    for name, node in zip(names, branch.layers):
        inner = name if getattr(node, "module", False) else prefix
        yield name, node, inner
        if isinstance(node, Block):
            for sub in node.branches:
                yield from _named_nodes(node_names(inner, sub), layer_prefix(inner, sub), sub)


@dataclass(frozen=True)
class Network:
    name: str
    rows: tuple[Row, ...]
    description: str = ""
    source: str = ""
    input: tuple[int, int, int] = (3, 224, 224)
    path: str = ""  # the file it was read from; "" for a built-in shipped in the package
    reference: str = ""  # "timm:inception_v4": the implementation it reproduces name for name, "" for none
    notes: tuple[str, ...] = field(default=())

    def row(self, name: str) -> Row:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(name)

    @property
    def main_rows(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if not r.is_aux)

    @property
    def aux_rows(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.is_aux)
