"""compare by stage: networks whose rows do not share names, grouped into stages by the grid (H x W)
of their rows' outputs and lined up by grid (one input size) or by output stride (their own inputs); the
choice between name and stage; per-stage and total sums; the formats; the refusals."""

from __future__ import annotations

import csv
import io
import json

import pytest

from conftest import run_cli
from inception_calc import CalcError, analyze, network_from_dict
from inception_calc.cli.main import main
from inception_calc.core.results import Sums
from inception_calc.report.compare import render
from inception_calc.studies.compare import compare, stages_of

# A synthetic network whose rows share no name with GoogLeNet, at 3x32x32, no biases:
#   stem       conv 3x3/2 pad 1, 8:  floor((32 + 2 - 3) / 2) + 1 = 16 -> 16x16; 3*8*9 = 216 weights,
#                                  256 * 216 = 55,296 MACs
#   stem_pool  max pool 2x2/2:       8x8
#   mix        conv 3x3 pad 1, 16:   8x8; 8*16*9 = 1,152 weights, 64 * 1,152 = 73,728 MACs
#   down       max pool 2x2/2:       4x4
#   widen      conv 1x1 pad 2, 16:   4 + 4 - 1 + 1 = 8 -> 8x8 again; 16*16 = 256 weights, 64 * 256 = 16,384 MACs
#   head_pool  avg pool 8x8:         1x1
#   classifier linear 16 -> 10:      160 weights, 160 MACs
TINY = {
    "name": "tiny", "input": [3, 32, 32], "defaults": {"bias": False},
    "rows": [
        {"name": "stem", "kind": "conv", "out": 8, "kernel": 3, "stride": 2, "pad": 1},
        {"name": "stem_pool", "kind": "maxpool", "kernel": 2, "stride": 2, "rounding": "floor"},
        {"name": "mix", "kind": "conv", "out": 16, "kernel": 3, "pad": 1},
        {"name": "down", "kind": "maxpool", "kernel": 2, "stride": 2, "rounding": "floor"},
        {"name": "widen", "kind": "conv", "out": 16, "kernel": 1, "pad": 2},
        {"name": "head_pool", "kind": "avgpool", "kernel": 8, "rounding": "floor"},
        {"name": "classifier", "kind": "linear", "out": 10},
    ],
}


