"""Summarise the JSON results of ``inception-calc bench`` runs in one folder (standard library and this
checkout's inception_calc only: its table kit writes the markdown tables).

    python3 benchmarks/gpu_summary.py summary RESULTS_DIR   # prints the summary; writes summary.md, summary.json
    python3 benchmarks/gpu_summary.py best RESULTS_DIR KIND  # the bench flags of KIND's fastest eager config

KIND is ``torchvision`` (the module timed was torchvision's own) or ``spec`` (the module built from
the spec). The sweep tables and the best configurations read the sweep steps only (file names
holding ``eager``, ``graphs`` or ``compiled``); ``calibrate`` and ``*-layers`` are reported apart.
Every figure printed is read from the bench JSON files; nothing is typed in. A file's runs are
labelled by its name without ``.json`` (the step of benchmarks/gpu_check.sh that wrote it).

Ceilings: every step that calibrated is listed by name (the ``calibrate`` step's ceilings give
"% calibrated peak"; each ``*-layers`` step calibrates again in its own process for its roofline).
A best configuration's "% of roofline bound" is bound_ms / its median: bound_ms (the rows' least
times, max(FLOPs / peak, bytes / bandwidth) summed) from the per-layer run of the same model at the
same batch, dtype and layout, with that run's ceilings; the bound does not depend on the mode
(eager, CUDA graphs, compiled). The per-layer run's own (eager) fraction is given beside it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout beside this script, run from anywhere
from inception_calc.report.table import columns, markdown_table  # noqa: E402

DTYPE_ORDER = ("fp32", "tf32", "bf16", "fp16")
MODE_ORDER = ("eager", "cuda-graphs", "compiled")


def kind_of(data: dict[str, Any]) -> str:
    return "torchvision" if data.get("module", "").startswith("torchvision") else "spec"


def mode_of(run: dict[str, Any]) -> str:
    return "compiled" if run["compiled"] else "cuda-graphs" if run["cuda_graphs"] else "eager"


def config_of(run: dict[str, Any]) -> str:
    return f"{run['dtype']} {'NHWC' if run['channels_last'] else 'NCHW'} {mode_of(run)}"


def column_of(run: dict[str, Any]) -> tuple[tuple[int, int, int], str]:
    """The sweep table's column of a run: its sort key (mode, layout, dtype) and its title, which
    names the layout and mode only when they are not NCHW eager (``bf16 NHWC compiled``)."""
    mode = mode_of(run)
    title = run["dtype"] + (" NHWC" if run["channels_last"] else "") + ("" if mode == "eager" else f" {mode}")
    key = (MODE_ORDER.index(mode), int(run["channels_last"]),
           DTYPE_ORDER.index(run["dtype"]) if run["dtype"] in DTYPE_ORDER else len(DTYPE_ORDER))
    return key, title


def load(folder: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every bench JSON in ``folder`` (not the summary itself), by file name."""
    found = []
    for path in sorted(folder.glob("*.json")):
        if path.name == "summary.json":
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "runs" in data:
            found.append((path.stem, data))
    return found


SWEEPS = ("eager", "graphs", "compiled")


def ok_runs(results: list[tuple[str, dict[str, Any]]], layers: bool = False, sweeps: bool = False):
    """(step, data, run) for every finished run; with ``layers`` only those timed per layer; with
    ``sweeps`` only those of the sweep steps (a file name holding eager, graphs or compiled), not
    the calibration's or the per-layer step's repeats of a configuration."""
    for step, data in results:
        if sweeps and not any(word in step for word in SWEEPS):
            continue
        for run in data["runs"]:
            if run["status"] == "ok" and (not layers or run["layers"]):
                yield step, data, run


