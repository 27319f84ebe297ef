"""Summarise the JSON results of ``inception-calc bench`` runs in one folder (standard library only).

    python3 benchmarks/gpu_summary.py summary RESULTS_DIR   # prints the summary; writes summary.md, summary.json
    python3 benchmarks/gpu_summary.py best RESULTS_DIR KIND  # the bench flags of KIND's fastest eager config

KIND is ``torchvision`` (the module timed was torchvision's own) or ``spec`` (the module built from
the spec). The sweep tables and the best configurations read the sweep steps only (file names
holding ``eager``, ``graphs`` or ``compiled``); ``calibrate`` and ``*-layers`` are reported apart. Every figure printed is read from the bench JSON files; nothing is typed in. A file's
runs are labelled by its name without ``.json`` (the step of benchmarks/gpu_check.sh that wrote it).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

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


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|",
            *("| " + " | ".join(row) + " |" for row in rows)]


def summary(folder: Path) -> tuple[str, dict[str, Any]]:
    results = load(folder)
    lines: list[str] = []
    record: dict[str, Any] = {"files": [step for step, _ in results]}
    if not results:
        return f"no bench JSON results in {folder}\n", record
    device = results[0][1]["device"]
    lines.append(f"# GPU check: {device.get('name')} (torch {device.get('torch')}, CUDA {device.get('cuda')}, "
                 f"cuDNN {device.get('cudnn')})")
    calibrated = next((data["peak"] for _, data in results if data["peak"]["source"].startswith("calibrated")), None)
    datasheet = next((data["peak"] for _, data in results if data["peak"]["source"].startswith("datasheet")), None)
    record["calibrated"], record["datasheet"] = calibrated, datasheet
    for label, peak in (("datasheet", datasheet), ("calibrated", calibrated)):
        if peak:
            rates = ", ".join(f"{k} {_fmt(v)}" for k, v in peak["tflops"].items() if v is not None)
            lines.append(f"- ceilings, {label}: {rates} TFLOP/s; {_fmt(peak['bandwidth_tbs'], 2)} TB/s ({peak['source']})")
    failed = [(step, run) for step, data in results for run in data["runs"] if run["status"] != "ok"]
    if failed:
        lines += ["", "runs that did not finish:"]
        lines += [f"- {step}: batch {run['batch']} {config_of(run)}: {run['status']}: {run['error'][:160]}"
                  for step, run in failed]
    for step, data, run in ok_runs(results, layers=True):
        rows = [layer for layer in run["layers"] if layer["level"] == "layer"]
        top = sorted(rows, key=lambda layer: -layer["median_ms"])[:5]
        lines += ["", f"per layer, {kind_of(data)} batch {run['batch']} {config_of(run)} ({step}): rows add up to "
                      f"{_fmt(run['layer_sum_ms'], 3)} ms against {_fmt(run['median_ms'], 3)} ms whole "
                      f"({_pct(run['layer_sum_ms'] / run['median_ms'])}); the rows' roofline times add up to "
                      f"{_fmt(run['bound_ms'], 3)} ms = {_pct(run['fraction_of_bound'])} of the whole "
                      f"({data['peak']['source']}); slowest rows:"]
        lines += [f"- {layer['name']}: {_fmt(layer['median_ms'], 3)} ms ({_pct(layer['share'])}), "
                  f"{_fmt(layer['achieved_tflops'], 2)} TFLOP/s, {_fmt(layer['intensity'])} FLOP/B, "
                  f"bound {_fmt(layer['bound_tflops'], 2)} TFLOP/s, {_pct(layer['fraction_of_bound'])} of bound"
                  for layer in top]
    compiled = [(s, d, r) for s, d, r in ok_runs(results) if r["compiled"]]
    if compiled:
        lines += ["", "compile times (first call, kept out of the figures): " + "; ".join(
            f"{kind_of(d)} batch {r['batch']} {r['dtype']}: {_fmt(r['compile_s'])} s" for _, d, r in compiled)]
    # images/s pivot: one line per model and batch, one column per configuration run
    cells: dict[tuple[str, int], dict[str, str]] = {}
    columns: dict[str, tuple[int, int, int]] = {}
    for _, data, run in ok_runs(results, sweeps=True):
        key, title = column_of(run)
        columns[title] = key
        cells.setdefault((kind_of(data), run["batch"]), {})[title] = _fmt(run["images_per_s"], 0)
    titles = sorted(columns, key=columns.__getitem__)
    lines += ["", "images/s (median of the samples; NCHW eager unless the column says otherwise)", ""]
    lines += _table(["model", "batch", *titles],
                    [[kind, str(batch), *(cells[(kind, batch)].get(t, "-") for t in titles)]
                     for kind, batch in sorted(cells)])
    record["best"] = {}
    lines += ["", "best configuration per model (most images/s over the sweeps); % of roofline bound: the "
                  "per-layer run's (fastest eager config)", ""]
    best_rows = []
    for kind in ("torchvision", "spec"):
        runs = [(step, data, run) for step, data, run in ok_runs(results, sweeps=True) if kind_of(data) == kind]
        if not runs:
            continue
        step, data, run = max(runs, key=lambda item: item[2]["images_per_s"])
        sheet = datasheet["tflops"].get(run["dtype"]) if datasheet else None
        cal = calibrated["tflops"].get(run["dtype"]) if calibrated else None
        layered = [(s, d, r) for s, d, r in ok_runs(results, layers=True) if kind_of(d) == kind]
        lay = layered[0][2] if layered else None
        best_rows.append([kind, str(run["batch"]), config_of(run), _fmt(run["median_ms"], 3),
                          _fmt(run["images_per_s"], 0), _fmt(run["achieved_tflops"], 2),
                          _pct(run["achieved_tflops"] / sheet if sheet else None),
                          _pct(run["achieved_tflops"] / cal if cal else None),
                          _pct(lay["fraction_of_bound"]) if lay else "-"])
        record["best"][kind] = {"step": step, **{k: run[k] for k in ("batch", "dtype", "channels_last", "compiled",
                                                                      "cuda_graphs", "median_ms", "images_per_s",
                                                                      "achieved_tflops")},
                                "fraction_of_datasheet_peak": run["achieved_tflops"] / sheet if sheet else None,
                                "fraction_of_calibrated_peak": run["achieved_tflops"] / cal if cal else None,
                                "layers_fraction_of_bound": lay["fraction_of_bound"] if lay else None}
    lines += _table(["model", "batch", "config", "ms", "images/s", "TFLOP/s", "% datasheet peak",
                     "% calibrated peak", "% of roofline bound"], best_rows)
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
