"""The backward pass and the memory of a training step, in closed form (standard library only).

Backward MACs (what ``torch.utils.flop_counter.FlopCounterMode`` counts for ``convolution_backward``
and for the two ``mm`` of a linear layer; bias gradients, batch norm and the pointwise ops it does
not count, and neither does this):

- the input gradient of a conv or linear layer costs its forward MACs, and is computed only when
  its input requires a gradient: never for the first layer (the image needs none), nor for a layer
  before the first trainable one;
- the weight gradient costs the forward MACs too, and is computed only for a trainable layer (not
  in a row named in ``freeze``). FlopCounterMode counts a grouped conv's weight gradient ``groups``
  times (it sizes it as an ungrouped conv); the arithmetic, and this module, count it once.

Saved bytes: what autograd keeps for the backward pass, each storage once (a row's input is saved
by every branch that reads it, and counted for the first), parameters and buffers left out. The
rules are those of torch 2.14 (found with ``torch.autograd.graph.saved_tensors_hooks``):

- conv: its input; batch norm after it: its input (the conv's output) and two per-channel
  statistics (mean and inverse std, in the model's dtype); ReLU (in place): its output;
- linear: its input (only when its weight is trainable: the input gradient needs the weight alone);
- max pooling: its input and int64 indices of its output's size;
- average pooling: its input, except an adaptive one to 1 x 1 (a mean, which saves nothing);
- LRN (torch's functional form): its input, the padded squares ((C + size - 1) x H x W), the
  scaled sum and its power (C x H x W each);
- dropout: its mask, in the model's dtype on the CPU (``input * noise``), one byte an element on CUDA
  (``native_dropout``'s bool mask);
- softmax: its output; concat, add, views (flatten) and scaling by a constant: nothing.

A layer saves nothing when its output needs no gradient (no trainable layer at or before it).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Iterable

from inception_calc.core.errors import CalcError, quote
from inception_calc.core.kinds import BatchNorm, Conv, Dropout, Linear, LRN, Pool, ReLU, Softmax
from inception_calc.core.network import Block, Branch, Row, node_names, layer_prefix
from inception_calc.core.memo import IdentityMemo

if TYPE_CHECKING:  # pragma: no cover
    from inception_calc.core.results import Analysis, Cost

DTYPES = {"fp32": 4, "bf16": 2, "fp16": 2}
"""Bytes per element of each dtype a training step can run in."""
INDEX_BYTES = 8
"""Max pooling's indices are int64."""
DEVICES = ("cpu", "cuda")


@dataclass(frozen=True, slots=True)
class LayerTraining:
    """One primitive layer's backward MACs and saved bytes, for the whole batch."""

    name: str
    grad_input_macs: int
    grad_weight_macs: int
    saved_bytes: int
    saves: tuple[str, ...]  # what it saves, one phrase per storage (for explain)
    needs_grad_in: bool
    trainable: bool

    @property
    def backward_macs(self) -> int:
        return self.grad_input_macs + self.grad_weight_macs


@dataclass(frozen=True, slots=True)
class NodeTraining:
    """A row's, branch's or layer's sums."""

    grad_input_macs: int
    grad_weight_macs: int
    saved_bytes: int

    @property
    def backward_macs(self) -> int:
        return self.grad_input_macs + self.grad_weight_macs


