"""Timed forward passes of the real network, joined by name to the analytic cost.

``bench(spec, ...)`` builds the network (``build(spec)``, or torchvision's own module for a name in
:data:`TORCHVISION_MODELS`), runs it on random inputs and times it; every figure it derives comes
from the analysis (FLOPs = 2 x MACs of conv and linear layers, per image) and the measured time.

Method (docs/bench.md has it in full):

* ``model.eval()`` under ``torch.inference_mode()``; random normal inputs; cuDNN autotuning on
  (``torch.backends.cudnn.benchmark = True``), done during the warm-up, as is compilation.
* Warm-up: ``warmup`` calls that are not timed (for ``--compile`` the first call compiles and is
  reported apart as ``compile_s``; for ``--cuda-graphs`` the warm-up runs before the capture).
* Timing: ``repeats`` samples, each of ``iters`` back-to-back calls between two CUDA events (on
  the CPU a ``time.perf_counter`` pair), divided by ``iters``; the median and the 10th and 90th
  percentiles (:mod:`inception_calc.bench.timing`).
* Per layer: one forward pass with forward pre-hooks records each row's (or branch's) real input;
  then each row module is timed alone on that input, under the same rules, its samples
  interleaved with the whole forward's (round r takes sample r of the whole and of every row), so
  that a slow spell of the machine falls on all alike. The rows' times add up to the whole
  forward within :data:`SUM_TOLERANCE` (the rest is the launch gaps between rows, the flatten
  before ``fc``, and cache effects: a row timed alone finds its input in cache).

Data types (:mod:`inception_calc.bench.timing`): ``fp32`` is IEEE fp32 (TF32 off, also for cuDNN
convolutions), ``tf32`` turns TF32 on, ``bf16``/``fp16`` cast the model and the input.
"""

from __future__ import annotations

import gc
import time
from typing import TYPE_CHECKING, Any, Callable

from inception_calc.bench import roofline as rf
from inception_calc.bench.results import SUM_TOLERANCE, BenchResult, LayerTime, Run
from inception_calc.bench.settings import Settings, parse_batches, parse_dtypes
from inception_calc.pytorch.build import build, require_buildable, require_torch
from inception_calc.pytorch.counters import require_torchvision, torchvision_googlenet
from inception_calc.core.engine import analyze
from inception_calc.core.errors import CalcError
from inception_calc.core.network import collapsed
from inception_calc.core.results import Analysis, Cost
from inception_calc.bench.timing import (
    Timing, calibrate, ceilings_for, check_device, compile_unavailable, device_info, interleaved, precision, sync,
    torch_dtype,
)

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn

__all__ = ["SUM_TOLERANCE", "TORCHVISION_MODELS", "BenchResult", "LayerTime", "Run", "Settings", "bench", "calibrate",
           "parse_batches", "parse_dtypes", "precision"]

FORWARD = "(forward)"  # the whole network's key among the timed calls; no row name has parentheses


def _torchvision_googlenet() -> "nn.Module":
    """torchvision's googlenet as timed: no auxiliary heads (eval mode would skip them anyway)."""
    return torchvision_googlenet(aux_logits=False, needed_by="bench googlenet-torchvision")


TORCHVISION_MODELS: dict[str, Callable[[], "nn.Module"]] = {
    "googlenet-torchvision": _torchvision_googlenet,
}
"""Spec names timed on torchvision's own module rather than the built one: the spec of the same
name describes it, and its row and branch names are the module's (conv1 ... inception3a.branch2 ... fc)."""


# ----------------------------------------------------------------------------- the network


def network_module(spec: str | Any, analysis: Analysis) -> tuple["nn.Module", str]:
    """The module to time and a word on where it comes from: torchvision's own for a name in
    :data:`TORCHVISION_MODELS`, else the spec built by :func:`inception_calc.pytorch.build.build`."""
    if isinstance(spec, str) and spec in TORCHVISION_MODELS:
        return TORCHVISION_MODELS[spec](), f"torchvision.models.{spec.split('-')[0]}"
    return build(analysis.network, analysis.input), "inception_calc.pytorch.build"


def timed_nodes(analysis: Analysis, depth: str) -> list[Cost]:
    """The nodes timed one by one: every main row, and at depth ``branch`` every branch that is a
    module of its own too (a branch with ``module = false`` only groups layers that its row calls
    one by one, and an identity branch runs nothing: neither can be timed alone)."""
    grouping = {f"{row.name}.{b.name}" for row in analysis.network.rows if row.layout in ("concat", "add")
                for b in row.branches if not b.module and not collapsed(b)}
    return [node for row in analysis.shown_rows(aux=False) for node in row.walk(depth)
            if node.level == "layer" or node.name not in grouping]


