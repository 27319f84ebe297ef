"""A real training step on the CPU, measured: what FlopCounterMode counts in the backward pass and
what autograd saves for it, row by row (torch imported inside the functions only).

Backward FLOPs per row: FlopCounterMode's own module tracking is unreliable in the backward pass (in
torch 2.14 a backward op is credited to several modules at once), so every autograd node is tagged
with the module whose forward made it (the innermost, by a forward hook walking the new part of
the graph); a node's pre-hook names it as it runs, and the ops it runs are counted with
FlopCounterMode's own formulas (its ``flop_registry``). Their sum is checked against the
FlopCounterMode that wraps the whole step.

Saved bytes per row: ``torch.autograd.graph.saved_tensors_hooks`` sees every tensor saved; each
storage counts once, for the module running when it is first saved; parameters and buffers are left out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

BACKWARD_OPS = ("convolution_backward", "mm")
"""What FlopCounterMode counts in a backward pass of conv and linear layers."""
TORCH_DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}


@dataclass(frozen=True)
class StepMeasure:
    """One step's counts: FlopCounterMode's totals by op (forward and backward), and per module
    (dotted name, "" for the root) the backward FLOPs and the saved bytes."""

    total_flops: dict[str, int]
    backward_flops: dict[str, int]
    saved_bytes: dict[str, int]

    def by_row(self, rows: set[str], which: str) -> dict[str, int]:
        from inception_calc.pytorch.reconcile import _row_of

        out: Counter = Counter()
        for name, n in getattr(self, which).items():
            out[_row_of(name, rows) or name] += n
        return dict(out)


def _outputs(value: Any) -> list:
    import torch

    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _outputs(v)]
    return []


def measure_step(model: Any, input: tuple[int, int, int], batch: int = 1, dtype: str = "fp32",
                 freeze: tuple[str, ...] = (), aux_weight: float = 0.3) -> StepMeasure:
    """Run forward and backward of ``model`` (train mode) on a random batch, the rows (module
    names) in ``freeze`` not trained, the auxiliary outputs' losses weighted ``aux_weight``."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import FlopCounterMode

    torch.manual_seed(0)
    model = model.to(getattr(torch, TORCH_DTYPES[dtype])).train()
    for name, p in model.named_parameters():
        p.requires_grad_(not any(name == r or name.startswith(r + ".") for r in freeze))
    x = torch.randn(batch, *input, dtype=getattr(torch, TORCH_DTYPES[dtype]))
    kept = {t.untyped_storage().data_ptr() for t in [*model.parameters(), *model.buffers()]}
    stack: list[str] = [""]
    tags: dict[Any, str] = {}
    current = [""]
    handles = []

    def tag(name: str, outputs: Any) -> None:
        todo = [t.grad_fn for t in _outputs(outputs) if t.grad_fn is not None]
        while todo:
            node = todo.pop()
            if node is None or node in tags or type(node).__name__ == "AccumulateGrad":
                continue
            tags[node] = name
            node.register_prehook(lambda grads, name=name: current.__setitem__(0, name))
            todo += [n for n, _ in node.next_functions]

    def enter(name: str) -> Any:
        return lambda module, inputs: stack.append(name)  # returns None: the inputs stand

    def leave(name: str) -> Any:
        def hook(module: Any, inputs: Any, outputs: Any) -> None:
            stack.pop()
            tag(name, outputs)
        return hook

    for name, module in model.named_modules():
        handles.append(module.register_forward_pre_hook(enter(name)))
        handles.append(module.register_forward_hook(leave(name)))
    seen: set[int] = set()
    saved: Counter = Counter()

    def pack(t: Any) -> Any:
        key = t.untyped_storage().data_ptr()
        if key not in kept and key not in seen:
            seen.add(key)
            saved[stack[-1]] += t.untyped_storage().nbytes()
        return t

    counter = FlopCounterMode(display=False)
    registry = counter.flop_registry
    backward: Counter = Counter()

    class Attribute(TorchDispatchMode):
        def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            packet = func._overloadpacket
            if packet.__name__ in BACKWARD_OPS and packet in registry:
                backward[current[0]] += registry[packet](*args, **kwargs, out_val=out)
            return out

    try:
        with counter:
            with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
                outputs = _outputs(model(x))
            loss = outputs[0].float().sum() + sum(aux_weight * o.float().sum() for o in outputs[1:])
            with Attribute():
                loss.backward()
    except NotImplementedError as exc:  # an op with no kernel for this dtype on this device
        from inception_calc.core.errors import CalcError

        raise CalcError(f"{dtype} does not run here: {str(exc).splitlines()[0]}", where="dtype",
                        fix="give another --dtype (fp32 runs everywhere)") from None
    except ValueError as exc:  # batch norm in training mode over one value per channel (batch 1 at a 1x1 map)
        if "more than 1 value per channel" not in str(exc):
            raise
        from inception_calc.core.errors import CalcError

        raise CalcError(f"a training step at batch {batch} gives a batch norm one value per channel "
                        f"({str(exc).splitlines()[0]})", where="batch",
                        fix="give --batch 2 or more, or a larger --input") from None
    finally:
        for h in handles:
            h.remove()
    totals = {str(op).split(".")[-1]: n for op, n in counter.get_flop_counts()["Global"].items()}
    return StepMeasure(totals, dict(backward), dict(saved))