@dataclass(frozen=True)
class Training:
    """Every layer's backward cost and saved bytes at one batch, dtype and set of frozen rows."""

    analysis: "Analysis"
    batch: int
    dtype: str
    device: str
    freeze: tuple[str, ...]
    layers: dict[str, LayerTraining]

    @cached_property
    def _below(self) -> dict[str, list[LayerTraining]]:
        """Each dotted prefix of a layer's name -> the layers named it or below it, in order: made in
        one pass, so that a node's sums are a look-up, not a walk of every layer (2,000 claims)."""
        below: dict[str, list[LayerTraining]] = {}
        for key, layer in self.layers.items():
            parts = key.split(".")
            for end in range(1, len(parts) + 1):
                below.setdefault(".".join(parts[:end]), []).append(layer)
        return below

    def below(self, name: str) -> list[LayerTraining]:
        """The layers at or below ``name`` (a row, branch, block or layer), in order."""
        return self._below.get(name, [])

    def node(self, name: str) -> NodeTraining:
        """The sums over the layers at or below ``name`` (a row, branch, block or layer)."""
        layers = self.below(name)
        return NodeTraining(sum(x.grad_input_macs for x in layers), sum(x.grad_weight_macs for x in layers),
                            sum(x.saved_bytes for x in layers))

    def total(self) -> NodeTraining:
        return self._total

    @cached_property
    def _total(self) -> NodeTraining:
        return NodeTraining(sum(x.grad_input_macs for x in self.layers.values()),
                            sum(x.grad_weight_macs for x in self.layers.values()),
                            sum(x.saved_bytes for x in self.layers.values()))

    @property
    def forward_macs(self) -> int:
        """The forward MACs with the auxiliary heads, for the batch."""
        return self.batch * self.analysis.totals.training.macs


class _Tensor:
    """A storage in the walk: its bytes, whether it needs a gradient, and a phrase naming it."""

    __slots__ = ("nbytes", "grad", "what")

    def __init__(self, nbytes: int, grad: bool, what: str) -> None:
        self.nbytes, self.grad, self.what = nbytes, grad, what


