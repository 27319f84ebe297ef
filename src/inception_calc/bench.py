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
  the CPU a ``time.perf_counter`` pair; CPU work is synchronous), divided by ``iters``. Figures
  are the median over the samples and their 10th and 90th percentiles.
* Per layer: one forward pass with forward pre-hooks records each row's (or branch's) real input;
  then each row module is timed alone on that input, under the same rules, its samples
  interleaved with the whole forward's (round r takes sample r of the whole and of every row), so
  that a slow spell of the machine falls on all alike. The rows' times add up to the whole
  forward within :data:`SUM_TOLERANCE` (the rest is the launch gaps between rows, the flatten
  before ``fc``, and cache effects: a row timed alone finds its input in cache).

Data types: ``fp32`` is IEEE single precision everywhere: TF32 off for matrix products and for
cuDNN convolutions (PyTorch allows TF32 in cuDNN convolutions by default, so a plain default run
is "tf32" for its convolutions). ``tf32``: fp32 tensors, TF32 tensor cores on for both. ``bf16``
and ``fp16``: the model's parameters and the input cast to that type (no autocast), so every
layer reads and writes 2-byte elements. The global flags are restored afterwards.
"""

from __future__ import annotations

import gc
import math
import platform
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from . import roofline as rf
from .build import build, require_torch
from .engine import analyze
from .errors import CalcError
from .results import Analysis, Cost

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from torch import nn

DEVICES = ("cuda", "cpu")
DEPTHS = ("layer", "branch")
STATUSES = ("ok", "out of memory", "failed")

SUM_TOLERANCE = 0.15
"""The rows' times, each timed alone, add up to the whole forward within this relative tolerance."""

TARGET_SAMPLE_MS = {"cuda": 20.0, "cpu": 100.0}
"""With ``iters`` unset, each timed sample lasts about this long: iters = ceil(target / one call)."""
MAX_ITERS = 1000
DEFAULT_WARMUP = 5
DEFAULT_REPEATS = 10
FORWARD = "(forward)"  # the whole network's key among the timed calls; no row name has parentheses

CALIBRATION = {"cuda": (8192, 1 << 30), "cpu": (1024, 1 << 26)}
"""--calibrate sizes: an n x n by n x n matrix product per dtype, and a copy of this many bytes."""


def _torchvision_googlenet() -> "nn.Module":
    import torchvision

    return torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False)


TORCHVISION_MODELS: dict[str, Callable[[], "nn.Module"]] = {
    "googlenet-torchvision": _torchvision_googlenet,
}
"""Spec names timed on torchvision's own module rather than the built one: the spec of the same
name describes it, and its row and branch names are the module's (conv1 ... inception3a.branch2 ... fc)."""


# ----------------------------------------------------------------------------- settings


def parse_batches(text: str, where: str = "--batch") -> tuple[int, ...]:
    """``"1,32,256"`` -> (1, 32, 256); every batch a positive integer."""
    fix = "give positive integers separated by commas, e.g. --batch 1,32,256"
    parts = [p.strip() for p in str(text).split(",")]
    batches = []
    for part in parts:
        try:
            value = int(part)
        except ValueError:
            raise CalcError(f"cannot read batch size {part!r}", where=where, fix=fix) from None
        if value <= 0:
            raise CalcError(f"batch size {value} must be at least 1", where=where, fix=fix)
        batches.append(value)
    return tuple(batches)


def parse_dtypes(text: str, where: str = "--dtype") -> tuple[str, ...]:
    """``"fp32,bf16"`` -> ("fp32", "bf16"); each one of :data:`roofline.DTYPES`."""
    dtypes = tuple(p.strip().lower() for p in str(text).split(","))
    for dtype in dtypes:
        if dtype not in rf.DTYPES:
            raise CalcError(f"unknown data type {dtype!r}", where=where, fix=f"use one or more of {', '.join(rf.DTYPES)}")
    return dtypes


