"""Benchmark figure: do the rows' timings add up to the whole forward? (formerly an assertion in tests/test_bench.py)

``bench`` times the whole forward and, separately, each row; the rows' medians added up should come
within ``SUM_TOLERANCE`` (15%) of the whole forward's median (the rest is launch gaps between rows and
the flatten before the classifier). That is a timing, and on a shared machine a timing is a figure to
measure, not a test to assert: this prints the ratio rows / whole for each attempt, and whether the
target is met.

    python benchmarks/bench_rows_sum.py [--device cpu|cuda] [--attempts 3] [--repeats 15] [--threads 1]

On the CPU, torch runs with ``--threads`` threads (one by default: with one thread a busy neighbour
slows every sample alike instead of stalling a thread pool). The exit status is 1 when no attempt
meets the target.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's package

from inception_calc.bench.run import SUM_TOLERANCE, Settings, bench  # noqa: E402
from inception_calc.pytorch.build import require_torch  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", default="googlenet")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--attempts", type=int, default=3, help="independent bench runs (each its own figure)")
    parser.add_argument("--repeats", type=int, default=15, help="timed samples per attempt (median)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads on the CPU")
    args = parser.parse_args(argv)

    torch = require_torch()
    if args.device == "cpu":
        torch.set_num_threads(args.threads)
    settings = Settings(device=args.device, batches=(args.batch,), iters=1 if args.device == "cpu" else None,
                        warmup=1, repeats=args.repeats)
    print(f"rows / whole forward: {args.spec}, batch {args.batch}, {args.device}"
          + (f", {args.threads} thread(s)" if args.device == "cpu" else "")
          + f"; target |rows / whole - 1| <= {SUM_TOLERANCE:.0%}")
    print(f"{'attempt':>7} {'whole (ms)':>11} {'rows (ms)':>10} {'rows / whole':>13}")
    met = []
    for attempt in range(1, args.attempts + 1):
        (run,) = bench(args.spec, None, settings).runs
        ratio = run.layer_sum_ms / run.median_ms
        met.append(abs(ratio - 1) <= SUM_TOLERANCE)
        print(f"{attempt:>7} {run.median_ms:>11.3f} {run.layer_sum_ms:>10.3f} {ratio:>13.3f}  "
              f"{'PASS' if met[-1] else 'MISS'}")
    print(f"{sum(met)} of {len(met)} attempts within {SUM_TOLERANCE:.0%}")
    return 0 if any(met) else 1


if __name__ == "__main__":
    sys.exit(main())