class _Walk:
    def __init__(self, costs: "dict[str, Cost]", batch: int, dtype: str, device: str, frozen: set[str]) -> None:
        self.costs, self.batch, self.size, self.device = costs, batch, DTYPES[dtype], device
        self.frozen = frozen
        self.saved: set[_Tensor] = set()  # the objects themselves: ids of dead ones are reused
        self.layers: dict[str, LayerTraining] = {}

    def tensor(self, elements: int, grad: bool, what: str, size: int | None = None) -> _Tensor:
        return _Tensor(elements * (self.size if size is None else size), grad, what)

    def act(self, shape: tuple[int, ...], grad: bool, what: str, size: int | None = None) -> _Tensor:
        n = self.batch
        for d in shape:
            n *= d
        return self.tensor(n, grad, what, size)

    def layer(self, row: Row, name: str, layer: object, t: _Tensor) -> _Tensor:
        cost = self.costs[name]
        saves: list[_Tensor] = []
        trainable = bool(cost.params) and row.name not in self.frozen
        grad = t.grad or trainable
        gi = gw = 0
        out_shape = cost.out_shape
        if isinstance(layer, Conv):
            gi = self.batch * cost.macs if t.grad else 0
            gw = self.batch * cost.macs if trainable else 0
            out = self.act(out_shape, grad, "conv output")
            if grad:
                saves.append(t)
            if layer.bn:
                if grad:
                    saves += [out, self.tensor(out_shape[0], True, "batch norm mean"),
                              self.tensor(out_shape[0], True, "batch norm inverse std")]
                out = self.act(out_shape, grad, "ReLU output (in place, on batch norm's)" if layer.relu
                               else "batch norm output")
            if layer.relu and grad:
                saves.append(out)  # in place: the ReLU's output is its input's storage
        elif isinstance(layer, Linear):
            gi = self.batch * cost.macs if t.grad else 0
            gw = self.batch * cost.macs if trainable else 0
            if trainable:
                saves.append(t)
            out = self.act(out_shape, grad, "linear output")
            if layer.relu and grad:
                saves.append(out)
        elif isinstance(layer, BatchNorm):
            out = self.act(out_shape, grad, "batch norm output")
            if grad:
                saves += [t, self.tensor(out_shape[0], True, "batch norm mean"),
                          self.tensor(out_shape[0], True, "batch norm inverse std")]
        elif isinstance(layer, Pool):
            out = self.act(out_shape, grad, f"{layer.op} pool output")
            if grad and layer.op == "max":
                saves += [t, self.act(out_shape, True, "max pool indices (int64)", INDEX_BYTES)]
            elif grad and not (layer.output is not None and tuple(out_shape[1:]) == (1, 1)):
                saves.append(t)
        elif isinstance(layer, LRN):
            c, h, w = cost.in_shape
            out = self.act(out_shape, grad, "LRN output")
            if grad:
                saves += [t, self.act((c + layer.size - 1, h, w), True, "LRN padded squares"),
                          self.act((c, h, w), True, "LRN scaled sum"), self.act((c, h, w), True, "LRN power")]
        elif isinstance(layer, Dropout) and layer.p == 0:
            out = t  # torch returns the input itself at p = 0 (ATen's dropout: p == 0 -> input): no mask, no copy
        elif isinstance(layer, Dropout):
            out = self.act(out_shape, grad, "dropout output")
            if grad:
                saves.append(self.act(out_shape, True, "dropout mask", None if self.device == "cpu" else 1))
        elif isinstance(layer, Softmax):
            out = self.act(out_shape, grad, "softmax output")
            if grad:
                saves.append(out)
        elif isinstance(layer, ReLU):
            out = self.act(out_shape, grad, "ReLU output")
            if grad:
                saves.append(out)
        else:  # a view (flatten) or a kind that saves nothing
            out = t
        self.record(name, gi, gw, saves, t.grad, trainable)
        return out

    def record(self, name: str, gi: int, gw: int, saves: list[_Tensor], grad_in: bool, trainable: bool) -> None:
        nbytes, what = 0, []
        for s in saves:
            if s not in self.saved:
                self.saved.add(s)
                nbytes += s.nbytes
                what.append(f"{s.what} {s.nbytes:,} B")
        self.layers[name] = LayerTraining(name, gi, gw, nbytes, tuple(what), grad_in, trainable)

    def branch(self, row: Row, names: list[str], prefix: str, branch: Branch, t: _Tensor) -> _Tensor:
        for name, node in zip(names, branch.layers):
            if isinstance(node, Block):
                inner = name if node.module else prefix
                t = self.combine(row, name, [(node_names(inner, b), layer_prefix(inner, b), b) for b in node.branches],
                                 node.combine, node.relu, t)
            else:
                t = self.layer(row, name, node, t)
        return t

    def combine(self, row: Row, name: str, branches: list, combine: str, relu: bool, t: _Tensor) -> _Tensor:
        outs = [self.branch(row, names, prefix, b, t) for names, prefix, b in branches]
        grad = any(o.grad for o in outs)
        cost = self.costs[name]
        out = self.act(cost.out_shape, grad, f"{combine} output")
        if relu and grad:
            self.record(name + ".relu", 0, 0, [out], grad, False)
        return out

    def row(self, row: Row, t: _Tensor) -> _Tensor:
        if row.layout == "single":
            return self.layer(row, row.name, row.branches[0].layers[0], t)
        if row.layout == "sequence":
            branch = row.branches[0]
            return self.branch(row, row.layer_names(branch), layer_prefix(row.name, branch), branch, t)
        return self.combine(row, row.name, [(row.layer_names(b), layer_prefix(row.name, b), b) for b in row.branches],
                            row.combine, row.relu, t)


def _check_freeze(analysis: "Analysis", freeze: Iterable[str]) -> tuple[str, ...]:
    names = {r.name for r in analysis.rows}
    frozen = tuple(freeze)
    for name in frozen:
        if name not in names:
            shown = ", ".join(r.name for r in analysis.rows[:6])
            raise CalcError(f"{quote(name)} names no row of {analysis.spec}", where="freeze",
                            fix=f"name rows of the network (its first: {shown}, ...)")
    return frozen


