"""A reviewer's pass over the graph model as a new user meets it: a spec written from
docs/spec-format.md with every graph feature at once (its numbers derived by hand below), hostile
variants of it (each one line naming the place and the fix, exit 2, in bounded time and memory),
and explain's answers: ``explain SPEC ROW`` as report takes the spec, and a name that is not there
answered with the parts that are.

The spec, on a 3 x 37 x 41 input (H x W), every output size floor((H + 2p - k) / s) + 1:
  stem.0 conv 3x3/2, 24 +bn: (37 - 3) // 2 + 1 = 18, (41 - 3) // 2 + 1 = 20; 3 x 24 x 9 = 648 weights,
    48 bn: 696 params; 18 x 20 = 360 positions: 360 x 648 = 233,280 MACs
  res.0, res.1 (repeat = 2): identity + 0.25 x (concat(b0 1x1 8 | b1 1x1 8 > (1x3 4 | 3x1 4) |
    pool avgpool 3x3 (padding not counted) > 1x1 8) > proj 1x1 24 +bias), then ReLU, on 18x20x24:
    24 x 8 + 24 x 8 + 8 x 4 x 3 + 8 x 4 x 3 + 24 x 8 + 24 x 24 = 192 + 192 + 96 + 96 + 192 + 576 = 1,344
    weights; 24 biases; 2 x (8 + 8 + 4 + 4 + 8) = 64 bn: 1,432 params; 360 x 1,344 = 483,840 MACs
  xblock: rep = relu > depthwise 3x3 pad 1 (groups 24) > 1x1 48 > bn > maxpool 3x3/2 pad 1, plus
    shortcut = 1x1/2 48 > bn (no module: skip and skipbn sit at the row's level):
    maxpool (18 + 2 - 3) // 2 + 1 = 9, (20 + 2 - 3) // 2 + 1 = 10; skip (18 - 1) // 2 + 1 = 9, 10;
    24/24 x 24 x 9 = 216 + 24 x 48 = 1,152 + skip 1,152 = 2,520 weights; 96 + 96 bn: 2,712 params;
    360 x (216 + 1,152) + 90 x 1,152 = 492,480 + 103,680 = 596,160 MACs
  cat: (identity + 3x3 48 +bn, then ReLU) | 1x1 16 +bn, on 9x10x48: 48 x 48 x 9 = 20,736 + 48 x 16
    = 768: 21,504 weights; 96 + 32 bn: 21,632 params; 90 x 21,504 = 1,935,360 MACs; 48 + 16 = 64 out
  pool: adaptive to 1x1; fc 64 x 10 = 640 weights + 10 biases = 650 params, 640 MACs
  total: 648 + 2 x 1,344 + 2,520 + 21,504 + 640 = 28,000 weights; 696 + 2 x 1,432 + 2,712 + 21,632 +
    650 = 28,554 params; 233,280 + 2 x 483,840 + 596,160 + 1,935,360 + 640 = 3,733,120 MACs
"""

from __future__ import annotations

import json

import pytest

from inception_calc.cli.main import main

