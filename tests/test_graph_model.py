"""The analytic side of the graph model: residual rows and nested blocks counted by hand, reports
indented by tree depth, explain for additions and nested concatenations, claims on dotted names,
variants over blocks and additions, and the engine's sharing of rows that differ only in name.

The built-in Inception-ResNet-v2 is the graph at its largest (40 residual add rows, 39 of them repeat
copies); its totals are timm's own count (docs/research/inception-family.md: 55,843,464 params;
13,155,794,016 conv + linear MACs at 299, 14,568,593,248 at 320), its Block35 is worked by hand.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from inception_calc import analyze, load_spec, network_from_dict
from inception_calc.cli.main import main
from inception_calc.core import engine
from inception_calc.core.derivation import derivation
from inception_calc.core.network import Block
from inception_calc.report.analysis import render
from inception_calc.studies.claims import parse_claim, verify

ROOT = Path(__file__).resolve().parents[1]
IRV2 = "inception-resnet-v2"


@pytest.fixture(scope="module")
def irv2():
    return analyze(IRV2)


# ----------------------------------------------------------------------------- counts by hand

def test_irv2_totals_match_timm(irv2):
    # timm inception_resnet_v2 (docs/research): numel 55,843,464; fvcore conv + linear 13,155,794,016 at 299
    assert irv2.totals.inference.params == 55_843_464
    assert irv2.totals.inference.macs == 13_155_794_016
    assert analyze(IRV2, 320).totals.inference.macs == 14_568_593_248


def test_block35_by_hand(irv2):
    row = irv2["repeat.0"]
    # branch0 320*32 = 10,240; branch1 320*32 + 32*32*9 = 19,456; branch2 320*32 + 32*48*9 + 48*64*9 = 51,712;
    # conv2d 128*320 = 40,960; in all 122,368
    assert row.weights == 10_240 + 19_456 + 51_712 + 40_960 == 122_368
    assert row.macs == 35 * 35 * 122_368 == 149_900_800  # every conv keeps the 35x35 map
    assert row.bn == 2 * (32 + 32 + 32 + 32 + 48 + 64) == 480  # the projection conv2d has no batch norm
    assert row.biases == 320  # ... but a bias
    assert row.out_shape == row.in_shape == (320, 35, 35)
    identity, residual = row.children
    assert (identity.name, identity.macs, identity.out_shape) == ("repeat.0.identity", 0, (320, 35, 35))
    assert [c.name for c in residual.children] == ["repeat.0.mixed", "repeat.0.conv2d"]
    assert irv2["repeat.0.mixed"].out_shape == (32 + 32 + 64, 35, 35)


INCEPTION_E = {
    "name": "e", "input": [1280, 8, 8], "defaults": {"bias": False, "bn": True, "bn_eps": 0.001},
    "rows": [{"name": "Mixed_7b", "kind": "concat", "branches": [
        {"name": "branch1x1", "module": False, "layers": [{"kind": "conv", "out": 320, "kernel": 1}]},
        {"name": "branch3x3", "module": False, "layers": [
            {"kind": "conv", "name": "branch3x3_1", "out": 384, "kernel": 1},
            {"kind": "concat", "name": "branch3x3_2", "module": False, "branches": [
                {"name": "branch3x3_2a", "module": False,
                 "layers": [{"kind": "conv", "out": 384, "kernel": [1, 3], "pad": [0, 1]}]},
                {"name": "branch3x3_2b", "module": False,
                 "layers": [{"kind": "conv", "out": 384, "kernel": [3, 1], "pad": [1, 0]}]}]}]},
        {"name": "branch3x3dbl", "module": False, "layers": [
            {"kind": "conv", "name": "branch3x3dbl_1", "out": 448, "kernel": 1},
            {"kind": "conv", "name": "branch3x3dbl_2", "out": 384, "kernel": 3, "pad": 1},
            {"kind": "concat", "name": "branch3x3dbl_3", "module": False, "branches": [
                {"name": "branch3x3dbl_3a", "module": False,
                 "layers": [{"kind": "conv", "out": 384, "kernel": [1, 3], "pad": [0, 1]}]},
                {"name": "branch3x3dbl_3b", "module": False,
                 "layers": [{"kind": "conv", "out": 384, "kernel": [3, 1], "pad": [1, 0]}]}]}]},
        {"name": "pool", "module": False, "layers": [
            {"kind": "avgpool", "name": "avg_pool", "kernel": 3, "stride": 1, "pad": 1, "rounding": "floor"},
            {"kind": "conv", "name": "branch_pool", "out": 192, "kernel": 1}]},
    ]}],
}


def test_inception_e_nested_concat_by_hand():
    a = analyze(network_from_dict(INCEPTION_E))
    row = a["Mixed_7b"]
    # 1280*320 = 409,600; 1280*384 = 491,520 + 2 x 384*384*3 = 884,736; 1280*448 = 573,440 + 448*384*9 =
    # 1,548,288 + 2 x 442,368; 1280*192 = 245,760: in all 5,038,080 (torchvision Mixed_7b: 5,044,608 params)
    assert row.weights == 409_600 + 491_520 + 884_736 + 573_440 + 1_548_288 + 884_736 + 245_760 == 5_038_080
    assert row.bn == 2 * (320 + 384 + 2 * 384 + 448 + 384 + 2 * 384 + 192) == 6_528
    assert row.params == 5_044_608
    assert row.macs == 64 * 5_038_080
    assert row.out_shape == (320 + 768 + 768 + 192, 8, 8)
    assert a["Mixed_7b.branch3x3_2"].kind == a["Mixed_7b.branch3x3dbl_3"].kind == "concat"
    # names: every branch and block is no module, so the layers sit at the row's level (torchvision's)
    names = [n.name for n in row.walk("conv")]
    assert "Mixed_7b.branch3x3_2a" in names and "Mixed_7b.branch3x3dbl_3b" in names
    assert "Mixed_7b.branch_pool" in names and "Mixed_7b.avg_pool" in names


# ----------------------------------------------------------------------------- the report's indentation

def _indents(text: str) -> dict[str, int]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("---")) + 1
    out = {}
    for line in lines[start:]:
        if line.startswith("---"):
            break
        name = line.split()[0]
        out[name] = len(line) - len(line.lstrip(" "))
    return out


def test_report_indents_by_tree_depth(irv2):
    indents = _indents(render(irv2, "table", "conv"))
    # rows at 0 whatever their dots; a branch 2; the residual's block and conv 4 (the branch that is no
    # module puts their names at the row's level); the block's branches 6; their layers 8
    assert indents["repeat.0"] == indents["repeat_1.19"] == indents["conv2d_1a"] == 0
    assert indents["repeat.0.identity"] == indents["repeat.0.residual"] == 2
    assert indents["repeat.0.mixed"] == indents["repeat.0.conv2d"] == 4
    assert indents["repeat.0.branch0"] == indents["repeat.0.branch1"] == 6
    assert indents["repeat.0.branch1.0"] == 8
    assert indents["mixed_5b.branch1"] == 2 and indents["mixed_5b.branch1.0"] == 4


def test_report_indents_dotted_rows_in_markdown(tmp_path):
    spec = {"name": "d", "input": [3, 8, 8], "rows": [
        {"name": "features.6", "kind": "stack", "repeat": 2,
         "layers": [{"kind": "conv", "out": 3, "kernel": 1}, {"kind": "relu"}]}]}
    text = render(analyze(network_from_dict(spec)), "markdown", "conv")
    assert "| features.7 |" in text  # the row, not indented (one dot)
    assert "| &nbsp;&nbsp;features.7.0 |" in text  # its layer, one level down (two dots)


# ----------------------------------------------------------------------------- explain

def test_explain_residual_row(irv2):
    text = derivation(irv2, "repeat.0")
    assert ("add 2 branches: identity 35x35x320 + 0.17 x residual 35x35x320 -> 35x35x320; an addition and a "
            "multiply by the scale per element, not multiply-accumulates of weights: 0 MACs") in text
    assert "repeat.0.mixed: concatenate 3 branches: 32 + 32 + 64 = 128 channels -> 35x35x128" in text
    # the steps come in order: the block's layers, its concatenation, the projection, the addition
    order = [text.index(s) for s in ("repeat.0.branch0:", "repeat.0.branch2.2:", "repeat.0.mixed: concatenate",
                                     "repeat.0.conv2d:", "add 2 branches")]
    assert order == sorted(order)
    assert "weights = 10,240 + 10,240 + 9,216 + 10,240 + 13,824 + 27,648 + 40,960 = 122,368" in text
    assert "MACs    = 12,544,000 + 12,544,000 + 11,289,600 + 12,544,000 + 16,934,400 + 33,868,800 + " \
           "50,176,000 = 149,900,800" in text


def test_explain_block_branch_and_layer(irv2):
    block = derivation(irv2, "repeat.0.mixed")
    assert "\nconcatenate 3 branches: 32 + 32 + 64 = 128 channels -> 35x35x128\n" in block
    assert "weights = 10,240 + 10,240 + 9,216 + 10,240 + 13,824 + 27,648 = 81,408" in block
    residual = derivation(irv2, "repeat.0.residual")
    assert "repeat.0.mixed: concatenate 3 branches" in residual and "add 2 branches" not in residual
    layer = derivation(irv2, "repeat.0.conv2d")
    assert "weights = Cin x Cout x kh x kw = 128 x 320 x 1 x 1 = 40,960" in layer
    block8 = derivation(irv2, "block8")  # scale 1: an addition alone
    assert "add 2 branches: identity 8x8x2080 + residual 8x8x2080 -> 8x8x2080; an addition per element" in block8


def test_explain_nested_concat():
    a = analyze(network_from_dict(INCEPTION_E))
    text = derivation(a, "Mixed_7b")
    for block in ("Mixed_7b.branch3x3_2", "Mixed_7b.branch3x3dbl_3"):  # each after its two convs
        line = f"{block}: concatenate 2 branches: 384 + 384 = 768 channels -> 8x8x768"
        assert text.index(line) > text.index(f"{block}b: conv 3x1 pad 1,0, 384 +bn")
    assert text.rstrip().endswith("FLOPs   = 2 x MACs = 644,874,240")  # 2 x 64 x 5,038,080
    assert "\nconcatenate 4 branches: 320 + 768 + 768 + 192 = 2048 channels -> 8x8x2048\n" in text


def test_explain_cli_on_a_residual(capsys):
    assert main(["explain", "repeat_1.3", "--spec", IRV2]) == 0
    out = capsys.readouterr().out
    assert "add 2 branches: identity 17x17x1088 + 0.1 x residual 17x17x1088 -> 17x17x1088" in out


# ----------------------------------------------------------------------------- claims

def test_claims_on_dotted_names():
    claims = [parse_claim(text, spec=IRV2) for text in (
        "repeat.0.conv2d.weights = 40,960",        # 128 * 320
        "repeat_1.19.branch1.2.macs = 215,040",    # the 7x1 conv's weights, 160 * 192 * 7, claimed as its MACs
        "repeat.3.out_shape = 35x35x320",
        "repeat_2.8.weights = 2,031,616",
    )]
    verdicts = verify(claims, derive=False)
    # the MACs are 215,040 x 17 x 17 = 62,146,560. Block8 by hand: 2080*192 (branch0) + 2080*192 + 192*224*3 +
    # 224*256*3 (branch1) + 448*2080 (conv2d) = 399,360 + 399,360 + 129,024 + 172,032 + 931,840 = 2,031,616
    assert [v.holds for v in verdicts] == [True, False, True, True]
    assert verdicts[1].computed == 62_146_560
    assert verdicts[3].computed == 2_031_616


def test_claim_names_what_is_there(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text(f'spec = "{IRV2}"\nclaims = ["repeat.0.branch9.weights = 1"]\n', encoding="utf-8")
    assert main(["verify", str(path)]) == 2
    assert ("repeat.0 has no node 'branch9'; its nodes: identity, residual, mixed, branch0, branch1, branch2, "
            "conv2d") in capsys.readouterr().err
    path.write_text(f'spec = "{IRV2}"\nclaims = ["repeat.99.weights = 1"]\n', encoding="utf-8")
    assert main(["verify", str(path)]) == 2
    assert "no row 'repeat.99' in inception-resnet-v2; did you mean 'repeat.9'?" in capsys.readouterr().err


# ----------------------------------------------------------------------------- variants

def _branches(network):
    """(name, scale, module) of every branch of every row and nested block, in order."""
    found = []

    def walk(branches):
        for b in branches:
            found.append((b.name, b.scale, b.module))
            for node in b.layers:
                if isinstance(node, Block):
                    found.append((node.name, node.combine, node.module, node.relu))
                    walk(node.branches)

    for row in network.rows:
        walk(row.branches)
    return found


@pytest.mark.parametrize("variant", ["bn", "width=0.5", "width=1/3"])
def test_variants_keep_the_graph(variant):
    base, changed = load_spec(IRV2), load_spec(f"{IRV2}:{variant}")
    assert _branches(changed) == _branches(base)  # names, scales, module flags, combines, activations
    assert [n for r in changed.rows for n, _ in r.named_layers()] == [n for r in base.rows for n, _ in r.named_layers()]


def test_bn_reaches_nested_convs(irv2):
    bn = analyze(f"{IRV2}:bn")
    # only the 40 projections conv2d (10 x 320, 20 x 1,088, 10 x 2,080 channels) had a bias and no batch norm:
    # each trades its Cout biases for 2 x Cout batch-norm parameters
    projections = 10 * 320 + 20 * 1088 + 10 * 2080
    assert bn.totals.inference.bn - irv2.totals.inference.bn == 2 * projections
    assert irv2.totals.inference.biases - bn.totals.inference.biases == projections
    assert bn.totals.inference.macs == irv2.totals.inference.macs


def test_width_keeps_additions_equal():
    a = analyze(f"{IRV2}:width=1/3")
    # mixed_6a: 384/3 = 128, 384/3 = 128, and the pool passes mixed_5b..repeat.9's 106 channels (320/3 = 106.67
    # -> 107 per conv summed: 32 + 21 + 32 + 21 = 106): 362, where 1,088/3 rounds to 363; Block17's projection
    # follows the shortcut
    assert a["mixed_6a"].out_shape[0] == 128 + 128 + 106 == 362
    assert a["repeat_1.0.conv2d"].out_shape[0] == 362
    for row in a.rows:
        if row.kind == "add":
            assert row.out_shape == row.in_shape, row.name


def test_width_on_inception_e_keeps_nested_blocks():
    a = analyze(network_from_dict({**INCEPTION_E, "variants": ["width=0.5"]}))
    # 160 + (192 + 192) + (192 + 192) + 96, on the same 1,280 input channels (an input is not scaled)
    assert a["Mixed_7b"].out_shape == (160 + 384 + 384 + 96, 8, 8)
    assert a["Mixed_7b.branch3x3_1"].weights == 1280 * 192


def test_width_keeps_depthwise_groups():
    spec = {"name": "dw", "input": [3, 8, 8], "rows": [
        {"name": "c", "kind": "conv", "out": 8, "kernel": 1},
        {"name": "dw", "kind": "conv", "out": 8, "kernel": 3, "pad": 1, "groups": 8}]}
    a = analyze(network_from_dict({**spec, "variants": ["width=0.5"]}))
    # 4 channels in, 4 groups: 4/4 * 4 * 9 = 36 weights
    assert a["dw"].weights == 36 and a["dw"].out_shape == (4, 8, 8)


XCEPTION_LIKE = {"name": "xc", "input": [8, 16, 16], "defaults": {"bias": False, "relu": False}, "rows": [
    {"name": "block1", "kind": "stack", "layers": [{"kind": "add", "name": "res", "module": False, "branches": [
        {"name": "shortcut", "module": False, "layers": [
            {"kind": "conv", "name": "skip", "out": 16, "kernel": 1, "stride": 2}, {"kind": "bn", "name": "skipbn"}]},
        {"name": "rep", "layers": [
            {"kind": "relu"}, {"kind": "conv", "out": 8, "kernel": 3, "pad": 1, "groups": 8},
            {"kind": "conv", "out": 16, "kernel": 1}, {"kind": "bn"},
            {"kind": "maxpool", "kernel": 3, "stride": 2, "pad": 1, "rounding": "floor"}]}]}]}]}


def test_width_on_a_depthwise_residual():
    a = analyze(network_from_dict({**XCEPTION_LIKE, "variants": ["width=0.5"]}))
    # the image's 8 channels are not scaled, so the depthwise conv keeps 8 groups of one channel: 8 * 9 = 72
    # weights; the pointwise 16 -> 8 (8 * 8 = 64) and the shortcut 16 -> 8 (8 * 8 = 64): both sides give 8
    assert a["block1.rep.1"].weights == 72 and a["block1.rep.1"].out_shape == (8, 16, 16)
    assert a["block1.rep.2"].weights == a["block1.skip"].weights == 64
    assert a["block1"].out_shape == (8, 8, 8)
    assert "block1.res: add 2 branches: shortcut 8x8x8 + rep 8x8x8 -> 8x8x8" in derivation(a, "block1")


# ----------------------------------------------------------------------------- the engine

def test_repeated_rows_give_what_each_row_alone_gives():
    """Rows that differ only in name (repeat copies) may share work in the engine: each keeps its own
    names and the same numbers as when it is analysed on its own."""
    data = tomllib.loads((ROOT / "inception_calc" / "specs" / f"{IRV2}.toml").read_text(encoding="utf-8"))
    table = {key: v for key, v in next(t for t in data["rows"] if t["name"] == "repeat.0").items() if key != "repeat"}
    engine.clear_memo()
    a = analyze(IRV2)
    for k in (0, 5, 9):
        alone = analyze(network_from_dict({"name": "one", "input": [320, 35, 35], "defaults": data["defaults"],
                                           "rows": [{**table, "name": f"repeat.{k}"}]}))

        def fields(row):
            return [(n.name, n.kind, n.level, n.summary, n.in_shape, n.out_shape, n.weights, n.biases, n.bn,
                     n.macs, n.activations) for n in row.walk("conv")]

        assert fields(a[f"repeat.{k}"]) == fields(alone[f"repeat.{k}"])
    names = a.names("conv")
    assert len(names) == len(set(names))


# ----------------------------------------------------------------------------- docs/spec-format.md

DOC = ROOT / "docs" / "spec-format.md"


def _doc_table(heading: str) -> list[str]:
    """The first cells (field names) of the table under ``### heading`` in docs/spec-format.md."""
    text = DOC.read_text(encoding="utf-8").split(f"### {heading}\n", 1)[1].split("\n### ", 1)[0]
    fields = []
    for line in text.splitlines():
        if line.startswith("| `"):
            fields += re.findall(r"`(\w+)`", line.split("|")[1])
    return fields