def best_eager(results: list[tuple[str, dict[str, Any]]], kind: str) -> dict[str, Any] | None:
    """The eager run of ``kind`` with the most images/s, at the largest batch measured."""
    runs = [run for _, data, run in ok_runs(results, sweeps=True) if kind_of(data) == kind and mode_of(run) == "eager"]
    if not runs:
        return None
    largest = max(run["batch"] for run in runs)
    return max((run for run in runs if run["batch"] == largest), key=lambda run: run["images_per_s"])


def flags(run: dict[str, Any]) -> str:
    return f"--batch {run['batch']} --dtype {run['dtype']}" + (" --channels-last" if run["channels_last"] else "")


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _table(headers: list[str], rows: list[list[str]], text: tuple[str, ...] = ("model", "config")) -> list[str]:
    """A markdown table: the ``text`` columns left-aligned, the figures right-aligned."""
    return markdown_table(columns(headers, right=[h for h in headers if h not in text]), rows)


def _rates(peak: dict[str, Any], dtypes: Any = DTYPE_ORDER) -> str:
    return ", ".join(f"{k} {_fmt(peak['tflops'].get(k))}" for k in dtypes if peak["tflops"].get(k) is not None)


def calibrations(results: list[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """The measured ceilings of every step that calibrated (the ``calibrate`` step, and each
    ``--calibrate`` per-layer step in its own process), by step."""
    return {step: data["peak"] for step, data in results if data["peak"]["source"].startswith("calibrated")}


def main_calibration(found: dict[str, dict[str, Any]]) -> tuple[str | None, dict[str, Any] | None]:
    """The ceilings the "% calibrated peak" column uses: the ``calibrate`` step's, else the first."""
    step = "calibrate" if "calibrate" in found else next(iter(found), None)
    return step, found.get(step) if step else None


def _ceilings_words(step: str, data: dict[str, Any], dtype: str) -> str:
    """Which ceilings a per-layer run's bound used: its step's own calibration, or the datasheet."""
    peak = data["peak"]
    rate = _fmt(peak["tflops"].get(dtype))
    bandwidth = _fmt(peak["bandwidth_tbs"], 2)
    if peak["source"].startswith("calibrated"):
        return f"ceilings calibrated in the {step} step: {dtype} {rate} TFLOP/s, {bandwidth} TB/s"
    return f"ceilings of {peak['source']}: {dtype} {rate} TFLOP/s, {bandwidth} TB/s"


def layers_run_for(results: list[tuple[str, dict[str, Any]]], kind: str, run: dict[str, Any]):
    """(step, data, layers run) of ``kind`` timed per layer at ``run``'s batch, dtype and layout,
    or None. Its bound (the rows' least times) depends on those three only, not on the mode
    (eager, CUDA graphs, compiled), so it is ``run``'s bound too."""
    for step, data, layered in ok_runs(results, layers=True):
        if kind_of(data) == kind and all(layered[k] == run[k] for k in ("batch", "dtype", "channels_last")):
            return step, data, layered
    return None


def _calibration_lines(datasheet: dict[str, Any] | None, found: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    if datasheet:
        lines.append(f"- ceilings, datasheet: {_rates(datasheet)} TFLOP/s; {_fmt(datasheet['bandwidth_tbs'], 2)} TB/s "
                     f"({datasheet['source']})")
    main, _ = main_calibration(found)
    for step, peak in found.items():
        role = ("the % calibrated peak column below uses these" if step == main else
                "measured again in that step's own process, for its per-layer roofline")
        lines.append(f"- ceilings, calibrated in the {step} step: {_rates(peak)} TFLOP/s; "
                     f"{_fmt(peak['bandwidth_tbs'], 2)} TB/s ({role}; {peak['source']})")
    return lines


def _layer_lines(results: list[tuple[str, dict[str, Any]]]) -> list[str]:
    lines: list[str] = []
    for step, data, run in ok_runs(results, layers=True):
        rows = [layer for layer in run["layers"] if layer["level"] == "layer"]
        top = sorted(rows, key=lambda layer: -layer["median_ms"])[:5]
        lines += ["", f"per layer, {kind_of(data)} batch {run['batch']} {config_of(run)} ({step}): rows add up to "
                      f"{_fmt(run['layer_sum_ms'], 3)} ms against {_fmt(run['median_ms'], 3)} ms whole "
                      f"({_pct(run['layer_sum_ms'] / run['median_ms'])}); the rows' roofline times add up to "
                      f"{_fmt(run['bound_ms'], 3)} ms = {_pct(run['fraction_of_bound'])} of the whole "
                      f"({_ceilings_words(step, data, run['dtype'])}); slowest rows:"]
        lines += [f"- {layer['name']}: {_fmt(layer['median_ms'], 3)} ms ({_pct(layer['share'])}), "
                  f"{_fmt(layer['achieved_tflops'], 2)} TFLOP/s, {_fmt(layer['intensity'])} FLOP/B, "
                  f"bound {_fmt(layer['bound_tflops'], 2)} TFLOP/s, {_pct(layer['fraction_of_bound'])} of bound"
                  for layer in top]
    return lines


def _sweep_table(results: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """images/s pivot: one line per model and batch, one column per configuration run."""
    cells: dict[tuple[str, int], dict[str, str]] = {}
    columns: dict[str, tuple[int, int, int]] = {}
    for _, data, run in ok_runs(results, sweeps=True):
        key, title = column_of(run)
        columns[title] = key
        cells.setdefault((kind_of(data), run["batch"]), {})[title] = _fmt(run["images_per_s"], 0)
    titles = sorted(columns, key=columns.__getitem__)
    lines = ["", "images/s (median of the samples; NCHW eager unless the column says otherwise)", ""]
    return lines + _table(["model", "batch", *titles],
                          [[kind, str(batch), *(cells[(kind, batch)].get(t, "-") for t in titles)]
                           for kind, batch in sorted(cells)])


def _best(results: list[tuple[str, dict[str, Any]]], datasheet: dict[str, Any] | None,
          found: dict[str, dict[str, Any]]) -> tuple[list[str], dict[str, Any]]:
    """The best configuration per model, its fractions of the peaks and of its roofline bound."""
    main, calibrated = main_calibration(found)
    record: dict[str, Any] = {}
    rows, notes = [], []
    for kind in ("torchvision", "spec"):
        runs = [(step, data, run) for step, data, run in ok_runs(results, sweeps=True) if kind_of(data) == kind]
        if not runs:
            continue
        step, data, run = max(runs, key=lambda item: item[2]["images_per_s"])
        sheet = datasheet["tflops"].get(run["dtype"]) if datasheet else None
        cal = calibrated["tflops"].get(run["dtype"]) if calibrated else None
        layered = layers_run_for(results, kind, run)
        bound_ms = layered[2]["bound_ms"] if layered else None
        fraction = bound_ms / run["median_ms"] if bound_ms is not None else None
        eager = layered[2]["fraction_of_bound"] if layered else None
        rows.append([kind, str(run["batch"]), config_of(run), _fmt(run["median_ms"], 3), _fmt(run["images_per_s"], 0),
                     _fmt(run["achieved_tflops"], 2), _pct(run["achieved_tflops"] / sheet if sheet else None),
                     _pct(run["achieved_tflops"] / cal if cal else None), _pct(fraction), _pct(eager)])
        if layered and bound_ms is not None:
            l_step, l_data, l_run = layered
            notes.append(f"- {kind}: bound {_fmt(bound_ms, 3)} ms, the rows' least times in the {l_step} step (batch "
                         f"{l_run['batch']} {config_of(l_run)}; {_ceilings_words(l_step, l_data, l_run['dtype'])}): "
                         f"{_fmt(bound_ms, 3)} / {_fmt(run['median_ms'], 3)} ms = {_pct(fraction)} for this run; "
                         f"the per-layer run itself, eager, took {_fmt(l_run['median_ms'], 3)} ms: {_pct(eager)}")
        else:
            notes.append(f"- {kind}: no per-layer run with ceilings at batch {run['batch']} {run['dtype']} "
                         f"{'NHWC' if run['channels_last'] else 'NCHW'}: no roofline fraction")
        record[kind] = {
            "step": step, **{k: run[k] for k in ("batch", "dtype", "channels_last", "compiled", "cuda_graphs",
                                                 "median_ms", "images_per_s", "achieved_tflops")},
            "fraction_of_datasheet_peak": run["achieved_tflops"] / sheet if sheet else None,
            "calibrated_peak_step": main if cal else None,
            "fraction_of_calibrated_peak": run["achieved_tflops"] / cal if cal else None,
            "bound_step": layered[0] if layered else None,
            "bound_ms": bound_ms,
            "bound_ceilings": layered[1]["peak"] if layered else None,
            "fraction_of_bound": fraction,
            "eager_layers_median_ms": layered[2]["median_ms"] if layered else None,
            "eager_layers_fraction_of_bound": eager,
        }
    against = f"the ceilings calibrated in the {main} step" if main else "no calibrated ceilings"
    lines = ["", f"best configuration per model (most images/s over the sweeps). % calibrated peak: against "
                 f"{against}. % of roofline bound: the rows' least times, from the "
                 "per-layer run at the same batch, dtype and layout (the bound does not depend on the mode), over "
                 "this run's median; the eager per-layer run's own fraction beside it", ""]
    lines += _table(["model", "batch", "config", "ms", "images/s", "TFLOP/s", "% datasheet peak", "% calibrated peak",
                     "% of roofline bound", "eager per-layer run: % of its bound"], rows)
    return lines + ["", *notes], record


def summary(folder: Path) -> tuple[str, dict[str, Any]]:
    results = load(folder)
    lines: list[str] = []
    record: dict[str, Any] = {"files": [step for step, _ in results]}
    if not results:
        return f"no bench JSON results in {folder}\n", record
    device = results[0][1]["device"]
    lines.append(f"# GPU check: {device.get('name')} (torch {device.get('torch')}, CUDA {device.get('cuda')}, "
                 f"cuDNN {device.get('cudnn')})")
    found = calibrations(results)
    datasheet = next((data["peak"] for _, data in results if data["peak"]["source"].startswith("datasheet")), None)
    record["calibrated"] = main_calibration(found)[1]
    record["calibrations"] = found
    record["datasheet"] = datasheet
    lines += _calibration_lines(datasheet, found)
    failed = [(step, run) for step, data in results for run in data["runs"] if run["status"] != "ok"]
    if failed:
        lines += ["", "runs that did not finish:"]
        lines += [f"- {step}: batch {run['batch']} {config_of(run)}: {run['status']}: {run['error'][:160]}"
                  for step, run in failed]
    lines += _layer_lines(results)
    compiled = [(s, d, r) for s, d, r in ok_runs(results) if r["compiled"]]
    if compiled:
        lines += ["", "compile times (first call, kept out of the figures): " + "; ".join(
            f"{kind_of(d)} batch {r['batch']} {r['dtype']}: {_fmt(r['compile_s'])} s" for _, d, r in compiled)]
    lines += _sweep_table(results)
    best_lines, record["best"] = _best(results, datasheet, found)
    lines += best_lines
    return "\n".join(lines) + "\n", record


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "summary":
        folder = Path(argv[1])
        text, record = summary(folder)
        _write(folder / "summary.md", text)
        _write(folder / "summary.json", json.dumps(record, indent=2) + "\n")
        sys.stdout.write(text)
        return 0
    if len(argv) >= 3 and argv[0] == "best":
        run = best_eager(load(Path(argv[1])), argv[2])
        if run is None:
            sys.stderr.write(f"gpu_summary: no finished eager run of {argv[2]} in {argv[1]}\n")
            return 1
        sys.stdout.write(flags(run) + "\n")
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
