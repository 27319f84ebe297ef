"""Benchmark: the analytic report against the floor of any Python tool and against an fvcore count, side by side.

Measures, in one run, with byte-code caching on as a user has it (``PYTHONDONTWRITEBYTECODE`` is
removed from the children's environment, and one warm-up run of each writes the caches):

(a) the whole process ``python -m inception_calc report`` (GoogLeNet at 224, table): wall time and
    peak resident memory of each child (``os.wait4``'s rusage, ``ru_maxrss``), median of --runs runs;
    and, from one ``-X importtime`` run, that torch/torchvision/fvcore/pandas/matplotlib are never
    imported;
(f) the floor: ``python -c "import tomllib, json, argparse, dataclasses, tabulate"``, the standard
    modules the tool needs and its one dependency, nothing of its own; run alternately with (a) so
    that a busy machine slows both alike; the ratio (a) / (f);
(b) a whole process that imports torch, torchvision and fvcore, builds
    ``torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False)`` and runs
    ``FlopCountAnalysis(model, torch.zeros(1, 3, 224, 224)).total()``: median of --fvcore-runs runs;
    the ratio (b) / (a);
(c) the engine in process: full GoogLeNet analyses per second, ``analyze(network, (3, 224, 224))``
    on a pre-loaded network, best of several ``timeit`` repeats; beside it, without a target, the
    same with the engine's row memo cleared before each analysis (c'), and a new size each time (c'');
(d) the same for the built-in ``inception-resnet-v2`` at 3x299x299: 54 rows, 40 of them residual
    additions, 39 of those repeat copies: repeated (d), memo cleared (d'), a new size each (d'').

Targets (issue 10, on the 2-core development machine): (a) at most 1.3x the floor (f), in at most
60 MiB, with torch never imported; (b) / (a) at least 30x; (c) at least 10,000 analyses/s. Issue 11:
(d) and (d') at least 2,000 analyses/s. Each is printed beside its figure with PASS or MISS; the
exit status is 1 when any target is missed.

    python benchmarks/bench_report.py [--runs 9] [--fvcore-runs 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT  # the folder holding inception_calc/
HEAVY = ("torch", "torchvision", "fvcore", "pandas", "matplotlib")

FLOOR_TARGET = 1.3  # report process / floor process, at most
REPORT_TARGET_MIB = 60.0
SPEEDUP_TARGET = 30.0  # fvcore process / report process, at least
ANALYSES_TARGET = 10_000.0  # per second, at least
IRV2_TARGET = 2_000.0  # Inception-ResNet-v2 analyses at 299 per second, at least (repeated and cold)
IRV2_SPEC = "inception-resnet-v2"

FLOOR_SCRIPT = "import tomllib, json, argparse, dataclasses, tabulate"

FVCORE_SCRIPT = """
import logging, warnings
warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
import torch, torchvision
from fvcore.nn import FlopCountAnalysis
model = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False).eval()
with torch.no_grad():
    counter = FlopCountAnalysis(model, torch.zeros(1, 3, 224, 224))
    counter.unsupported_ops_warnings(False)
    counter.uncalled_modules_warnings(False)
    print(counter.total())
"""


def child_env() -> dict[str, str]:
    """This checkout's package first on the path, so the benchmark measures the code beside it; byte-code
    caching on, as it is by default for a user (this machine's shell turns it off)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}


def run_child(argv: list[str]) -> tuple[float, float, str]:
    """Run one child to completion: (wall seconds, peak RSS in MiB, stdout).

    Peak memory is the child's own ``ru_maxrss`` (KiB on Linux) from ``os.wait4``, so runs do not
    blur into each other as ``RUSAGE_CHILDREN``'s running maximum would.
    """
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=child_env(), cwd=ROOT)
    out = child.stdout.read()
    child.stdout.close()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"bench_report: {' '.join(argv[:4])} ... exited with {child.returncode}")
    return wall, usage.ru_maxrss / 1024, out.decode()