@dataclass(frozen=True)
class Settings:
    """What to run: every batch x every dtype, in one layout and one mode."""

    device: str = "cuda"
    batches: tuple[int, ...] = (1,)
    dtypes: tuple[str, ...] = ("fp32",)
    channels_last: bool = False
    compile: bool = False
    cuda_graphs: bool = False
    iters: int | None = None  # None: chosen per module so that a sample lasts TARGET_SAMPLE_MS
    warmup: int = DEFAULT_WARMUP
    repeats: int = DEFAULT_REPEATS
    depth: str = "layer"
    layers: bool = True
    calibrate: bool = False

    def check(self) -> None:
        """Raise CalcError for a setting no run could use, naming the flag and the fix."""
        if self.device not in DEVICES:
            raise CalcError(f"unknown device {self.device!r}", where="--device", fix="use --device cuda or --device cpu")
        if not self.batches:
            raise CalcError("no batch size given", where="--batch", fix="e.g. --batch 1,32,256")
        for batch in self.batches:
            if isinstance(batch, bool) or not isinstance(batch, int) or batch <= 0:
                raise CalcError(f"batch size {batch!r} must be a positive integer", where="--batch",
                                fix="e.g. --batch 1,32,256")
        if not self.dtypes:
            raise CalcError("no data type given", where="--dtype", fix=f"use one or more of {', '.join(rf.DTYPES)}")
        for dtype in self.dtypes:
            if dtype not in rf.DTYPES:
                raise CalcError(f"unknown data type {dtype!r}", where="--dtype",
                                fix=f"use one or more of {', '.join(rf.DTYPES)}")
        if self.device == "cpu" and "tf32" in self.dtypes:
            raise CalcError("tf32 is a CUDA tensor-core mode and has no meaning on the CPU", where="--dtype tf32",
                            fix="use fp32 with --device cpu, or --device cuda")
        if self.cuda_graphs and self.device != "cuda":
            raise CalcError("CUDA graphs need a CUDA device", where="--cuda-graphs", fix="add --device cuda, or drop --cuda-graphs")
        if self.cuda_graphs and self.compile:
            raise CalcError("--compile and --cuda-graphs cannot be combined here", where="--cuda-graphs",
                            fix="time them in separate runs (torch.compile's mode='reduce-overhead' is its own use of CUDA graphs)")
        for name, value, least in (("--iters", self.iters, 1), ("--warmup", self.warmup, 0), ("--repeats", self.repeats, 1)):
            if value is None and name == "--iters":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise CalcError(f"{value!r} must be an integer of at least {least}", where=name)
        if self.depth not in DEPTHS:
            raise CalcError(f"unknown depth {self.depth!r}", where="--depth", fix=f"use {' or '.join(DEPTHS)}")


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Timing:
    """Milliseconds per call: the median and the 10th/90th percentiles of ``samples_ms``, each
    sample the mean of ``iters`` back-to-back calls."""

    median_ms: float
    p10_ms: float
    p90_ms: float
    iters: int
    samples_ms: tuple[float, ...]

    @classmethod
    def of(cls, samples_ms: Sequence[float], iters: int) -> "Timing":
        samples = tuple(samples_ms)
        return cls(rf.median(samples), rf.percentile(samples, 10), rf.percentile(samples, 90), iters, samples)


@dataclass(frozen=True)
class LayerTime:
    """One row (or branch) timed alone on its real input, beside its analytic cost for the batch.

    ``flops`` = 2 x MACs x batch; ``bytes`` = (batch x (input + output elements) + params) x
    element size; ``intensity`` = flops / bytes; ``bound_tflops`` = min(peak, intensity x
    bandwidth); ``bound_ms`` = max(flops / peak, bytes / bandwidth), the least time the roofline
    allows; ``fraction_of_bound`` = bound_ms / median_ms (= achieved / bound when flops > 0).
    """

    name: str
    level: str
    timing: Timing
    flops: int
    bytes: int
    share: float
    achieved_tflops: float
    intensity: float
    bound_tflops: float | None
    bound_ms: float | None
    fraction_of_bound: float | None

    @property
    def median_ms(self) -> float:
        return self.timing.median_ms

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "level": self.level, "median_ms": self.timing.median_ms,
            "p10_ms": self.timing.p10_ms, "p90_ms": self.timing.p90_ms, "iters": self.timing.iters,
            "share": self.share, "flops": self.flops, "bytes": self.bytes,
            "achieved_tflops": self.achieved_tflops, "intensity": self.intensity,
            "bound_tflops": self.bound_tflops, "bound_ms": self.bound_ms,
            "fraction_of_bound": self.fraction_of_bound,
        }


