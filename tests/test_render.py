"""The CLI prints exactly the golden files of the rendered GoogLeNet report at 224, and the golden
files agree with each other.

The golden files are the reviewed output of inception_calc.report.analysis.render. scripts/docgen.py
writes them (``python scripts/docgen.py 'tests/golden/*'`` after an intended change; review the
diff) and tests/test_generated.py checks that they are what render() gives now.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from conftest import run_cli, script
from inception_calc.report.analysis import grouped, hwc, percent

GOLDEN = Path(__file__).parent / "golden"
CASES = script("scripts/docgen.py").GOLDEN  # (golden file, format, depth)


@pytest.mark.parametrize("name, fmt, depth", CASES)
def test_cli_prints_the_golden(name, fmt, depth):
    run = run_cli("report", "--format", fmt, "--depth", depth)
    assert run.code == 0 and run.err == ""
    assert run.out == (GOLDEN / name).read_text(encoding="utf-8")


def test_cli_default_is_the_layer_table():
    assert run_cli().out == run_cli("report").out == (GOLDEN / "googlenet_224_layer.txt").read_text(encoding="utf-8")


def test_output_file_equals_stdout(tmp_path):
    target = tmp_path / "report.csv"
    run = run_cli("report", "--format", "csv", "--output", str(target))
    assert run.code == 0 and run.out == ""
    assert target.read_text(encoding="utf-8") == (GOLDEN / "googlenet_224_layer.csv").read_text(encoding="utf-8")


def test_golden_files_agree_with_each_other():
    """The four layer-depth formats carry the same rows and numbers."""
    data = json.loads((GOLDEN / "googlenet_224_layer.json").read_text())
    rows = list(csv.DictReader(io.StringIO((GOLDEN / "googlenet_224_layer.csv").read_text())))
    table = (GOLDEN / "googlenet_224_layer.txt").read_text()
    markdown = (GOLDEN / "googlenet_224_layer.md").read_text()
    assert [r["name"] for r in rows if r["level"] != "total"] == [r["name"] for r in data["rows"]]
    for row, line in zip(data["rows"], rows):
        assert int(line["weights"]) == row["weights"] and int(line["macs"]) == row["macs"]
        assert [int(line[k]) for k in ("out_c", "out_h", "out_w")] == row["out_shape"]
        assert f"{hwc(row['out_shape'])}" in table and f"{grouped(row['macs'])}" in table
        assert f"| {grouped(row['weights'])} |" in markdown or row["weights"] == 0
    assert grouped(data["totals"]["inference"]["macs"]) in table
    assert f"**{grouped(data['totals']['training']['weights'])}**" in markdown


def test_json_contract_keys():
    data = json.loads((GOLDEN / "googlenet_224_layer.json").read_text())
    assert list(data) == ["spec", "input", "convention", "rows", "totals", "warnings"]
    assert data["spec"] == "googlenet" and data["input"] == [3, 224, 224]
    for row in data["rows"]:
        assert {"name", "kind", "in_shape", "out_shape", "weights", "biases", "params", "macs",
                "activations"} <= set(row)
        assert row["params"] == row["weights"] + row["biases"] + row["bn"]
        assert "branches" not in row and "layers" not in row  # layer depth: rows only
    for key in ("inference", "training"):
        assert {"weights", "params", "macs"} <= set(data["totals"][key])


@pytest.mark.parametrize("n, text", [(0, "0"), (999, "999"), (1000, "1,000"), (1_582_671_872, "1,582,671,872")])
def test_grouped(n, text):
    assert grouped(n) == text


@pytest.mark.parametrize("shape, text", [((192, 28, 28), "28x28x192"), ((3, 300, 250), "300x250x3")])
def test_hwc(shape, text):  # [C, H, W] shown as the paper's H x W x C
    assert hwc(shape) == text


@pytest.mark.parametrize("part, whole, text", [(1, 8, "12.5%"), (0, 10, "0.0%"), (5, 0, "-")])
def test_percent(part, whole, text):
    assert percent(part, whole) == text
