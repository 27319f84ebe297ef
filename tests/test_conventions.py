"""Every counter's convention (core/conventions.py) against the live tool.

The torch tests run fvcore, FlopCounterMode, ptflops (both backends), thop and torchinfo on
torchvision's own ``googlenet`` (random weights, no aux heads, eval) and compare their totals, and
their per-module counts where the tool gives them, with the convention computed from the built-in
``googlenet-torchvision`` spec; the expected numbers come from the tools, never from the engine. The
fast-lane tests check the refusals, the factor 2 and the JSON keys.
"""

from __future__ import annotations

import contextlib
import io
import json
import warnings

import pytest

import inception_calc
from inception_calc.core import conventions as cv
from inception_calc.core.errors import CalcError
from tests.conftest import run_cli

SIZES = ((3, 224, 224), (3, 256, 320), (3, 300, 250))
"""The default input, a wider than tall one, and a taller than wide one whose maps round unevenly."""


# ----------------------------------------------------------------------------- the live tools


def _torchvision_googlenet():
    torchvision = pytest.importorskip("torchvision")
    return torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False).eval()


def _fvcore(model, x):
    fvcore_nn = pytest.importorskip("fvcore.nn")
    analysis = fvcore_nn.FlopCountAnalysis(model, x)
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    analysis.tracer_warnings("none")
    return analysis.total(), dict(analysis.by_module())


def _flop_counter(model, x):
    """FlopCounterMode's total, and its count per module (its keys are the root's class name, then
    the module path: ``GoogLeNet.inception3a``)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as mode:
        model(x)
    counts = {key.split(".", 1)[1]: sum(ops.values()) for key, ops in mode.get_flop_counts().items() if "." in key}
    # a module that counts nothing is not listed: 0
    return mode.get_total_flops(), {name: counts.get(name, 0) for name, _ in model.named_modules() if name}


def _ptflops_aten_modules(model, x):
    """ptflops' aten backend per top-level module (its FlopCounterMode's ``flop_counts``, which it
    keeps for the model's children only)."""
    engine = pytest.importorskip("ptflops.aten_engine")
    counter = engine.FlopCounterMode(model, False, False, {"serialize_params": {}, "print_params": {"file": io.StringIO()}})
    with counter:
        model(x)
    counts = {name: sum(ops.values()) for name, ops in counter.flop_counts.items()}
    return {name: counts.get(name, 0) for name, _ in model.named_children()}  # a child counting nothing: 0


def _ptflops_total(model, shape, backend):
    ptflops = pytest.importorskip("ptflops")
    with contextlib.redirect_stdout(io.StringIO()):
        total, _ = ptflops.get_model_complexity_info(model, shape, as_strings=False, print_per_layer_stat=False,
                                                     backend=backend)
    return total


def _ptflops_modules(model, x):
    """Each module's ``__flops__`` (its module hooks; a container's the sum of its modules'), the
    numbers ptflops prints per layer: its pytorch engine's own counting methods, run as
    ``get_flops_pytorch`` runs them."""
    engine = pytest.importorskip("ptflops.pytorch_engine")
    counting = engine.add_flops_counting_methods(model)
    counting.start_flops_count(ost=io.StringIO(), verbose=False, ignore_list=[])
    try:
        model(x)
        per_module = {}
        for name, module in model.named_modules():
            per_module[name] = sum(m.__flops__ for m in module.modules() if hasattr(m, "__flops__"))
    finally:
        counting.stop_flops_count()
    return per_module


def _thop(model, x):
    thop = pytest.importorskip("thop")
    with contextlib.redirect_stdout(io.StringIO()):
        total, _, layers = thop.profile(model, inputs=(x,), verbose=False, ret_layer_info=True)
    per_module = {}

    def flatten(prefix, tree):
        for name, (ops, _, children) in tree.items():
            per_module[prefix + name] = ops
            flatten(prefix + name + ".", children)

    flatten("", layers)
    return total, per_module