def _submodules(model: "nn.Module", nodes: list[Cost]) -> dict[str, "nn.Module"]:
    found = {}
    for node in nodes:
        try:
            found[node.name] = model.get_submodule(node.name)
        except AttributeError:
            raise CalcError(f"the module has no submodule named {node.name!r} to time",
                            where=f"{node.level} '{node.name}'",
                            fix="time a module whose children carry the analysis's row and branch names") from None
    return found


def _capture_inputs(model: "nn.Module", modules: dict[str, "nn.Module"], x: Any) -> dict[str, tuple]:
    """Each module's positional inputs on one forward pass of ``model``, by forward pre-hooks."""
    captured: dict[str, tuple] = {}

    def hook(name: str) -> Callable:
        def record(module: Any, args: tuple) -> None:
            captured.setdefault(name, args)
        return record

    handles = [module.register_forward_pre_hook(hook(name)) for name, module in modules.items()]
    try:
        model(x)
    finally:
        for handle in handles:
            handle.remove()
    missing = [name for name in modules if name not in captured]
    if missing:
        raise CalcError(f"the forward pass never called {', '.join(missing)}",
                        fix="time a module whose forward runs every row the analysis lists")
    return captured


def _layer_calls(model: "nn.Module", x: Any, nodes: list[Cost]) -> dict[str, Callable[[], Any]]:
    """Each timed node's module called alone on the input it received in one forward pass."""
    modules = _submodules(model, nodes)
    inputs = _capture_inputs(model, modules, x)
    return {node.name: (lambda m=modules[node.name], a=inputs[node.name]: m(*a)) for node in nodes}


def _layer_times(nodes: list[Cost], timings: dict[str, Timing], dtype: str, batch: int,
                 ceilings: rf.Ceilings) -> tuple[LayerTime, ...]:
    """Each node's timing beside its analytic FLOPs and bytes for the batch, and its roofline."""
    row_sum = sum(timings[n.name].median_ms for n in nodes if n.level == "layer")
    peak, bandwidth = ceilings.peak(dtype), ceilings.bandwidth_tbs
    layers = []
    for node in nodes:
        timing = timings[node.name]
        flops = node.flops * batch
        in_elements = node.in_shape[0] * node.in_shape[1] * node.in_shape[2]
        nbytes = rf.bytes_moved(in_elements, node.activations, node.params, batch, rf.DTYPE_BYTES[dtype])
        inten = rf.intensity(flops, nbytes)
        bound = bound_ms = None
        if peak and bandwidth:
            bound = rf.roofline_bound(inten, peak, bandwidth)
            bound_ms = rf.roofline_seconds(flops, nbytes, peak, bandwidth) * 1e3
        layers.append(LayerTime(
            name=node.name, level=node.level, timing=timing, flops=flops, bytes=nbytes,
            share=timing.median_ms / row_sum, achieved_tflops=rf.achieved_tflops(flops, timing.median_ms / 1e3),
            intensity=inten, bound_tflops=bound, bound_ms=bound_ms,
            fraction_of_bound=None if bound_ms is None else bound_ms / timing.median_ms))
    return tuple(layers)


# ----------------------------------------------------------------------------- the sweep


def _release(torch: Any, device: str) -> None:
    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()


def _failure(run: dict[str, Any], status: str, exc: BaseException) -> Run:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return Run(**run, status=status, error=f"{type(exc).__name__}: {text[:300]}")


def _one_run(torch: Any, model: "nn.Module", analysis: Analysis, settings: Settings, dtype: str, batch: int,
             ceilings: rf.Ceilings, nodes: list[Cost]) -> Run:
    base = dict(batch=batch, dtype=dtype, channels_last=settings.channels_last, compiled=settings.compile,
                cuda_graphs=settings.cuda_graphs)
    x = None
    try:
        x = torch.randn(batch, *analysis.input, device=settings.device, dtype=torch_dtype(torch, dtype))
        if settings.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        compile_s = None
        forward = model
        if settings.compile:
            import torch._dynamo

            torch._dynamo.reset()  # compile afresh for this batch: compile_s is this run's own
            forward = torch.compile(model, dynamic=False)
            sync(torch, settings.device)
            begin = time.perf_counter()
            forward(x)
            sync(torch, settings.device)
            compile_s = time.perf_counter() - begin
        calls = {FORWARD: lambda: forward(x)}
        if settings.layers:
            calls.update(_layer_calls(model, x, nodes))
        timings = interleaved(torch, settings, calls)
        del calls
        timing = timings.pop(FORWARD)
        seconds = timing.median_ms / 1e3
        flops = 2 * analysis.totals.inference.macs * batch
        achieved = rf.achieved_tflops(flops, seconds)
        layers: tuple[LayerTime, ...] = ()
        layer_sum = bound_ms = None
        if settings.layers:
            layers = _layer_times(nodes, timings, dtype, batch, ceilings)
            rows = [layer for layer in layers if layer.level == "layer"]
            layer_sum = sum(layer.median_ms for layer in rows)
            if all(layer.bound_ms is not None for layer in rows):
                bound_ms = sum(layer.bound_ms for layer in rows)  # type: ignore[misc]
        return Run(**base, timing=timing, images_per_s=rf.images_per_second(batch, seconds), achieved_tflops=achieved,
                   fraction_of_peak=rf.fraction(achieved, ceilings.peak(dtype)), compile_s=compile_s, layers=layers,
                   layers_eager=settings.compile and bool(layers), layer_sum_ms=layer_sum, bound_ms=bound_ms,
                   fraction_of_bound=None if bound_ms is None else bound_ms / timing.median_ms)
    except torch.cuda.OutOfMemoryError as exc:
        return _failure(base, "out of memory", exc)
    except RuntimeError as exc:  # a kernel, compiler or capture failure: reported for this run, the sweep goes on
        if settings.device == "cpu" and "can't allocate memory" in str(exc):
            return _failure(base, "out of memory", exc)
        return _failure(base, "failed", exc)
    finally:
        del x
        _release(torch, settings.device)


