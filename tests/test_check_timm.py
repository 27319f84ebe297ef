"""check against the models the family's specs reproduce: timm's inception_v4, inception_resnet_v2 and
legacy_xception, torchvision's inception_v3; at 299 and at another size (square and not), every row exact or
explained; and the ways it must fail: a spec that differs, a spec with no reference, timm missing.

The counts on the real side are the live timm/torchvision models' (fvcore, FlopCounterMode, numel, hooks);
the totals asserted are those docs/research/inception-family.md measured on the same models.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("fvcore")

from inception_calc import CalcError  # noqa: E402
from inception_calc.cli.main import main  # noqa: E402
from inception_calc.core.sources import builtin_names  # noqa: E402
from inception_calc.pytorch.reconcile import EXACT, EXPLAINED, MISMATCH  # noqa: E402

SRC = str(Path(__file__).resolve().parents[1])

# spec, library, input sizes, params and conv+linear MACs (fvcore) of the real model at 299, no aux head
FAMILY = [
    ("inception-v4", "timm", "320", 42_679_816, 12_253_974_624),
    ("inception-resnet-v2", "timm", "299x331", 55_843_464, 13_155_794_016),
    ("xception", "timm", "224", 22_855_952, 8_357_403_496),
    ("inception-v3", "torchvision", "299x331", 23_834_568, 5_713_216_096),
]


def _need(spec: str, library: str) -> None:
    pytest.importorskip(library)
    if spec not in builtin_names():
        pytest.skip(f"{spec} is not a built-in here")


def _check(spec: str, library: str, input: str | None = None, depth: str = "layer", aux: bool = True):
    from inception_calc.pytorch.crosscheck import check

    return check(spec, library, input, depth, aux)


@pytest.mark.slow
@pytest.mark.parametrize("spec, library, other, params, macs", FAMILY)
def test_the_family_checks_against_its_reference_at_299(spec, library, other, params, macs):
    _need(spec, library)
    result = _check(spec, library, None, "branch", aux=False)
    assert result.input == (3, 299, 299)
    assert result.ok, [(r.name, r.verdict) for r in result.rows if r.verdict == MISMATCH]
    assert all(r.verdict in (EXACT, EXPLAINED) for r in result.rows)
    assert not [d for d in result.differences if d.kind != "functional"]  # every layer paired and equal
    total = result["total"]
    assert total["params"].counted == params and total["macs"].counted == macs  # the live model's numbers
    assert total["params"].verdict == total["macs"].verdict == EXACT


@pytest.mark.slow
@pytest.mark.parametrize("spec, library, other, params, macs", FAMILY)
def test_the_family_checks_against_its_reference_at_another_size(spec, library, other, params, macs):
    _need(spec, library)
    result = _check(spec, library, other)
    assert result.ok, [(r.name, r.verdict) for r in result.rows if r.verdict == MISMATCH]
    assert result["total"]["macs"].verdict == EXACT and result["total"]["params"].counted >= params


@pytest.mark.slow
def test_inception_v3_with_its_aux_head_and_without():
    _need("inception-v3", "torchvision")
    with_aux = _check("inception-v3", "torchvision")  # torchvision returns InceptionOutputs in training mode
    assert with_aux.ok and with_aux["AuxLogits"].verdict != MISMATCH
    # AuxLogits: 3,326,696 params; 5,683,200 MACs (conv0 2,457,600 + conv1 2,457,600 + fc 768,000)
    assert with_aux["AuxLogits"]["params"].counted == 3_326_696
    assert with_aux["AuxLogits"]["macs"].counted == 5_683_200
    assert with_aux["total"]["params"].counted == 23_834_568 + 3_326_696
    without = _check("inception-v3", "torchvision", aux=False)
    assert without.ok and "AuxLogits" not in [r.name for r in without.rows]
    assert without["total"]["params"].counted == 23_834_568


@pytest.mark.slow
def test_a_spec_that_differs_from_timm_is_a_mismatch(tmp_path):
    _need("inception-v4", "timm")
    text = (Path(SRC) / "inception_calc" / "specs" / "inception-v4.toml").read_text()
    # features.1 is conv_block(32, 32, kernel_size=3): give it 48 outputs instead
    changed = text.replace('name = "features.1"\nkind = "conv"\nout = 32', 'name = "features.1"\nkind = "conv"\nout = 48', 1)
    assert changed != text
    spec = tmp_path / "v4-changed.toml"
    spec.write_text(changed)
    result = _check(str(spec), "timm")
    assert not result.ok
    assert result["features.1"].verdict == MISMATCH and result["features.2"].verdict == MISMATCH  # its input too
    assert result["features.0"].verdict != MISMATCH


def test_a_spec_with_no_timm_reference_is_one_line_and_exit_2(capsys):
    pytest.importorskip("timm")
    code = main(["check", "googlenet-torchvision", "--against", "timm"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err == ("inception-calc check: error: --against: spec 'googlenet-torchvision' names no timm model to "
                   "check against (it reproduces torchvision:googlenet); give the spec a top-level reference = "
                   "\"timm:MODEL\" naming the model it reproduces name for name, or check against the built "
                   "network ('built')\n")


def test_the_library_function_names_its_parameter():
    with pytest.raises(CalcError, match=r"^against: spec 'googlenet' names no timm model"):
        _check("googlenet", "timm")


def test_timm_missing_names_the_extra_that_installs_it():
    env = {**os.environ, "PYTHONPATH": SRC}
    code = ("import sys; sys.modules['timm'] = None; from inception_calc.cli.main import main; "
            "sys.exit(main(['check', 'inception-v4', '--against', 'timm']))")
    if "inception-v4" not in builtin_names():
        pytest.skip("inception-v4 is not a built-in here")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == ("inception-calc check: error: timm is not installed, and the check needs it; "
                           "install the timm extra: pip install 'inception_calc[timm]'\n")


def test_no_aux_against_torchvision_googlenet_leaves_the_heads_out_on_both_sides(capsys):
    pytest.importorskip("torchvision")
    from inception_calc.pytorch.crosscheck import check

    result = check("googlenet-torchvision", "torchvision", aux=False)
    assert result.ok and not any(r.aux for r in result.rows)
    assert result["total"]["params"].counted == 6_624_904  # torchvision's GoogLeNet_Weights num_params (no aux)
    assert main(["check", "googlenet-torchvision", "--against", "torchvision", "--no-aux"]) == 0
    assert "no auxiliary heads" in capsys.readouterr().out


STEM = """
name = "v4-stem"
input = [3, 299, 299]
reference = "timm:inception_v4"
[defaults]
bias = false
bn = true
bn_eps = 0.001
[[rows]]
name = "features.0"
kind = "conv"
out = 32
kernel = 3
stride = 2
[[rows]]
name = "features.1"
kind = "conv"
out = 32
kernel = 3
"""


@pytest.mark.slow
def test_a_container_holding_spec_rows_is_expanded_into_its_rows(tmp_path):
    pytest.importorskip("timm")
    spec = tmp_path / "stem.toml"
    spec.write_text(STEM)
    result = _check(str(spec), "timm")
    names = [r.name for r in result.rows]
    # timm's features (Sequential 0..21) holds the spec's rows: its modules are rows, not one "only in real"
    assert "features" not in names
    assert names[:3] == ["features.0", "features.1", "features.2"]
    assert result["features.0"].verdict == result["features.1"].verdict == EXPLAINED  # fvcore's batch norm, x2
    assert result["features.2"].verdict == MISMATCH and result["features.2"]["present"].analytic is None
    assert names[-4:] == ["global_pool", "head_drop", "last_linear", "total"]


@pytest.mark.slow
def test_timm_modules_are_the_units_a_spec_writes():
    timm = pytest.importorskip("timm")
    from inception_calc.pytorch.counters import count_module

    units = {u.name: u for u in count_module(timm.create_model("legacy_xception", pretrained=False),
                                             (3, 100, 100), "timm legacy_xception").units}
    # Xception's shortcut: a plain Conv2d and a separate BatchNorm2d, two units (conv, bn)
    assert units["block1.skip"].layer.kind == "conv" and not units["block1.skip"].layer.bn
    assert units["block1.skipbn"].layer.kind == "bn"
    # a separable conv is its depthwise and pointwise Conv2d; ReLU modules are no units
    assert units["block1.rep.0.conv1"].layer.groups == 64 and units["block1.rep.0.pointwise"].layer.kernel == (1, 1)
    assert not [name for name in units if name.startswith("act") or name.endswith(".2") and "block1.rep" in name]
    v4 = {u.name: u for u in count_module(timm.create_model("inception_v4", pretrained=False), (3, 75, 75),
                                          "timm inception_v4").units}
    # ConvNormAct (conv + BatchNormAct2d, whose drop and act are children) is one conv unit with its batch norm
    first = v4["features.0"].layer
    assert first.kind == "conv" and first.bn and first.bn_eps == 0.001 and not first.bias
    assert not [name for name in v4 if name.endswith((".bn", ".act", ".drop"))]