def test_doc_graph_tables_match_the_loader():
    from inception_calc.core.kinds import CONV_OPTIONS
    from inception_calc.core.loader import BLOCK_FIELDS, BRANCH_FIELDS, TOP_FIELDS

    assert sorted(_doc_table("Nested blocks")) == sorted(BLOCK_FIELDS)
    assert sorted(_doc_table("Branches")) == sorted(BRANCH_FIELDS)
    # an add row: the common row fields (name, kind, note, repeat: see "Rows") and these
    assert sorted(_doc_table("`add`: a residual")) == sorted(("branches", "activation", *CONV_OPTIONS))
    top = DOC.read_text(encoding="utf-8").split("## Top level\n", 1)[1].split("\n## ", 1)[0].split("\n\n`[defaults]`")[0]
    assert sorted(re.findall(r"^\| `(\w+)`", top, re.MULTILINE)) == sorted(TOP_FIELDS)


@pytest.mark.parametrize("name, numbers", [
    ("block35", {"weights": 122_368, "macs": 149_900_800, "params": 123_168, "bn": 480}),
    ("inception_e", {"weights": 5_038_080, "macs": 322_437_120, "params": 5_044_608, "bn": 6_528}),
])
def test_doc_worked_examples_are_what_the_tool_counts(name, numbers):
    from inception_calc.core.values import grouped

    text = DOC.read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```toml\n(.*?)```", text, re.DOTALL) if b.startswith(f'name = "{name}"'))
    totals = analyze(network_from_dict(tomllib.loads(block))).totals.inference
    after = text.split(block, 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
    for quantity, value in numbers.items():
        assert getattr(totals, quantity) == value, quantity
        assert grouped(value) in after, (quantity, value)
