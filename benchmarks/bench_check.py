"""Wall time of the whole `inception-calc check ... --against torchvision` process, median of 3.

Run from the repository root:  python benchmarks/bench_check.py [--runs N]

Each run is a fresh process (python -m inception_calc check SPEC --against torchvision), so the
time includes importing torch, torchvision and fvcore, building torchvision's googlenet, one eager
forward under FlopCounterMode with hooks, one fvcore trace, and the reconciliation. The exit
status is checked too: 1 for googlenet (the paper's network differs from torchvision's), 0 for
googlenet-torchvision.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1]
CASES = (("googlenet", 1), ("googlenet-torchvision", 0))


def wall_time(spec: str, expected: int) -> float:
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "inception_calc", "check", spec, "--against", "torchvision"],
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != expected:
        sys.exit(f"check {spec} --against torchvision exited {proc.returncode}, expected {expected}: {proc.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per case; the median is reported (default 3)")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; median of {args.runs} fresh processes")
    for spec, expected in CASES:
        times = [wall_time(spec, expected) for _ in range(args.runs)]
        print(f"check {spec} --against torchvision (exit {expected}): median {statistics.median(times):.2f} s "
              f"(runs: {', '.join(f'{t:.2f}' for t in times)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
