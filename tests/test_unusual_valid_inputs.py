"""Large and strange but valid inputs through every analytic command, beyond
test_whole_output_and_exact_integers.py: a non-square input through report (every format), compare, verify and explain;
sweep's answer to one; huge inputs through verify and compare, with exact integers in JSON.

Every expected number is derived by hand in the comments from the output-size formulas and the
paper's channel counts, never by calling the engine.

GoogLeNet at 3 x 300 x 250 (H x W), each line floor((H + 2p - k) / s) + 1, ceil for the pools:
  conv1 7x7/2 p3:      (300 + 6 - 7) // 2 + 1 = 150,   (250 + 6 - 7) // 2 + 1 = 125
  maxpool1 3x3/2 ceil: ceil(147 / 2) + 1 = 75,         ceil(122 / 2) + 1 = 62
  conv2 (1x1, 3x3 p1) keeps 75 x 62; maxpool2: ceil(72 / 2) + 1 = 37, ceil(59 / 2) + 1 = 31
  inception3a, 3b at 37 x 31; maxpool3: ceil(34 / 2) + 1 = 18, ceil(28 / 2) + 1 = 15
  inception4a-4e at 18 x 15; maxpool4: ceil(15 / 2) + 1 = 9, ceil(12 / 2) + 1 = 7
  inception5a, 5b at 9 x 7 (5b gives 1024 channels); avgpool 7x7/1: 9 - 7 + 1 = 3, 7 - 7 + 1 = 1
  fc: 1024 x 3 x 1 = 3,072 inputs, x 1000 outputs = 3,072,000 weights (and MACs)
  inception3a: weights 163,328 (the seed article), MACs 37 x 31 x 163,328 = 1,147 x 163,328 = 187,337,216
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from inception_calc.cli.main import main

NON_SQUARE = "300x250"
FC_WEIGHTS = 3_072_000  # 1024 * 3 * 1 * 1000
INCEPTION3A_MACS = 187_337_216  # 37 * 31 * 163,328


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ----------------------------------------------------------------------------- a non-square input


def test_report_non_square_in_every_format(capsys):
    code, out, err = run(capsys, "report", "--input", NON_SQUARE, "--format", "json")
    assert code == 0 and err == ""
    rows = {r["name"]: r for r in json.loads(out)["rows"]}
    assert rows["avgpool"]["out_shape"] == [1024, 3, 1]  # 9 - 7 + 1 = 3, 7 - 7 + 1 = 1
    assert rows["fc"]["weights"] == FC_WEIGHTS and rows["fc"]["macs"] == FC_WEIGHTS
    assert rows["inception3a"]["in_shape"] == [192, 37, 31] and rows["inception3a"]["macs"] == INCEPTION3A_MACS

    code, out, _ = run(capsys, "report", "--input", NON_SQUARE, "--format", "csv")
    fc = next(r for r in csv.DictReader(io.StringIO(out)) if r["name"] == "fc")
    assert (fc["in_c"], fc["in_h"], fc["in_w"], fc["weights"]) == ("1024", "3", "1", str(FC_WEIGHTS))

    for fmt in ("table", "markdown"):
        code, out, _ = run(capsys, "report", "--input", NON_SQUARE, "--format", fmt)
        assert code == 0
        assert "3x300x250" in out  # the header: C x H x W
        assert "3x1x1024" in out  # avgpool's output, H x W x C as the paper writes shapes
        assert "3,072,000" in out and "187,337,216" in out


def test_compare_non_square(capsys):
    code, out, err = run(capsys, "compare", "googlenet", "googlenet:bn", "--input", NON_SQUARE, "--format", "json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["input"] == [3, 300, 250]
    lines = {line["name"]: line["values"] for line in data["lines"]}
    base, bn = lines["inception3a"]
    assert base["macs"] == bn["macs"] == INCEPTION3A_MACS and bn["d_macs"] == 0  # bn adds no conv MACs
    assert base["out_shape"] == [256, 37, 31]  # 64 + 128 + 32 + 32 channels
    base, bn = lines["fc"]
    assert base["weights"] == bn["weights"] == FC_WEIGHTS


def test_verify_out_shape_claims_at_a_non_square_input(capsys):
    code, out, err = run(capsys, "verify", "--input", NON_SQUARE, "--no-derivation",
                         "--claim", "inception3a.out_shape = 37x31x256",  # H x W x C
                         "--claim", "avgpool.out_shape = [1024, 3, 1]",  # C, H, W
                         "--claim", "fc.weights = 3,072,000")
    assert code == 0 and err == "", out
    assert "all 3 claims hold" in out
    code, out, _ = run(capsys, "verify", "--input", NON_SQUARE, "--no-derivation",
                       "--claim", "inception3a.out_shape = 31x37x256")  # height and width swapped
    assert code == 1 and "computed 37x31x256" in out


def test_explain_non_square_shows_both_sides(capsys):
    code, out, _ = run(capsys, "explain", "maxpool2", "--input", NON_SQUARE)
    assert code == 0
    # height and width differ, so the derivation gives each: ceil(72 / 2) + 1 = 37, ceil(59 / 2) + 1 = 31
    assert "= 37 (height)" in out and "= 31 (width)" in out


def test_sweep_takes_square_sizes_and_says_so(capsys):
    code, out, err = run(capsys, "sweep", "--input", NON_SQUARE)
    assert code == 2 and out == ""
    assert "sweep takes square sizes" in err and "report --input HxW" in err


def test_paper_table_is_at_224_and_takes_no_input(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["paper-table", "--input", NON_SQUARE])
    assert exit_.value.code == 2
    assert "unrecognized arguments: --input" in capsys.readouterr().err
    code, out, _ = run(capsys, "paper-table")
    assert code == 0 and "at input 3x224x224" in out


# ----------------------------------------------------------------------------- huge inputs

# GoogLeNet at 4096 (test_whole_output_and_exact_integers.py derives it): conv1 2048 x 2048 x 9,408 = 39,460,012,032 MACs;
# inception3a at 512 x 512: 262,144 x 163,328 = 42,815,455,232; fc 122 x 122 x 1024 x 1000 = 15,241,216,000.
# At N = 2^32: conv1 gives (2^32 + 6 - 7) // 2 + 1 = 2^31 per side, so its MACs are
# 2^31 x 2^31 x 9,408 = 2^62 x 9,408 = 43,386,742,061,364,865,400,832, past 2^64 (about 1.8 x 10^19);
# maxpool1 ceil: ceil((2^31 - 3) / 2) + 1 = 2^30 - 1 + 1 = 2^30.
CONV1_MACS_AT_2_32 = 2**62 * 9408


def test_verify_at_4096_and_2_to_the_32_is_exact(capsys):
    code, out, err = run(capsys, "verify", "--input", "4096", "--format", "json",
                         "--claim", "conv1.macs = 39,460,012,032", "--claim", "inception3a.macs = 42,815,455,232",
                         "--claim", "fc.weights = 15,241,216,000")
    assert code == 0 and err == ""
    computed = [c["computed"] for c in json.loads(out)["claims"]]
    assert computed == [39_460_012_032, 42_815_455_232, 15_241_216_000]

    code, out, _ = run(capsys, "verify", "--input", str(2**32), "--format", "json",
                       "--claim", f"conv1.macs = {CONV1_MACS_AT_2_32:,}",
                       "--claim", f"maxpool1.out_shape = {2**30}x{2**30}x64")
    assert code == 0
    claims = json.loads(out)["claims"]
    assert claims[0]["computed"] == CONV1_MACS_AT_2_32 and isinstance(claims[0]["computed"], int)
    assert claims[1]["computed"] == [64, 2**30, 2**30]
    assert '"computed": 43386742061364865400832' in out  # written as an exact integer, no exponent


def test_compare_at_2_to_the_32_carries_exact_integers(capsys):
    code, out, err = run(capsys, "compare", "googlenet", "googlenet:bn", "--input", str(2**32), "--format", "json")
    assert code == 0 and err == ""
    lines = {line["name"]: line["values"] for line in json.loads(out)["lines"]}
    base, bn = lines["conv1"]
    assert base["macs"] == bn["macs"] == CONV1_MACS_AT_2_32 and bn["d_macs"] == 0
    assert base["out_shape"] == [64, 2**31, 2**31]
    code, out, _ = run(capsys, "compare", "googlenet", "googlenet:bn", "--input", str(2**32), "--format", "csv")
    assert str(CONV1_MACS_AT_2_32) in out and "e+" not in out.lower()


# ----------------------------------------------------------------------------- a very long spec

ROWS = 20_000


def test_a_spec_of_twenty_thousand_rows():
    """Long specs load, analyse, render and give the smallest-input error in time linear in the
    rows (10^5 rows take about 5 s from a TOML file, mostly parsing it; docs/fuzzing.md)."""
    from inception_calc import analyze, network_from_dict
    from inception_calc.core.errors import CalcError
    from inception_calc.report.analysis import render

    rows = [{"name": f"c{i}", "kind": "conv", "out": 4, "kernel": 1} for i in range(ROWS)]
    analysis = analyze(network_from_dict({"name": "long", "rows": rows}), "3x2x2")
    # c0: 3 x 4 = 12 weights; each of the other 19,999 rows: 4 x 4 = 16; so 12 + 16 x 19,999 = 319,996
    assert analysis.totals.inference.weights == 319_996
    assert analysis.totals.inference.params == 319_996 + 4 * ROWS  # a bias of 4 per row: 399,996
    assert analysis.totals.inference.macs == 2 * 2 * 319_996  # every row at 2 x 2: 1,279,984
    assert render(analysis, "csv").count("\n") == ROWS + 3  # header, rows, two totals
    rows[-1] = {"name": "last", "kind": "conv", "out": 4, "kernel": 3}  # the last row: 20,000 is the most a network has
    with pytest.raises(CalcError, match="the smallest square input this network accepts is 3x3x3"):
        analyze(network_from_dict({"name": "long", "rows": rows}), "3x2x2")  # 3x3 needs 3: 3 - 3 + 1 = 1
