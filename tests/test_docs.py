"""The docs are there, hold the worked example, and every complete spec in docs/spec-format.md loads
and analyses. That their generated blocks are what the tool prints now is tests/test_generated.py's
check (``python scripts/docgen.py`` refreshes them).
"""

from __future__ import annotations

import re
import tomllib

import pytest

from conftest import ROOT, script
from inception_calc import analyze, network_from_dict

DOCS = sorted((ROOT / "docs").glob("*.md"))


def test_docs_exist():
    assert {p.name for p in DOCS} >= {"conventions.md", "spec-format.md", "json.md", "formulas.md"}


def test_formulas_doc_has_the_worked_example():
    (entry,) = [e for e in script("scripts/docgen.py").REGISTRY if e.name == "docs/formulas.md#explain-inception3a"]
    assert entry.source == "inception-calc explain inception3a"
    text = (ROOT / "docs" / "formulas.md").read_text(encoding="utf-8")
    assert "<!-- generated: explain-inception3a -->" in text
    assert "weights = 12,288 + 18,432 + 110,592 + 3,072 + 12,800 + 6,144 = 163,328" in text  # the article's sum


def spec_blocks() -> list[str]:
    text = (ROOT / "docs" / "spec-format.md").read_text(encoding="utf-8")
    return [b for b in re.findall(r"```toml\n(.*?)```", text, re.DOTALL) if b.startswith("name = ")]


@pytest.mark.parametrize("block", spec_blocks(), ids=lambda b: b.split('"')[1])
def test_spec_format_examples_load(block):
    network = network_from_dict(tomllib.loads(block), "docs/spec-format.md")
    assert analyze(network).totals.inference.params > 0
