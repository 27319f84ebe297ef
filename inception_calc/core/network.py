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
from typing import Union

Pair = tuple[int, int]

MAX_SIZE = 2**63 - 1
"""The largest size or channel count a spec, an input size or a variant may give: PyTorch's (int64)
limit on a tensor dimension. It keeps every count printable and every ratio a float can hold
(a conv's MACs are below MAX_SIZE ** 6, about 10^114)."""


@dataclass(frozen=True, slots=True)
class Conv:
    """A 2-d convolution, optionally followed by batch norm and ReLU (one module, like
    torchvision's ``BasicConv2d``)."""

    out: int
    kernel: Pair
    stride: Pair = (1, 1)
    pad: Pair = (0, 0)
    groups: int = 1
    bias: bool = True
    bn: bool = False
    bn_eps: float = 1e-5
    relu: bool = True
    name: str = ""

    kind = "conv"

    @property
    def summary(self) -> str:
        extras = "".join(f" +{x}" for x, on in (("bias", self.bias), ("bn", self.bn)) if on)
        groups = f", groups {self.groups}" if self.groups > 1 else ""
        return f"conv {_window(self.kernel, self.stride, self.pad)}, {self.out}{groups}{extras}"

    @property
    def short(self) -> str:
        stride = "" if self.stride == (1, 1) else f"/{self.stride[0]}"
        return f"{self.kernel[0]}x{self.kernel[1]}{stride} {self.out}"


@dataclass(frozen=True, slots=True)
class Pool:
    """Max or average pooling over a window, or adaptive pooling to a fixed ``output`` size."""

    op: str  # "max" | "avg"
    kernel: Pair = (1, 1)
    stride: Pair = (1, 1)
    pad: Pair = (0, 0)
    rounding: str = "floor"  # "floor" | "ceil"
    output: Pair | None = None  # adaptive pooling: the output size; kernel/stride unused
    name: str = ""

    @property
    def kind(self) -> str:
        return ("adaptive_" if self.output else "") + self.op + "pool"

    @property
    def summary(self) -> str:
        if self.output:
            return f"adaptive {self.op} pool to {self.output[0]}x{self.output[1]}"
        return f"{self.op} pool {_window(self.kernel, self.stride, self.pad)}, {self.rounding}"

    @property
    def short(self) -> str:
        if self.output:
            return self.summary
        stride = "" if self.stride == (1, 1) else f"/{self.stride[0]}"
        return f"{self.op}pool {self.kernel[0]}x{self.kernel[1]}{stride}"


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


@dataclass(frozen=True, slots=True)
class Dropout:
    p: float = 0.5
    name: str = ""

    kind = "dropout"
    short = "dropout"

    @property
    def summary(self) -> str:
        return f"dropout {self.p:g}"


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


@dataclass(frozen=True, slots=True)
class Softmax:
    name: str = ""

    kind = "softmax"
    summary = short = "softmax"


def _window(kernel: Pair, stride: Pair, pad: Pair) -> str:
    """``7x7/2 pad 3``: kernel, stride when not 1, padding when not 0 (pairs shown once when equal)."""

    def pair(p: Pair, sep: str = "x") -> str:
        return str(p[0]) if p[0] == p[1] else f"{p[0]}{sep}{p[1]}"

    text = f"{kernel[0]}x{kernel[1]}"
    if stride != (1, 1):
        text += f"/{pair(stride, ',')}"
    if pad != (0, 0):
        text += f" pad {pair(pad, ',')}"
    return text


Layer = Union[Conv, Pool, LRN, Dropout, Linear, Softmax]


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