@dataclass(frozen=True)
class Run:
    """One batch size in one data type, layout and mode: the whole forward, and its rows.

    ``achieved_tflops`` = flops_per_image x batch / median time / 1e12; ``fraction_of_peak`` =
    achieved / the dtype's peak; ``layer_sum_ms`` the rows' times added up; ``bound_ms`` the rows'
    roofline times added up, and ``fraction_of_bound`` = bound_ms / median_ms.
    """

    batch: int
    dtype: str
    channels_last: bool
    compiled: bool
    cuda_graphs: bool
    status: str = "ok"
    error: str = ""
    timing: Timing | None = None
    images_per_s: float | None = None
    achieved_tflops: float | None = None
    fraction_of_peak: float | None = None
    compile_s: float | None = None
    layers: tuple[LayerTime, ...] = ()
    layers_eager: bool = False
    layer_sum_ms: float | None = None
    bound_ms: float | None = None
    fraction_of_bound: float | None = None

    @property
    def median_ms(self) -> float | None:
        return self.timing.median_ms if self.timing else None

    @property
    def config(self) -> str:
        """``bf16 NHWC compiled``: the data type, memory layout and mode, in words."""
        mode = "compiled" if self.compiled else "cuda-graphs" if self.cuda_graphs else "eager"
        return f"{self.dtype} {'NHWC' if self.channels_last else 'NCHW'} {mode}"

    def to_dict(self) -> dict[str, Any]:
        t = self.timing
        return {
            "batch": self.batch, "dtype": self.dtype, "channels_last": self.channels_last,
            "compiled": self.compiled, "cuda_graphs": self.cuda_graphs, "status": self.status,
            "error": self.error, "median_ms": t.median_ms if t else None, "p10_ms": t.p10_ms if t else None,
            "p90_ms": t.p90_ms if t else None, "iters": t.iters if t else None,
            "samples_ms": list(t.samples_ms) if t else [], "images_per_s": self.images_per_s,
            "achieved_tflops": self.achieved_tflops, "fraction_of_peak": self.fraction_of_peak,
            "compile_s": self.compile_s, "layers_eager": self.layers_eager,
            "layer_sum_ms": self.layer_sum_ms, "bound_ms": self.bound_ms,
            "fraction_of_bound": self.fraction_of_bound, "layers": [layer.to_dict() for layer in self.layers],
        }


@dataclass(frozen=True)
class BenchResult:
    """Every run of a sweep, with what it ran on and the ceilings its fractions use."""

    spec: str
    input: tuple[int, int, int]
    module: str
    device: dict[str, Any]
    ceilings: rf.Ceilings
    settings: Settings
    macs_per_image: int
    runs: tuple[Run, ...]
    analysis: Analysis = field(repr=False, compare=False)

    @property
    def flops_per_image(self) -> int:
        return 2 * self.macs_per_image

    def to_dict(self) -> dict[str, Any]:
        s = self.settings
        return {
            "spec": self.spec,
            "input": list(self.input),
            "module": self.module,
            "device": self.device,
            "peak": {"source": self.ceilings.source, "name": self.ceilings.name,
                     "tflops": dict(self.ceilings.tflops), "bandwidth_tbs": self.ceilings.bandwidth_tbs},
            "settings": {"device": s.device, "batches": list(s.batches), "dtypes": list(s.dtypes),
                         "channels_last": s.channels_last, "compile": s.compile, "cuda_graphs": s.cuda_graphs,
                         "iters": s.iters, "warmup": s.warmup, "repeats": s.repeats, "depth": s.depth,
                         "layers": s.layers, "calibrate": s.calibrate},
            "macs_per_image": self.macs_per_image,
            "flops_per_image": self.flops_per_image,
            "sum_tolerance": SUM_TOLERANCE,
            "runs": [run.to_dict() for run in self.runs],
        }


# ----------------------------------------------------------------------------- torch plumbing


