"""Bad graph input through the CLI: nested blocks, additions, branches with scale, dotted names and
repeat. Each is one line on stderr naming the block and the branch (or the row and field), exit 2,
never a traceback."""

from __future__ import annotations

import pytest

from inception_calc.cli.main import main

HEAD = 'name = "bad"\ninput = [3, 16, 16]\n'

CONCAT_SIZES = HEAD + '''
[[rows]]
name = "m"
kind = "concat"
branches = [
  {name = "a", layers = [{kind = "conv", out = 4, kernel = 1}]},
  {name = "n", layers = [{kind = "concat", name = "inner", branches = [
      {name = "x", layers = [{kind = "conv", out = 4, kernel = 1}]},
      {name = "y", layers = [{kind = "conv", out = 4, kernel = 3, stride = 2}]}]}]},
]
'''
# x keeps 16x16; y gives floor((16 - 3) / 2) + 1 = 7

ADD_SHAPES = HEAD + '''
[[rows]]
name = "r"
kind = "add"
branches = [
  {name = "identity", module = false},
  {name = "residual", scale = 0.17, layers = [{kind = "conv", out = 5, kernel = 1}]},
]
'''
# the identity gives the input's 3 channels, the residual 5

NESTED_ADD = HEAD + '''
[[rows]]
name = "s"
kind = "stack"
layers = [{kind = "add", name = "res", branches = [
  {name = "skip", layers = [{kind = "conv", out = 8, kernel = 1, stride = 2}]},
  {name = "main", layers = [{kind = "conv", out = 8, kernel = 3, pad = 1}]}]}]
'''
# skip halves the map (8x8), main keeps it (16x16)

SCALE_TEXT = HEAD + '''
[[rows]]
name = "r"
kind = "add"
branches = [
  {name = "identity", module = false},
  {name = "residual", scale = "0.17", layers = [{kind = "conv", out = 3, kernel = 1}]},
]
'''

NO_BRANCH = HEAD + '''
[[rows]]
name = "m"
kind = "stack"
layers = [{kind = "conv", out = 4, kernel = 1}, {kind = "concat", name = "inner", branches = []}]
'''

ONE_BRANCH = HEAD + '''
[[rows]]
name = "m"
kind = "stack"
layers = [{kind = "concat", name = "inner", branches = [{name = "only", layers = [{kind = "conv", out = 4, kernel = 1}]}]}]
'''

def nested_groups(stem: int, groups: int) -> str:
    """A conv row of ``stem`` channels, then a concat whose nested block's branch x is a 1x1 conv to 6 with ``groups``."""
    return HEAD + '''
[[rows]]
name = "c"
kind = "conv"
out = STEM
kernel = 1

[[rows]]
name = "m"
kind = "concat"
branches = [
  {name = "a", layers = [{kind = "conv", out = 4, kernel = 1}]},
  {name = "n", layers = [{kind = "concat", name = "inner", branches = [
      {name = "x", layers = [{kind = "conv", out = 6, kernel = 1, groups = GROUPS}]},
      {name = "y", layers = [{kind = "conv", out = 4, kernel = 1}]}]}]},
]
'''.replace("STEM", str(stem)).replace("GROUPS", str(groups))


GROUPS = nested_groups(8, 3)
# the block reads c's 8 channels; 3 groups divide out = 6 (so the loader accepts it) but not 8

COLLISION = HEAD + '''
[[rows]]
name = "m"
kind = "concat"
branches = [
  {name = "a", layers = [{kind = "conv", out = 4, kernel = 1}]},
  {name = "b", layers = [{kind = "conv", out = 4, kernel = 1}]},
]

[[rows]]
name = "m.a"
kind = "conv"
out = 4
kernel = 1
'''
# m's branch a is named m.a, which the dotted row name m.a takes again

REPEAT_COLLISION = HEAD + '''
[[rows]]
name = "block.1"
kind = "conv"
out = 3
kernel = 1
repeat = 2

[[rows]]
name = "block.2"
kind = "conv"
out = 3
kernel = 1
'''
# block.1 x2 gives block.1 and block.2; the next row is block.2 again

MODULE_FALSE_COLLISION = HEAD + '''
[[rows]]
name = "r"
kind = "concat"
branches = [
  {name = "a", module = false, layers = [{kind = "conv", name = "conv", out = 4, kernel = 1}]},
  {name = "b", module = false, layers = [{kind = "conv", name = "conv", out = 4, kernel = 1}]},
]
'''
# neither branch is a module, so both layers are named r.conv

REPEAT_NO_NUMBER = HEAD + '''
[[rows]]
name = "block"
kind = "add"
repeat = 3
branches = [{name = "identity", module = false}, {name = "main", layers = [{kind = "conv", out = 3, kernel = 1}]}]
'''

REPEAT_SINGLE_NO_NUMBER = HEAD + '''
[[rows]]
name = "stem"
kind = "conv"
out = 3
kernel = 1
repeat = 2
'''