@pytest.fixture(scope="module")
def tiny():
    return network_from_dict(TINY, "tiny")


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory):
    lines = ['name = "tiny"', "input = [3, 32, 32]", "[defaults]", "bias = false"]
    for row in TINY["rows"]:
        lines.append("[[rows]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in row.items()]
    path = tmp_path_factory.mktemp("family") / "tiny.toml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


# GoogLeNet at 224 (the paper's Table 1): conv1 7x7/2 pad 3 gives floor((224 + 6 - 7) / 2) + 1 = 112; each
# 3x3/2 ceil-rounded max pool halves the grid, ceil((112 - 3) / 2) + 1 = 56, then 28, 14, 7; the 7x7
# average pool gives 1x1. A stage starts at the row whose output has a new grid (the pool that shrinks it).
GOOGLENET_STAGES = [
    ("112x112", ["conv1"]),
    ("56x56", ["maxpool1", "lrn1", "conv2", "lrn2"]),
    ("28x28", ["maxpool2", "inception3a", "inception3b"]),
    ("14x14", ["maxpool3", "inception4a", "inception4b", "inception4c", "inception4d", "inception4e"]),
    ("7x7", ["maxpool4", "inception5a", "inception5b"]),
    ("1x1", ["avgpool", "dropout", "fc"]),
]

# Table 1's columns (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj) of each Inception row, by stage
INCEPTION = {
    "28x28": [(64, 96, 128, 16, 32, 32), (128, 128, 192, 32, 96, 64)],
    "14x14": [(192, 96, 208, 16, 48, 64), (160, 112, 224, 24, 64, 64), (128, 128, 256, 24, 64, 64),
              (112, 144, 288, 32, 64, 64), (256, 160, 320, 32, 128, 128)],
    "7x7": [(256, 160, 320, 32, 128, 128), (384, 192, 384, 48, 128, 128)],
}


def googlenet_stage_weights_and_macs():
    """(weights, MACs) of each GoogLeNet stage at 224, by hand from Table 1's channel counts.

    conv1 3*64*49 = 9,408 weights at 112x112; conv2 (1x1 64 -> 64, then 3x3 64 -> 192) 64*64 + 64*192*9 = 114,688
    at 56x56; an Inception row on cin channels has cin*(n1 + r3 + r5 + pp) + 9*r3*n3 + 25*r5*n5 weights at its
    grid; fc 1,024 * 1,000 at 1x1; pools, LRN and dropout have none."""
    out = {"112x112": (9_408, 112 * 112 * 9_408), "56x56": (114_688, 56 * 56 * 114_688)}
    cin = 192
    for stage, side in (("28x28", 28), ("14x14", 14), ("7x7", 7)):
        weights = 0
        for n1, r3, n3, r5, n5, pp in INCEPTION[stage]:
            weights += cin * (n1 + r3 + r5 + pp) + 9 * r3 * n3 + 25 * r5 * n5
            cin = n1 + n3 + n5 + pp
        out[stage] = (weights, side * side * weights)
    out["1x1"] = (1_024_000, 1_024_000)
    return out


def test_googlenet_stages_by_hand(googlenet):
    stages = stages_of(googlenet)
    assert [(s.name, [r.name for r in s.rows]) for s in stages] == GOOGLENET_STAGES
    assert [s.index for s in stages] == [1, 2, 3, 4, 5, 6]
    assert [(s.first, s.last) for s in stages][2] == ("maxpool2", "inception3b")
    by_hand = googlenet_stage_weights_and_macs()
    # 28x28: 163,328 + 388,096 = 551,424 weights, 784 * 551,424 = 432,316,416 MACs;
    # 14x14: 2,805,504 weights, 196 * 2,805,504 = 549,878,784; 7x7: 2,485,248, 49 * 2,485,248 = 121,777,152
    assert by_hand["28x28"] == (551_424, 432_316_416)
    assert by_hand["14x14"] == (2_805_504, 549_878_784)
    assert by_hand["7x7"] == (2_485_248, 121_777_152)
    assert {s.name: (s.sums.weights, s.sums.macs) for s in stages} == by_hand


def test_stage_sums_are_their_rows_and_add_up_to_the_totals(tiny):
    for spec, size in (("googlenet", None), ("bn-inception", None), ("googlenet-torchvision", 299), (tiny, None)):
        analysis = analyze(spec, size)
        stages = stages_of(analysis)
        main_rows = [r for r in analysis.rows if not r.aux]
        assert [r for s in stages for r in s.rows] == main_rows  # every main row once, in order
        for s in stages:
            assert len({r.out_shape[1:] for r in s.rows}) == 1
            rows = [r for r in main_rows if r.name in {x.name for x in s.rows}]
            assert s.sums == Sums.of(rows)
            assert (s.sums.params, s.sums.macs, s.sums.activations) == (
                sum(r.params for r in rows), sum(r.macs for r in rows), sum(r.activations for r in rows))
        assert Sums.of([s.sums for s in stages]) == analysis.totals.inference  # no aux head in any stage


def test_googlenet_family_by_grid():
    c = compare(["googlenet", "bn-inception", "googlenet-torchvision"], by="stage")
    assert c.by == "stage" and c.alignment == "grid" and c.lines == ()
    assert [ln.name for ln in c.stage_lines] == ["112x112", "56x56", "28x28", "14x14", "7x7", "1x1"]
    # BN-Inception reduces inside its modules: inception3c's stride-2 branches give 14x14, inception4e's 7x7
    bn = {ln.name: ln.stages[1] for ln in c.stage_lines}
    assert (bn["14x14"].first, bn["14x14"].last) == ("inception3c", "inception4d")
    assert (bn["7x7"].first, bn["7x7"].last) == ("inception4e", "inception5b")
    for i, total in enumerate(c.totals()):
        assert total == c.analyses[i].totals.inference
        assert Sums.of([s.sums for s in c.stages(i)]) == total
    # MACs per parameter: googlenet's 112x112 stage 118,013,952 / 9,472 (9,408 weights + 64 biases)
    assert c.stage_lines[0].stages[0].macs_per_param == 118_013_952 / 9_472


def test_a_grid_met_twice(tiny):
    stages = stages_of(analyze(tiny))
    assert [(s.name, s.first, s.last) for s in stages] == [
        ("16x16", "stem", "stem"), ("8x8", "stem_pool", "mix"), ("4x4", "down", "down"),
        ("8x8 (2)", "widen", "widen"), ("1x1", "head_pool", "classifier")]
    assert [(s.sums.weights, s.sums.macs) for s in stages] == [
        (216, 55_296), (1_152, 73_728), (0, 0), (256, 16_384), (160, 160)]
    assert stages[2].macs_per_param is None  # no params: no ratio


def test_grids_one_network_lacks(tiny):
    # the tiny net at 224: stem 112x112, stem_pool and mix 56x56, down 28x28, widen 28 + 4 = 32x32, head_pool
    # floor((32 - 8) / 8) + 1 = 4x4, classifier 1x1 (4*4*16 = 256 features -> 2,560 weights)
    c = compare(["googlenet", tiny], input=224)  # the stages of both, largest grid first
    assert c.by == "stage" and c.alignment == "grid"
    assert [ln.name for ln in c.stage_lines] == ["112x112", "56x56", "32x32", "28x28", "14x14", "7x7", "4x4", "1x1"]
    by_name = {ln.name: ln.stages for ln in c.stage_lines}
    assert by_name["112x112"][0].first == "conv1" and by_name["112x112"][1].first == "stem"
    assert by_name["112x112"][1].sums.macs == 112 * 112 * 216
    assert by_name["32x32"][0] is None and by_name["14x14"][1] is None
    assert by_name["1x1"][1].sums.weights == 2_560
    text = render(c, "table")
    assert "stages lined up by grid size; the networks share 0 of 7 row names" in text
    assert "absent" in text


def test_own_inputs_line_up_by_output_stride(tiny):
    c = compare(["googlenet", tiny], input="own")
    assert c.by == "stage"  # chosen: the networks share no row name
    assert c.shared == (0, 7)
    assert c.alignment == "stride"
    assert c.inputs == ((3, 224, 224), (3, 32, 32))
    # input / grid to the nearest power of two: GoogLeNet 224/112 = 2, 224/56 = 4, 28 -> 8, 14 -> 16, 7 -> 32,
    # 1x1 the global pool; tiny 32/16 = 2, 32/8 = 4, 32/4 = 8, then 8x8 again (stride 4, second time), 1x1.
    assert [ln.name for ln in c.stage_lines] == ["stride 2", "stride 4", "stride 8", "stride 4 (2)", "stride 16",
                                                "stride 32", "global"]
    by_line = {ln.name: ln.stages for ln in c.stage_lines}
    assert by_line["stride 8"][0].name == "28x28" and by_line["stride 8"][1].name == "4x4"
    assert by_line["stride 4 (2)"][0] is None and by_line["stride 4 (2)"][1].name == "8x8 (2)"
    assert by_line["stride 16"][1] is None and by_line["global"][1].rows[-1].name == "classifier"
    text = render(c, "table")
    assert "stages lined up by output stride" in text
    assert "googlenet 3x224x224, tiny 3x32x32" in text


def test_choice_of_name_or_stage(tiny):
    assert compare(["googlenet", "bn-inception"]).by == "name"  # 15 of BN-Inception's 16 rows named alike
    assert compare(["googlenet", "bn-inception"]).shared == (15, 16)
    assert compare(["googlenet", tiny], input=224).by == "stage"
    assert compare(["googlenet", tiny], input=224, by="name").by == "name"
    # by name stays as it was: the same text, the same JSON keys
    base = compare(["googlenet", "googlenet:naive"])
    explicit = compare(["googlenet", "googlenet:naive"], by="name")
    for fmt in ("table", "json", "csv", "markdown"):
        assert render(base, fmt) == render(explicit, fmt)
    assert set(json.loads(render(base, "json"))) == {
        "networks", "input", "depth", "rows", "convention", "lines", "totals", "most_changed"}


def test_json_and_csv_by_stage():
    c = compare(["googlenet", "bn-inception"], by="stage")
    data = json.loads(render(c, "json"))
    assert {"networks", "input", "depth", "rows", "convention", "lines", "totals", "most_changed"} <= set(data)
    assert data["by"] == "stage" and data["stage_alignment"] == "grid" and data["lines"] == []
    assert data["inputs"] == [[3, 224, 224], [3, 224, 224]]
    first = data["stages"][2]
    assert first["name"] == "28x28"
    assert first["values"][0]["rows"] == ["maxpool2", "inception3a", "inception3b"]
    assert first["values"][0]["macs"] == 432_316_416  # 784 * 551,424 (see test_googlenet_stages_by_hand)
    for i, total in enumerate(data["totals"]):
        assert sum(line["values"][i]["macs"] for line in data["stages"]) == total["macs"]
        assert sum(line["values"][i]["params"] for line in data["stages"]) == total["params"]
    assert data["totals_macs_per_param"][0] == 1_582_671_872 / 6_998_552
    rows = list(csv.DictReader(io.StringIO(render(c, "csv"))))
    stage_rows = [r for r in rows if r["stage"] != "total.inference"]
    totals = [r for r in rows if r["stage"] == "total.inference"]
    assert len(stage_rows) == 6 * 2 and len(totals) == 2
    for label, total in zip(("googlenet", "bn-inception"), totals):
        mine = [r for r in stage_rows if r["network"] == label]
        assert sum(int(r["activations"]) for r in mine) == int(total["activations"])
        assert sum(int(r["rows"]) for r in mine) == int(total["rows"])
    assert "| 28x28 | googlenet | 28x28 | maxpool2 .. inception3b (3 rows) |" in render(c, "markdown")


def test_library_refusals_name_the_parameter(tiny):
    with pytest.raises(CalcError, match=r"^by: unknown comparison 'grid'; use one of name, stage"):
        compare(["googlenet", "bn-inception"], by="grid")
    with pytest.raises(CalcError, match=r"^rows: rows \['conv1'\] cannot be chosen when comparing by stage"):
        compare(["googlenet", tiny], rows=["conv1"], input=224, by="stage")
    # without by, rows (or a depth) ask for a comparison by name: conv1 is googlenet's, absent from tiny
    chosen = compare(["googlenet", tiny], rows=["conv1"], input=224)
    assert chosen.by == "name" and [ln.name for ln in chosen.lines] == ["conv1"]
    assert compare(["googlenet", tiny], depth="branch", input=224).by == "name"
    with pytest.raises(CalcError, match=r"^depth: depth 'branch' applies to a comparison by name, not by stage: "):
        compare(["googlenet", "bn-inception"], depth="branch", by="stage")
    with pytest.raises(CalcError, match=r"^input: the networks' own inputs differ \(googlenet 3x224x224, tiny "
                                        r"3x32x32\); a comparison by name needs one size"):
        compare(["googlenet", tiny], input="own", by="name")


def test_cli_refusals_name_the_flag(capsys, tiny_file):
    cases = [
        (["--by", "stage", "--rows", "conv1"], "--rows: rows ['conv1'] cannot be chosen when comparing by stage"),
        (["--by", "stage", "--depth", "conv"], "--depth: depth 'conv' applies to a comparison by name"),
        (["--by", "name", "--input", "own"], "--input: the networks' own inputs differ"),
        (["--input", "own", "--rows", "stem"],  # --rows chooses a comparison by name, which needs one size
         "--input: the networks' own inputs differ (googlenet 3x224x224, tiny 3x32x32); a comparison by name needs "
         "one size"),
    ]
    for flags, message in cases:
        assert main(["compare", "googlenet", tiny_file, *flags]) == 2
        err = capsys.readouterr().err
        assert err.startswith("inception-calc compare: error: " + message), err
        assert err.count("\n") == 1


def test_cli_by_stage_in_a_process(tiny_file):
    bad = run_cli("compare", "googlenet", "bn-inception", "--by", "grid")
    assert bad.code == 2 and bad.out == "" and bad.err.count("\n") == 1
    assert "argument --by: invalid choice: 'grid'" in bad.err and "Traceback" not in bad.err
    good = run_cli("compare", "googlenet", tiny_file, "--input", "own", "--format", "json")
    assert good.code == 0, good.err
    data = json.loads(good.out)
    assert data["by"] == "stage" and data["stage_alignment"] == "stride"
    assert data["totals"][1]["macs"] == 55_296 + 73_728 + 16_384 + 160  # the tiny net, by hand above


def test_family_plot(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "family.png"
    assert main(["compare", "googlenet", "bn-inception", "--by", "stage", "--plot", str(path)]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_family_page_shows_the_specs_that_exist(monkeypatch):
    from conftest import script

    docgen = script("scripts/docgen.py")
    monkeypatch.setattr(docgen, "FAMILY", ("googlenet", "bn-inception", "no-such-net"))
    page = docgen.family()
    assert "Not yet built in to this checkout, so not shown: no-such-net." in page
    # googlenet at its own input: 6,998,552 params, 1,582,671,872 MACs (tests/test_compare.py's whole_network)
    assert "| googlenet | Szegedy et al. 2014, arXiv:1409.4842, Table 1 | 3x224x224 | 6,998,552 | 1,582,671,872 |" in page
    assert "--by stage --input own --plot docs/family.png" in page


def test_inception_v3_stages_are_the_papers():
    from inception_calc import builtin_names

    if "inception-v3" not in builtin_names():
        pytest.skip("the inception-v3 spec is not in this checkout")
    # At 299: Conv2d_1a 3x3/2 floor((299 - 3) / 2) + 1 = 149; 2a 3x3 147; 2b 3x3 pad 1 147; maxpool1 3x3/2 73;
    # 3b 1x1 73; 4a 3x3 71; maxpool2 3x3/2 35; Mixed_6a's stride-2 3x3 floor((35 - 3) / 2) + 1 = 17; Mixed_7a's
    # floor((17 - 3) / 2) + 1 = 8; the average pool 1x1. The 35x35, 17x17 and 8x8 stages are the paper's
    # (Szegedy et al. 2015, arXiv:1512.00567, Table 1); AuxLogits, a training head, is in none.
    c = compare(["googlenet", "inception-v3"], input="own")
    stages = [(s.name, s.first, s.last) for s in stages_of(c.analyses[1])]
    assert stages == [
        ("149x149", "Conv2d_1a_3x3", "Conv2d_1a_3x3"), ("147x147", "Conv2d_2a_3x3", "Conv2d_2b_3x3"),
        ("73x73", "maxpool1", "Conv2d_3b_1x1"), ("71x71", "Conv2d_4a_3x3", "Conv2d_4a_3x3"),
        ("35x35", "maxpool2", "Mixed_5d"), ("17x17", "Mixed_6a", "Mixed_6e"), ("8x8", "Mixed_7a", "Mixed_7c"),
        ("1x1", "avgpool", "fc")]
    # Lined up with GoogLeNet at 224 by output stride (299 / 149 and 299 / 147 are both ~2, 299 / 73 and
    # 299 / 71 ~4, 299 / 35 ~8.5 -> 8, 299 / 17 ~17.6 -> 16, 299 / 8 ~37 -> 32): GoogLeNet's 28x28 beside the 35x35.
    lines = {ln.name: ln.stages for ln in c.stage_lines}
    assert list(lines) == ["stride 2", "stride 4", "stride 8", "stride 16", "stride 32", "global"]
    assert lines["stride 2"][1].name == "149x149 + 147x147"
    assert (lines["stride 8"][0].name, lines["stride 8"][1].name) == ("28x28", "35x35")
    assert (lines["stride 16"][0].name, lines["stride 16"][1].name) == ("14x14", "17x17")
    total = Sums.of([s.sums for s in c.stages(1)])
    # torchvision's Inception3 without AuxLogits: 23,834,568 params; fvcore's conv + linear count at 299,
    # 5,713,216,096 (docs/research/inception-family.md, measured on the live model)
    assert (total.params, total.macs) == (23_834_568, 5_713_216_096)