SPEC = '''name = "mine"
input = [3, 37, 41]

[defaults]
bias = false
bn = true
bn_eps = 0.001

[[rows]]
name = "stem.0"
kind = "conv"
out = 24
kernel = 3
stride = 2

[[rows]]
name = "res.0"
kind = "add"
repeat = 2
activation = "relu"
branches = [
  { name = "identity", module = false },
  { name = "residual", module = false, scale = 0.25, layers = [
    { kind = "concat", name = "mixed", branches = [
      { name = "b0", module = false, layers = [{ kind = "conv", out = 8, kernel = 1 }] },
      { name = "b1", layers = [{ kind = "conv", out = 8, kernel = 1 },
         { kind = "concat", name = "split", module = false, branches = [
            { name = "b1a", module = false, layers = [{ kind = "conv", out = 4, kernel = [1, 3], pad = [0, 1] }] },
            { name = "b1b", module = false, layers = [{ kind = "conv", out = 4, kernel = [3, 1], pad = [1, 0] }] },
         ] } ] },
      { name = "pool", layers = [
         { kind = "avgpool", kernel = 3, stride = 1, pad = 1, rounding = "floor", count_include_pad = false },
         { kind = "conv", out = 8, kernel = 1 }] },
    ] },
    { kind = "conv", name = "proj", out = 24, kernel = 1, bias = true, bn = false, relu = false },
  ] },
]

[[rows]]
name = "xblock"
kind = "add"
branches = [
  { name = "rep", layers = [
    { kind = "relu" },
    { kind = "conv", name = "dw", out = 24, kernel = 3, pad = 1, groups = 24, bn = false, relu = false },
    { kind = "conv", name = "pw", out = 48, kernel = 1, bn = false, relu = false },
    { kind = "bn", eps = 1e-5 },
    { kind = "maxpool", kernel = 3, stride = 2, pad = 1, rounding = "floor" },
  ] },
  { name = "shortcut", module = false, layers = [
    { kind = "conv", name = "skip", out = 48, kernel = 1, stride = 2, bn = false, relu = false },
    { kind = "bn", name = "skipbn" },
  ] },
]

[[rows]]
name = "cat"
kind = "concat"
branches = [
  { name = "a", layers = [{ kind = "add", name = "inner", activation = "relu", branches = [
       { name = "id", module = false }, { name = "c", layers = [{ kind = "conv", out = 48, kernel = 3, pad = 1 }] } ] }] },
  { name = "b", layers = [{ kind = "conv", out = 16, kernel = 1 }] },
]

[[rows]]
name = "pool"
kind = "avgpool"
output = 1

[[rows]]
name = "fc"
kind = "linear"
out = 10
bias = true
'''

WEIGHTS, PARAMS, MACS = 28_000, 28_554, 3_733_120  # the docstring's totals


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(SPEC, encoding="utf-8")
    return str(path)


