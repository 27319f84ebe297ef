"""Run the popular counters on a real network, each the way its users call it, and keep plain numbers.

Each tool counts one forward pass of the network in eval mode (all of them but fvcore and
FlopCounterMode call ``model.eval()`` themselves; the other two get an eval-mode copy too, so that
every tool sees the same network: the auxiliary heads, which run only in training, are not run),
on one image of the given [C, H, W] input, on a deep copy of the network (ptflops adds methods and
hooks to the module it is given, thop adds ``total_ops`` buffers that it does not all remove). The
tools' printed output, warnings and logging are silenced.

========================  ===========================================================  ====================
counter                   its total                                                    per module
========================  ===========================================================  ====================
``fvcore``                ``FlopCountAnalysis(model, x).total()``                      ``by_module()``
``flopcounter``           ``FlopCounterMode.get_total_flops()``                        ``get_flop_counts()``
``ptflops``               ``get_model_complexity_info(..., as_strings=False)``         each module's
                          (pytorch backend, the default)                               ``__flops__``, summed
                                                                                       as ptflops prints it
``ptflops-aten``          the same, ``backend="aten"``                                 its per-module print
                                                                                       (top-level modules)
``thop``                  ``profile(model, (x,))[0]``                                  ``ret_layer_info``
``torchinfo``             ``summary(model, input_size, verbose=0).total_mult_adds``    each layer's ``macs``,
                                                                                       summed under its name
========================  ===========================================================  ====================

``by_module`` maps every module the tool reports on, by its qualified name ("" the whole network),
to what the tool attributes to it and its descendants. ptflops' pytorch backend counts the functions
it patches (``F.relu``, ``F.max_pool2d``...) in its total only, so there its modules add up to less
than the total.

torch and the tools are imported inside the functions, never by the analytic core.
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import re
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping

from inception_calc.core.errors import CalcError
from inception_calc.core.extras import require

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn

COUNTERS = ("fvcore", "flopcounter", "ptflops", "ptflops-aten", "thop", "torchinfo")
"""Every counter ``check --counters`` runs, by the name of its convention (core/conventions.py)."""

PACKAGES = {"fvcore": ("fvcore", "torch"), "flopcounter": ("torch", "torch"), "ptflops": ("ptflops", "counters"),
            "ptflops-aten": ("ptflops", "counters"), "thop": ("thop", "counters"), "torchinfo": ("torchinfo", "counters")}
"""Each counter's package and the extra that installs it."""


@dataclass(frozen=True)
class ToolCount:
    """One tool's count of one network: its name (the convention's), the package and its version,
    the tool's own total, and what it attributes to each module (qualified name -> count; "" the
    whole network). ``depth``: ``all`` when every module is reported, ``top`` when only the
    network's children are (ptflops' aten backend)."""

    tool: str
    package: str
    version: str
    total: int
    by_module: Mapping[str, int]
    depth: str = "all"


# ----------------------------------------------------------------------------- names and packages


def counter_names(text: "str | tuple[str, ...] | list[str]") -> tuple[str, ...]:
    """``"fvcore,thop"`` (or a sequence of names) -> ("fvcore", "thop"), each once, in the order given;
    a CalcError for an unknown or empty name, listing the known ones."""
    names = [n.strip() for n in text.split(",")] if isinstance(text, str) else [str(n).strip() for n in text]
    for name in names:
        if name not in COUNTERS:
            shown = f"unknown counter {name!r}" if name else "an empty counter name"
            raise CalcError(shown, where="counters", fix="give a comma-separated list of " + ", ".join(COUNTERS))
    return tuple(dict.fromkeys(names))


def package_version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package).split("+")[0]
    except PackageNotFoundError:  # pragma: no cover - an installed module with no distribution metadata
        return "unknown"


def require_counter(name: str) -> Any:
    """The package that runs counter ``name``, or a CalcError naming the extra that installs it."""
    package, extra = PACKAGES[name]
    with _quiet():
        return require(package, extra, f"check --counters {name}", where="counters")


# ----------------------------------------------------------------------------- running the tools


@contextlib.contextmanager
def _quiet() -> Any:
    """No printing, no warnings, no logging below ERROR from the tools while they run."""
    sink = io.StringIO()
    loggers = [logging.getLogger(n) for n in ("fvcore", "ptflops", "thop", "torchinfo")]
    levels = [lg.level for lg in loggers]
    root = logging.getLogger()
    root_level = root.level
    for lg in (*loggers, root):
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            warnings.simplefilter("ignore")
            yield sink
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
        root.setLevel(root_level)


def _eval_copy(model: "nn.Module") -> "nn.Module":
    clone = copy.deepcopy(model)
    clone.eval()
    return clone


def _summed(model: "nn.Module", leaf: Callable[[str, "nn.Module"], int | None]) -> dict[str, int]:
    """Every module's count: ``leaf(name, module)`` where it gives one, else the sum of its children's."""
    counts: dict[str, int] = {}

    def visit(name: str, module: "nn.Module") -> int:
        own = leaf(name, module)
        if own is None:
            own = sum(visit(f"{name}.{c}" if name else c, child) for c, child in module.named_children())
        counts[name] = int(own)
        return int(own)

    visit("", model)
    return counts


def _fvcore(model: "nn.Module", x: Any) -> tuple[int, dict[str, int], str]:
    from fvcore.nn import FlopCountAnalysis

    analysis = (FlopCountAnalysis(model, (x,)).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
                .tracer_warnings("none"))
    by_module = {name: int(n) for name, n in analysis.by_module().items()}
    return int(analysis.total()), by_module, "all"