def _sweep(torch: Any, spec: Any, analysis: Analysis, settings: Settings, ceilings: rf.Ceilings, nodes: list[Cost],
           say: Callable[[str], None]) -> tuple[list[Run], str]:
    """Every dtype x batch run, the model built once per dtype; and where the module came from."""
    runs: list[Run] = []
    total = len(settings.dtypes) * len(settings.batches)
    module_source = ""
    with torch.inference_mode():
        for dtype in settings.dtypes:
            with precision(dtype):
                model, module_source = network_module(spec, analysis)
                model = model.eval().to(device=settings.device, dtype=torch_dtype(torch, dtype))
                if settings.channels_last:
                    model = model.to(memory_format=torch.channels_last)
                for batch in settings.batches:
                    label = f"run {len(runs) + 1}/{total}: batch {batch} {dtype}"
                    say(f"{label} ...")
                    run = _one_run(torch, model, analysis, settings, dtype, batch, ceilings, nodes)
                    runs.append(run)
                    say(f"{label}: {run.status}" + (f", {run.median_ms:.3f} ms" if run.timing else f" ({run.error})"))
                del model
                _release(torch, settings.device)
    return runs, module_source


def bench(spec: Any = "googlenet", input: Any = None, settings: Settings | None = None,
          progress: Callable[[str], None] | None = None) -> BenchResult:
    """Time ``spec`` (a built-in name, a file, a Network; ``googlenet-torchvision`` times
    torchvision's module) at ``input`` for every batch and dtype of ``settings``.

    A run that runs out of memory or fails is reported with its status and the sweep goes on.
    Raises CalcError for settings no run could use (unknown dtype, no CUDA, compile unavailable).

    Global state: torch's RNG state (CPU, and the CUDA device's) and its precision and
    ``cudnn.benchmark`` settings are the same afterwards. With ``settings.compile`` each run calls
    ``torch._dynamo.reset()`` before compiling (so that its ``compile_s`` is its own): that also
    drops every compiled graph the caller's process held, which recompile on their next call.
    """
    settings = settings or Settings()
    settings.check()
    analysis = analyze(spec, input)  # a bad spec fails in milliseconds, before torch is imported
    require_buildable(analysis)
    torch = require_torch()
    check_device(settings.device, where="settings.device")
    if settings.compile:
        why = compile_unavailable(settings.device)
        if why:
            raise CalcError(why, where="settings.compile", fix="time without compiling, or install what it names")
    if isinstance(spec, str) and spec in TORCHVISION_MODELS:
        require_torchvision(f"bench {spec}")  # a missing package: before calibrating or timing
    from inception_calc.pytorch.memory import require_memory

    require_memory(analysis, 0, max(rf.DTYPE_BYTES[d] for d in settings.dtypes), settings.device, where=analysis.spec)
    for batch in settings.batches:  # before any timing, and before torch allocates terabytes
        require_memory(analysis, batch, max(rf.DTYPE_BYTES[d] for d in settings.dtypes), settings.device,
                       where="settings.batches")
    nodes = timed_nodes(analysis, settings.depth)
    say = progress or (lambda text: None)
    if settings.calibrate:
        say("calibrating: matrix product per dtype and device copy")
    # random inputs, weights and calibration matrices are drawn from a fork of torch's RNG (the CPU's, and the
    # current CUDA device's): the caller's random stream is the same afterwards
    rng_devices = [torch.cuda.current_device()] if settings.device == "cuda" else []
    with torch.random.fork_rng(devices=rng_devices):
        ceilings = ceilings_for(settings.device, settings.dtypes, settings.calibrate, settings)
        runs, module_source = _sweep(torch, spec, analysis, settings, ceilings, nodes, say)
    return BenchResult(analysis.spec, analysis.input, module_source, device_info(settings.device), ceilings, settings,
                       analysis.totals.inference.macs, tuple(runs), analysis)
