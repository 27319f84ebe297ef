"""docs/cross-check.md's generated blocks are what the tool prints now (regenerate them with
PYTHONPATH=src python docs/generate_cross_check.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_generated_blocks_are_up_to_date(torchvision_counts):
    spec = importlib.util.spec_from_file_location("generate_cross_check", DOCS / "generate_cross_check.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    text = (DOCS / "cross-check.md").read_text(encoding="utf-8")
    names = [m.group("name") for m in generator.BLOCK.finditer(text)]
    assert {"figures", "torchvision-spec", "paper-vs-torchvision"} <= set(names)
    fresh = generator.regenerate(text, generator.blocks(torchvision_counts), skip=("versions", "timing"))
    assert fresh == text, "docs/cross-check.md is out of date: run PYTHONPATH=src python docs/generate_cross_check.py"