@dataclass(frozen=True)
class TrainingRow:
    """One row: backward FLOPs (2 x MACs) and saved bytes, analytic and measured, and the named
    terms that explain a difference (FlopCounterMode's count of a grouped conv's weight gradient)."""

    name: str
    backward_flops: int
    measured_flops: int
    saved_bytes: int
    measured_bytes: int
    terms: tuple[tuple[str, int], ...] = ()

    @property
    def verdict(self) -> str:
        explained = self.backward_flops + sum(n for _, n in self.terms)
        if self.saved_bytes != self.measured_bytes or explained != self.measured_flops:
            return "differs"
        return "explained" if self.terms else "exact"


@dataclass(frozen=True)
class TrainingCheck:
    spec: str
    source: str
    input: tuple[int, int, int]
    batch: int
    dtype: str
    rows: tuple[TrainingRow, ...]

    @property
    def ok(self) -> bool:
        return all(r.verdict != "differs" for r in self.rows)


def _grouped_terms(step: Any, row: str) -> tuple[tuple[str, int], ...]:
    """FlopCounterMode sizes a grouped conv's weight gradient as an ungrouped conv: ``groups`` times
    the arithmetic; the excess, in FLOPs, for each trainable grouped conv of ``row``."""
    from inception_calc.core.kinds import Conv

    layers = {name: layer for r in step.analysis.network.rows for name, layer in r.named_layers()}
    excess = 0
    for name, layer in step.layers.items():
        conv = layers.get(name)
        if (name == row or name.startswith(row + ".")) and isinstance(conv, Conv) and conv.groups > 1:
            excess += 2 * (conv.groups - 1) * layer.grad_weight_macs
    return (("FlopCounterMode counts a grouped conv's weight gradient groups times", excess),) if excess else ()


def check_training(spec: Any, against: str = "built", input: Any = None, batch: int = 1, dtype: str = "fp32",
                   freeze: tuple[str, ...] = ()) -> TrainingCheck:
    """Run a real training step of ``spec``'s network (built, or the ``against`` library's model) on
    the CPU and reconcile every row's backward FLOPs and saved bytes with the closed form."""
    from inception_calc.core.engine import analyze
    from inception_calc.core.sources import load_spec
    from inception_calc.core.training import training
    from inception_calc.pytorch.build import build, require_buildable, require_torch
    from inception_calc.pytorch.crosscheck import reference_model

    network = load_spec(spec)
    analysis = analyze(network, input)
    step = training(analysis, batch, dtype, freeze)  # bad batch, dtype, freeze: before torch is imported
    require_buildable(analysis)
    torch = require_torch()
    with torch.random.fork_rng(devices=[]):
        if against == "built":
            model, source = build(analysis.network, analysis.input), f"built {analysis.spec}"
        else:
            model, source, _ = reference_model(analysis.network, against, bool(analysis.network.aux_rows))
    measured = measure_step(model, analysis.input, batch, dtype, step.freeze)
    names = {r.name for r in analysis.rows}
    flops, saved = measured.by_row(names, "backward_flops"), measured.by_row(names, "saved_bytes")
    rows = [TrainingRow(r.name, 2 * step.node(r.name).backward_macs, flops.pop(r.name, 0),
                        step.node(r.name).saved_bytes, saved.pop(r.name, 0), _grouped_terms(step, r.name))
            for r in analysis.rows]
    for name in sorted(set(flops) | set(saved)):  # credited to no row of the spec (the root's own ops)
        rows.append(TrainingRow(name or "(network)", 0, flops.get(name, 0), 0, saved.get(name, 0)))
    return TrainingCheck(analysis.spec, source, analysis.input, batch, dtype, tuple(rows))