def _torchinfo(model, shape):
    torchinfo = pytest.importorskip("torchinfo")
    stats = torchinfo.summary(model, input_size=(1, *shape), verbose=0)
    names = {id(m): n for n, m in model.named_modules()}
    leaves = {names[id(layer.module)]: layer.macs for layer in stats.summary_list if layer.is_leaf_layer}
    return stats.total_mult_adds, leaves


def _measure(model, shape):
    """Every tool's total and per-module counts of ``model`` (eval) at ``shape``."""
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        x = torch.zeros(1, *shape)
        fvcore_total, fvcore_modules = _fvcore(model, x)
        thop_total, thop_modules = _thop(model, x)
        torchinfo_total, torchinfo_leaves = _torchinfo(model, shape)
        flop_counter_total, flop_counter_modules = _flop_counter(model, x)
        return {
            "totals": {
                "fvcore": fvcore_total,
                "flopcounter": flop_counter_total,
                "ptflops": _ptflops_total(model, shape, "pytorch"),
                "ptflops-aten": _ptflops_total(model, shape, "aten"),
                "thop": thop_total,
                "torchinfo": torchinfo_total,
            },
            "fvcore": fvcore_modules,
            "flopcounter": flop_counter_modules,
            "ptflops": _ptflops_modules(model, x),
            "ptflops-aten": _ptflops_aten_modules(model, x),
            "thop": thop_modules,
            "torchinfo": torchinfo_leaves,
        }


@pytest.fixture(scope="module")
def live():
    """Every tool's total and per-module counts on torchvision's googlenet, at each of SIZES."""
    pytest.importorskip("torch")
    for tool in ("fvcore", "ptflops", "thop", "torchinfo"):
        pytest.importorskip(tool)
    model = _torchvision_googlenet()
    return {shape: _measure(model, shape) for shape in SIZES}


def _counted(shape, name):
    c, h, w = shape
    return cv.count(inception_calc.analyze("googlenet-torchvision", f"{c}x{h}x{w}"), name)


