"""compare: lines aligned by name, differences against the first network, totals, most-changed
ranking, the four formats and the refusals."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from inception_calc import CalcError
from inception_calc.cli.main import main
from inception_calc.report.compare import render
from inception_calc.studies.compare import compare


@pytest.fixture(scope="module")
def module_level():
    return compare(["googlenet", "googlenet:naive", "googlenet:no-reduce"], rows=["inception3a"], depth="branch")


def test_module_level_lines(module_level):
    assert [ln.name for ln in module_level.lines] == [
        "inception3a", "inception3a.branch1", "inception3a.branch2", "inception3a.branch3", "inception3a.branch4"]
    assert [ln.leaf for ln in module_level.lines] == [False, True, True, True, True]
    branch3 = module_level.lines[3].nodes
    # 15,872 reduced (192*16 + 16*32*25); 153,600 without the reduction (192*32*25), in both variants
    assert [n.weights for n in branch3] == [15_872, 153_600, 153_600]
    pool = module_level.lines[4].nodes
    assert [n.out_shape[0] for n in pool] == [32, 192, 32]  # naive: the pool's 192 channels pass through


# The paper's Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj; the map side the row runs at.
TABLE1_INCEPTION = [
    (64, 96, 128, 16, 32, 32, 28), (128, 128, 192, 32, 96, 64, 28),                                 # 3a, 3b
    (192, 96, 208, 16, 48, 64, 14), (160, 112, 224, 24, 64, 64, 14), (128, 128, 256, 24, 64, 64, 14),
    (112, 144, 288, 32, 64, 64, 14), (256, 160, 320, 32, 128, 128, 14),                               # 4a-4e
    (256, 160, 320, 32, 128, 128, 7), (384, 192, 384, 48, 128, 128, 7),                               # 5a, 5b
]


def whole_network(form):
    """(weights, params, MACs) of GoogLeNet at 224 (Caffe's biases, no auxiliary heads), by hand.

    conv1 3*64*49 = 9,408 weights at 112x112; conv2 64*64 + 64*192*9 = 114,688 at 56x56; biases 64 + 256.
    An Inception row on cin channels, per form:
      reduced   cin*(n1 + r3 + r5 + pp) + 9*r3*n3 + 25*r5*n5; out n1 + n3 + n5 + pp; biases every column
      naive     cin*(n1 + 9*n3 + 25*n5), no reductions or projection; out n1 + n3 + n5 + cin (the pool
                passes its input through); biases n1 + n3 + n5
      no-reduce cin*(n1 + 9*n3 + 25*n5 + pp); out n1 + n3 + n5 + pp; biases n1 + n3 + n5 + pp
    then fc: (last row's out) * 1000 weights and MACs (1x1 after the 7x7 average pool), 1,000 biases.
    """
    weights, biases, macs, cin = 9_408 + 114_688, 64 + 256, 112 * 112 * 9_408 + 56 * 56 * 114_688, 192
    for n1, r3, n3, r5, n5, pp, side in TABLE1_INCEPTION:
        if form == "reduced":
            row = cin * (n1 + r3 + r5 + pp) + 9 * r3 * n3 + 25 * r5 * n5
            out, bias = n1 + n3 + n5 + pp, n1 + r3 + n3 + r5 + n5 + pp
        elif form == "naive":
            row, out, bias = cin * (n1 + 9 * n3 + 25 * n5), n1 + n3 + n5 + cin, n1 + n3 + n5
        else:
            row, out, bias = cin * (n1 + 9 * n3 + 25 * n5 + pp), n1 + n3 + n5 + pp, n1 + n3 + n5 + pp
        weights, biases, macs, cin = weights + row, biases + bias, macs + side * side * row, out
    return weights + cin * 1000, weights + cin * 1000 + biases + 1000, macs + cin * 1000


def test_module_level_totals(module_level):
    shown = module_level.shown_totals()
    # inception3a alone: 163,328 / 387,072 / 393,216 weights (see test_variants for the derivation)
    assert [s.weights for s in shown] == [163_328, 387_072, 393_216]
    whole = module_level.totals()  # the whole networks, not just the rows shown
    expected = {
        # 9,408 + 114,688 + (163,328 + 388,096 + 375,552 + 448,512 + 509,440 + 604,672 + 867,328 + 1,042,432
        # + 1,442,816) + 1,024 * 1,000 = 6,990,272; + 8,280 biases; MACs 1,582,671,872 (docs/variants.md)
        "reduced": (6_990_272, 6_998_552, 1_582_671_872),
        # the naive rows widen to 4,944 channels: fc 4,944 * 1,000 = 4,944,000; biases 64 + 256 + 4,752 + 1,000
        "naive": (97_519_936, 97_526_008, 12_568_061_056),
        # no-reduce keeps 1,024 channels: biases 64 + 256 + 5,488 + 1,000 = 6,808
        "no-reduce": (25_299_136, 25_305_944, 4_426_547_200),
    }
    assert {form: whole_network(form) for form in expected} == expected
    assert [(t.weights, t.params, t.macs) for t in whole] == list(expected.values())


def test_most_changed(module_level):
    naive = module_level.most_changed(1)
    # MACs deltas at 28x28 (784 pixels): branch3 784 * (153,600 - 15,872) = 107,978,752;
    # branch2 784 * (221,184 - 129,024) = 72,253,440; branch4 784 * (0 - 6,144) = -4,816,896
    assert [(c.name.split(".")[1], c.macs) for c in naive] == [
        ("branch3", 107_978_752), ("branch2", 72_253_440), ("branch4", -4_816_896)]
    assert naive[0].relative_macs == pytest.approx(137_728 / 15_872)  # +867.7%
    no_reduce = module_level.most_changed(2)
    assert [c.name for c in no_reduce] == ["inception3a.branch3", "inception3a.branch2"]  # 1 and 4 unchanged


def test_table(module_level):
    text = render(module_level, "table")
    assert "Δ = each network minus googlenet" in text
    assert "+137,728 (+867.7%)" in text        # branch3 weights, naive: 153,600 - 15,872 over 15,872
    assert "+223,744 (+137.0%)" in text        # inception3a weights, naive: 387,072 - 163,328 over 163,328
    assert "-6,144 (-100.0%)" in text          # the naive pool branch has no projection
    assert "total of the rows shown (inception3a)" in text
    assert "most changed, googlenet:naive against googlenet" in text


def test_csv_and_json(module_level):
    rows = list(csv.DictReader(io.StringIO(render(module_level, "csv"))))
    assert len(rows) == 5 * 3 + 3  # 5 lines x 3 networks, then 3 totals
    b3 = [r for r in rows if r["name"] == "inception3a.branch3"]
    assert [int(r["weights"]) for r in b3] == [15_872, 153_600, 153_600]
    assert b3[1]["d_weights"] == "137728" and b3[0]["d_weights"] == ""
    data = json.loads(render(module_level, "json"))
    assert data["networks"] == ["googlenet", "googlenet:naive", "googlenet:no-reduce"]
    assert data["lines"][0]["values"][1]["d_macs"] == 303_464_448 - 128_049_152
    assert data["most_changed"][0][0]["name"] == "inception3a.branch3"
    assert "| inception3a" in render(module_level, "markdown")


def test_alignment_with_absent_rows_and_layers():
    c = compare(["googlenet", "bn-inception"])
    names = [ln.name for ln in c.lines]
    # inception3c exists only in BN-Inception: placed after inception3b, before googlenet's maxpool3
    assert names.index("inception3b") < names.index("inception3c") < names.index("maxpool3")
    line = next(ln for ln in c.lines if ln.name == "inception3c")
    assert line.nodes[0] is None and line.nodes[1].weights == 384_000
    text = render(c, "table")
    assert "absent" in text
    conv = compare(["googlenet", "googlenet:naive"], rows=["inception3a"], depth="conv")
    by_name = {ln.name: ln.nodes for ln in conv.lines}
    assert by_name["inception3a.branch2.0"][1] is None  # the reduction the naive module lacks
    assert [n.weights for n in by_name["inception3a.branch2.1"]] == [110_592, 221_184]  # 96*128*9; 192*128*9


def test_factorized_5x5_against_the_rule():
    c = compare(["googlenet", "googlenet:factorized-5x5"], rows=["inception3a"], depth="branch")
    b3 = next(ln for ln in c.lines if ln.name == "inception3a.branch3")
    # 5x5 branch: 3,072 + 12,800 = 15,872; factorized: 3,072 + 4,608 + 9,216 = 16,896, +6.5%, not -28%
    assert [n.weights for n in b3.nodes] == [15_872, 16_896]


def test_refusals(capsys):
    assert main(["compare", "googlenet"]) == 2
    assert "compare needs at least two networks, got 1" in capsys.readouterr().err
    assert main(["compare", "googlenet", "googlenet:naive", "--rows", "inception9z"]) == 2
    assert "--rows: no row named 'inception9z' in any of the networks; use one of: conv1" in capsys.readouterr().err
    assert main(["compare", "googlenet", "googlenet:naive", "--input", "2x"]) == 2
    assert "--input: cannot read input size '2x'" in capsys.readouterr().err


@pytest.mark.parametrize("kwargs, where, message", [
    (dict(specs=["googlenet"]), "specs", "compare needs at least two networks, got 1"),
    (dict(specs="googlenet"), "specs", "got 1"),  # one name is one network, not nine letters
    (dict(depth="deep"), "depth", "unknown depth 'deep'"),
    (dict(rows=["inception9z"]), "rows", "no row named 'inception9z'"),
    (dict(rows=[3]), "rows", "rows must be row names, got [3]"),
    (dict(input="2x"), "input", "cannot read input size '2x'"),
])
def test_library_errors_name_the_parameter(kwargs, where, message):
    """The library speaks of its parameters (the command line maps them to --rows, --depth, ...)."""
    with pytest.raises(CalcError, match=re.escape(message)) as error:
        compare(**{"specs": ["googlenet", "googlenet:naive"], **kwargs})
    assert error.value.where == where


def test_one_row_by_name():
    # a bare name is that row, not its letters
    assert compare(["googlenet", "googlenet:naive"], rows="inception3a").rows == ("inception3a",)


def test_cli(capsys):
    assert main(["compare", "googlenet", "googlenet:naive", "--rows", "inception3a,inception3b", "--format",
                 "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rows"] == ["inception3a", "inception3b"]
    assert [ln["name"] for ln in data["lines"]] == ["inception3a", "inception3b"]
    # naive 3b on 416 channels: 416*128 + 416*192*9 + 416*96*25 = 1,770,496 weights
    assert data["lines"][1]["values"][1]["weights"] == 1_770_496