def _flopcounter(model: "nn.Module", x: Any) -> tuple[int, dict[str, int], str]:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:  # shapes are all it reads: on the meta device, no arithmetic
        model.to("meta")(x.to("meta"))
    prefix = type(model).__name__
    counted = {"" if key in ("Global", prefix) else key.removeprefix(prefix + "."): sum(ops.values())
               for key, ops in counter.get_flop_counts().items()}
    by_module = {name: int(counted.get(name, 0)) for name, _ in model.named_modules()}
    return int(counter.get_total_flops()), by_module, "all"


def _ptflops(model: "nn.Module", x: Any) -> tuple[int, dict[str, int], str]:
    from ptflops import get_model_complexity_info

    snapshot: dict[str, int] = {}

    def read(module: Any, inputs: Any, output: Any) -> None:  # the top module's forward ends after every child's
        snapshot.update(_summed(model, lambda name, m: m.__flops__ if hasattr(m, "__flops__") else None))

    handle = model.register_forward_hook(read)  # before ptflops' own: the counts are read before it resets them
    try:
        total, _ = get_model_complexity_info(model, tuple(x.shape[1:]), as_strings=False, print_per_layer_stat=False,
                                             verbose=False, backend="pytorch", ost=io.StringIO())
    finally:
        handle.remove()
    if total is None:
        raise RuntimeError("ptflops could not count the network")
    return int(total), snapshot, "all"


MODULE_LINE = re.compile(r"^Module:\s+(\S+)\s*$")
OP_LINE = re.compile(r"^\S+: (\d+) Mac$")


def _ptflops_aten(model: "nn.Module", x: Any) -> tuple[int, dict[str, int], str]:
    """ptflops' aten backend keeps its per-module counts (its children only) to the table it prints:
    read from that print, in exact units ("Mac")."""
    from ptflops import get_model_complexity_info

    printed = io.StringIO()
    total, _ = get_model_complexity_info(model, tuple(x.shape[1:]), as_strings=False, print_per_layer_stat=True,
                                         verbose=False, backend="aten", ost=printed, flops_units="Mac")
    if total is None:
        raise RuntimeError("ptflops (aten) could not count the network")
    by_module = {name: 0 for name, _ in model.named_children()}
    module = None
    for line in printed.getvalue().splitlines():
        head, op = MODULE_LINE.match(line), OP_LINE.match(line)
        if head:
            module = "" if head.group(1) == "Global" else head.group(1)
            by_module[module] = 0
        elif op and module is not None:
            by_module[module] += int(op.group(1))
    return int(total), by_module, "top"


def _thop(model: "nn.Module", x: Any) -> tuple[int, dict[str, int], str]:
    from thop import profile

    total, _, layers = profile(model, inputs=(x,), verbose=False, ret_layer_info=True)
    by_module = {"": int(total)}

    def visit(prefix: str, table: Mapping[str, Any]) -> None:
        for name, (ops, _params, below) in table.items():
            full = f"{prefix}.{name}" if prefix else name
            by_module[full] = int(ops)
            visit(full, below)

    visit("", layers)
    return int(total), by_module, "all"


def _torchinfo(model: "nn.Module", x: Any) -> tuple[int, dict[str, int], str]:
    from torchinfo import summary

    stats = summary(model, input_size=tuple(x.shape), verbose=0, device=x.device, mode="eval")
    leaves: dict[str, int] = {}
    for info in stats.summary_list:
        if info.depth == 0 or not info.is_leaf_layer:
            continue
        parts, node = [], info
        while node is not None and node.depth > 0:
            parts.append(node.var_name)
            node = node.parent_info
        name = ".".join(reversed(parts))
        leaves[name] = leaves.get(name, 0) + int(info.macs)
    by_module = _summed(model, lambda name, m: leaves.get(name, 0) if not any(m.children()) else None)
    return int(stats.total_mult_adds), by_module, "all"


RUNNERS: dict[str, Callable[["nn.Module", Any], tuple[int, dict[str, int], str]]] = {
    "fvcore": _fvcore, "flopcounter": _flopcounter, "ptflops": _ptflops, "ptflops-aten": _ptflops_aten,
    "thop": _thop, "torchinfo": _torchinfo}


def count_with(model: "nn.Module", input: tuple[int, int, int], name: str) -> ToolCount:
    """Counter ``name`` run on an eval-mode deep copy of ``model`` at one zero image of ``input``
    ([C, H, W]); ``model`` itself is left as it was."""
    (name,) = counter_names((name,))
    require_counter(name)
    from inception_calc.pytorch.build import require_torch

    torch = require_torch()
    package = PACKAGES[name][0]
    clone = _eval_copy(model)
    with _quiet(), torch.no_grad():
        total, by_module, depth = RUNNERS[name](clone, torch.zeros(1, *input))
    return ToolCount(name, package, package_version(package), total, by_module, depth)


def count_tools(model: "nn.Module", input: tuple[int, int, int],
                names: "str | tuple[str, ...]") -> tuple[ToolCount, ...]:
    """Every counter of ``names`` run on ``model`` at ``input``, in that order (:func:`count_with`);
    every package is checked before any tool runs."""
    names = counter_names(names)
    for name in names:
        require_counter(name)
    return tuple(count_with(model, input, name) for name in names)