@pytest.mark.torch
@pytest.mark.parametrize("shape", SIZES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", ["fvcore", "flopcounter", "ptflops", "ptflops-aten", "thop", "torchinfo"])
def test_total_is_the_live_tools(live, shape, name):
    measured = live[shape]["totals"][name]
    assert int(measured) == measured  # thop returns a float: an exact integer here
    assert _counted(shape, name).total == int(measured)


def _joined(counted, per_module):
    """(name, convention's count, tool's count) for every analysis node that is a module the tool
    reports; a name the tool has not is left out (a branch that is no module)."""
    return [(n, counted.module_count(n), per_module[n]) for n in counted.by_node if n in per_module]


@pytest.mark.torch
@pytest.mark.parametrize("shape", SIZES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", ["fvcore", "flopcounter", "ptflops", "thop"])
def test_per_module_is_the_live_tools(live, shape, name):
    counted = _counted(shape, name)
    joined = _joined(counted, live[shape][name])
    rows = {row.name for row in inception_calc.analyze("googlenet-torchvision").rows if not row.aux}
    assert rows <= {n for n, _, _ in joined}  # every main row is compared, and its branches and layers
    assert len(joined) > 100
    assert [(n, int(tool)) for n, _, tool in joined] == [(n, mine) for n, mine, _ in joined]


@pytest.mark.torch
@pytest.mark.parametrize("shape", SIZES, ids=lambda s: "x".join(map(str, s)))
def test_ptflops_aten_per_row_is_the_live_tools(live, shape):
    """ptflops' aten backend keeps counts for the model's children only: the rows."""
    counted = _counted(shape, "ptflops-aten")
    per_row = live[shape]["ptflops-aten"]
    rows = [r.name for r in inception_calc.analyze("googlenet-torchvision").rows if not r.aux]
    assert set(rows) <= set(per_row)
    assert [(r, counted.by_node[r]) for r in rows] == [(r, per_row[r]) for r in rows]


@pytest.mark.torch
@pytest.mark.parametrize("shape", SIZES, ids=lambda s: "x".join(map(str, s)))
def test_torchinfo_per_layer_is_the_live_tools(live, shape):
    """torchinfo counts leaf modules only (``conv``, ``bn``, ``fc``): each analysis node that is a
    module is the sum of the leaves below it."""
    counted = _counted(shape, "torchinfo")
    leaves = live[shape]["torchinfo"]
    under = {}
    for node in counted.by_node:
        found = [macs for leaf, macs in leaves.items() if leaf == node or leaf.startswith(node + ".")]
        if found:
            under[node] = sum(found)
    assert len(under) > 100
    assert under == {n: counted.by_node[n] for n in under}


@pytest.mark.torch
def test_ptflops_module_counts_and_functions_make_its_total(live):
    """The terms ptflops keeps out of every module (its patched F.relu, F.max_pool2d...) are what
    its total has beyond the sum of its top-level modules."""
    shape = SIZES[0]
    counted = _counted(shape, "ptflops")
    modules = live[shape]["ptflops"]
    top = sum(v for n, v in modules.items() if n and "." not in n)
    unattributed = sum(size for term, size in counted.terms.items() if not counted.convention.term(term).attributed)
    assert top + unattributed == live[shape]["totals"]["ptflops"]
    assert unattributed > 0


ZOO = """
name = "zoo"
description = "every layer kind, in the configurations whose counts differ between the counters"
input = [3, 37, 45]

[defaults]
bias = true
bn = false
relu = true

[[rows]]
name = "conv1"
kind = "conv"
out = 12
kernel = 3
stride = 2
bn = true

[[rows]]
name = "lrn1"
kind = "lrn"
size = 4

[[rows]]
name = "pool1"
kind = "maxpool"
kernel = 3
stride = 2
pad = 1
rounding = "ceil"

[[rows]]
name = "dw"
kind = "conv"
out = 24
kernel = 3
pad = 1
groups = 12
bias = false
relu = false

[[rows]]
name = "bn2"
kind = "bn"

[[rows]]
name = "act2"
kind = "relu"

[[rows]]
name = "pool2"
kind = "avgpool"
kernel = 3
stride = 2
pad = 1
rounding = "floor"
count_include_pad = false

[[rows]]
name = "pool3"
kind = "avgpool"
output = [3, 4]

[[rows]]
name = "pool4"
kind = "maxpool"
output = [2, 3]

[[rows]]
name = "drop"
kind = "dropout"
p = 0.5

[[rows]]
name = "fc1"
kind = "linear"
out = 40
relu = true

[[rows]]
name = "fc2"
kind = "linear"
out = 10
bias = false

[[rows]]
name = "prob"
kind = "softmax"
"""
"""Every layer kind the conventions cover (conv with bias and batch norm, grouped conv without either,
an even LRN, ceil and floor pools, an average pool that leaves out its padding, adaptive average and
max pools whose windows overlap, batch norm and ReLU as modules, dropout, linear with and without
bias and ReLU, softmax), each in a row of its own, so that each module is checked on its own."""


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(3, 37, 45), (3, 64, 50)], ids=["37x45", "64x50"])
def test_every_kind_against_the_live_tools(tmp_path, shape):
    for tool in ("torch", "fvcore", "ptflops", "thop", "torchinfo"):
        pytest.importorskip(tool)
    from inception_calc.pytorch.build import build

    path = tmp_path / "zoo.toml"
    path.write_text(ZOO)
    analysis = inception_calc.analyze(str(path), "x".join(map(str, shape)))
    measured = _measure(build(str(path), shape).eval(), shape)
    rows = [r.name for r in analysis.rows]
    for name, total in measured["totals"].items():
        counted = cv.count(analysis, name)
        assert (name, counted.total) == (name, int(total))
    for name in ("fvcore", "flopcounter", "ptflops", "ptflops-aten", "thop"):
        counted = cv.count(analysis, name)
        assert [(r, counted.module_count(r)) for r in rows] == [(r, int(measured[name].get(r, 0))) for r in rows]
    counted = cv.count(analysis, "torchinfo")
    leaves = measured["torchinfo"]
    assert [(r, counted.by_node[r]) for r in rows] == \
           [(r, sum(v for n, v in leaves.items() if n == r or n.startswith(r + "."))) for r in rows]


# ----------------------------------------------------------------------------- the fast lane