def training(analysis: "Analysis", batch: int = 1, dtype: str = "fp32", freeze: Iterable[str] = (),
             device: str = "cpu") -> Training:
    """The backward MACs and saved bytes of every layer of ``analysis`` (its auxiliary heads
    included: they train) for a step of ``batch`` images in ``dtype`` on ``device`` (which decides
    dropout's mask), with the rows named in ``freeze`` not trained."""
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise CalcError(f"batch {quote(batch)} is not a positive integer", where="batch", fix="give a batch of 1 or more")
    if dtype not in DTYPES:
        raise CalcError(f"unknown dtype {quote(dtype)}", where="dtype", fix=f"give one of {', '.join(DTYPES)}")
    if device not in DEVICES:
        raise CalcError(f"unknown device {quote(device)}", where="device", fix=f"give one of {', '.join(DEVICES)}")
    frozen = _check_freeze(analysis, freeze)
    costs = {node.name: node for row in analysis.rows for node in row.walk("conv")}
    walk = _Walk(costs, batch, dtype, device, set(frozen))
    if not any(costs[r.name].params for r in analysis.rows if r.name not in walk.frozen):
        what = "every row with parameters is frozen" if frozen else "it has no layer with parameters"
        raise CalcError(f"{analysis.spec} has nothing to train: {what}", where="train",
                        fix="freeze fewer rows" if frozen else "give a network with conv, linear or batch norm layers")
    shown = {r.name for r in analysis.rows}
    outputs: dict[str, _Tensor] = {}
    t = walk.act(analysis.input, False, "input")
    for row in analysis.network.rows:
        if row.name not in shown:
            continue
        out = walk.row(row, outputs[row.after] if row.is_aux else t)
        outputs[row.name] = out
        if not row.is_aux:
            t = out
    return Training(analysis, batch, dtype, device, frozen, walk.layers)


OPTIMIZERS = {"sgd": 0, "momentum": 1, "adam": 2}
"""Optimizer state per trainable parameter, in parameter-sized tensors: SGD none, SGD with momentum
its momentum buffer, Adam its two moments."""
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


@dataclass(frozen=True, slots=True)
class Memory:
    """The bytes of one training step: parameters, their gradients and the optimizer's state (the
    trainable parameters only), batch norm's running statistics (buffers), and what autograd saves.
    ``peak_bytes`` is their sum: the memory held when the forward pass ends and the backward begins,
    every saved activation alive and the gradients of the last step kept (no allocator rounding,
    workspaces or the transient gradients of the activations)."""

    param_bytes: int
    grad_bytes: int
    optimizer_bytes: int
    buffer_bytes: int
    saved_bytes: int

    @property
    def peak_bytes(self) -> int:
        return self.param_bytes + self.grad_bytes + self.optimizer_bytes + self.buffer_bytes + self.saved_bytes


def _bn_channels(analysis: "Analysis") -> int:
    """Channels of every batch norm (a conv's or a standalone one): two running statistics each."""
    layers = {name: layer for row in analysis.network.rows for name, layer in row.named_layers()}
    total = 0
    for row in analysis.rows:
        for node in row.walk("conv"):
            layer = layers.get(node.name)
            if (isinstance(layer, Conv) and layer.bn) or isinstance(layer, BatchNorm):
                total += node.out_shape[0]
    return total


def memory(step: Training, optimizer: str = "momentum") -> Memory:
    """The memory of the training step ``step`` with ``optimizer`` (sgd, momentum or adam)."""
    if optimizer not in OPTIMIZERS:
        raise CalcError(f"unknown optimizer {quote(optimizer)}", where="optimizer",
                        fix=f"give one of {', '.join(OPTIMIZERS)}")
    size = DTYPES[step.dtype]
    rows = step.analysis.rows
    params = sum(r.params for r in rows)
    trainable = sum(r.params for r in rows if r.name not in step.freeze)
    return Memory(param_bytes=params * size, grad_bytes=trainable * size,
                  optimizer_bytes=OPTIMIZERS[optimizer] * trainable * size,
                  buffer_bytes=2 * _bn_channels(step.analysis) * size, saved_bytes=step.total().saved_bytes)


