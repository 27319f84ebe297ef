"""Render a :class:`~inception_calc.bench.run.BenchResult`: text table, CSV, JSON, roofline plot.

Formatting only: every figure is the result's own. The JSON holds everything (each run's samples
too); the CSV has one line per run (``name`` = ``forward``) followed by its rows and branches.
"""

from __future__ import annotations

import json
from typing import Any

from inception_calc.bench.results import SUM_TOLERANCE, BenchResult, LayerTime, Run
from inception_calc.core.errors import CalcError
from inception_calc.report.plot import _matplotlib, _save
from inception_calc.core.values import grouped
from inception_calc.report.table import RULE_LIMIT, columns, csv_table, indented, text_table

RUN_HEADERS = ("batch", "config", "status", "median ms", "p10-p90 ms", "images/s", "TFLOP/s", "% peak", "compile s")
RUN_COLUMNS = columns(RUN_HEADERS, right=RUN_HEADERS[3:])  # status is text: right-aligned from "median ms" on
LAYER_HEADERS = ("name", "median ms", "share", "TFLOP/s", "FLOP/byte", "bound TFLOP/s", "% of bound")
LAYER_COLUMNS = columns(LAYER_HEADERS, right=LAYER_HEADERS[1:])

DTYPE_MEANING = {
    "fp32": "fp32 = IEEE fp32: TF32 off for matmul and cuDNN convolutions",
    "tf32": "tf32 = fp32 tensors, TF32 tensor cores on for matmul and cuDNN convolutions",
    "bf16": "bf16 = model and input cast to bfloat16 (no autocast)",
    "fp16": "fp16 = model and input cast to float16 (no autocast)",
}


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _rate(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:,.0f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def header_lines(result: BenchResult) -> list[str]:
    c, h, w = result.input
    d = result.device
    versions = ", ".join(f"{k} {d[k]}" for k in ("torch", "cuda", "cudnn", "threads") if d.get(k) is not None)
    ceil = result.ceilings
    peaks = ", ".join(f"{k} {_rate(ceil.peak(k))}" for k in result.settings.dtypes)
    bandwidth = "-" if ceil.bandwidth_tbs is None else f"{ceil.bandwidth_tbs:.2f}"
    s = result.settings
    iters = f"{s.iters} calls each" if s.iters else "calls each chosen to last ~20 ms (cuda) / ~100 ms (cpu)"
    timer = "CUDA events" if d["type"] == "cuda" else "perf_counter (CPU work is synchronous)"
    return [
        f"bench {result.spec} at input {c}x{h}x{w} on {d['type']}: {d['name']} ({versions}); module: {result.module}",
        f"analytic cost: {grouped(result.macs_per_image)} MACs = {grouped(result.flops_per_image)} FLOPs per image "
        "(2 x MACs of conv and linear layers)",
        f"ceilings ({ceil.source}): peak TFLOP/s {peaks}; bandwidth {bandwidth} TB/s",
        f"timing: median and p10-p90 of {s.repeats} samples of {iters}, after {s.warmup} warm-up calls; {timer}",
        *(DTYPE_MEANING[dtype] for dtype in s.dtypes),
    ]


def runs_table(result: BenchResult) -> list[str]:
    rows = []
    for run in result.runs:
        spread = "-" if run.timing is None else f"{run.timing.p10_ms:.3f}-{run.timing.p90_ms:.3f}"
        rows.append([str(run.batch), run.config, run.status, _ms(run.median_ms), spread, _rate(run.images_per_s),
                     _rate(run.achieved_tflops), _pct(run.fraction_of_peak),
                     "-" if run.compile_s is None else f"{run.compile_s:.1f}"])
    lines = text_table(RUN_COLUMNS, rows, rule_limit=RULE_LIMIT)
    lines += [f"batch {r.batch} {r.config}: {r.error}" for r in result.runs if r.error]
    return lines


def layer_lines(result: BenchResult, run: Run) -> list[str]:
    rows = []
    for layer in run.layers:
        rows.append([indented(layer.name), _ms(layer.median_ms), _pct(layer.share), _rate(layer.achieved_tflops),
                     f"{layer.intensity:.1f}", _rate(layer.bound_tflops), _pct(layer.fraction_of_bound)])
    title = (f"per layer, batch {run.batch} {run.config}: each row module timed alone on its own input "
             f"(captured on one forward pass){' in eager mode' if run.layers_eager else ''}"
             f"{', each in its own CUDA graph' if run.cuda_graphs else ''}; "
             "share of the rows' sum; bound = min(peak, FLOP/byte x bandwidth)")
    lines = [title, "", *text_table(LAYER_COLUMNS, rows, rule_limit=RULE_LIMIT), ""]
    if run.layer_sum_ms is not None and run.median_ms:
        ratio = run.layer_sum_ms / run.median_ms
        if run.layers_eager:
            lines.append(f"the rows, eager, add up to {run.layer_sum_ms:.3f} ms; the compiled whole forward takes "
                         f"{run.median_ms:.3f} ms ({100 * ratio:.1f}%): compilation fuses across rows, so this is "
                         "a comparison, not a tolerance check")
        else:
            verdict = "within" if abs(ratio - 1) <= SUM_TOLERANCE else "OUTSIDE"
            lines.append(f"rows add up to {run.layer_sum_ms:.3f} ms against {run.median_ms:.3f} ms for the whole "
                         f"forward: {100 * ratio:.1f}%, {verdict} the +-{100 * SUM_TOLERANCE:.0f}% tolerance")
    if run.bound_ms is not None:
        lines.append(f"roofline: the rows' least times add up to {run.bound_ms:.3f} ms, "
                     f"{_pct(run.fraction_of_bound)} of the measured whole forward")
    return lines


def to_table(result: BenchResult) -> str:
    lines = [*header_lines(result), "", *runs_table(result)]
    for run in result.runs:
        if run.layers:
            lines += ["", *layer_lines(result, run)]
    return "\n".join(lines).rstrip() + "\n"


CSV_COLUMNS = ("spec", "device", "batch", "dtype", "channels_last", "compiled", "cuda_graphs", "status", "name",
               "level", "median_ms", "p10_ms", "p90_ms", "iters", "share", "images_per_s", "flops", "bytes",
               "achieved_tflops", "fraction_of_peak", "intensity", "bound_tflops", "bound_ms", "fraction_of_bound",
               "compile_s", "error")


def _blank(value: Any) -> Any:
    return "" if value is None else int(value) if isinstance(value, bool) else value


def to_csv(result: BenchResult) -> str:
    """One line per run (name ``forward``, level ``network``), then one per timed row and branch."""
    rows = []
    for run in result.runs:
        t = run.timing
        head = [result.spec, result.device["name"], run.batch, run.dtype, run.channels_last, run.compiled,
                run.cuda_graphs, run.status]
        rows.append([_blank(v) for v in [
            *head, "forward", "network", run.median_ms, t and t.p10_ms, t and t.p90_ms, t and t.iters, None,
            run.images_per_s, result.flops_per_image * run.batch, None, run.achieved_tflops, run.fraction_of_peak,
            None, None, run.bound_ms, run.fraction_of_bound, run.compile_s, run.error]])
        for layer in run.layers:
            rows.append([_blank(v) for v in [
                *head, layer.name, layer.level, layer.median_ms, layer.timing.p10_ms, layer.timing.p90_ms,
                layer.timing.iters, layer.share, None, layer.flops, layer.bytes, layer.achieved_tflops, None,
                layer.intensity, layer.bound_tflops, layer.bound_ms, layer.fraction_of_bound, None, ""]])
    return csv_table(CSV_COLUMNS, rows)


def to_json(result: BenchResult) -> str:
    return json.dumps(result.to_dict(), indent=2) + "\n"


RENDERERS = {"table": to_table, "json": to_json, "csv": to_csv}


def render_bench(result: BenchResult, fmt: str = "table") -> str:
    return RENDERERS[fmt](result)


# ----------------------------------------------------------------------------- roofline plot


def _plotted(run: Run) -> list[LayerTime]:
    """The leaves at the depth timed: rows, with an Inception row replaced by its branches at
    depth ``branch``; only those with FLOPs (a log axis has no room for zero)."""
    branched = {layer.name.rsplit(".", 1)[0] for layer in run.layers if layer.level == "branch"}
    leaves = [layer for layer in run.layers if layer.level == "branch" or layer.name not in branched]
    return [layer for layer in leaves if layer.flops > 0 and layer.achieved_tflops > 0]


def plot_roofline(result: BenchResult, path: str) -> None:
    """One log-log panel per run with per-layer times: intensity (FLOP/byte) against achieved
    TFLOP/s, each layer a labelled point, under the roofs min(peak, I x bandwidth) when known.
    Drawn on its own Agg canvas as :mod:`inception_calc.report.plot` draws (no pyplot: the caller's
    backend and figures are untouched); written whole or not at all."""
    runs = [run for run in result.runs if run.layers]
    if not runs:
        raise CalcError("there is no per-layer timing to plot", where=f"path {path}",
                        fix="drop --no-layers, and make sure at least one run finished")
    figure_class, canvas_class, _ = _matplotlib()
    panels = len(runs)
    columns = min(panels, 2)
    rows = -(-panels // columns)
    figure = figure_class(figsize=(8 * columns, 6 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False)
    for ax, run in zip(axes.flat, runs):
        _roofline_panel(ax, result, run)
    for ax in list(axes.flat)[panels:]:
        ax.set_visible(False)
    figure.suptitle(f"{result.device['name']}; ceilings {result.ceilings.source}", fontsize=8)
    _save(figure, canvas_class, path)


def _roofline_panel(ax: Any, result: BenchResult, run: Run) -> None:
    points = _plotted(run)
    xs = [p.intensity for p in points]
    ys = [p.achieved_tflops for p in points]
    ax.scatter(xs, ys, s=18, zorder=3)
    for p in points:
        ax.annotate(p.name, (p.intensity, p.achieved_tflops), fontsize=6, xytext=(3, 2), textcoords="offset points")
    peak, bandwidth = result.ceilings.peak(run.dtype), result.ceilings.bandwidth_tbs
    if peak and bandwidth and xs:
        low, high = min(min(xs) / 2, peak / bandwidth / 10), max(max(xs) * 2, peak / bandwidth * 10)
        grid = [low * (high / low) ** (i / 200) for i in range(201)]
        ax.plot(grid, [min(peak, i * bandwidth) for i in grid], color="black", linewidth=1,
                label=f"roof: {peak:.4g} TFLOP/s, {bandwidth:.3g} TB/s")
        ax.legend(loc="lower right", fontsize=7)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (FLOP / byte)")
    ax.set_ylabel("achieved TFLOP/s")
    ax.set_title(f"{result.spec}, batch {run.batch}, {run.config}", fontsize=9)
    ax.grid(True, which="both", linewidth=0.3)
