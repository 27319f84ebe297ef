"""check --counters: each tool run on the real network and reconciled with its convention; check --no-aux.

The torch tests share one check of googlenet-torchvision against torchvision's googlenet at 128x160
(a size that is not square, and small enough to run every tool in seconds), and compare what the
check reports with each tool called here directly, the way its own README calls it. The pure tests
give the reconciler counts that differ and see it name the difference.
"""

from __future__ import annotations

import copy
import sys
from dataclasses import replace

import pytest

from inception_calc.core.conventions import convention, count
from inception_calc.core.engine import analyze
from inception_calc.core.errors import CalcError
from inception_calc.core.sources import load_spec
from inception_calc.pytorch.counter_check import check_counter
from inception_calc.pytorch.reconcile import EXACT, MISMATCH
from inception_calc.pytorch.tool_counts import COUNTERS, PACKAGES, ToolCount, counter_names
from tests.conftest import run_cli

SPEC = "googlenet-torchvision"
INPUT = (3, 128, 160)


def _installed(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(PACKAGES[name][0]) is not None


INSTALLED = tuple(name for name in COUNTERS if _installed(name))


# ----------------------------------------------------------------------------- the real tools


@pytest.fixture(scope="module")
def checked():
    """One check with every installed counter, at branch depth."""
    pytest.importorskip("torchvision")
    pytest.importorskip("fvcore")
    from inception_calc.pytorch.crosscheck import check

    return check(SPEC, "torchvision", INPUT, "branch", True, INSTALLED)


@pytest.fixture(scope="module")
def reference():
    """torchvision's googlenet as the check builds it (aux heads, no weights), and one zero image."""
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    model = torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=False)
    return model.eval(), torch.zeros(1, *INPUT)


def _direct_total(name: str, model, x) -> int:
    """The tool's own total, called here as its users call it (on a copy: ptflops and thop change the module)."""
    import torch

    model = copy.deepcopy(model).eval()
    with torch.no_grad():
        if name == "fvcore":
            from fvcore.nn import FlopCountAnalysis

            return FlopCountAnalysis(model, (x,)).unsupported_ops_warnings(False).total()
        if name == "flopcounter":
            from torch.utils.flop_counter import FlopCounterMode

            with FlopCounterMode(display=False) as counter:
                model(x)
            return counter.get_total_flops()
        if name in ("ptflops", "ptflops-aten"):
            from ptflops import get_model_complexity_info

            macs, _ = get_model_complexity_info(model, INPUT, as_strings=False, print_per_layer_stat=False,
                                                backend="aten" if name == "ptflops-aten" else "pytorch")
            return macs
        if name == "thop":
            from thop import profile

            return int(profile(model, inputs=(x,), verbose=False)[0])
        if name == "torchinfo":
            from torchinfo import summary

            return summary(model, input_size=tuple(x.shape), verbose=0).total_mult_adds
    raise AssertionError(name)


@pytest.mark.torch
@pytest.mark.parametrize("name", COUNTERS)
def test_each_tools_total_is_the_tools_own(name, checked, reference):
    pytest.importorskip(PACKAGES[name][0])
    (counter,) = [c for c in checked.counters if c.tool == name]
    assert counter.total == _direct_total(name, *reference)
    assert counter["total"].counted == counter.total


@pytest.mark.torch
@pytest.mark.parametrize("name", COUNTERS)
def test_each_tool_is_its_convention_row_by_row_and_module_by_module(name, checked):
    pytest.importorskip(PACKAGES[name][0])
    (counter,) = [c for c in checked.counters if c.tool == name]
    assert counter.verdict == EXACT, [(r.name, r.note) for r in counter.rows if r.verdict != EXACT]
    assert counter.total == counter.convention_total
    assert counter.modules_exact == len(counter.modules)
    main = [r.name for r in checked.rows if r.level == "layer" and not r.aux]
    assert [r.name for r in counter.rows if r.level == "layer"] == main  # every main row compared
    if counter.depth == "all":  # and every branch and layer below them, as modules
        names = {n for n, _, _ in counter.modules}
        assert {"inception3a.branch2", "inception3a.branch2.1", "inception5b.branch4.1", "fc"} <= names
        assert len(counter.modules) > 100


@pytest.mark.torch
def test_per_module_counts_are_the_tools_own(checked, reference):
    """fvcore's by_module() and thop's per-layer table, read here directly, for every module compared."""
    fvcore = pytest.importorskip("fvcore.nn")
    model, x = reference
    by_module = fvcore.FlopCountAnalysis(copy.deepcopy(model), (x,)).unsupported_ops_warnings(False).by_module()
    (counter,) = [c for c in checked.counters if c.tool == "fvcore"]
    assert {n: got for n, got, _ in counter.modules} == {n: by_module[n] for n, _, _ in counter.modules}
    if "thop" in INSTALLED:
        from thop import profile

        _, _, layers = profile(copy.deepcopy(model), inputs=(x,), verbose=False, ret_layer_info=True)
        (thop,) = [c for c in checked.counters if c.tool == "thop"]
        got = dict((n, c) for n, c, _ in thop.modules)
        assert got["inception3a"] == layers["inception3a"][0]
        assert got["inception3a.branch2.1"] == layers["inception3a"][2]["branch2"][2]["1"][0]


