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

from inception_calc.core.fields import MAX_SIZE
from inception_calc.core.kinds import LRN, Conv, Dropout, Layer, Linear, Pool, Softmax
from inception_calc.core.kinds.base import Pair

__all__ = ["LRN", "MAX_SIZE", "Branch", "Conv", "Dropout", "InceptionOptions", "Layer", "Linear", "Network", "Pair",
           "Pool", "Row", "Softmax", "inception_branches"]
"""The primitive layers are defined, one module per kind, in :mod:`inception_calc.core.kinds`; they
are importable from here too."""


@dataclass(frozen=True, slots=True)
class Branch:
    name: str
    layers: tuple[Layer, ...]


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

    @property
    def is_aux(self) -> bool:
        return self.after is not None

    @property
    def layout(self) -> str:
        if len(self.branches) > 1:
            return "concat"
        return "single" if len(self.branches[0].layers) == 1 else "sequence"

    def layer_names(self, branch: Branch) -> list[str]:
        """The dotted name of each layer of ``branch``, as the built module names it."""
        layout = self.layout
        if layout == "single":
            return [self.name]
        prefix = self.name if layout == "sequence" else f"{self.name}.{branch.name}"
        return [f"{prefix}.{layer.name or i}" for i, layer in enumerate(branch.layers)]


@dataclass(frozen=True)
class Network:
    name: str
    rows: tuple[Row, ...]
    description: str = ""
    source: str = ""
    input: tuple[int, int, int] = (3, 224, 224)
    path: str = ""  # the file it was read from; "" for a built-in shipped in the package
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
