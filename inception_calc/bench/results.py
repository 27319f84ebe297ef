"""The frozen results of ``inception-calc bench``: per run and per timed row, with their JSON form.

Every rate is an analytic FLOP count over a measured time: achieved TFLOP/s = 2 x MACs x images /
seconds / 1e12 (:mod:`inception_calc.bench.roofline` has the formulas).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from inception_calc.bench import roofline as rf
from inception_calc.bench.settings import Settings
from inception_calc.bench.timing import Timing

if TYPE_CHECKING:  # pragma: no cover
    from inception_calc.core.results import Analysis

SUM_TOLERANCE = 0.15
"""The rows' times, each timed alone, add up to the whole forward within this relative tolerance."""


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

    ``status`` is ``ok``, ``out of memory`` or ``failed`` (then ``error`` says why and the figures
    are None).

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
    analysis: "Analysis" = field(repr=False, compare=False)

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