def parse_bytes(text: str, where: str = "fit") -> int:
    """``80GiB``, ``40 GB``, ``512MiB``, ``1000000``: a number of bytes."""
    import re

    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*", str(text))
    unit = match and match.group(2).lower()
    if not match or unit not in _UNITS:
        raise CalcError(f"{quote(text)} is not a size in bytes", where=where,
                        fix="give a number and a unit: 80GiB, 40GB, 512MiB")
    return int(float(match.group(1)) * _UNITS[unit])


def largest_batch(analysis: "Analysis", budget: int, dtype: str = "fp32", optimizer: str = "momentum",
                  freeze: Iterable[str] = (), device: str = "cpu") -> tuple[int, Memory]:
    """The largest batch whose training step's :attr:`Memory.peak_bytes` fits in ``budget`` bytes,
    and that step's memory. Saved bytes grow linearly with the batch (all but batch norm's
    per-channel statistics), so the batch follows from the step at 1 and at 2."""
    one = memory(training(analysis, 1, dtype, freeze, device), optimizer)
    two = memory(training(analysis, 2, dtype, freeze, device), optimizer)
    per_image = two.peak_bytes - one.peak_bytes
    fixed = one.peak_bytes - per_image
    if budget < one.param_bytes:
        raise CalcError(f"{budget:,} bytes hold less than the parameters alone ({one.param_bytes:,} bytes in "
                        f"{dtype})", where="fit", fix="give a larger budget or a smaller dtype")
    if budget < one.peak_bytes:
        raise CalcError(f"{budget:,} bytes hold less than a step of one image ({one.peak_bytes:,} bytes)",
                        where="fit", fix="give a larger budget, a smaller dtype or freeze rows")
    batch = (budget - fixed) // per_image
    return batch, memory(training(analysis, batch, dtype, freeze, device), optimizer)


def derive(step: Training, name: str) -> list[str]:
    """The backward derivation of ``name`` (a row, branch or layer): each layer's input- and
    weight-gradient MACs with why each is or is not computed, its saved storages, and the sums."""
    from inception_calc.core.values import grouped

    layers = step.below(name)
    b = step.batch
    lines = [f"backward of {name} (batch {b}, {step.dtype}; torch's rules, docs/training.md)"]
    for layer in layers:
        cost_macs = step.analysis[layer.name].macs if layer.name in step.analysis.nodes else 0
        if cost_macs:
            gi = (f"= batch x forward MACs = {b} x {grouped(cost_macs)} = {grouped(layer.grad_input_macs)}"
                  if layer.needs_grad_in else "0 (its input needs no gradient: no trainable layer before it)")
            gw = (f"= batch x forward MACs = {b} x {grouped(cost_macs)} = {grouped(layer.grad_weight_macs)}"
                  if layer.trainable else "0 (frozen)")
            lines += [f"  {layer.name}: grad input MACs {gi}", f"  {layer.name}: grad weight MACs {gw}"]
        saves = " + ".join(layer.saves) if layer.saves else "nothing new"
        lines.append(f"  {layer.name}: saves {saves} = {grouped(layer.saved_bytes)} B")
    sums = step.node(name)
    lines += [f"backward MACs = {grouped(sums.grad_input_macs)} + {grouped(sums.grad_weight_macs)} = "
              f"{grouped(sums.backward_macs)}", f"saved bytes   = {grouped(sums.saved_bytes)}"]
    return lines


CLAIM_QUANTITIES = ("backward_macs", "grad_input_macs", "grad_weight_macs", "saved_bytes")
"""What a claim may state of a row, branch or layer's training step (batch 1, fp32, nothing frozen)."""
CLAIM_TOTALS = ("param_bytes", "grad_bytes", "optimizer_bytes", "peak_bytes")
"""And of ``total`` besides (SGD with momentum): the step's memory."""
_DEFAULT_STEPS = IdentityMemo(16)  # analysis -> training(analysis)
_STEP_MEMORY = IdentityMemo(16)  # default step -> memory(step): once, not once a claim


