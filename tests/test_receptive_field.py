"""Receptive fields (issue 14, the analytic half): size, effective stride and effective padding of
every row, branch, nested block and layer, in google-research/receptive_field's definition.

Every expected value is derived by hand in the comment beside it, with the per-layer rule
``size += (k - 1) x stride_in; stride x= s; padding += p x stride_in`` and, at a concatenation or an
addition, the largest branch (centre = (size - 1) / 2 - padding must agree).
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from inception_calc import CalcError, analyze, network_from_dict
from inception_calc.cli.main import main
from inception_calc.core.derivation import derivation
from inception_calc.core.receptive import ReceptiveField, far_padding, receptive_fields
from inception_calc.report.analysis import render
from inception_calc.studies.claims import parse_claim, verify
from inception_calc.studies.sweep import sweep


def rf(size: int | tuple[int, int], stride: int | tuple[int, int], padding: int | tuple[int, int],
       **kw) -> ReceptiveField:
    pair = lambda v: v if isinstance(v, tuple) else (v, v)  # noqa: E731
    return ReceptiveField(pair(size), pair(stride), pair(padding), **kw)


@pytest.fixture(scope="module")
def googlenet():
    return receptive_fields(analyze("googlenet", 224))


# ---------------------------------------------------------------------------- GoogLeNet, by hand


@pytest.mark.parametrize("name, expected", [
    ("conv1", rf(7, 2, 3)),              # 7x7/2 pad 3 on the input (1, 1, 0): 1 + 6 x 1 = 7; 1 x 2; 0 + 3 x 1
    ("maxpool1", rf(11, 4, 3)),          # 3x3/2 ceil, pad 0: 7 + 2 x 2 = 11; 2 x 2 = 4; 3 + 0 x 2 = 3
    ("lrn1", rf(11, 4, 3)),              # LRN keeps the field
    ("conv2.0", rf(11, 4, 3)),           # 1x1 reduce keeps it
    ("conv2.1", rf(19, 4, 7)),           # 3x3 pad 1: 11 + 2 x 4 = 19; 4; 3 + 1 x 4 = 7
    ("conv2", rf(19, 4, 7)),             # the sequence row is its last layer's
    ("maxpool2", rf(27, 8, 7)),          # 3x3/2: 19 + 2 x 4 = 27; 8; 7
    ("inception3a.branch1", rf(27, 8, 7)),    # 1x1: keeps 27, stride 8, padding 7; centre 13 - 7 = 6
    ("inception3a.branch2.1", rf(43, 8, 15)),  # 3x3 pad 1: 27 + 2 x 8 = 43; 7 + 8 = 15; centre 21 - 15 = 6
    ("inception3a.branch3.1", rf(59, 8, 23)),  # 5x5 pad 2: 27 + 4 x 8 = 59; 7 + 2 x 8 = 23; centre 29 - 23 = 6
    ("inception3a.branch4.0", rf(43, 8, 15)),  # 3x3/1 pool pad 1: as the 3x3 conv
    ("inception3a.branch4", rf(43, 8, 15)),    # then the 1x1 projection keeps it
    ("inception3a", rf(59, 8, 23)),      # the merge: the largest (branch3), every centre 6: aligned
    ("inception3b", rf(91, 8, 39)),      # its 5x5 branch: 59 + 4 x 8 = 91; 23 + 2 x 8 = 39
    ("maxpool3", rf(107, 16, 39)),       # 3x3/2: 91 + 2 x 8 = 107; 16; 39
    ("aux1.pool", rf(235, 48, 71)),      # 4a: 107 + 4 x 16 = 171, padding 39 + 2 x 16 = 71; 5x5/3: 171 + 4 x 16, 48
    # 4a..4e each add a 5x5 at stride 16: 171 + 4 x 64 = 427, padding 71 + 4 x 32 = 199; maxpool4 3x3/2:
    # 427 + 2 x 16 = 459, stride 32; 5a, 5b: 459 + 2 x 4 x 32 = 715, padding 199 + 2 x 2 x 32 = 327;
    # the 7x7/1 average pool: 715 + 6 x 32 = 907, padding 327 + 0
    ("inception4e", rf(427, 16, 199)),
    ("maxpool4", rf(459, 32, 199)),
    ("inception5b", rf(715, 32, 327)),
    ("avgpool", rf(907, 32, 327)),
])
def test_googlenet_by_hand(googlenet, name, expected):
    assert googlenet[name] == expected


def test_googlenet_whole_input(googlenet):
    # a linear layer's output depends on every input unit: the whole 224x224 input (stride 224, padding 0)
    assert googlenet["fc"] == rf(224, 224, 0, whole=True)
    assert googlenet["aux1"] == rf(224, 224, 0, whole=True)  # the head ends in fc2
    assert googlenet["fc"].span(0, 0) == (0, 223) and googlenet["fc"].span(5, 1) == (0, 223)


def test_every_node_has_a_field():
    for spec, size in (("googlenet", 224), ("googlenet-torchvision", 224), ("inception-v3", 299),
                       ("inception-resnet-v2", 299), ("bn-inception", 224)):
        analysis = analyze(spec, size)
        assert set(analysis.receptive_fields) == set(analysis.names("conv")), spec


def test_span():
    field = rf(59, 8, 23)
    assert field.span(0, 0) == (-23, 35)  # 0 x 8 - 23 .. -23 + 59 - 1
    assert field.span(3, 1) == (1, 59)    # 3 x 8 - 23 = 1 .. 1 + 58


def test_ceil_rounding_far_side():
    # maxpool1 at 224: conv1 gives 112, ceil gives 56 (floor 55). Unit 55 sees 55 x 4 - 3 .. + 10 = 217 .. 227:
    # 4 past the last input row 223, where the near side pads 3. At 225 conv1 gives 113 and both roundings 56:
    # unit 55 ends at 227 again, 3 past row 224.
    field = analyze("googlenet", 224).receptive_fields["maxpool1"]
    assert far_padding(field, 224, 56, 0) == 4
    assert far_padding(analyze("googlenet", 225).receptive_fields["maxpool1"], 225, 56, 0) == 3
    text = derivation(analyze("googlenet", 224), "maxpool1")
    assert "ceil rounding adds a last window" in text and "reaches 4 past" in text


# ---------------------------------------------------------------------------- small specs


def _net(rows: list[dict], input=(3, 32, 32)) -> object:
    return network_from_dict({"name": "t", "input": list(input), "rows": rows})


def test_unaligned_concat():
    # branch a: 2x2/2 max pool: size 2, stride 2, padding 0, centre (2 - 1) / 2 - 0 = 0.5
    # branch b: 1x1/2 conv:     size 1, stride 2, padding 0, centre 0: not aligned; the largest is a's
    network = _net([{"name": "mix", "kind": "concat", "branches": [
        {"name": "a", "layers": [{"kind": "maxpool", "kernel": 2, "stride": 2, "rounding": "floor"}]},
        {"name": "b", "layers": [{"kind": "conv", "out": 4, "kernel": 1, "stride": 2}]}]},
        {"name": "after", "kind": "conv", "out": 4, "kernel": 3, "pad": 1}])
    fields = analyze(network).receptive_fields
    mix = fields["mix"]
    assert (mix.size, mix.stride, mix.padding, mix.aligned) == ((2, 2), (2, 2), (0, 0), False)
    assert "'mix'" in mix.note and "a 0.5" in mix.note and "b 0" in mix.note and "centre" in mix.note
    # the flag carries on: 3x3 pad 1 after it: 2 + 2 x 2 = 6, padding 0 + 1 x 2 = 2
    assert fields["after"] == rf(6, 2, 2, aligned=False, note=mix.note)
    data = analyze(network).to_dict()["rows"][0]["receptive_field"]
    assert data["aligned"] is False and data["note"] == mix.note and "whole" not in data
    table = render(analyze(network), "table", rf=True)
    assert "2x2*" in table and "not aligned" in table


def test_nested_block_and_add():
    # stem 3x3/2 pad 1: (3, 2, 1). Row "a": 1x1 then a block of 1x3 (pad 0,1) beside 3x1 (pad 1,0):
    #   x13: H 3, pad 1; W 3 + 2 x 2 = 7, pad 1 + 2 = 3.   x31: H 7, pad 3; W 3, pad 1.  centres all 0.
    #   the block: per axis the largest: H from x31 (7, pad 3), W from x13 (7, pad 3).
    # Row "res": identity (the row's input field, 7/2/3) + 3x3 pad 1 conv: 7 + 2 x 2 = 11, pad 3 + 2 = 5;
    #   centres 3 - 3 = 0 and 5 - 5 = 0: aligned, the conv's.
    network = _net([
        {"name": "stem", "kind": "conv", "out": 8, "kernel": 3, "stride": 2, "pad": 1},
        {"name": "a", "kind": "stack", "layers": [
            {"kind": "conv", "out": 8, "kernel": 1},
            {"kind": "concat", "name": "split", "branches": [
                {"name": "x13", "layers": [{"kind": "conv", "out": 4, "kernel": [1, 3], "pad": [0, 1]}]},
                {"name": "x31", "layers": [{"kind": "conv", "out": 4, "kernel": [3, 1], "pad": [1, 0]}]}]}]},
        {"name": "res", "kind": "add", "branches": [
            {"name": "identity"},
            {"name": "conv", "layers": [{"kind": "conv", "out": 8, "kernel": 3, "pad": 1}]}]},
        {"name": "head", "kind": "avgpool", "output": 1},
    ])
    fields = analyze(network).receptive_fields
    assert fields["a.0"] == rf(3, 2, 1)
    assert fields["a.split.x13"] == rf((3, 7), 2, (1, 3))
    assert fields["a.split.x31"] == rf((7, 3), 2, (3, 1))
    assert fields["a.split"] == rf(7, 2, 3)
    assert fields["a"] == rf(7, 2, 3)
    assert fields["res.identity"] == rf(7, 2, 3)
    assert fields["res"] == rf(11, 2, 5)
    assert fields["head"] == rf(32, 32, 0, whole=True)  # global pooling: the whole 32x32 input


def test_adaptive_pool_and_non_square_whole():
    # 3x16x24 input, conv 3x3/2 pad 1: (3, 2, 1), map 8x12. Adaptive pool to 2x3: windows 4x4 (8 / 2, 12 / 3),
    # a regular pool: 3 + 3 x 2 = 9, stride 8, padding 1. Then a linear layer: whole 16x24.
    network = _net([
        {"name": "c", "kind": "conv", "out": 4, "kernel": 3, "stride": 2, "pad": 1},
        {"name": "p", "kind": "avgpool", "output": [2, 3]},
        {"name": "fc", "kind": "linear", "out": 10}], input=(3, 16, 24))
    fields = analyze(network).receptive_fields
    assert fields["p"] == rf(9, 8, 1)
    assert fields["fc"] == rf((16, 24), (16, 24), 0, whole=True)
    # at 3x18x24 the map is 9x12: 9 / 2 is no whole window: reported whole, not aligned, with a note
    odd = analyze(network, "18x24").receptive_fields["p"]
    assert odd.whole and not odd.aligned and "no fixed stride" in odd.note


def test_inception_v3_mixed_6a_is_aligned():
    # Mixed_5d at 299: 127, stride 8, padding 50 (centre 63 - 50 = 13). Mixed_6a:
    #   3x3/2:               127 + 2 x 8 = 143, stride 16, padding 50        centre 71 - 50 = 21
    #   1x1, 3x3 pad 1, 3x3/2: 143, padding 58; then 143 + 2 x 8 = 159, 16, 58  centre 79 - 58 = 21
    #   max pool 3x3/2:      143, 16, 50                                      centre 21: aligned
    fields = analyze("inception-v3", 299).receptive_fields
    assert fields["Mixed_5d"] == rf(127, 8, 50)
    assert fields["Mixed_6a"] == rf(159, 16, 58)


# ---------------------------------------------------------------------------- outputs


def test_json_keys():
    data = analyze("googlenet").to_dict(depth="branch")
    conv1, inception3a = data["rows"][0], data["rows"][6]
    assert conv1["receptive_field"] == {"size": [7, 7], "stride": [2, 2], "padding": [3, 3]}
    assert inception3a["branches"][2]["receptive_field"] == {"size": [59, 59], "stride": [8, 8], "padding": [23, 23]}
    fc = data["rows"][-1]
    assert fc["receptive_field"] == {"size": [224, 224], "stride": [224, 224], "padding": [0, 0], "whole": True}


def test_report_rf_csv_and_table():
    analysis = analyze("googlenet")
    rows = list(csv.DictReader(io.StringIO(render(analysis, "csv", "branch", rf=True))))
    by_name = {r["name"]: r for r in rows}
    assert (by_name["inception3a.branch3"]["rf_h"], by_name["inception3a.branch3"]["rf_padding_w"]) == ("59", "23")
    assert by_name["fc"]["rf_whole"] == "1"
    table = render(analysis, "table", rf=True)
    assert "RF (HxW)" in table and "whole 224x224" in table
    assert "RF (HxW)" not in render(analysis, "table")


def test_claims():
    verdicts = verify([parse_claim("inception3a.rf = 59x59"), parse_claim("inception3a.rf = 59"),
                       parse_claim("inception3a.rf_stride = 8"), parse_claim("inception3a.rf_padding = 23"),
                       parse_claim("inception3a.rf = 23")], derive=False)
    assert [v.holds for v in verdicts] == [True, True, True, True, False]
    assert verdicts[-1].hints == ("23 is inception3a's rf_padding, not its rf",)


def test_sweep_rf():
    result = sweep("googlenet", [224, 256], rf="inception3a")
    assert [p.field for p in result.points] == [rf(59, 8, 23)] * 2  # no layer before it depends on the size
    with pytest.raises(CalcError, match="no row, branch or layer 'inceptoin3a'"):
        sweep("googlenet", [224], rf="inceptoin3a")


@pytest.mark.parametrize("argv, message", [
    (["sweep", "--input", "224", "--rf", "nope"], "--rf: no row, branch or layer 'nope' in googlenet"),
    (["verify", "googlenet", "--claim", "total.rf = 3"], "the whole network has no single receptive field"),
    (["verify", "googlenet", "--claim", "conv1.rf = 7x7x3"], "rf is H x W, but '7x7x3' has three parts"),
])
def test_cli_errors(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_cli_report_rf(capsys):
    assert main(["report", "--rf", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "| RF (HxW) | stride | padding |" in out and "| 59x59 | 8 | 23 |" in out
    assert main(["report", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"][0]["receptive_field"]["size"] == [7, 7]


def test_sweep_rf_plot(tmp_path):
    pytest.importorskip("matplotlib")
    from inception_calc.report.plot import plot_sweep

    path = tmp_path / "rf.png"
    plot_sweep(sweep("googlenet", [224, 256], rf="inception4e"), str(path))
    assert path.stat().st_size > 0