def test_conventions_are_in_order_with_their_tools():
    assert list(cv.CONVENTIONS) == ["macs", "flops", "fvcore", "flopcounter", "ptflops", "ptflops-aten", "thop",
                                    "torchinfo"]
    assert cv.convention("thop").version == "0.1.1.post2209072238"
    assert cv.convention("ptflops").version == cv.convention("ptflops-aten").version == "0.7.5"


def test_unknown_convention_lists_the_known():
    with pytest.raises(CalcError) as err:
        cv.convention("flop")
    assert "'flop'" in str(err.value)
    assert all(name in str(err.value) for name in cv.CONVENTIONS)


def test_flops_are_twice_the_macs():
    analysis = inception_calc.analyze("googlenet", "3x256x320")
    flops = cv.count(analysis, "flops")
    assert flops.total == 2 * analysis.totals.inference.macs
    assert flops.terms == {"x2": analysis.totals.inference.macs}
    assert all(flops.by_node[n] == 2 * analysis[n].macs for n in analysis.names())
    assert cv.count(analysis, "macs").total == analysis.totals.inference.macs


def test_rows_add_up_to_the_total():
    analysis = inception_calc.analyze("inception-v3")
    for name in cv.CONVENTIONS:
        counted = cv.count(analysis, name)
        assert counted.total == sum(counted.by_node[r.name] for r in analysis.rows if not r.aux)
        assert counted.training == sum(counted.by_node[r.name] for r in analysis.rows)
        assert counted.total == counted.macs + sum(counted.terms.values())


def test_terms_by_hand_on_one_layer():
    """torchvision googlenet's conv1 at 224: 7x7/2 conv, 64 channels, batch norm, output 64x112x112
    = 802,816 elements, no bias."""
    analysis = inception_calc.analyze("googlenet-torchvision")
    assert cv.count(analysis, "fvcore").node_terms["conv1"] == {"bn": 2 * 802_816}
    assert cv.count(analysis, "thop").node_terms["conv1"] == {"bn": 4 * 802_816}
    assert cv.count(analysis, "ptflops").node_terms["conv1"] == {"bn": 2 * 802_816, "F.relu": 802_816}
    assert cv.count(analysis, "torchinfo").node_terms["conv1"] == {"bn": 2 * 64}
    # the fc: 1024 -> 1000 with a bias; avgpool: adaptive 7x7 -> 1x1 over 1024 channels
    assert cv.count(analysis, "ptflops-aten").node_terms["fc"] == {"bias": 1000}
    assert cv.count(analysis, "thop").node_terms["avgpool"] == {"adaptive avg pool": (49 + 1) * 1024}
    assert cv.count(analysis, "fvcore").node_terms["avgpool"] == {"adaptive avg pool": 49 * 1024}


def test_a_layer_a_convention_cannot_count_is_named(monkeypatch):
    monkeypatch.setitem(cv.COVERED, "thop", cv.COVERED["thop"] - {"lrn"})
    with pytest.raises(CalcError) as err:
        cv.count(inception_calc.analyze("googlenet"), "thop")
    line = str(err.value)
    assert "\n" not in line and "lrn1" in line and "convention thop" in line


@pytest.mark.parametrize("command", ["report", "compare", "sweep", "verify"])
def test_cli_unknown_convention_is_one_line_exit_2(command):
    args = {"report": ["googlenet"], "compare": ["googlenet", "googlenet-torchvision"],
            "sweep": ["googlenet", "--input", "224:256:32"], "verify": ["googlenet", "--claim", "conv1.macs = 1"]}
    done = run_cli(command, *args[command], "--convention", "flop")
    assert done.code == 2 and done.out == ""
    assert len(done.err.strip().splitlines()) == 1
    assert "--convention" in done.err and "'flop'" in done.err
    assert all(name in done.err for name in cv.CONVENTIONS)


