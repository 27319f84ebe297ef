"""docs/derivations.md (written by scripts/docgen.py; tests/test_generated.py checks it is current)
has a section for every Inception row, with the seed article's sums."""

from __future__ import annotations

from conftest import ROOT


def test_derivations_doc_covers_every_inception_row():
    text = (ROOT / "docs" / "derivations.md").read_text(encoding="utf-8")
    for name in ("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"):
        assert f"## inception{name}\n" in text
    # inception3a: 12,288 + 18,432 + 110,592 + 3,072 + 12,800 + 6,144 = 163,328 (the seed article's sum)
    assert "weights = 12,288 + 18,432 + 110,592 + 3,072 + 12,800 + 6,144 = 163,328" in text
    # inception5b: 832x384 + 832x192 + 192x384x9 + 832x48 + 48x128x25 + 832x128
    #            = 319,488 + 159,744 + 663,552 + 39,936 + 153,600 + 106,496 = 1,442,816
    assert "= 1,442,816" in text
