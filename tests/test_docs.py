"""The docs show real output: every block after ``<!-- output of: COMMAND -->`` in docs/*.md is what
COMMAND prints now (``inception-calc`` runs this checkout), and every complete spec in
docs/spec-format.md loads and analyses.

To refresh the blocks after an intended change: ``UPDATE_GOLDEN=1 python -m pytest tests/test_docs.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib

import pytest

from conftest import ROOT, SRC
from inception_calc import analyze, network_from_dict

DOCS = sorted((ROOT / "docs").glob("*.md"))
NEEDS = {"errors.md": "matplotlib"}  # a doc whose generated blocks show an extra at work (--plot's own errors)
BLOCK = re.compile(r"<!-- output of: (?P<cmd>.+?) -->\n```(?P<lang>\w*)\n(?P<body>.*?)```", re.DOTALL)


def shell_output(command: str) -> str:
    """COMMAND's stdout from bash; ``inception-calc`` runs this checkout, ``python`` this interpreter."""
    script = (f'inception-calc() {{ "{sys.executable}" -m inception_calc "$@"; }}\n'
              f'python() {{ "{sys.executable}" "$@"; }}\nset -o pipefail\n{command}')
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert done.returncode == 0, f"{command}: {done.stderr[-2000:]}"
    return done.stdout


def test_docs_exist():
    assert {p.name for p in DOCS} >= {"conventions.md", "spec-format.md", "json.md", "formulas.md"}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_generated_blocks_are_current(doc, update_golden):
    if doc.name in NEEDS:
        pytest.importorskip(NEEDS[doc.name])
    text = doc.read_text(encoding="utf-8")
    blocks = list(BLOCK.finditer(text))
    if update_golden:
        def fresh(m: re.Match) -> str:
            return f"<!-- output of: {m['cmd']} -->\n```{m['lang']}\n{shell_output(m['cmd'])}```"
        doc.write_text(BLOCK.sub(fresh, text), encoding="utf-8")
        return
    for m in blocks:
        assert m["body"] == shell_output(m["cmd"]), f"{doc.name}: '{m['cmd']}' prints something else now"


def test_formulas_doc_has_the_worked_example():
    text = (ROOT / "docs" / "formulas.md").read_text(encoding="utf-8")
    assert "<!-- output of: inception-calc explain inception3a -->" in text
    assert "weights = 12,288 + 18,432 + 110,592 + 3,072 + 12,800 + 6,144 = 163,328" in text  # the article's sum


def spec_blocks() -> list[str]:
    text = (ROOT / "docs" / "spec-format.md").read_text(encoding="utf-8")
    return [b for b in re.findall(r"```toml\n(.*?)```", text, re.DOTALL) if b.startswith("name = ")]


@pytest.mark.parametrize("block", spec_blocks(), ids=lambda b: b.split('"')[1])
def test_spec_format_examples_load(block):
    network = network_from_dict(tomllib.loads(block), "docs/spec-format.md")
    assert analyze(network).totals.inference.params > 0