def _torch_dtype(torch: Any, dtype: str) -> Any:
    return {"fp32": torch.float32, "tf32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[dtype]


@contextmanager
def precision(dtype: str) -> Iterator[None]:
    """TF32 on for ``tf32`` and off for every other type (``fp32`` is then IEEE fp32), cuDNN
    autotuning on; the three global flags put back as they were on the way out."""
    torch = require_torch()
    cuda, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
    saved = (cuda.allow_tf32, cudnn.allow_tf32, cudnn.benchmark)
    cuda.allow_tf32 = cudnn.allow_tf32 = dtype == "tf32"
    cudnn.benchmark = True
    try:
        yield
    finally:
        cuda.allow_tf32, cudnn.allow_tf32, cudnn.benchmark = saved


def check_device(device: str) -> None:
    """CalcError unless ``device`` can run here."""
    torch = require_torch()
    if device == "cuda" and not torch.cuda.is_available():
        built = f"built for CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
        raise CalcError(f"CUDA is not available here (torch {torch.__version__}, {built}, no GPU visible)",
                        where="--device cuda", fix="run on a machine with an NVIDIA GPU, or time on the CPU with --device cpu")


def compile_unavailable(device: str) -> str | None:
    """Why torch.compile cannot run on ``device`` here, or None when it can: its default backend
    (Inductor) needs Triton for CUDA kernels and a C++ compiler for CPU kernels."""
    import shutil

    torch = require_torch()
    if not hasattr(torch, "compile"):
        return f"torch {torch.__version__} has no torch.compile (it needs torch 2.0 or later)"
    if device == "cuda":
        try:
            import triton  # noqa: F401
        except ImportError:
            return "torch.compile on CUDA needs Triton, which is not installed"
        return None
    from torch._inductor import config

    cxx = config.cpp.cxx
    names = [c for c in (cxx if isinstance(cxx, (tuple, list)) else (cxx,)) if c]
    if not any(shutil.which(name) for name in names):
        return f"torch.compile on the CPU needs a C++ compiler, and none of {', '.join(names) or '(none)'} was found"
    return None


def device_info(device: str) -> dict[str, Any]:
    """What the run ran on, for the record: device name, torch, CUDA and cuDNN versions."""
    torch = require_torch()
    info: dict[str, Any] = {"type": device, "torch": torch.__version__}
    if device == "cuda":
        index = torch.cuda.current_device()
        major, minor = torch.cuda.get_device_capability(index)
        info.update(name=torch.cuda.get_device_name(index), capability=f"{major}.{minor}",
                    cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version())
    else:
        info.update(name=_cpu_name(), threads=torch.get_num_threads())
    return info


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _sync(torch: Any, device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _sample(torch: Any, device: str, call: Callable[[], Any], iters: int) -> float:
    """Milliseconds per call over ``iters`` back-to-back calls: between two CUDA events on the
    GPU (waiting for the end event), between two perf_counter reads on the CPU."""
    if device == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(iters):
            call()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / iters
    begin = time.perf_counter()
    for _ in range(iters):
        call()
    return (time.perf_counter() - begin) * 1e3 / iters


def _graphed(torch: Any, call: Callable[[], Any], warmup: int) -> Callable[[], Any]:
    """``call`` captured in a CUDA graph after ``warmup`` (at least one) eager calls on a side
    stream; the graph replays the same kernels on the same (static) input buffers."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(max(1, warmup)):
            call()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        call()
    torch.cuda.synchronize()
    return graph.replay


def _prepare(torch: Any, settings: Settings, call: Callable[[], Any]) -> tuple[Callable[[], Any], int]:
    """Capture (with --cuda-graphs), warm up, and choose iters = ceil(target / one call), within
    [1, MAX_ITERS], unless settings give iters."""
    if settings.cuda_graphs:
        call = _graphed(torch, call, settings.warmup)
    for _ in range(settings.warmup):
        call()
    _sync(torch, settings.device)
    if settings.iters:
        return call, settings.iters
    one = max(_sample(torch, settings.device, call, 1), 1e-6)
    return call, max(1, min(MAX_ITERS, math.ceil(TARGET_SAMPLE_MS[settings.device] / one)))


def _interleaved(torch: Any, settings: Settings, calls: dict[str, Callable[[], Any]]) -> dict[str, Timing]:
    """Time several calls under the same rules, their samples interleaved: every call is
    prepared first, then each of the ``repeats`` rounds takes one sample of every call in turn,
    so that a slow spell of the machine (another process, a clock change) falls on all of them
    alike rather than on whichever was being timed."""
    prepared = {name: _prepare(torch, settings, call) for name, call in calls.items()}
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(settings.repeats):
        for name, (call, iters) in prepared.items():
            samples[name].append(_sample(torch, settings.device, call, iters))
    return {name: Timing.of(samples[name], prepared[name][1]) for name in calls}


def _measure(torch: Any, settings: Settings, call: Callable[[], Any]) -> Timing:
    return _interleaved(torch, settings, {"call": call})["call"]


# ----------------------------------------------------------------------------- the network


def network_module(spec: str | Any, analysis: Analysis) -> tuple["nn.Module", str]:
    """The module to time and a word on where it comes from: torchvision's own for a name in
    :data:`TORCHVISION_MODELS`, else the spec built by :func:`inception_calc.build.build`."""
    if isinstance(spec, str) and spec in TORCHVISION_MODELS:
        return TORCHVISION_MODELS[spec](), f"torchvision.models.{spec.split('-')[0]}"
    return build(analysis.network, analysis.input), "inception_calc.build"


def timed_nodes(analysis: Analysis, depth: str) -> list[Cost]:
    """The nodes timed one by one: every main row, and at depth ``branch`` every branch too."""
    return [node for row in analysis.shown_rows(aux=False) for node in row.walk(depth)]


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


# ----------------------------------------------------------------------------- ceilings


def calibrate(device: str, dtypes: Sequence[str], settings: Settings | None = None) -> rf.Ceilings:
    """Measured ceilings: per dtype an n x n by n x n matrix product (2 n^3 FLOPs), and one
    device-to-device copy of ``bytes`` (2 x bytes moved: read and written), timed as the runs are."""
    torch = require_torch()
    n, nbytes = CALIBRATION[device]
    settings = settings or Settings(device=device)
    timing_rules = Settings(device=device, warmup=max(1, min(settings.warmup, 3)), repeats=max(3, min(settings.repeats, 10)))
    tflops: dict[str, float | None] = {d: None for d in rf.DTYPES}
    with torch.inference_mode():
        for dtype in dtypes:
            with precision(dtype):
                a = torch.randn(n, n, device=device, dtype=_torch_dtype(torch, dtype))
                b = torch.randn(n, n, device=device, dtype=_torch_dtype(torch, dtype))
                timing = _measure(torch, timing_rules, lambda: torch.mm(a, b))
                tflops[dtype] = rf.matmul_tflops(n, timing.median_ms / 1e3)
                del a, b
        source_buf = torch.randint(0, 256, (nbytes,), dtype=torch.uint8, device=device)
        target_buf = torch.empty_like(source_buf)
        timing = _measure(torch, timing_rules, lambda: target_buf.copy_(source_buf))
        bandwidth = rf.copy_bandwidth_tbs(nbytes, timing.median_ms / 1e3)
        del source_buf, target_buf
    name = device_info(device)["name"]
    return rf.Ceilings(name, tflops, bandwidth,
                       f"calibrated: {n}x{n}x{n} matrix product per dtype, {nbytes >> 20} MiB device copy, "
                       f"medians of {timing_rules.repeats}")


def ceilings_for(device: str, dtypes: Sequence[str], settings: Settings) -> rf.Ceilings:
    """Measured with ``settings.calibrate``; else the datasheet's for a known GPU; else unknown."""
    if settings.calibrate:
        return calibrate(device, dtypes, settings)
    name = device_info(device)["name"]
    if device == "cpu":
        return rf.unknown_ceilings(name, "a CPU's peak is not tabulated; --calibrate measures one")
    return rf.datasheet_ceilings(name) or rf.unknown_ceilings(
        name, f"{name!r} is not in the datasheet table; --calibrate measures its ceilings")


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
        x = torch.randn(batch, *analysis.input, device=settings.device, dtype=_torch_dtype(torch, dtype))
        if settings.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        compile_s = None
        forward = model
        if settings.compile:
            import torch._dynamo

            torch._dynamo.reset()  # compile afresh for this batch: compile_s is this run's own
            forward = torch.compile(model, dynamic=False)
            _sync(torch, settings.device)
            begin = time.perf_counter()
            forward(x)
            _sync(torch, settings.device)
            compile_s = time.perf_counter() - begin
        calls = {FORWARD: lambda: forward(x)}
        if settings.layers:
            calls.update(_layer_calls(model, x, nodes))
        timings = _interleaved(torch, settings, calls)
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


def bench(spec: Any = "googlenet", input: Any = None, settings: Settings | None = None,
          progress: Callable[[str], None] | None = None) -> BenchResult:
    """Time ``spec`` (a built-in name, a file, a Network; ``googlenet-torchvision`` times
    torchvision's module) at ``input`` for every batch and dtype of ``settings``.

    A run that runs out of memory or fails is reported with its status and the sweep goes on.
    Raises CalcError for settings no run could use (unknown dtype, no CUDA, compile unavailable).
    """
    settings = settings or Settings()
    settings.check()
    torch = require_torch()
    check_device(settings.device)
    if settings.compile:
        why = compile_unavailable(settings.device)
        if why:
            raise CalcError(why, where="--compile", fix="drop --compile, or install what it names")
    analysis = analyze(spec, input)
    nodes = timed_nodes(analysis, settings.depth)
    say = progress or (lambda text: None)
    if settings.calibrate:
        say("calibrating: matrix product per dtype and device copy")
    ceilings = ceilings_for(settings.device, settings.dtypes, settings)
    runs = []
    total = len(settings.dtypes) * len(settings.batches)
    module_source = ""
    with torch.inference_mode():
        for dtype in settings.dtypes:
            with precision(dtype):
                model, module_source = network_module(spec, analysis)
                model = model.eval().to(device=settings.device, dtype=_torch_dtype(torch, dtype))
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
    return BenchResult(analysis.spec, analysis.input, module_source, device_info(settings.device), ceilings, settings,
                       analysis.totals.inference.macs, tuple(runs), analysis)
