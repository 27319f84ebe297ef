"""Timing on a CUDA device or the CPU: the data-type flags, the timer, warm-up, CUDA graphs,
interleaved samples, and the measured ceilings (torch is imported by the callers and passed in).

A sample is the time of ``iters`` back-to-back calls divided by ``iters``: between two CUDA events
on the GPU (waiting for the end event), between two ``time.perf_counter`` reads on the CPU (CPU work
is synchronous). A timing is the median and the 10th/90th percentiles of ``repeats`` samples taken
after ``warmup`` untimed calls (cuDNN autotuning and run-time compilation happen there).

Data types: ``fp32`` is IEEE single precision everywhere: TF32 off for matrix products and for
cuDNN convolutions (PyTorch allows TF32 in cuDNN convolutions by default, so a plain default run
is "tf32" for its convolutions). ``tf32``: fp32 tensors, TF32 tensor cores on for both. ``bf16``
and ``fp16``: tensors of that type (the callers cast the model and the input; no autocast).
"""

from __future__ import annotations

import math
import platform
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from inception_calc.bench import roofline as rf
from inception_calc.bench.settings import Settings
from inception_calc.core.errors import CalcError
from inception_calc.pytorch.build import require_torch

TARGET_SAMPLE_MS = {"cuda": 20.0, "cpu": 100.0}
"""With ``iters`` unset, each timed sample lasts about this long: iters = ceil(target / one call)."""
MAX_ITERS = 1000

CALIBRATION = {"cuda": (8192, 1 << 30), "cpu": (1024, 1 << 26)}
"""--calibrate sizes: an n x n by n x n matrix product per dtype, and a copy of this many bytes."""


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


def torch_dtype(torch: Any, dtype: str) -> Any:
    return {"fp32": torch.float32, "tf32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[dtype]


def _fp32_precision_flags(torch: Any) -> tuple[Any, Any] | None:
    """(cuBLAS matmul, cuDNN conv) settings objects of torch's ``fp32_precision`` API, or None on
    an older torch, which has only the legacy ``allow_tf32`` flags."""
    matmul = torch.backends.cuda.matmul
    conv = getattr(torch.backends.cudnn, "conv", None)
    if conv is not None and hasattr(matmul, "fp32_precision") and hasattr(conv, "fp32_precision"):
        return matmul, conv
    return None


@contextmanager
def precision(dtype: str) -> Iterator[None]:
    """TF32 on for ``tf32`` and off for every other type (``fp32`` is then IEEE fp32), cuDNN
    autotuning on; torch's precision state put back exactly as it was on the way out.

    Where torch has the ``fp32_precision`` API, that is what is set (``"tf32"`` or ``"ieee"`` for
    cuBLAS matmul and cuDNN convolutions) and restored: touching the legacy ``allow_tf32`` flags
    there would mix the two APIs, which torch refuses (RuntimeError) once the caller used the new
    one, and which leaves ``torch.get_float32_matmul_precision()`` raising after the caller's
    ``torch.set_float32_matmul_precision``. An older torch gets the legacy flags.
    """
    torch = require_torch()
    cudnn = torch.backends.cudnn
    new_api = _fp32_precision_flags(torch)
    saved_benchmark = cudnn.benchmark
    if new_api:
        matmul, conv = new_api
        saved = (matmul.fp32_precision, conv.fp32_precision)
        matmul.fp32_precision = conv.fp32_precision = "tf32" if dtype == "tf32" else "ieee"
    else:
        saved = (torch.backends.cuda.matmul.allow_tf32, cudnn.allow_tf32)
        torch.backends.cuda.matmul.allow_tf32 = cudnn.allow_tf32 = dtype == "tf32"
    cudnn.benchmark = True
    try:
        yield
    finally:
        if new_api:
            new_api[0].fp32_precision, new_api[1].fp32_precision = saved
        else:
            torch.backends.cuda.matmul.allow_tf32, cudnn.allow_tf32 = saved
        cudnn.benchmark = saved_benchmark


def check_device(device: str, where: str = "device") -> None:
    """CalcError unless ``device`` can run here (``where`` names the parameter that gave it)."""
    torch = require_torch()
    if device == "cuda" and not torch.cuda.is_available():
        built = f"built for CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
        raise CalcError(f"CUDA is not available here (torch {torch.__version__}, {built}, no GPU visible)",
                        where=where, fix="run on a machine with an NVIDIA GPU, or time on the CPU ('cpu')")


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


def sync(torch: Any, device: str) -> None:
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


def prepare(torch: Any, rules: Settings, call: Callable[[], Any]) -> tuple[Callable[[], Any], int]:
    """Capture (with ``cuda_graphs``), warm up, and choose iters = ceil(target / one call), within
    [1, MAX_ITERS], unless the rules give iters."""
    if rules.cuda_graphs:
        call = _graphed(torch, call, rules.warmup)
    for _ in range(rules.warmup):
        call()
    sync(torch, rules.device)
    if rules.iters:
        return call, rules.iters
    one = max(_sample(torch, rules.device, call, 1), 1e-6)
    return call, max(1, min(MAX_ITERS, math.ceil(TARGET_SAMPLE_MS[rules.device] / one)))


def interleaved(torch: Any, rules: Settings, calls: dict[str, Callable[[], Any]]) -> dict[str, Timing]:
    """Time several calls under the same rules, their samples interleaved: every call is
    prepared first, then each of the ``repeats`` rounds takes one sample of every call in turn,
    so that a slow spell of the machine (another process, a clock change) falls on all of them
    alike rather than on whichever was being timed."""
    prepared = {name: prepare(torch, rules, call) for name, call in calls.items()}
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rules.repeats):
        for name, (call, iters) in prepared.items():
            samples[name].append(_sample(torch, rules.device, call, iters))
    return {name: Timing.of(samples[name], prepared[name][1]) for name in calls}


