"""inception-calc check on the command line: exit codes, formats, and every bad input it rejects."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from inception_calc import analyze
from inception_calc.report.check import render_check
from inception_calc.cli.main import main
from inception_calc.core.engine import named_layers
from inception_calc.pytorch.reconcile import reconcile
from inception_calc.core.network import Pool

SRC = str(Path(__file__).resolve().parents[1])


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_googlenet_torchvision_against_torchvision_exits_0(capsys):
    code, out, err = _run(capsys, "googlenet-torchvision", "--against", "torchvision")
    assert code == 0 and err == ""
    assert "0 MISMATCH: every row exact or explained" in out
    assert "max_pool2d x13 in maxpool1" in out  # fvcore's unsupported op, listed


def test_googlenet_against_torchvision_exits_1_and_names_the_differences(capsys):
    code, out, _ = _run(capsys, "googlenet", "--against", "torchvision")
    assert code == 1
    assert "kernel 5x5 -> 3x3, pad 2 -> 1, bias yes -> no, batch norm no -> eps 0.001: 9 layers" in out
    assert "12,800 -> 4,608" in out  # inception3a.branch3.1: 16 * 32 * 25 vs 16 * 32 * 9 weights
    assert "only in googlenet: 5 layers (lrn1, conv2.1, lrn2, aux1.pool, aux2.pool)" in out
    assert "only in torchvision googlenet: 1 layer (conv3)" in out
    assert "maxpool4               max pool 3x3/2, ceil" in out


def test_googlenet_against_built_exits_0_where_floor_and_ceil_differ(capsys):
    code, out, _ = _run(capsys, "googlenet", "--input", "3x230x250", "--depth", "branch")  # 224, 225: test_reconcile
    assert code == 0, out


def test_check_leaves_torchs_random_state_alone():
    import torch

    from inception_calc.pytorch.crosscheck import check

    torch.manual_seed(1234)
    before = torch.get_rng_state()
    assert check("googlenet").ok
    assert torch.equal(torch.get_rng_state(), before)  # the built network's weights are drawn from a fork


# The formats render one reconciliation; these reuse the session's torchvision counts (the CLI path
# itself is run above: exit 0 and exit 1 against torchvision, exit 0 against the built network).


def test_json_format(torchvision_counts):
    data = json.loads(render_check(reconcile(analyze("googlenet-torchvision"), torchvision_counts), "json"))
    assert data["ok"] is True
    conv1 = next(r for r in data["rows"] if r["name"] == "conv1")
    fvcore = next(q for q in conv1["quantities"] if q["name"] == "fvcore")
    assert fvcore["terms"][0]["size"] == 2 * 64 * 112 * 112  # batch norm: 1,605,632
    # the rows that run max_pool2d, from the spec: maxpool1..4 and the 3x3 max pool (branch4.0) of every
    # Inception row; 4 + 9 = 13 calls, one per pool
    pools = [name for name, layer in named_layers(analyze("googlenet-torchvision").network).items()
             if isinstance(layer, Pool) and layer.op == "max" and layer.output is None]
    assert pools == ["maxpool1", "maxpool2", "inception3a.branch4.0", "inception3b.branch4.0", "maxpool3",
                     "inception4a.branch4.0", "inception4b.branch4.0", "inception4c.branch4.0", "inception4d.branch4.0",
                     "inception4e.branch4.0", "maxpool4", "inception5a.branch4.0", "inception5b.branch4.0"]
    rows = [name.split(".")[0] for name in pools]
    assert data["unsupported"] == [{"op": "aten::max_pool2d", "count": len(pools), "rows": rows}]


def test_csv_format(torchvision_counts):
    out = render_check(reconcile(analyze("googlenet"), torchvision_counts), "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    params = next(r for r in rows if r["name"] == "conv1" and r["quantity"] == "params")
    assert (params["analytic"], params["counted"], params["verdict"], params["difference"]) == (
        "9472", "9536", "MISMATCH", "64")  # 64 biases out, 2 * 64 batch-norm in
    diff = next(r for r in rows if r["name"] == "inception3a.branch3.1" and r["level"] == "difference")
    assert diff["analytic"] == "conv 5x5 pad 2, 32 +bias" and diff["counted"] == "conv 3x3 pad 1, 32 +bn"


def test_markdown_format(torchvision_counts):
    text = render_check(reconcile(analyze("googlenet-torchvision"), torchvision_counts), "markdown")
    assert text.startswith("**check: googlenet-torchvision (analysis) against torchvision googlenet")
    # 3 * 64 * 49 + 2 * 64 = 9,536 params; 112 * 112 * 9,408 = 118,013,952 MACs
    assert "| conv1 | explained | 9,536 | 9,536 | 118,013,952 |" in text
    assert "| maxpool1 | exact |" in text


def test_output_to_a_file(capsys, tmp_path):
    spec = tmp_path / "one.toml"
    spec.write_text('name = "one"\ninput = [3, 6, 6]\n[[rows]]\nname = "conv"\nkind = "conv"\nout = 4\nkernel = 3\n')
    target = tmp_path / "check.csv"
    code, out, _ = _run(capsys, str(spec), "--format", "csv", "--output", str(target))
    assert code == 0 and out == ""
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    macs = next(r for r in rows if r["name"] == "conv" and r["quantity"] == "macs")
    assert (macs["analytic"], macs["counted"], macs["verdict"]) == ("1728", "1728", "exact")  # 4 * 4 * (3 * 4 * 9)


# ----------------------------------------------------------------------------- bad input


def _subprocess(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def test_torchvision_missing_names_the_extra_that_installs_it():
    proc = _subprocess("import sys; sys.modules['torchvision'] = None; from inception_calc.cli.main import main; "
                       "sys.exit(main(['check', 'googlenet-torchvision', '--against', 'torchvision']))")
    assert proc.returncode == 2
    assert proc.stderr == ("inception-calc check: error: torchvision is not installed, and the check needs it; "
                           "install the torch extra: pip install 'inception_calc[torch]'\n")


def test_torchvision_too_old_is_named_with_the_version_needed(capsys, monkeypatch):
    import torchvision

    monkeypatch.setattr(torchvision, "__version__", "0.12.0")  # the real package, an older version string
    code, out, err = _run(capsys, "googlenet-torchvision", "--against", "torchvision")
    assert code == 2 and out == ""
    assert err == ("inception-calc check: error: torchvision 0.12.0 is too old: the check needs torchvision >= 0.15; "
                   "pip install 'torchvision>=0.15'\n")


def test_fvcore_missing_is_named_too():
    proc = _subprocess("import sys; sys.modules['fvcore'] = None; from inception_calc.cli.main import main; "
                       "sys.exit(main(['check', 'googlenet']))")
    assert proc.returncode == 2
    assert "fvcore is not installed, and the check needs it; install the torch extra" in proc.stderr


def test_the_check_is_silent_on_stderr(tmp_path):
    """fvcore's unsupported-op and uncalled-module warnings, its logging and torch.jit's
    FutureWarning (at fvcore's import) stay inside the tool: the unsupported ops are listed instead."""
    spec = tmp_path / "noisy.toml"
    spec.write_text('name = "noisy"\ninput = [3, 12, 12]\n'
                    '[[rows]]\nname = "conv1"\nkind = "conv"\nout = 4\nkernel = 3\nbn = true\n'
                    '[[rows]]\nname = "lrn1"\nkind = "lrn"\n'
                    '[[rows]]\nname = "pool1"\nkind = "maxpool"\nkernel = 2\nrounding = "ceil"\n'
                    '[[rows]]\nname = "aux"\nkind = "aux"\nafter = "pool1"\nlayers = [{kind = "linear", out = 3}]\n'
                    '[[rows]]\nname = "fc"\nkind = "linear"\nout = 2\n')
    proc = _subprocess(f"import sys; from inception_calc.cli.main import main; sys.exit(main(['check', '{spec}']))")
    assert proc.returncode == 0 and proc.stderr == ""
    assert "avg_pool3d x1 in lrn1" in proc.stdout and "max_pool2d x1 in pool1" in proc.stdout  # listed


def test_a_spec_without_a_torchvision_counterpart(capsys, tmp_path):
    spec = tmp_path / "small.toml"
    spec.write_text('name = "small"\ninput = [3, 16, 16]\n[[rows]]\nname = "conv1"\nkind = "conv"\nout = 4\n'
                    'kernel = 3\n[[rows]]\nname = "fc"\nkind = "linear"\nout = 10\n')
    code, out, err = _run(capsys, str(spec), "--against", "torchvision")
    # torchvision's rows the join needs: its 9 Inception rows (inception3a, 3b, 4a-4e, 5a, 5b), conv1 and fc;
    # the spec has conv1 and fc only
    assert code == 2 and out == ""
    assert err == ("inception-calc check: error: --against: spec 'small' has no torchvision "
                   "counterpart: torchvision's googlenet rows inception3a, inception3b, inception4a, inception4b, "
                   "inception4c, inception4d and 3 more are not in the spec, and a check against torchvision joins "
                   "rows by name; use a GoogLeNet spec (googlenet, googlenet-torchvision or a variant that keeps their "
                   "row names), or check against the built network ('built')\n")


def test_bn_inception_has_no_torchvision_counterpart(capsys):
    # BN-Inception has every one of torchvision's Inception rows, conv1 and fc, but an inception3c
    # torchvision does not have (and no maxpool3/4): its rows cannot be joined, so exit 2, not a MISMATCH
    code, out, err = _run(capsys, "bn-inception", "--against", "torchvision")
    assert code == 2 and out == ""
    assert err.startswith("inception-calc check: error: --against: spec 'bn-inception' has no "
                          "torchvision counterpart: the spec's Inception row inception3c is not in torchvision's "
                          "googlenet, and a check against torchvision joins rows by name; ")


def test_an_input_torchvisions_conv1_cannot_take(capsys):
    # the spec's conv1 follows --input's channels; torchvision's conv1 is built for 3 (RGB), whatever the input
    code, out, err = _run(capsys, "googlenet-torchvision", "--input", "1x224x224", "--against", "torchvision")
    assert code == 2 and out == ""
    assert err == ("inception-calc check: error: --input: torchvision's googlenet takes 3-channel images (its conv1 "
                   "is fixed at in_channels=3), and the input 1x224x224 has 1; give a 3-channel input (3x224x224, or "
                   "224x224), or check the spec against the built network ('built')\n")


@pytest.mark.parametrize("kwargs, where, what", [
    (dict(against="caffe"), "against", "unknown network to check against: 'caffe'"),
    (dict(depth="conv"), "depth", "unknown depth 'conv'"),
    (dict(against="torchvision", input="1x224x224"), "input", "torchvision's googlenet takes 3-channel images"),
    (dict(spec="bn-inception", against="torchvision"), "against", "spec 'bn-inception' has no torchvision counterpart"),
])
def test_check_errors_name_its_parameters_not_flags(kwargs, where, what):
    from inception_calc.core.errors import CalcError
    from inception_calc.pytorch.crosscheck import check

    kwargs = {"spec": "googlenet-torchvision", **kwargs}
    with pytest.raises(CalcError) as caught:
        check(**kwargs)
    assert caught.value.where == where and caught.value.what.startswith(what)
    assert "--" not in caught.value.where + caught.value.fix  # a Python caller is told of no flag


def test_a_spec_the_builder_cannot_express(capsys, tmp_path):
    spec = tmp_path / "flat.toml"
    spec.write_text('name = "flat"\ninput = [3, 8, 8]\n[[rows]]\nname = "fc"\nkind = "linear"\nout = 16\n'
                    '[[rows]]\nname = "conv"\nkind = "conv"\nout = 4\nkernel = 1\n')
    code, _, err = _run(capsys, str(spec))
    assert code == 2
    assert err == ("inception-calc check: error: flat, row 'conv': the builder cannot express a conv layer after a "
                   "linear layer (nn.Linear gives [N, features], not a map); put conv, pool and LRN layers before "
                   "the first linear layer\n")


def test_depth_conv_is_not_a_check_depth(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["check", "googlenet", "--depth", "conv"])
    assert exc.value.code == 2
    assert "argument --depth: invalid choice: 'conv'" in capsys.readouterr().err


def test_an_input_too_small_for_the_network(capsys):
    code, _, err = _run(capsys, "googlenet", "--input", "8")
    assert code == 2 and "input 3x8x8 is too small" in err


def test_the_command_line_formats_are_the_renderers():
    # the parsers name their formats without importing the renderers: the two lists must not drift
    from inception_calc.report import bench as bench_report, check as check_render
    from inception_calc.cli import bench as bench_command
    from inception_calc.cli import check as check_command

    assert check_command.FORMATS == tuple(check_render.RENDERERS)
    assert bench_command.BENCH_FORMATS == tuple(bench_report.RENDERERS)
