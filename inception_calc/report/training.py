"""Render a training step (:mod:`inception_calc.core.training`): the backward columns beside the
forward ones, and the memory of the step. Formatting only: every number comes from the step."""

from __future__ import annotations

import json
from typing import Any

from inception_calc.core.results import Analysis
from inception_calc.core.training import Memory, Training, inference_peak
from inception_calc.core.values import grouped, hwc
from inception_calc.report.analysis import nodes_with_depth
from inception_calc.report.table import columns, csv_table, indented, markdown_table, text_table

HEADERS = ("name", "layer", "out", "MACs", "grad input MACs", "grad weight MACs", "backward MACs", "saved bytes")
COLUMNS = columns(HEADERS, right=set(HEADERS[3:]), nowrap={"name"})
ROW_KEYS = ("backward_macs", "grad_input_macs", "grad_weight_macs", "saved_bytes")
SCALED = ("macs", "flops", "activations")
"""The forward counts that grow with the batch (given for the batch with ``--batch N``)."""


def _setting(step: Training, optimizer: str, fit: tuple[int, int] | None) -> dict[str, Any]:
    data: dict[str, Any] = {"batch": step.batch, "dtype": step.dtype, "optimizer": optimizer,
                            "device": step.device, "freeze": list(step.freeze)}
    if fit is not None:
        data["fit_bytes"] = fit[0]
    return data


def training_totals(step: Training, mem: Memory) -> dict[str, int]:
    """The keys ``totals.training`` gains: backward sums and the step's memory."""
    total = step.total()
    return {"backward_macs": total.backward_macs, "grad_input_macs": total.grad_input_macs,
            "grad_weight_macs": total.grad_weight_macs, "saved_bytes": total.saved_bytes,
            "param_bytes": mem.param_bytes, "grad_bytes": mem.grad_bytes, "optimizer_bytes": mem.optimizer_bytes,
            "buffer_bytes": mem.buffer_bytes, "peak_bytes": mem.peak_bytes}


def _augment(node: dict[str, Any], step: Training) -> None:
    sums = step.node(node["name"])
    for key in SCALED:
        node[key] *= step.batch
    node.update(backward_macs=sums.backward_macs, grad_input_macs=sums.grad_input_macs,
                grad_weight_macs=sums.grad_weight_macs, saved_bytes=sums.saved_bytes)
    for child in node.get("branches", node.get("layers", ())):
        _augment(child, step)


def to_dict(analysis: Analysis, step: Training, mem: Memory, depth: str, aux: bool, optimizer: str,
            fit: tuple[int, int] | None = None) -> dict[str, Any]:
    """The analysis' JSON form with every row's backward keys, counts for the batch, and the step's totals."""
    data = analysis.to_dict(depth, aux)
    for row in data["rows"]:
        _augment(row, step)
    for sums in data["totals"].values():
        for key in SCALED:
            sums[key] *= step.batch
    data["totals"]["training"].update(training_totals(step, mem))
    data["totals"]["inference"]["activation_peak_bytes"] = inference_peak(analysis, step.batch, step.dtype).bytes
    data["training_step"] = _setting(step, optimizer, fit)
    return data


def _body(analysis: Analysis, step: Training, depth: str, aux: bool) -> list[list[str]]:
    body = []
    for row in analysis.shown_rows(aux):
        for node, level in nodes_with_depth(row, depth):
            sums = step.node(node.name)
            body.append([indented(node.name, depth=level), node.summary, hwc(node.out_shape),
                         grouped(step.batch * node.macs), grouped(sums.grad_input_macs),
                         grouped(sums.grad_weight_macs), grouped(sums.backward_macs), grouped(sums.saved_bytes)])
    return body


def _lines(analysis: Analysis, step: Training, mem: Memory, optimizer: str, fit: tuple[int, int] | None) -> list[str]:
    c, h, w = analysis.input
    total = step.total()
    frozen = f", frozen: {', '.join(step.freeze)}" if step.freeze else ""
    lines = [f"{analysis.spec} training step at input {c}x{h}x{w}, batch {step.batch}, {step.dtype}, {optimizer} "
             f"on {step.device}{frozen}; counts are for the batch, the auxiliary heads included",
             f"forward MACs (with aux heads) {grouped(step.forward_macs)} + backward MACs "
             f"{grouped(total.backward_macs)} = {grouped(step.forward_macs + total.backward_macs)} "
             f"({grouped(2 * (step.forward_macs + total.backward_macs))} FLOPs)",
             f"memory: parameters {grouped(mem.param_bytes)} B + gradients {grouped(mem.grad_bytes)} B + optimizer "
             f"state {grouped(mem.optimizer_bytes)} B + buffers {grouped(mem.buffer_bytes)} B + saved for backward "
             f"{grouped(mem.saved_bytes)} B = peak estimate {grouped(mem.peak_bytes)} B"]
    peak = inference_peak(analysis, step.batch, step.dtype)
    lines.append(f"inference: at most {grouped(peak.bytes)} B of activations alive at once (at {peak.where}; branches "
                 "one after another)")
    if fit is not None:
        lines.append(f"fit: batch {step.batch} is the largest whose step fits {grouped(fit[0])} B")
    return lines


