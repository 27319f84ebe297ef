"""Timed training steps: forward + backward + an SGD-with-momentum step, as the seed trains
(momentum 0.9, weight decay 2e-4, the auxiliary heads' losses weighted 0.3), on random images and labels.

Each figure derived here comes from the analysis: achieved TFLOP/s = 2 x (forward MACs with the aux
heads + backward MACs, :mod:`inception_calc.core.training`) per step / the median step time. On CUDA
the step's measured peak (``torch.cuda.max_memory_allocated`` over one step after the warm-up) stands
beside the estimate (:func:`inception_calc.core.training.memory`), with the error in percent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inception_calc.bench.settings import Settings
from inception_calc.bench.timing import check_device, compile_unavailable, measure, precision, sync, torch_dtype
from inception_calc.core.engine import analyze
from inception_calc.core.errors import CalcError
from inception_calc.core.training import memory, training

AUX_WEIGHT = 0.3
MOMENTUM = 0.9
WEIGHT_DECAY = 2e-4


@dataclass(frozen=True)
class TrainRun:
    batch: int
    dtype: str
    step_ms: float
    p10_ms: float
    p90_ms: float
    images_per_s: float
    tflops: float
    step_flops: int
    estimate_bytes: int
    peak_bytes: int | None  # measured on CUDA; None on the CPU

    @property
    def error_percent(self) -> float | None:
        if self.peak_bytes is None:
            return None
        return 100.0 * (self.estimate_bytes - self.peak_bytes) / self.peak_bytes


def train_module(spec: str, analysis: Any) -> Any:
    """The module a training step runs: torchvision's googlenet with its aux heads for
    googlenet-torchvision, else the built network (its heads run in train mode)."""
    if spec == "googlenet-torchvision":
        from inception_calc.pytorch.counters import torchvision_googlenet

        return torchvision_googlenet(aux_logits=True, needed_by="bench --train")
    from inception_calc.pytorch.build import build

    return build(analysis.network, analysis.input)


def peak_probe(torch: Any, device: str) -> tuple[Any, Any]:
    """(reset, read) for the peak memory of ``device``: CUDA's allocator statistics, nothing on the CPU."""
    if device != "cuda":
        return (lambda: None), (lambda: None)
    return torch.cuda.reset_peak_memory_stats, torch.cuda.max_memory_allocated


def bench_training(spec: str, input: Any, settings: Settings) -> tuple[Any, list[TrainRun]]:
    """Time a training step of ``spec`` for every batch x dtype of ``settings``."""
    from inception_calc.pytorch.build import require_buildable, require_torch

    settings.check()
    analysis = analyze(spec, input)  # a bad spec fails in milliseconds, before torch is imported
    require_buildable(analysis)
    check_device(settings.device)
    if settings.compile and (why := compile_unavailable(settings.device)):
        raise CalcError(why, where="settings.compile", fix="time without --compile")
    torch = require_torch()
    runs = []
    for dtype in settings.dtypes:
        for batch in settings.batches:
            runs.append(_run(torch, spec, analysis, settings, batch, dtype))
    return analysis, runs


def _run(torch: Any, spec: str, analysis: Any, settings: Settings, batch: int, dtype: str) -> TrainRun:
    device = settings.device
    kind = "fp32" if dtype == "tf32" else dtype
    step = training(analysis, batch, kind, device=device)
    estimate = memory(step, "momentum").peak_bytes
    flops = 2 * (step.forward_macs + step.total().backward_macs)
    layout = torch.channels_last if settings.channels_last else torch.contiguous_format
    model = train_module(spec, analysis).to(device=device, dtype=torch_dtype(torch, dtype),
                                            memory_format=layout).train()
    classes = analysis.rows[-1].out_shape[0]
    x = torch.randn(batch, *analysis.input, device=device, dtype=torch_dtype(torch, dtype)).to(memory_format=layout)
    y = torch.randint(0, classes, (batch,), device=device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    forward = torch.compile(model) if settings.compile else model
    loss_of = torch.nn.functional.cross_entropy

    def call() -> None:
        opt.zero_grad(set_to_none=True)
        out = forward(x)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        loss = loss_of(outs[0].float(), y) + sum(AUX_WEIGHT * loss_of(o.float(), y) for o in outs[1:])
        loss.backward()
        opt.step()

    reset, read = peak_probe(torch, device)
    try:
        with precision(dtype):
            timing = measure(torch, settings, call)
            sync(torch, device)
            reset()
            call()
            sync(torch, device)
            peak = read()
    except NotImplementedError as exc:
        raise CalcError(f"{dtype} does not run on {device} here: {str(exc).splitlines()[0]}", where="settings.dtypes",
                        fix="give another dtype (fp32 runs everywhere)") from None
    seconds = timing.median_ms / 1000
    return TrainRun(batch, dtype, timing.median_ms, timing.p10_ms, timing.p90_ms, batch / seconds,
                    flops / seconds / 1e12, flops, estimate, peak)
