"""Regenerate the generated blocks of docs/cross-check.md from the tool itself.

    python docs/generate_cross_check.py          # rewrite the blocks in place
    python docs/generate_cross_check.py --check  # exit 1 if a block is out of date

Each block sits between ``<!-- BEGIN generated: NAME -->`` and ``<!-- END generated: NAME -->``;
the text between is what the tool prints, never typed. tests/test_docs.py checks that the blocks
(all but ``versions`` and ``timing``, which depend on the machine) match a fresh run.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, Callable

DOC = Path(__file__).with_name("cross-check.md")
BLOCK = re.compile(r"(<!-- BEGIN generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- END generated: (?P=name) -->)",
                   re.S)


def _without_header(markdown: str) -> str:
    """A check report without its two header paragraphs (the title and the versions line)."""
    return markdown.split("\n\n", 2)[2]


def _figures() -> str:
    from torchvision.models import GoogLeNet_Weights

    from inception_calc import analyze

    meta = GoogLeNet_Weights.IMAGENET1K_V1.meta
    lines = ["| spec | params (inference) | params (with aux heads) | MACs at 224 (inference) | MACs with aux |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for spec in ("googlenet", "googlenet-torchvision"):
        t = analyze(spec).totals
        lines.append(f"| {spec} | {t.inference.params:,} | {t.training.params:,} | {t.inference.macs:,} | "
                     f"{t.training.macs:,} |")
    lines.append(f"| torchvision's documentation (GoogLeNet_Weights.IMAGENET1K_V1.meta) | {meta['num_params']:,} | "
                 f"| {meta['_ops']} \"GFLOPS\" | |")
    return "\n".join(lines) + "\n"


def blocks(torchvision_counts: Any = None) -> dict[str, Callable[[], str]]:
    """The generated blocks by name, each a function giving its text; ``torchvision_counts`` (the
    counts of torchvision's googlenet at 3x224x224) is reused when given."""
    from inception_calc.report.check import render_check
    from inception_calc.pytorch.counters import count_module, torchvision_googlenet
    from inception_calc.core.engine import analyze
    from inception_calc.pytorch.reconcile import reconcile

    cache: dict[str, Any] = {}

    def counts() -> Any:
        if "tv" not in cache:
            cache["tv"] = torchvision_counts or count_module(torchvision_googlenet(), (3, 224, 224),
                                                             "torchvision googlenet")
        return cache["tv"]

    def report(spec: str) -> str:
        return _without_header(render_check(reconcile(analyze(spec), counts()), "markdown"))

    def versions() -> str:
        import torch
        import torchvision
        from importlib.metadata import version

        return (f"Generated with torch {torch.__version__}, torchvision {torchvision.__version__}, "
                f"fvcore {version('fvcore')}.\n")

    def timing() -> str:
        import subprocess

        bench = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_check.py"
        out = subprocess.run([sys.executable, str(bench)], capture_output=True, text=True, check=True).stdout
        return "```\n" + out + "```\n"

    return {
        "versions": versions,
        "timing": timing,
        "figures": _figures,
        "torchvision-spec": lambda: report("googlenet-torchvision"),
        "paper-vs-torchvision": lambda: report("googlenet"),
    }


def regenerate(text: str, makers: dict[str, Callable[[], str]], skip: tuple[str, ...] = ()) -> str:
    def fill(match: re.Match) -> str:
        name = match.group("name")
        if name in skip:
            return match.group(0)
        return f"{match.group(1)}{makers[name]()}{match.group(4)}"

    return BLOCK.sub(fill, text)


def main(argv: list[str]) -> int:
    text = DOC.read_text(encoding="utf-8")
    new = regenerate(text, blocks(), skip=("timing",) if "--check" in argv else ())
    if "--check" in argv:
        if new != text:
            print(f"{DOC} is out of date: run python {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