def render(analysis: Analysis, step: Training, mem: Memory, fmt: str, depth: str, aux: bool, optimizer: str,
           fit: tuple[int, int] | None = None) -> str:
    """The training step in ``fmt`` (table, markdown, csv, json)."""
    if fmt == "json":
        return json.dumps(to_dict(analysis, step, mem, depth, aux, optimizer, fit), indent=2) + "\n"
    if fmt == "csv":
        rows = [[node.name, node.level, node.kind, step.batch * node.macs,
                 *(getattr(step.node(node.name), key) for key in ROW_KEYS)]
                for row in analysis.shown_rows(aux) for node in row.walk(depth)]
        totals = training_totals(step, mem)
        rows.append(["total.training", "total", "", step.forward_macs, *(totals[key] for key in ROW_KEYS)])
        return csv_table(("name", "level", "kind", "macs") + ROW_KEYS, rows)
    body = _body(analysis, step, depth, aux)
    total = step.total()
    totals = [["total (training, + aux heads)", "", "", grouped(step.forward_macs), grouped(total.grad_input_macs),
               grouped(total.grad_weight_macs), grouped(total.backward_macs), grouped(total.saved_bytes)]]
    lines = _lines(analysis, step, mem, optimizer, fit)
    if fmt == "markdown":
        return "\n\n".join(["\n\n".join(lines), "\n".join(markdown_table(COLUMNS, body, totals))]) + "\n"
    return "\n".join([*lines, "", *text_table(COLUMNS, body, totals)]).rstrip() + "\n"


CHECK_HEADERS = ("row", "backward FLOPs", "measured", "saved bytes", "measured bytes", "verdict")
CHECK_COLUMNS = columns(CHECK_HEADERS, right=set(CHECK_HEADERS[1:5]), nowrap={"row"})


def render_training_check(result: Any, fmt: str = "table") -> str:
    """A :class:`~inception_calc.pytorch.training.TrainingCheck` as a table, markdown, CSV or JSON."""
    if fmt == "json":
        return json.dumps({"spec": result.spec, "against": result.source, "input": list(result.input),
                           "batch": result.batch, "dtype": result.dtype, "ok": result.ok,
                           "rows": [{"name": r.name, "backward_flops": r.backward_flops,
                                     "measured_flops": r.measured_flops, "saved_bytes": r.saved_bytes,
                                     "measured_bytes": r.measured_bytes, "verdict": r.verdict,
                                     "terms": [{"term": t, "flops": n} for t, n in r.terms]} for r in result.rows]},
                          indent=2) + "\n"
    if fmt == "csv":
        return csv_table(("row", "backward_flops", "measured_flops", "saved_bytes", "measured_bytes", "verdict"),
                         [[r.name, r.backward_flops, r.measured_flops, r.saved_bytes, r.measured_bytes, r.verdict]
                          for r in result.rows])
    body = [[r.name, grouped(r.backward_flops), grouped(r.measured_flops), grouped(r.saved_bytes),
             grouped(r.measured_bytes), r.verdict] for r in result.rows]
    c, h, w = result.input
    head = (f"{result.spec} against {result.source}: one training step at {c}x{h}x{w}, batch {result.batch}, "
            f"{result.dtype}, on the CPU (FlopCounterMode's backward ops; saved_tensors_hooks, distinct storages)")
    terms = sorted({t for r in result.rows for t, _ in r.terms})
    foot = [f"term: {t}" for t in terms] + [f"{'all rows agree' if result.ok else 'some rows differ'}"]
    if fmt == "markdown":
        return "\n\n".join([head, "\n".join(markdown_table(CHECK_COLUMNS, body)), "\n".join(foot)]) + "\n"
    return "\n".join([head, "", *text_table(CHECK_COLUMNS, body), "", *foot]) + "\n"


BENCH_HEADERS = ("batch", "dtype", "step ms", "p10", "p90", "images/s", "TFLOP/s", "est. peak B", "measured peak B",
                 "error %")
BENCH_COLUMNS = columns(BENCH_HEADERS, right=set(BENCH_HEADERS) - {"dtype"})


def render_training_bench(analysis: Analysis, runs: list, device: str, fmt: str = "table") -> str:
    """bench --train's runs: step time, throughput, achieved TFLOP/s from the analytic
    forward + backward MACs, and on CUDA the measured peak memory beside the estimate."""
    if fmt == "json":
        return json.dumps({"spec": analysis.spec, "input": list(analysis.input), "device": device, "runs": [
            {"batch": r.batch, "dtype": r.dtype, "step_ms": r.step_ms, "p10_ms": r.p10_ms, "p90_ms": r.p90_ms,
             "images_per_s": r.images_per_s, "tflops": r.tflops, "step_flops": r.step_flops,
             "estimate_bytes": r.estimate_bytes, "peak_bytes": r.peak_bytes, "error_percent": r.error_percent}
            for r in runs]}, indent=2) + "\n"
    body = [[str(r.batch), r.dtype, f"{r.step_ms:.2f}", f"{r.p10_ms:.2f}", f"{r.p90_ms:.2f}", f"{r.images_per_s:.1f}",
             f"{r.tflops:.3f}", grouped(r.estimate_bytes), "-" if r.peak_bytes is None else grouped(r.peak_bytes),
             "-" if r.error_percent is None else f"{r.error_percent:+.1f}"] for r in runs]
    c, h, w = analysis.input
    head = (f"{analysis.spec} training step (forward + backward + SGD momentum, aux losses x 0.3) at {c}x{h}x{w} "
            f"on {device}; TFLOP/s from the analytic forward + backward MACs")
    return "\n".join([head, "", *text_table(BENCH_COLUMNS, body)]) + "\n"