def heavy_imports_of_report() -> list[str]:
    """Modules from HEAVY that ``python -X importtime -m inception_calc report`` imports (none, we hope)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "inception_calc", "report"],
                          capture_output=True, text=True, env=child_env(), cwd=ROOT, check=True)
    names = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    if "inception_calc.core.engine" not in names:
        raise SystemExit("bench_report: the importtime listing did not show inception_calc.core.engine")
    return sorted(n for n in names if n.split(".")[0] in HEAVY)


def engine_analyses_per_second(spec: str = "googlenet", size: int = 224,
                               repeats: int = 7) -> dict[str, tuple[float, int]]:
    """Best-of-``repeats`` rates of full analyses of ``spec`` on a pre-loaded network, in this process:

    ``repeated``: at one size (3 x size x size), as every earlier figure of this benchmark (rows
    memoized by input shape are shared); ``cold``: the memo cleared before each analysis, so nothing
    is reused from one analysis to the next (the rate includes the clearing; rows equal but for
    their name still share within it); ``sweep``: a new square size each time, ``size`` to
    ``size + 799`` in turn, as ``sweep`` and the smallest-input search meet them (rows after a
    stride share shapes)."""
    sys.path.insert(0, str(SRC))
    from inception_calc import analyze, load_spec
    from inception_calc.core.engine import clear_memo

    network = load_spec(spec)
    analyze(network, (3, size, size))  # plan it once, as any caller after its first analysis
    sizes = iter(range(10**9))

    def cold() -> None:
        clear_memo()
        analyze(network, (3, size, size))

    def sweep() -> None:
        n = size + next(sizes) % 800
        analyze(network, (3, n, n))

    rates = {}
    for name, call in (("repeated", lambda: analyze(network, (3, size, size))), ("cold", cold), ("sweep", sweep)):
        timer = timeit.Timer(call)
        number, _ = timer.autorange()
        number = max(number, 200)
        best = min(timer.repeat(repeat=repeats, number=number)) / number
        rates[name] = (1 / best, number)
    return rates


def engine_lines(rates: dict[str, dict[str, tuple[float, int]]], irv2: str) -> list[str]:
    """(c) GoogLeNet and (d) Inception-ResNet-v2 side by side: one line per way of measuring, the
    rate of each network and its target."""
    head = f"{'engine in process, analyses/s':46} {'googlenet 224':>14} {'target':>10}      {'irv2 299':>10} {'target':>10}"
    lines = [head]
    labels = {"repeated": "(c)/(d)  analyze(network, size), repeated", "cold": "(c')/(d') the memo cleared before each",
              "sweep": "(c'')/(d'') a new size each (+0 .. +799)"}
    for key, label in labels.items():
        g, i = rates["googlenet"][key][0], rates["irv2"][key][0]
        g_target = f">= {ANALYSES_TARGET:,.0f}" if key == "repeated" else ""
        g_mark = verdict(g >= ANALYSES_TARGET) if key == "repeated" else ""
        i_target = f">= {IRV2_TARGET:,.0f}" if key in ("repeated", "cold") else ""
        i_mark = verdict(i >= IRV2_TARGET) if key in ("repeated", "cold") else ""
        lines.append(f"{label:46} {g:>12,.0f}/s {g_target:>10} {g_mark:4} {i:>9,.0f}/s {i_target:>10} {i_mark}".rstrip())
    lines.append(f"  irv2 is {irv2} at 3x299x299; each rate is the best of 7 timeit repeats of at least 200 analyses")
    return lines


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="report runs (median); at least 7")
    parser.add_argument("--fvcore-runs", type=int, default=3, help="fvcore runs (median); at least 3")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    args = parser.parse_args(argv)
    if args.runs < 7 or args.fvcore_runs < 3:
        parser.error("--runs must be at least 7 and --fvcore-runs at least 3")

    report_cmd = [sys.executable, "-m", "inception_calc", "report"]
    floor_cmd = [sys.executable, "-c", FLOOR_SCRIPT]
    run_child(report_cmd)  # warm the file cache and write the byte-code, as a user's second run finds them
    run_child(floor_cmd)
    report, floor = [], []
    for _ in range(args.runs):  # alternately: a neighbour's load falls on both alike
        report.append(run_child(report_cmd))
        floor.append(run_child(floor_cmd))
    report_s = statistics.median(r[0] for r in report)
    report_mib = statistics.median(r[1] for r in report)
    floor_s = statistics.median(r[0] for r in floor)
    floor_mib = statistics.median(r[1] for r in floor)
    over_floor = report_s / floor_s
    heavy = heavy_imports_of_report()

    fvcore_cmd = [sys.executable, "-c", FVCORE_SCRIPT]
    fvcore = [run_child(fvcore_cmd) for _ in range(args.fvcore_runs)]
    fvcore_s = statistics.median(r[0] for r in fvcore)
    fvcore_mib = statistics.median(r[1] for r in fvcore)
    fvcore_total = int(fvcore[0][2].split()[-1])
    speedup = fvcore_s / report_s

    rates = engine_analyses_per_second()
    rate, number = rates["repeated"]
    irv2 = IRV2_SPEC
    irv2_rates = engine_analyses_per_second(irv2, 299)

    figures = {
        "report_wall_s": report_s, "report_peak_mib": report_mib, "report_heavy_imports": heavy,
        "report_runs": args.runs, "floor_wall_s": floor_s, "floor_peak_mib": floor_mib, "over_floor": over_floor,
        "fvcore_wall_s": fvcore_s, "fvcore_peak_mib": fvcore_mib,
        "fvcore_total": fvcore_total, "fvcore_runs": args.fvcore_runs, "speedup": speedup,
        "analyses_per_s": rate, "analyses_per_s_cold": rates["cold"][0], "analyses_per_s_sweep": rates["sweep"][0],
        "irv2_spec": irv2, "irv2_analyses_per_s": irv2_rates["repeated"][0],
        "irv2_analyses_per_s_cold": irv2_rates["cold"][0], "irv2_analyses_per_s_sweep": irv2_rates["sweep"][0],
        "cpus": os.cpu_count(), "python": sys.version.split()[0],
    }
    checks = {
        "over_floor": over_floor <= FLOOR_TARGET,
        "report_memory": report_mib <= REPORT_TARGET_MIB,
        "no_heavy_imports": not heavy,
        "speedup": speedup >= SPEEDUP_TARGET,
        "analyses_per_s": rate >= ANALYSES_TARGET,
        "irv2_analyses_per_s": irv2_rates["repeated"][0] >= IRV2_TARGET,
        "irv2_analyses_per_s_cold": irv2_rates["cold"][0] >= IRV2_TARGET,
    }
    figures["pass"] = checks

    print(f"inception_calc benchmark  (Python {figures['python']}, {figures['cpus']} CPUs, byte-code caching on)")
    print()
    print(f"{'':46} {'wall (median)':>14} {'peak RSS':>10}   {'figure':>12}   {'target':>10}")

    def line(label: str, wall: float, mib: float, figure: str = "", target: str = "", ok: bool | None = None,
             note: str = "") -> None:
        mark = "" if ok is None else verdict(ok)
        print(f"{label:46} {wall:>12.3f} s {mib:>6.1f} MiB   {figure:>12}   {target:>10}  {mark:4}  {note}".rstrip())

    line("(f) floor: python -c 'import ...' (below)", floor_s, floor_mib, note=f"({args.runs} runs)")
    line("(a) python -m inception_calc report", report_s, report_mib, f"{over_floor:.2f}x (f)",
         f"<= {FLOOR_TARGET}x", checks["over_floor"], f"({args.runs} runs, alternating with (f))")
    line("(b) fvcore FlopCountAnalysis, torchvision", fvcore_s, fvcore_mib, f"{speedup:.1f}x (a)",
         f">= {SPEEDUP_TARGET:.0f}x", checks["speedup"], f"({args.fvcore_runs} runs; total {fvcore_total:,})")
    print()
    for text in engine_lines({"googlenet": rates, "irv2": irv2_rates}, irv2):
        print(text)
    print()
    print(f"  (f) is python -c \"{FLOOR_SCRIPT}\"")
    print(f"  {verdict(checks['report_memory'])}  report peak RSS {report_mib:.1f} MiB <= {REPORT_TARGET_MIB:.0f} MiB")
    print(f"  {verdict(checks['no_heavy_imports'])}  report imports none of {', '.join(HEAVY)}"
          + (f" (imported: {', '.join(heavy)})" if heavy else ""))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
