"""Count the real network, module by module: fvcore, PyTorch's FlopCounterMode, numel, shapes.

Each counter has its own convention (docs/cross-check.md):

* fvcore ``FlopCountAnalysis`` (by module and by operator): conv and linear multiply-accumulates
  (``conv``, ``linear``), plus batch norm per element and adaptive average pooling per input
  element; ops it has no handle for (``max_pool2d``, ``avg_pool2d``, the pieces of LRN) count 0
  and are listed as unsupported.
* ``torch.utils.flop_counter.FlopCounterMode``: 2 FLOPs per conv/linear multiply-accumulate,
  nothing else; keyed by module.
* ``numel``: the parameter elements of each module and its descendants.
* forward hooks: each module's output shape, and each layer's input shape, in call order.

The network is counted in one state: every submodule in eval mode (batch norm on its running
statistics, dropout the identity) and the top module's ``training`` flag on, so that its forward
runs the auxiliary heads too (torchvision's ``googlenet`` and the built network both run them when
``self.training``). The counts then cover every row of the analysis. One image (batch 1): all counts
are per image, as the analysis's.

torch, torchvision and fvcore are imported here, inside the functions, never by the analytic core.
"""

from __future__ import annotations

import copy
import logging
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from inception_calc.core.errors import CalcError
from inception_calc.core.extras import require
from inception_calc.core.kinds import KINDS, Layer

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn

Shape = tuple[int, ...]

TORCHVISION_NEEDED = (0, 15)
"""torchvision >= 0.15: ``googlenet(weights=None, init_weights=...)`` and ``GoogLeNet_Weights``
with ``meta["_ops"]``."""
FVCORE_NEEDED = (0, 1, 5)
TIMM_NEEDED = (0, 9)
"""timm >= 0.9: ``create_model(name, pretrained=False)`` and the ``ConvNormAct`` / ``BatchNormAct2d`` modules."""
MAC_OPERATORS = ("conv", "linear", "addmm", "matmul", "mm", "bmm", "einsum")
"""fvcore operators whose count is multiply-accumulates of weights (fvcore's "flops")."""


@dataclass(frozen=True)
class Unit:
    """One layer of the real network as a spec would write it, found by its module.

    A conv block (``conv`` + optional ``bn`` children, as the builder's ``ConvBlock`` and
    torchvision's ``BasicConv2d``) is one unit, like one spec conv. ``layer`` is None for a module
    the spec format has no word for; ``summary`` then names its class.
    """

    name: str
    layer: Layer | None
    summary: str
    in_shape: Shape
    out_shape: Shape
    weights: int
    params: int


@dataclass(frozen=True)
class ModuleCounts:
    """Everything counted on one real network, keyed by module name ("" is the whole network)."""

    source: str
    input: tuple[int, int, int]
    children: Mapping[str, tuple[str, ...]]
    out_shapes: Mapping[str, Shape]
    numel: Mapping[str, int]
    fvcore: Mapping[str, Mapping[str, int]]
    fvcore_unsupported: Mapping[str, Mapping[str, int]]
    flop_counter: Mapping[str, Mapping[str, int]]
    units: tuple[Unit, ...]
    versions: Mapping[str, str] = field(default_factory=dict)
    passive: frozenset[str] = frozenset()
    """Modules that cost nothing and that no spec layer is compared with: activations (timm's
    ``act``, Xception's ``act1``: ReLU is a function call in torchvision, a module in timm),
    ``Identity`` and ``Flatten``."""

    def fvcore_total(self, name: str) -> int:
        return sum(self.fvcore.get(name, {}).values())

    def fvcore_macs(self, name: str) -> int:
        """fvcore's conv and linear count: multiply-accumulates of weights."""
        ops = self.fvcore.get(name, {})
        return sum(ops.get(op, 0) for op in MAC_OPERATORS)

    def flop_counter_total(self, name: str) -> int:
        return sum(self.flop_counter.get(name, {}).values())

    def own_ops(self, name: str) -> dict[str, int]:
        """The ops ``name`` runs itself, not through a child module (function calls such as
        ``F.adaptive_avg_pool2d``), counted or unsupported, by fvcore's trace (names without ``aten::``)."""
        def ops(module: str) -> dict[str, int]:
            counts: dict[str, int] = {}
            for table in (self.fvcore.get(module, {}), self.fvcore_unsupported.get(module, {})):
                for op, n in table.items():
                    counts[op.removeprefix("aten::")] = counts.get(op.removeprefix("aten::"), 0) + n
            return counts

        own = ops(name)
        for child in self.children.get(name, ()):
            for op, n in ops(child).items():
                own[op] = own.get(op, 0) - n
        return {op: n for op, n in own.items() if n}