def test_every_graph_feature_at_once_gives_the_hand_derived_numbers(spec, capsys):
    code, out, err = run(capsys, "report", spec, "--depth", "conv", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    total = data["totals"]["inference"]
    assert (total["weights"], total["params"], total["macs"]) == (WEIGHTS, PARAMS, MACS)
    nodes = {}

    def walk(node):
        nodes[node["name"]] = node
        for child in node.get("branches") or node.get("layers") or []:
            walk(child)
    for row in data["rows"]:
        walk(row)
    assert (nodes["res.1"]["params"], nodes["res.1"]["macs"]) == (1_432, 483_840)
    assert nodes["res.0.mixed.b1.b1a"]["weights"] == 96  # 8 x 4 x 1 x 3; named below b1 (split is no module)
    assert nodes["xblock.rep.dw"]["weights"] == 216  # depthwise: 24/24 x 24 x 3 x 3
    assert nodes["xblock.skipbn"]["out_shape"] == [48, 9, 10]  # at the row's level: shortcut is no module
    assert (nodes["xblock"]["params"], nodes["xblock"]["macs"]) == (2_712, 596_160)
    assert nodes["cat"]["out_shape"] == [64, 9, 10]  # 48 + 16


@pytest.mark.torch
@pytest.mark.slow  # 3-6 s here, most of it importing torch and tracing with fvcore
def test_the_spec_built_counts_as_analysed(spec, capsys):
    """numel and fvcore on the built network, joined by name: every row exact or explained."""
    pytest.importorskip("fvcore")
    code, out, err = run(capsys, "check", spec, "--against", "built", "--depth", "branch", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["ok"]
    total = next(r for r in data["rows"] if r["name"] == "total")
    quantities = {q["name"]: q for q in total["quantities"]}
    assert quantities["params"]["counted"] == PARAMS  # numel
    assert quantities["macs"]["counted"] == MACS  # fvcore's conv + linear


# ----------------------------------------------------------------------------- hostile variants

HEAD = 'name = "h"\ninput = [8, 16, 16]\n[defaults]\nbias = false\nbn = true\n'


def _add(branches: str, extra: str = "") -> str:
    return HEAD + f'[[rows]]\nname = "r.0"\nkind = "add"\n{extra}branches = [{branches}]\n'


RESIDUAL = '{name="id"}, {name="x", layers=[{kind="conv", out=8, kernel=1}]}'


def _deep(levels: int) -> str:
    node = '{kind="conv", out=8, kernel=1}'
    for i in range(levels):
        node = '{kind="add", name="n%d", branches=[{name="id"}, {name="x", layers=[%s]}]}' % (i, node)
    return HEAD + ('[[rows]]\nname="m"\nkind="concat"\nbranches=[{name="a", layers=[%s]}, '
                   '{name="b", layers=[{kind="conv", out=8, kernel=1}]}]\n' % node)


HOSTILE = [
    ("deep-concat-sizes", HEAD + '''[[rows]]
name = "m"
kind = "concat"
branches = [{name="a", layers=[{kind="concat", name="n", branches=[
   {name="x", layers=[{kind="conv", out=4, kernel=1}]},
   {name="y", layers=[{kind="add", name="deep", branches=[{name="id"},
                                                          {name="z", layers=[{kind="conv", out=8, kernel=1}]}]},
     {kind="concat", name="deeper", branches=[{name="p", layers=[{kind="conv", out=4, kernel=3, stride=2}]},
                                               {name="q", layers=[{kind="conv", out=4, kernel=1}]}]}]}]}]},
  {name="b", layers=[{kind="conv", out=8, kernel=1}]}]
''', "row 'm', block 'm.a.n', branch 'y', block 'm.a.n.y.deeper': branches give maps of different sizes "
     "(m.a.n.y.deeper.p 7x7, m.a.n.y.deeper.q 16x16)"),  # p: (16 - 3) // 2 + 1 = 7
    ("add-channels", _add('{name="id"}, {name="x", layers=[{kind="conv", out=16, kernel=1}]}'),
     "row 'r.0': branches give different shapes (C x H x W: r.0.id 8x16x16, r.0.x 16x16x16)"),
    ("scale-text", _add('{name="id"}, {name="x", scale="x", layers=[{kind="conv", out=8, kernel=1}]}'),
     "branch 2 'x', field 'scale': must be a number, got 'x'"),
    ("scale-negative", _add('{name="id"}, {name="x", scale=-1, layers=[{kind="conv", out=8, kernel=1}]}'),
     "branch 2 'x', field 'scale': must be at least 0.0, got -1.0"),
    ("scale-overflow", _add('{name="id"}, {name="x", scale=1e400, layers=[{kind="conv", out=8, kernel=1}]}'),
     "branch 2 'x', field 'scale': must be a finite number, got inf"),
    ("block-no-branch", HEAD + '[[rows]]\nname="m"\nkind="concat"\nbranches=[{name="a", layers=[{kind="concat", '
     'name="n", branches=[]}]}, {name="b", layers=[{kind="conv", out=8, kernel=1}]}]\n',
     "row 1 'm', branch 1 'a', layer 0 'n', field 'branches': has no branch"),
    ("block-one-branch", HEAD + '[[rows]]\nname="m"\nkind="concat"\nbranches=[{name="a", layers=[{kind="add", '
     'name="n", branches=[{name="id"}]}]}, {name="b", layers=[{kind="conv", out=8, kernel=1}]}]\n',
     "field 'branches': has one branch; an add block combines at least two; give branches = [{layers = [...]}, "
     "{layers = [...]}], or put its layers in the enclosing branch"),  # not "a add", not "write a stack"
    ("row-one-branch", _add('{name="x", layers=[{kind="conv", out=8, kernel=1}]}'),
     "row 1 'r.0', field 'branches': has one branch; an add row combines at least two; give branches = "
     '[{layers = [...]}, {layers = [...]}], or write them as a kind = "stack" row'),
    ("layers-a-table", _add('{name="id"}, {name="x", layers={kind="conv", out=8, kernel=1}}'),
     "branch 2 'x', field 'layers': must be a list of layer tables, got a table"),  # it was "missing or empty"
    ("repeat-0", _add(RESIDUAL, "repeat = 0\n"), "field 'repeat': must be a positive integer, got 0"),
    ("repeat-negative", _add(RESIDUAL, "repeat = -1\n"), "field 'repeat': must be a positive integer, got -1"),
    ("repeat-billion", _add(RESIDUAL, "repeat = 1000000000\n"), "field 'repeat': repeats 1000000000 times"),
    ("repeat-text", _add(RESIDUAL, 'repeat = "3"\n'), "field 'repeat': must be an integer, got '3'"),
    ("two-dots", HEAD + '[[rows]]\nname = "a..b"\nkind = "conv"\nout = 8\nkernel = 1\n',
     "row 1, field 'name': must be a name of letters, digits, '_' or '-', or a dotted module path"),
    ("row-vs-layer-of-a-row", HEAD + '[[rows]]\nname = "a.b"\nkind = "conv"\nout = 8\nkernel = 1\n[[rows]]\n'
     'name="a"\nkind="concat"\nbranches=[{name="x", layers=[{kind="conv", out=8, kernel=1}]}, {name="y", '
     'module=false, layers=[{kind="conv", name="b", out=8, kernel=1}]}]\n',
     "row 2 'a': the name 'a.b' is given twice (also in row 'a.b')"),
    ("deep-200", _deep(200), "nested too deeply to read"),
]


@pytest.mark.parametrize("label, text, message", HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_graph_input_is_one_line_exit_2(label, text, message, tmp_path, capsys):
    path = tmp_path / f"{label}.toml"
    path.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "report", str(path))
    assert code == 2 and out == ""
    assert message in err, err
    assert err.startswith("inception-calc report: error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_ninety_levels_of_nesting_analyse(tmp_path, capsys):
    """Below the reader's limit a deep graph is analysed: 90 additions of the identity around one
    1x1 conv 8 -> 8 (64 weights + 16 bn), beside another: 128 weights, 160 params, 2 x 256 x 64 MACs."""
    path = tmp_path / "deep.toml"
    path.write_text(_deep(90), encoding="utf-8")
    code, out, err = run(capsys, "report", str(path), "--depth", "conv", "--format", "json")
    assert code == 0, err
    total = json.loads(out)["totals"]["inference"]
    assert (total["weights"], total["params"], total["macs"]) == (128, 160, 32_768)


# ----------------------------------------------------------------------------- explain


def test_explain_takes_the_spec_before_the_row_as_report_does(spec, capsys):
    code, out, err = run(capsys, "explain", spec, "res.0")
    assert code == 0, err
    assert out.startswith("res.0 in mine at input 3x37x41: 18x20x24 -> 18x20x24 (H x W x C)")
    assert "params  = weights + biases + bn = 1,344 + 24 + 64 = 1,432" in out
    assert run(capsys, "explain", "--spec", spec, "res.0")[1] == out  # --spec as before
    code, _, err = run(capsys, "explain", spec, "res.0", "--spec", "googlenet")
    assert code == 2 and "the spec is given twice" in err and err.count("\n") == 1


@pytest.mark.parametrize("name, message", [
    # a part under a row: the parts that are there, one segment below (b0 is no module: at mixed's level)
    ("res.0.mixed.nope", "res.0.mixed in mine has no part 'nope'; use one of its parts: b0, b1, pool"),
    # a block of no-module branches has no names below its own: its parts are named without it
    ("res.0.mixed.b1.split.b1a", "res.0.mixed.b1.split in mine has no part 'b1a'; its parts are named without it "
                                 "(no module holds them): res.0.mixed.b1.b1a, res.0.mixed.b1.b1b"),
    ("xblock.rep.dw.weight", "xblock.rep.dw in mine has no part 'weight'; xblock.rep.dw is a single layer"),
    # no row: the rows, the closest name, and a dotted name of this network as the example
    ("xblok", "no row, branch or layer named 'xblok' in mine; did you mean 'xblock'? use one of: stem.0, res.0"),
])
def test_explain_names_what_is_there(spec, name, message, capsys):
    code, out, err = run(capsys, "explain", spec, name)
    assert code == 2 and out == ""
    assert message in err, err
    assert err.count("\n") == 1


def test_explain_example_is_a_name_of_the_network(capsys):
    """The example was googlenet's inception3a.branch2 whatever the spec; now a branch of this one."""
    code, _, err = run(capsys, "explain", "inception-v3", "Mixed_7z")
    assert code == 2 and "did you mean 'Mixed_7c'" in err and "e.g. Mixed_5b.branch5x5)" in err
    code, _, err = run(capsys, "explain", "inception3z")
    assert code == 2 and "e.g. inception3a.branch2)" in err


def test_one_claim_on_a_nested_name_reads_as_one(capsys):
    """verify's summary was 'all 1 claims hold'. Mixed_7b.branch3x3_2 is the no-module pair of
    1x3 and 3x1 convs, 384 -> 384 each: 2 x 384 x 384 x 3 = 884,736 weights + 2 x 2 x 384 = 1,536 bn."""
    code, out, _ = run(capsys, "verify", "inception-v3", "--claim", "Mixed_7b.branch3x3_2.params = 886,272",
                       "--no-derivation")
    assert code == 0 and out.rstrip().endswith("\nthe claim holds")
    code, out, _ = run(capsys, "verify", "inception-v3", "--claim", "Mixed_7b.branch3x3_2.params = 884,736",
                       "--no-derivation")
    assert code == 1 and out.rstrip().endswith("\nthe claim fails: [1] Mixed_7b.branch3x3_2.params")


def test_repeat_keeps_the_name_as_written(tmp_path, capsys):
    """repeat renamed 'b.09' to 'b.9' (int() dropped the zero); the copies count up at its width."""
    path = tmp_path / "zero.toml"
    path.write_text(HEAD + '[[rows]]\nname = "b.09"\nkind = "conv"\nout = 8\nkernel = 1\nrepeat = 3\n',
                    encoding="utf-8")
    code, out, err = run(capsys, "report", str(path), "--format", "csv")
    assert code == 0, err
    assert [line.split(",")[0] for line in out.splitlines()[1:4]] == ["b.09", "b.10", "b.11"]


@pytest.mark.parametrize("argv, message", [
    (("explain", "inception-v3", "AuxLogits"), "the auxiliary head 'AuxLogits' is left out at input 3x100x100"),
    (("explain", "inception-v3", "AuxLogits.conv1"), "'AuxLogits.conv1', in the auxiliary head AuxLogits, is left out"),
    (("verify", "inception-v3", "--claim", "AuxLogits.params = 3,326,696"),
     "the auxiliary head 'AuxLogits' is left out at input 3x100x100"),
])
def test_a_head_the_input_leaves_out_is_named_as_such(argv, message, capsys):
    """At 100x100 Inception-v3's AuxLogits does not fit (its 5x5/3 pool meets a 4x4 map; the engine
    leaves the training-only head out). Asking for it said 'no row named AuxLogits'; now it says
    why, and the smallest square input the heads take: 299 (Mixed_6e gives 17x17: (17 - 5) // 3 + 1
    = 5 for the 5x5 conv1; at 298 Mixed_6e gives 16x16 and (16 - 5) // 3 + 1 = 4)."""
    code, out, err = run(capsys, *argv, "--input", "100")
    assert code == 2 and out == ""
    assert message in err and "give an input of 3x299x299 or larger" in err, err
    assert err.count("\n") == 1


@pytest.mark.torch
def test_a_graph_too_deep_for_torch_says_so(tmp_path, capsys):
    """60 nested additions analyse (see above), but the built module's forward nests a Python call per
    module and passes the recursion limit: check said 'maximum recursion depth exceeded; check the
    spec's layers'; now it names the nesting."""
    pytest.importorskip("fvcore")
    path = tmp_path / "deep.toml"
    path.write_text(_deep(60), encoding="utf-8")
    code, out, err = run(capsys, "check", str(path), "--against", "built")
    assert code == 2 and out == ""
    assert "its blocks nest deeper than Python's recursion limit" in err and "nest fewer blocks" in err, err
    assert err.count("\n") == 1


# ----------------------------------------------------------------------------- compare over the tree


def test_compare_finds_depth_and_leaves_in_the_tree_not_the_dots(spec, capsys):
    """compare indented 'res.0' as a branch (one dot) and took 'res.0.residual', a branch that is no
    module, for a leaf beside its own layers (its children are named res.0.mixed, res.0.proj), so
    'most changed' listed a branch and its layers both. width=0.5 halves every conv's output, the
    projection's too (24 -> 12: the identity's channels follow the stem's, halved as well)."""
    from inception_calc.studies.compare import compare

    comparison = compare([spec, f"{spec}:width=0.5"], rows=["res.0"], depth="conv")
    lines = {ln.name: ln for ln in comparison.lines}
    assert lines["res.0"].depth == 0 and not lines["res.0"].leaf
    assert lines["res.0.residual"].depth == 1 and not lines["res.0.residual"].leaf
    assert lines["res.0.mixed"].depth == 2 and lines["res.0.proj"].depth == 2 and lines["res.0.proj"].leaf
    assert lines["res.0.mixed.b1.b1a"].depth == 5  # row, residual, mixed, b1, split (no module: no name), b1a
    changed = [c.name for c in comparison.most_changed(1, top=50)]
    assert "res.0.residual" not in changed and "res.0.mixed" not in changed and "res.0.proj" in changed
    code, out, _ = run(capsys, "compare", spec, f"{spec}:width=0.5", "--rows", "res.0", "--depth", "conv")
    assert code == 0
    names = [line[:len(line) - len(line.lstrip())] + line.split()[0] for line in out.splitlines()
             if line.strip().startswith("res.0")]
    assert "res.0" in names and "  res.0.residual" in names and "    res.0.proj" in names


@pytest.mark.parametrize("claim, message", [
    # Mixed_7b.branch3x3_2 is a block of two no-module branches: no name sits below its own
    ("Mixed_7b.branch3x3_2.x.params = 1", "Mixed_7b.branch3x3_2 has no part 'x'; its parts are named without it "
                                          "(no module holds them): Mixed_7b.branch3x3_2a, Mixed_7b.branch3x3_2b"),
    ("Mixed_5b.branch1x1.x.params = 1", "Mixed_5b.branch1x1 is a single layer: claim Mixed_5b.branch1x1.QUANTITY"),
])
def test_verify_does_not_call_a_no_module_block_a_single_layer(claim, message, capsys):
    """verify said 'Mixed_7b.branch3x3_2 is a single layer' of a block of two convs."""
    code, _, err = run(capsys, "verify", "inception-v3", "--claim", claim)
    assert code == 2 and message in err and err.count("\n") == 1, err


def test_compare_chooses_by_name_when_asked_for_rows_or_depth(capsys):
    """As the --by help and docs/family.md now say: v3 and v4 share no row name (by stage), but a
    --depth below layer (or --rows) is an option of the name join, and chooses it."""
    assert run(capsys, "compare", "inception-v3", "inception-v4")[1].startswith("comparison by stage")
    out = run(capsys, "compare", "inception-v3", "inception-v4", "--depth", "branch")[1]
    assert out.startswith("comparison at input 3x299x299 (C x H x W), depth branch")