def measure(torch: Any, rules: Settings, call: Callable[[], Any]) -> Timing:
    """One call timed under ``rules``."""
    return interleaved(torch, rules, {"call": call})["call"]


def calibrate(device: str, dtypes: Sequence[str], rules: Settings | None = None) -> rf.Ceilings:
    """Measured ceilings: per dtype an n x n by n x n matrix product (2 n^3 FLOPs), and one
    device-to-device copy of ``bytes`` (2 x bytes moved: read and written), timed as the runs are."""
    torch = require_torch()
    n, nbytes = CALIBRATION[device]
    given = rules or Settings(device=device)
    timing_rules = Settings(device=device, warmup=max(1, min(given.warmup, 3)), repeats=max(3, min(given.repeats, 10)))
    tflops: dict[str, float | None] = {d: None for d in rf.DTYPES}
    with torch.inference_mode():
        for dtype in dtypes:
            with precision(dtype):
                a = torch.randn(n, n, device=device, dtype=torch_dtype(torch, dtype))
                b = torch.randn(n, n, device=device, dtype=torch_dtype(torch, dtype))
                timing = measure(torch, timing_rules, lambda: torch.mm(a, b))
                tflops[dtype] = rf.matmul_tflops(n, timing.median_ms / 1e3)
                del a, b
        source_buf = torch.randint(0, 256, (nbytes,), dtype=torch.uint8, device=device)
        target_buf = torch.empty_like(source_buf)
        timing = measure(torch, timing_rules, lambda: target_buf.copy_(source_buf))
        bandwidth = rf.copy_bandwidth_tbs(nbytes, timing.median_ms / 1e3)
        del source_buf, target_buf
    name = device_info(device)["name"]
    return rf.Ceilings(name, tflops, bandwidth,
                       f"calibrated: {n}x{n}x{n} matrix product per dtype, {nbytes >> 20} MiB device copy, "
                       f"medians of {timing_rules.repeats}")


def ceilings_for(device: str, dtypes: Sequence[str], measured: bool, rules: Settings | None = None) -> rf.Ceilings:
    """Measured (``measured``); else the datasheet's for a known GPU; else unknown."""
    if measured:
        return calibrate(device, dtypes, rules)
    name = device_info(device)["name"]
    if device == "cpu":
        return rf.unknown_ceilings(name, "a CPU's peak is not tabulated; --calibrate measures one")
    return rf.datasheet_ceilings(name) or rf.unknown_ceilings(
        name, f"{name!r} is not in the datasheet table; --calibrate measures its ceilings")
