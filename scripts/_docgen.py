"""What every doc generator in scripts/ shares: write the fresh text, or with --check say it is stale."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's package, whatever is installed


def main(target: Path, fresh: Callable[[], str], script: str, argv: list[str] | None = None) -> int:
    """Rewrite ``target`` with ``fresh()``; with ``--check``, exit 1 when it differs instead."""
    from inception_calc.report.output import write_atomic

    parser = argparse.ArgumentParser(description=f"regenerate {target.relative_to(ROOT)}")
    parser.add_argument("--check", action="store_true", help=f"exit 1 when {target.name} is stale")
    args = parser.parse_args(argv)
    text = fresh()
    if args.check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            print(f"{target.relative_to(ROOT)} is stale: run python {script}", file=sys.stderr)
            return 1
        return 0
    write_atomic(target, text)
    print(f"wrote {target.relative_to(ROOT)}")
    return 0
