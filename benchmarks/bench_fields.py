"""Benchmark: what receptive fields add to an analysis, for every built-in spec, side by side.

Measures, in one run and in this process, for each built-in spec at 3x224x224 and 3x299x299, on a
pre-loaded network (planned once, as any caller after its first analysis), the median of --repeats
timed calls (``time.perf_counter`` around each), the four calls taken in turn (each first in a
quarter of the rounds) so that a busy machine slows all of them alike, with the garbage collector off during each (as ``timeit``):

(a) ``analyze(network, size)``: what ``report`` (the default table) needs;
(b) ``analyze(network, size).receptive_fields``: the analysis and every node's field;
(c) the JSON report, ``render(analyze(network, size), "json")``: every row with its
    ``receptive_field``;
(d) the same JSON without the fields (each row's ``Cost.to_dict`` with no fields; the rest of
    ``Analysis.to_dict`` as it is), for comparison only: no command prints it.

and the overheads (b) / (a) - 1 (fields over the plain analysis) and (c) / (d) - 1 (the JSON
report over the same JSON without fields). Analyses repeated at one size share the engine's
memoized rows, as ``verify``, ``compare`` and a sweep's repeated sizes do; with ``--cold`` the
engine's memo (and the fields') is cleared before each call instead, so that nothing is reused from
one call to the next.

Target (issue 14, "receptive fields add less than 10% to an analysis's time"): (b) / (a) - 1 below
10% for every spec and size. Each line is marked PASS or MISS; the exit status is 1 when any is
missed. The JSON overhead (c) / (d) - 1 is printed beside it without a target: it is mostly the
encoding of the extra keys themselves.

    python benchmarks/bench_fields.py [--repeats 301] [--cold] [--json FILE]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's package, so the benchmark measures the code beside it

from inception_calc import analyze, builtin_names, load_spec  # noqa: E402
from inception_calc.core import engine  # noqa: E402
from inception_calc.core.results import CONVENTION  # noqa: E402
from inception_calc.report.analysis import render  # noqa: E402

SPECS = ("googlenet", "googlenet-torchvision", "bn-inception", "inception-v3", "inception-v4", "inception-resnet-v2",
         "xception")
SIZES = (224, 299)
TARGET = 0.10  # (b) / (a) - 1, at most


def json_without_fields(network, shape) -> str:
    """(d): the JSON report's text with every ``receptive_field`` left out (Analysis.to_dict, with
    the rows' Cost.to_dict given no fields)."""
    analysis = analyze(network, shape)
    data = {"spec": analysis.spec, "input": list(analysis.input), "convention": CONVENTION,
            "rows": [r.to_dict("layer") for r in analysis.shown_rows(False)],
            "totals": {"inference": analysis.totals.inference.to_dict(),
                       "training": analysis.totals.training.to_dict()},
            "warnings": list(analysis.warnings)}
    return json.dumps(data, indent=2) + "\n"


def clear() -> None:
    """Forget every memoized row cost and field (the plans stay)."""
    engine.clear_memo()


def measure(network, shape, repeats: int, cold: bool) -> dict[str, float]:
    """Median seconds of (a) .. (d), taken in turn, ``repeats`` times each."""
    calls = {
        "analyze": lambda: analyze(network, shape),
        "fields": lambda: analyze(network, shape).receptive_fields,
        "json": lambda: render(analyze(network, shape), "json"),
        "json_without_fields": lambda: json_without_fields(network, shape),
    }
    for call in calls.values():  # warm: plan, memo, byte-code
        call()
    times: dict[str, list[float]] = {key: [] for key in calls}
    clock = time.perf_counter
    gc.disable()  # as timeit: no collection inside a timed call (these calls make little cyclic garbage)
    try:
        order = list(calls.items())
        for n in range(repeats):
            turn = n % len(order)  # each call first in a quarter of the rounds: none always after the JSON
            for key, call in order[turn:] + order[:turn]:
                if cold:
                    clear()
                start = clock()
                call()
                times[key].append(clock() - start)
    finally:
        gc.enable()
    return {key: statistics.median(values) for key, values in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=301, help="timed calls of each kind (median); at least 51")
    parser.add_argument("--cold", action="store_true", help="clear the engine's memo before each call")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    args = parser.parse_args(argv)
    if args.repeats < 51:
        parser.error("--repeats must be at least 51")
    missing = [s for s in SPECS if s not in builtin_names()]
    if missing:
        raise SystemExit(f"bench_fields: not built in: {', '.join(missing)}")

    memo = "the memo cleared before each call" if args.cold else "repeated at one size (rows memoized)"
    print(f"receptive fields: what they add to an analysis (Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
          f"median of {args.repeats} calls each, {memo})")
    print()
    head = (f"{'spec':22} {'input':>5}  {'(a) analyze':>11}  {'(b) +fields':>11}  {'(b)/(a)-1':>9}  {'target':>7}"
            f"       {'(c) json':>9}  {'(d) no rf':>9}  {'(c)/(d)-1':>9}")
    print(head)
    figures, ok = [], True
    for spec in SPECS:
        network = load_spec(spec)
        for size in SIZES:
            t = measure(network, (3, size, size), args.repeats, args.cold)
            over = t["fields"] / t["analyze"] - 1
            json_over = t["json"] / t["json_without_fields"] - 1
            passed = over < TARGET
            ok &= passed
            figures.append({"spec": spec, "size": size, **{f"{k}_s": v for k, v in t.items()},
                            "fields_overhead": over, "json_overhead": json_over, "pass": passed})
            ms = {k: v * 1e3 for k, v in t.items()}
            print(f"{spec:22} {size:>5}  {ms['analyze']:>8.3f} ms  {ms['fields']:>8.3f} ms  {over:>+9.1%}  "
                  f"{'< ' + format(TARGET, '.0%'):>7}  {'PASS' if passed else 'MISS'}  {ms['json']:>6.3f} ms  "
                  f"{ms['json_without_fields']:>6.3f} ms  {json_over:>+9.1%}")
    print()
    print("  (a) analyze(network, 3xNxN); (b) the same, then .receptive_fields; (c) render(..., 'json'), which carries "
          "every row's receptive_field; (d) that JSON without the fields")
    if args.json:
        Path(args.json).write_text(json.dumps({"cold": args.cold, "repeats": args.repeats, "figures": figures},
                                              indent=2) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
