"""Seconds to import torchvision's googlenet as a spec (pytorch/importer.py), beyond importing torch
and torchvision: building the model on the meta device, two fx traces (training and eval mode), the
mapping and one analysis. Target: under 1 s.

    PYTHONPATH=. python benchmarks/bench_import.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", default="googlenet")
    args = parser.parse_args()
    start = time.perf_counter()
    import torch  # noqa: F401
    import torchvision  # noqa: F401

    imported = time.perf_counter() - start
    from inception_calc.pytorch import importer

    times = []
    for _ in range(args.repeat):
        importer.from_torchvision.cache_clear()
        t = time.perf_counter()
        network = importer.from_torchvision(args.model)
        times.append(time.perf_counter() - t)
    print(f"import torch, torchvision: {imported:.2f} s (not counted)")
    print(f"torchvision:{args.model} -> spec ({len(network.rows)} rows): best {min(times):.3f} s, "
          f"first {times[0]:.3f} s over {args.repeat} runs (target < 1 s)")


if __name__ == "__main__":
    main()