@pytest.mark.torch
def test_no_aux_gives_fvcores_total_for_aux_logits_false(checked, reference):
    """check --no-aux: the reference is built with aux_logits=False, and fvcore's total row is what
    fvcore says of that network; with the heads (the default) fvcore's row counts them too."""
    torchvision = pytest.importorskip("torchvision")
    from fvcore.nn import FlopCountAnalysis
    from inception_calc.pytorch.crosscheck import check

    result = check(SPEC, "torchvision", INPUT, "layer", False)
    model = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False).eval()
    direct = FlopCountAnalysis(model, (reference[1],)).unsupported_ops_warnings(False).total()
    assert result["total"]["fvcore"].counted == direct
    assert not any(row.aux for row in result.rows) and result.ok
    assert checked["total"]["fvcore"].counted > direct  # the default runs aux1 and aux2 as well
    assert {r.name for r in checked.rows if r.aux} == {"aux1", "aux2"}


@pytest.mark.torch
def test_cli_counters_json_and_exit_status():
    pytest.importorskip("torchvision")
    pytest.importorskip("thop")
    import json

    run = run_cli("check", SPEC, "--input", "96", "--counters", "thop", "--format", "json")
    assert run.code == 0, run.err
    data = json.loads(run.out)
    thop = data["counters"]["thop"]
    assert thop["verdict"] == EXACT and thop["total"] == thop["convention_total"]
    assert [r["name"] for r in thop["rows"]][-1] == "total"
    assert "counters" not in json.loads(run_cli("check", SPEC, "--input", "96", "--format", "json").out)


@pytest.mark.torch
def test_a_missing_tool_is_one_line_naming_the_extra():
    """The tool made unimportable the way Python's import system allows (a None entry in sys.modules)."""
    pytest.importorskip("fvcore")
    code = ("import sys; sys.modules['thop'] = None; from inception_calc.cli.main import main; "
            "sys.exit(main(['check', 'googlenet-torchvision', '--input', '96', '--counters', 'fvcore,thop']))")
    import subprocess

    from tests.conftest import SRC

    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "--counters: thop is not installed" in done.stderr
    assert "pip install 'inception_calc[counters]'" in done.stderr


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("text", ["bogus", "fvcore,", "fvcore,thops"])
def test_an_unknown_counter_lists_the_known(text):
    with pytest.raises(CalcError) as err:
        counter_names(text)
    assert "fvcore, flopcounter, ptflops, ptflops-aten, thop, torchinfo" in str(err.value)


def test_cli_unknown_counter_and_counters_with_rf_exit_2():
    run = run_cli("check", "--counters", "fvcore,bogus")
    assert run.code == 2 and run.out == ""
    assert run.err.strip() == ("inception-calc check: error: --counters: unknown counter 'bogus'; give a "
                               "comma-separated list of fvcore, flopcounter, ptflops, ptflops-aten, thop, torchinfo")
    run = run_cli("check", "--counters", "thop", "--rf")
    assert run.code == 2 and "--counters" in run.err and len(run.err.strip().splitlines()) == 1


def test_counter_names_keep_order_once():
    assert counter_names("thop,fvcore,thop") == ("thop", "fvcore")
    assert counter_names(("ptflops-aten",)) == ("ptflops-aten",)


# ----------------------------------------------------------------------------- the verdicts can fail


def _agreeing(name: str) -> tuple:
    """A tool count that agrees with the convention everywhere (built from it), to change by one number."""
    analysis = analyze(load_spec(SPEC), INPUT)
    counted = count(analysis, name)
    by_module = {n: counted.module_count(n) for n in counted.by_node}
    return analysis, counted, ToolCount(name, name, convention(name).version, counted.total, by_module)


def test_agreeing_counts_are_exact():
    analysis, _, tool = _agreeing("fvcore")
    result = check_counter(analysis, tool)
    assert result.verdict == EXACT and result.note == ""


def test_a_total_that_differs_is_a_mismatch_by_how_much():
    analysis, _, tool = _agreeing("fvcore")
    result = check_counter(analysis, replace(tool, total=tool.total + 7))
    assert result.verdict == MISMATCH
    assert result["total"].difference == 7
    assert "outside the rows" in result["total"].note


def test_a_layer_without_a_term_is_named_with_the_term():
    """One conv block of inception3a counted without its batch norm: the row and the layer are named."""
    analysis, counted, tool = _agreeing("fvcore")
    layer = "inception3a.branch2.1"
    bn = counted.node_terms[layer]["bn"]  # 2 x its output elements, the fvcore term
    changed = {n: c - bn if n in (layer, "inception3a.branch2", "inception3a", "") else c
               for n, c in tool.by_module.items()}
    result = check_counter(analysis, replace(tool, by_module=changed, total=tool.total - bn), "branch")
    assert result.verdict == MISMATCH
    row = result["inception3a"]
    assert row.verdict == MISMATCH and row.difference == -bn
    assert f"in {layer} {-bn:+,} (the tool does not count the 'bn' term here)" in row.note
    assert result["inception3a.branch2"].verdict == MISMATCH
    assert result["inception3b"].verdict == EXACT
    assert "rows that differ: inception3a" in result["total"].note
    assert [(n, got - want) for n, got, want in result.modules if got != want] == [
        ("inception3a", -bn), ("inception3a.branch2", -bn), (layer, -bn)]


def test_a_compensated_layer_still_fails_the_counter():
    """Two layers off by opposite amounts in one row: the row agrees, the counter does not."""
    analysis, _, tool = _agreeing("thop")
    changed = dict(tool.by_module)
    changed["inception4a.branch1"] += 5
    changed["inception4a.branch3"] -= 5
    result = check_counter(analysis, replace(tool, by_module=changed))
    assert result["inception4a"].verdict == EXACT
    assert result.verdict == MISMATCH
    assert "modules that differ: inception4a.branch1 +5, inception4a.branch3 -5" in result.note


def test_another_version_is_said():
    analysis, _, tool = _agreeing("thop")
    result = check_counter(analysis, replace(tool, version="0.2.0"))
    assert "the convention follows thop 0.1.1.post2209072238; thop 0.2.0 is installed" in result.note