# ----------------------------------------------------------------------------- requirements


def version_tuple(text: str) -> tuple[int, ...]:
    """``"0.29.1+cu130"`` -> (0, 29, 1); ``"0.1.5.post20221221"`` -> (0, 1, 5): the leading release numbers."""
    import re

    match = re.match(r"\d+(\.\d+)*", text.strip())
    return tuple(int(n) for n in match.group(0).split(".")) if match else ()


def check_version(package: str, found: str, needed: tuple[int, ...], needed_by: str = "the check") -> None:
    """Raise CalcError when ``found`` is older than ``needed``, naming the package and version."""
    need = ".".join(map(str, needed))
    if version_tuple(found) < needed:
        raise CalcError(f"{package} {found} is too old: {needed_by} needs {package} >= {need}",
                        fix=f"pip install '{package}>={need}'")


def _require(package: str, needed: tuple[int, ...], needed_by: str = "the check") -> Any:
    """``package`` at ``needed`` or newer, or a CalcError naming the torch extra (missing) or the version (too old)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.jit")
        module = require(package, "torch", needed_by)
    found = getattr(module, "__version__", None)
    if found is None:  # fvcore keeps its version in the distribution metadata only
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version(package)
        except PackageNotFoundError:
            found = "0"
    check_version(package, found, needed, needed_by)
    return module


def require_torchvision(needed_by: str = "the check") -> Any:
    """torchvision, or a CalcError naming the package and the version ``needed_by`` needs."""
    return _require("torchvision", TORCHVISION_NEEDED, needed_by)


def require_fvcore() -> Any:
    return _require("fvcore", FVCORE_NEEDED)


def require_timm(needed_by: str = "the check") -> Any:
    """timm, or a CalcError naming the ``timm`` extra that installs it, or the version ``needed_by`` needs."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)
        module = require("timm", "timm", needed_by)
    check_version("timm", getattr(module, "__version__", "0"), TIMM_NEEDED, needed_by)
    return module


def torchvision_googlenet(aux_logits: bool = True, needed_by: str = "the check", num_classes: int = 1000) -> "nn.Module":
    """torchvision's ``googlenet``, with its auxiliary heads unless ``aux_logits`` is False, no
    weights (nothing is downloaded), and no weight initialisation (counts and timings do not
    depend on the values). A missing or too old torchvision is a CalcError naming ``needed_by``."""
    from inception_calc.pytorch.build import require_torch

    require_torch()
    torchvision = require_torchvision(needed_by)
    return torchvision.models.googlenet(weights=None, aux_logits=aux_logits, init_weights=False,
                                        num_classes=num_classes)


# ----------------------------------------------------------------------------- layers of modules


def layer_of_module(module: "nn.Module") -> Layer | None:
    """The spec layer a module is, as the first kind that recognises it says, or None.

    ReLU is a function call in both networks and not a module: a conv's ``relu`` is left at its
    default and not compared.
    """
    from inception_calc.pytorch.build import kit

    tools = kit()
    for kind in KINDS:
        layer = kind.recognise(module, tools)
        if layer is not None:
            return layer
    return None


def _has_own_parameters(module: "nn.Module") -> bool:
    """A module with parameters of its own is a layer, even when the spec has no word for it;
    parameter-free modules the spec has no word for (ReLU, Flatten) cost nothing and are skipped."""
    return any(True for _ in module.parameters(recurse=False))


# ----------------------------------------------------------------------------- counting