def default_step(analysis: "Analysis") -> Training:
    """``training(analysis)`` (batch 1, fp32, nothing frozen), made once per analysis."""
    return _DEFAULT_STEPS.get_or_make(analysis, training)


def claimed_value(analysis: "Analysis", name: str | None, quantity: str) -> int:
    """A training quantity of the node ``name`` (None: the whole step, auxiliary heads included)."""
    step = default_step(analysis)
    if quantity in CLAIM_TOTALS:
        if name is not None:
            raise CalcError(f"{quantity} is the whole step's", fix=f"claim total.{quantity}")
        return getattr(_STEP_MEMORY.get_or_make(step, memory), quantity)
    return getattr(step.total() if name is None else step.node(name), quantity)


@dataclass(frozen=True, slots=True)
class InferencePeak:
    """The most activation bytes alive at once in an inference forward (no gradients), and where."""

    bytes: int
    where: str


def inference_peak(analysis: "Analysis", batch: int = 1, dtype: str = "fp32") -> InferencePeak:
    """Activations alive at once when the main rows run in order and a block's branches one after
    another, as an eager forward holds them: the block's input and every finished branch's output
    stay alive until the concat (or add) has made its output; inside a branch a layer's input and
    output (and a conv's pre-batch-norm output) are alive together; an in-place ReLU adds nothing.
    Parameters and the allocator's rounding and workspaces are left out."""
    costs = {node.name: node for row in analysis.rows for node in row.walk("conv")}
    walk = _Walk(costs, batch, dtype, "cpu", set())
    best = [0, ""]

    def peak(live: list[_Tensor], where: str) -> None:
        total = sum({id(t): t.nbytes for t in live}.values())
        if total > best[0]:
            best[:] = [total, where]

    def layer(name: str, node: object, t: _Tensor, held: list[_Tensor]) -> _Tensor:
        cost = costs[name]
        if not isinstance(node, (Conv, Linear, BatchNorm, Pool, LRN, Dropout, Softmax, ReLU)):
            return t  # a view
        out = walk.act(cost.out_shape, False, "output")
        extra = [walk.act(cost.out_shape, False, "conv output")] if isinstance(node, Conv) and node.bn else []
        peak([*held, t, out, *extra], name)
        return out

    def branch(names: list[str], prefix: str, b: Branch, t: _Tensor, held: list[_Tensor]) -> _Tensor:
        for name, node in zip(names, b.layers):
            if isinstance(node, Block):
                inner = name if node.module else prefix
                t = combine(name, [(node_names(inner, s), layer_prefix(inner, s), s) for s in node.branches], t, held)
            else:
                t = layer(name, node, t, held)
        return t

    def combine(name: str, branches: list, t: _Tensor, held: list[_Tensor]) -> _Tensor:
        outs: list[_Tensor] = []
        for names, prefix, b in branches:
            out = branch(names, prefix, b, t, [*held, t, *outs])
            if getattr(b, "scale", 1) != 1:
                scaled = walk.act(costs[name].out_shape, False, "scaled")
                peak([*held, t, *outs, out, scaled], name)
                out = scaled
            outs.append(out)
        result = walk.act(costs[name].out_shape, False, "combined")
        peak([*held, t, *outs, result], name)
        return result

    shown = {r.name for r in analysis.rows}
    t = walk.act(analysis.input, False, "input")
    for row in analysis.network.main_rows:
        if row.name not in shown:
            continue
        if row.layout == "single":
            t = layer(row.name, row.branches[0].layers[0], t, [])
        elif row.layout == "sequence":
            b = row.branches[0]
            t = branch(row.layer_names(b), layer_prefix(row.name, b), b, t, [])
        else:
            t = combine(row.name, [(row.layer_names(b), layer_prefix(row.name, b), b) for b in row.branches], t, [])
    return InferencePeak(best[0], best[1])