CASES = [
    ("concat-sizes", CONCAT_SIZES,
     "bad, row 'm', block 'm.n.inner': branches give maps of different sizes (m.n.inner.x 16x16, m.n.inner.y 7x7), "
     "which cannot be concatenated"),
    ("add-shapes", ADD_SHAPES,
     "bad, row 'r': branches give different shapes (C x H x W: r.identity 3x16x16, r.residual 5x16x16), which "
     "cannot be added; give every branch of an addition the same channels and map size"),
    ("nested-add-shapes", NESTED_ADD,
     "bad, row 's', block 's.res': branches give different shapes (C x H x W: s.res.skip 8x8x8, s.res.main 8x16x16)"),
    ("scale-text", SCALE_TEXT,
     "row 1 'r', branch 2 'residual', field 'scale': must be a number, got '0.17'"),
    ("no-branch", NO_BRANCH,
     "row 1 'm', layer 1 'inner', field 'branches': has no branch; a block needs a list of at least two branches"),
    ("one-branch", ONE_BRANCH,
     "row 1 'm', layer 0 'inner', field 'branches': has one branch; a concat block combines at least two"),
    ("groups", GROUPS,
     "bad, row 'm', block 'm.n.inner', branch 'x', layer 'm.n.inner.x.0': 3 groups do not divide the 8 input "
     "channels"),
    ("dotted-collision", COLLISION, "row 1 'm': the name 'm.a' is given twice (also in row 'm.a')"),
    ("repeat-collision", REPEAT_COLLISION, "row 3 'block.2': the name repeats row 2"),
    ("module-false-collision", MODULE_FALSE_COLLISION, "the name 'r.conv' is given twice"),
    ("repeat-no-number", REPEAT_NO_NUMBER,
     "row 1 'block', field 'repeat': a repeated row's name must end with a number, which counts up; "
     "name it block.0 or block1"),
    ("repeat-single-layer-no-number", REPEAT_SINGLE_NO_NUMBER,
     "row 1 'stem', field 'repeat': a repeated row's name must end with a number"),
]


@pytest.mark.parametrize("label, text, message", CASES, ids=[c[0] for c in CASES])
def test_one_line_exit_2(label, text, message, tmp_path, capsys):
    spec = tmp_path / f"{label}.toml"
    spec.write_text(text, encoding="utf-8")
    assert main(["report", str(spec)]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert err.startswith("inception-calc report: error: ")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_repeat_on_a_single_layer_row(tmp_path, capsys):
    """repeat = N works on a single-layer row too (it was once passed to the layer as an unknown field)."""
    spec = tmp_path / "r.toml"
    spec.write_text(HEAD + '[[rows]]\nname = "features.6"\nkind = "conv"\nout = 3\nkernel = 1\nrepeat = 4\n',
                    encoding="utf-8")
    assert main(["report", str(spec), "--format", "csv"]) == 0
    names = [line.split(",")[0] for line in capsys.readouterr().out.splitlines()[1:]]
    assert names == ["features.6", "features.7", "features.8", "features.9", "total.inference", "total.training"]


WIDTH_CANNOT_ADD = HEAD + '''
[[rows]]
name = "r"
kind = "add"
branches = [
  {name = "conv", layers = [{kind = "conv", out = 6, kernel = 1}]},
  {name = "pair", layers = [{kind = "concat", name = "cat", branches = [
      {name = "x", layers = [{kind = "conv", out = 3, kernel = 1}]},
      {name = "y", layers = [{kind = "conv", out = 3, kernel = 1}]}]}]},
]
'''
# x 0.5: conv 6 -> 3; the pair 3 -> 2 and 3 -> 2, concatenated 4: it ends in a block, no conv to set to 3


def test_width_that_cannot_keep_an_addition(tmp_path, capsys):
    spec = tmp_path / "w.toml"
    spec.write_text(WIDTH_CANNOT_ADD, encoding="utf-8")
    assert main(["report", str(spec)]) == 0  # 6 = 3 + 3: it adds as written
    capsys.readouterr()
    assert main(["report", f"{spec}:width=0.5"]) == 2
    err = capsys.readouterr().err
    assert ("variant 'bad:width=0.5', row 'r', branch 'pair': the branch gives 4 channels scaled and the "
            "addition's shortcut (branch 'conv''s) 3, and it ends in no conv") in err, err
    assert err.count("\n") == 1


@pytest.mark.parametrize("variant", ["naive", "no-reduce", "factorized-5x5"])
def test_inception_variants_refuse_a_branch_by_branch_network(variant, tmp_path, capsys):
    spec = tmp_path / "g.toml"
    spec.write_text(ADD_SHAPES.replace("out = 5", "out = 3"), encoding="utf-8")
    assert main(["report", f"{spec}:{variant}"]) == 2
    err = capsys.readouterr().err
    assert (f"variant 'bad:{variant}': bad has no inception rows (bad's add rows are written branch by branch and "
            f"have no paper columns to change)") in err
    assert err.count("\n") == 1


WIDTH_GROUPS = nested_groups(6, 2)
# x 0.5: c gives 3 channels, x 3 outputs: 2 groups divide neither


def test_width_groups_inside_a_nested_block(tmp_path, capsys):
    spec = tmp_path / "wg.toml"
    spec.write_text(WIDTH_GROUPS, encoding="utf-8")
    assert main(["report", f"{spec}:width=0.5"]) == 2
    err = capsys.readouterr().err
    assert ("variant 'bad:width=0.5', row 'm', branch 'n', block 'inner', branch 'x', layer '0': 2 groups do not "
            "divide the scaled widths (3 in, 3 out; 6 and 6 x 0.5)") in err, err
    assert err.count("\n") == 1