def test_cli_inexpressible_layer_is_one_line_exit_2(monkeypatch, capsys):
    from inception_calc.cli.main import main

    monkeypatch.setitem(cv.COVERED, "ptflops", cv.COVERED["ptflops"] - {"lrn"})
    assert main(["report", "googlenet", "--convention", "ptflops"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and "lrn1" in captured.err


def test_json_carries_the_convention_and_counted():
    done = run_cli("report", "googlenet-torchvision", "--convention", "thop", "--format", "json", "--depth", "conv")
    assert done.code == 0, done.err
    data = json.loads(done.out)
    plain = json.loads(run_cli("report", "googlenet-torchvision", "--format", "json", "--depth", "conv").out)
    counted = cv.count(inception_calc.analyze("googlenet-torchvision"), "thop")
    assert data["convention"] == plain["convention"]  # the words of the MACs convention, unchanged
    assert data["counting"]["convention"] == "thop" and data["counting"]["terms"] == counted.terms
    assert data["totals"]["inference"]["counted"] == counted.total
    assert data["totals"]["inference"]["macs"] == plain["totals"]["inference"]["macs"]

    def nodes(rows):
        for row in rows:
            yield row
            yield from nodes(row.get("branches", []) + row.get("layers", []))

    for node, before in zip(nodes(data["rows"]), nodes(plain["rows"])):
        assert node["counted"] == counted.by_node[node["name"]]
        assert {k: v for k, v in node.items() if k not in ("counted", "branches", "layers")} == \
               {k: v for k, v in before.items() if k not in ("branches", "layers")}


def test_conventions_command_lists_every_total():
    done = run_cli("conventions", "googlenet-torchvision", "--format", "json")
    assert done.code == 0, done.err
    data = json.loads(done.out)
    analysis = inception_calc.analyze("googlenet-torchvision")
    assert [c["convention"] for c in data["conventions"]] == list(cv.CONVENTIONS)
    for entry in data["conventions"]:
        counted = cv.count(analysis, entry["convention"])
        assert entry["total"] == counted.total and entry["terms"] == counted.terms


def test_compare_and_sweep_carry_counted():
    compared = json.loads(run_cli("compare", "googlenet", "googlenet-torchvision", "--convention", "fvcore",
                                  "--format", "json").out)
    analyses = [inception_calc.analyze(s) for s in ("googlenet", "googlenet-torchvision")]
    counted = [cv.count(a, "fvcore") for a in analyses]
    assert compared["counting"]["convention"] == "fvcore"
    assert [t["counted"] for t in compared["totals"]] == [c.total for c in counted]
    for line in compared["lines"]:
        for value, c in zip(line["values"], counted):
            if value is not None:
                assert value["counted"] == c.by_node[line["name"]]
                assert list(value)[list(value).index("macs") + 1] == "counted"
    swept = json.loads(run_cli("sweep", "googlenet-torchvision", "--input", "224:288:32", "--convention", "ptflops",
                               "--format", "json").out)
    assert swept["counting"]["convention"] == "ptflops"
    for point in swept["points"]:
        n = point["size"]
        assert point["totals"]["counted"] == cv.count(inception_calc.analyze("googlenet-torchvision", n), "ptflops").total


def test_text_and_csv_name_the_convention_in_the_column():
    table = run_cli("report", "googlenet-torchvision", "--convention", "torchinfo").out
    assert "counted (torchinfo)" in table and "1,498,391,752" in table  # torchinfo 1.8.0's total_mult_adds, measured
    csv = run_cli("report", "googlenet-torchvision", "--convention", "torchinfo", "--format", "csv").out.splitlines()
    assert csv[0].endswith(",counted_torchinfo") and csv[-2].endswith(",1498391752")
    assert run_cli("report", "googlenet-torchvision").out.count("counted") == 0  # without it, unchanged


def test_verify_counted_claims():
    done = run_cli("verify", "googlenet-torchvision", "--convention", "thop", "--claim", "total.counted = 1,511,332,032",
                   "--claim", "conv1.counted = 121,225,216")  # 118,013,952 MACs + 4 x 802,816 batch-norm elements
    assert done.code == 0, done.out + done.err
    done = run_cli("verify", "googlenet-torchvision", "--claim", "total.counted ~ 1.51G")
    assert done.code == 2 and "needs a counter's convention" in done.err