def count_module(model: "nn.Module", input: tuple[int, int, int], source: str,
                 versions: Mapping[str, str] | None = None) -> ModuleCounts:
    """Count ``model`` on one zero image of ``input`` ([C, H, W]) with every counter.

    The model's mode is restored afterwards. fvcore's warnings (unsupported ops, uncalled modules)
    and its logging are silenced for the call: the unsupported ops are returned instead.
    """
    from inception_calc.pytorch.build import require_torch

    torch = require_torch()
    require_fvcore()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.jit")
        from fvcore.nn import FlopCountAnalysis
        from torch.utils.flop_counter import FlopCounterMode

        modes = {m: m.training for m in model.modules()}
        model.eval()
        model.training = True  # the top module only: its forward then runs the auxiliary heads
        try:
            with torch.no_grad():
                # shapes and FlopCounterMode need no arithmetic: a copy on the meta device (shapes
                # only) saves a forward; fvcore's JIT trace needs real tensors
                shadow = copy.deepcopy(model).to("meta")
                units, out_shapes, flop_counter = _eager_pass(shadow, torch.zeros(1, *input, device="meta"),
                                                              FlopCounterMode)
                fvcore, unsupported = _fvcore_pass(model, torch.zeros(1, *input), FlopCountAnalysis)
        finally:
            for module, mode in modes.items():
                module.training = mode
    names = dict(model.named_modules())
    children = {name: tuple(f"{name}.{c}" if name else c for c, _ in module.named_children())
                for name, module in names.items()}
    numel = {name: sum(p.numel() for p in module.parameters()) for name, module in names.items()}
    passive = frozenset(name for name, module in names.items() if name and _is_passive(module))
    from importlib.metadata import version

    versions = {"torch": torch.__version__.split("+")[0], "fvcore": version("fvcore"), **(versions or {})}
    return ModuleCounts(source=source, input=tuple(input), children=children, out_shapes=out_shapes, numel=numel,
                        fvcore=fvcore, fvcore_unsupported=unsupported, flop_counter=flop_counter,
                        units=units, versions=versions, passive=passive)


PASSIVE = ("ReLU", "ReLU6", "LeakyReLU", "SiLU", "GELU", "Sigmoid", "Tanh", "Identity", "Flatten")
"""torch.nn classes that cost nothing here (no parameters, no MACs) and that no spec layer is compared with."""


def _is_passive(module: "nn.Module") -> bool:
    from torch import nn

    return isinstance(module, tuple(getattr(nn, name) for name in PASSIVE)) and not any(
        True for _ in module.parameters())


def _eager_pass(model: "nn.Module", x: Any, flop_counter_mode: Any) -> tuple[tuple[Unit, ...], dict, dict]:
    """One forward under FlopCounterMode with hooks: every module's output shape, and the layers
    (units) in call order with their input shapes."""
    unit_modules: dict[str, Any] = {}

    def find_units(module: "nn.Module", prefix: str) -> None:
        for name, child in module.named_children():
            full = f"{prefix}.{name}" if prefix else name
            if layer_of_module(child) is not None or _has_own_parameters(child):
                unit_modules[full] = child
            else:
                find_units(child, full)

    find_units(model, "")
    out_shapes: dict[str, Shape] = {}
    calls: list[tuple[str, Shape]] = []
    handles = []

    def record_output(name: str) -> Any:
        def hook(module: Any, inputs: Any, output: Any) -> None:
            if hasattr(output, "shape"):
                out_shapes[name] = tuple(int(d) for d in output.shape[1:])
        return hook

    def record_call(name: str) -> Any:
        def hook(module: Any, inputs: Any) -> None:
            first = inputs[0] if inputs else None
            calls.append((name, tuple(int(d) for d in first.shape[1:]) if hasattr(first, "shape") else ()))
        return hook

    for name, module in model.named_modules():
        if name:
            handles.append(module.register_forward_hook(record_output(name)))
        if name in unit_modules:
            handles.append(module.register_forward_pre_hook(record_call(name)))
    try:
        with flop_counter_mode(display=False) as counter:
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    prefix = f"{type(model).__name__}."
    flop_counter = {}
    for key, ops in counter.get_flop_counts().items():
        name = "" if key in ("Global", prefix[:-1]) else key.removeprefix(prefix)
        flop_counter[name] = {str(op): int(n) for op, n in ops.items()}
    units = []
    for name, in_shape in calls:
        module = unit_modules[name]
        layer = layer_of_module(module)
        weights = sum(p.numel() for n, p in module.named_parameters() if n.endswith("weight") and p.dim() > 1)
        units.append(Unit(name, layer, layer.summary if layer else type(module).__name__, in_shape,
                          out_shapes.get(name, ()), weights, sum(p.numel() for p in module.parameters())))
    return tuple(units), out_shapes, flop_counter


def _fvcore_pass(model: "nn.Module", x: Any, flop_count_analysis: Any) -> tuple[dict, dict]:
    """fvcore's counts by module and operator, and its unsupported ops by module, silently."""
    logger = logging.getLogger("fvcore")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        analysis = (flop_count_analysis(model, (x,)).unsupported_ops_warnings(False)
                    .uncalled_modules_warnings(False).tracer_warnings("none"))
        counts = {name: {op: int(n) for op, n in ops.items()}
                  for name, ops in analysis.by_module_and_operator().items()}
        unsupported = {name: {op: int(n) for op, n in analysis.unsupported_ops(name).items()} for name in counts}
    finally:
        logger.setLevel(level)
    return counts, unsupported
