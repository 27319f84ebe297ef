"""Reconciling analyses with the counts of real networks: verdicts, convention terms, differences."""

from __future__ import annotations

import pytest

from inception_calc import analyze, network_from_dict
from inception_calc.pytorch.build import build
from inception_calc.pytorch.counters import count_module
from inception_calc.pytorch.crosscheck import check
from inception_calc.pytorch.reconcile import (EXACT, EXPLAINED, MISMATCH, layer_differences, reconcile, signature)
from inception_calc.core.network import Conv, Pool


# ----------------------------------------------------------------------------- googlenet-torchvision vs torchvision


@pytest.fixture(scope="module")
def tv_spec(torchvision_counts):
    return reconcile(analyze("googlenet-torchvision"), torchvision_counts, "branch")


def test_googlenet_torchvision_reconciles_with_torchvision(tv_spec):
    assert tv_spec.ok
    assert all(r.verdict in (EXACT, EXPLAINED) for r in tv_spec.rows)
    assert [d.kind for d in tv_spec.differences] == ["functional", "functional"]  # aux1.pool, aux2.pool


def test_batch_norm_term_explains_fvcore_on_conv1(tv_spec):
    q = tv_spec["conv1"]["fvcore"]
    assert q.verdict == EXPLAINED
    # conv1: 112 * 112 * (3 * 64 * 49) = 118,013,952 MACs; batch norm 2 x 64 * 112 * 112 = 1,605,632
    assert (q.analytic, q.counted) == (118_013_952, 118_013_952 + 1_605_632)
    assert [(t.name, t.size) for t in q.terms] == [("fvcore batch_norm", 1_605_632)]
    assert tv_spec["conv1"]["params"].verdict == EXACT  # 3 * 64 * 49 + 2 * 64 = 9,536 = numel
    assert tv_spec["conv1"]["params"].counted == 9_536


def test_factor_two_explains_flop_counter_mode(tv_spec):
    q = tv_spec["inception3a.branch3"]["flop_counter"]
    # branch3: 1x1 192->16 and 3x3 16->32 at 28x28: 784 * (3,072 + 4,608) = 6,021,120 MACs
    assert (q.analytic, q.counted, q.verdict) == (6_021_120, 12_042_240, EXPLAINED)
    assert q.terms[0].size == 6_021_120


def test_aux_head_pool_is_a_function_call_and_fvcore_counts_it(tv_spec):
    aux1 = tv_spec["aux1"]
    assert aux1["layers"].verdict == EXPLAINED and "aux1.pool" in aux1["layers"].terms[0].formula
    pool = [t for t in aux1["fvcore"].terms if t.name == "fvcore adaptive_avg_pool2d"]
    assert pool[0].size == 512 * 14 * 14  # 1 x inception4a's 100,352 output elements
    assert aux1["shape"].verdict == EXPLAINED  # torch [1000], the analysis [1000, 1, 1]


def test_max_pools_are_listed_as_unsupported_not_hidden(tv_spec):
    assert tv_spec["maxpool1"].verdict == EXACT
    assert tv_spec["maxpool1"].unsupported == (("aten::max_pool2d", 1),)
    op, count, rows = tv_spec.unsupported[0]
    assert (op, count) == ("aten::max_pool2d", 13)  # 4 stem/stage pools + one in each of the 9 Inception rows
    assert len(rows) == 13


def test_the_total_is_torchvisions_documented_count_plus_the_heads(tv_spec):
    total = tv_spec["total"]
    assert total["params"].counted == 13_004_888
    assert total["macs"].verdict == EXACT


@pytest.mark.parametrize("size", ["3x225x225", "3x230x250"])
def test_googlenet_torchvision_at_sizes_where_rounding_matters(size, torchvision_model):
    analysis = analyze("googlenet-torchvision", size)
    assert analysis.warnings  # floor and ceil differ here
    result = reconcile(analysis, count_module(torchvision_model, analysis.input, "torchvision googlenet"))
    assert result.ok, [r.name for r in result.rows if r.verdict == MISMATCH]


# ----------------------------------------------------------------------------- the paper's googlenet vs torchvision


@pytest.fixture(scope="module")
def paper_vs_tv(torchvision_counts):
    return reconcile(analyze("googlenet"), torchvision_counts)


def _difference(result, name):
    return next(d for d in result.differences if d.name == name)


def test_paper_googlenet_differs_from_torchvision(paper_vs_tv):
    assert not paper_vs_tv.ok


def test_the_5x5_branch_kernel_and_what_it_changes(paper_vs_tv):
    d = _difference(paper_vs_tv, "inception3a.branch3.1")
    assert ("kernel", "5x5", "3x3") in d.fields and ("pad", "2", "1") in d.fields
    assert (d.spec_weights, d.real_weights) == (16 * 32 * 25, 16 * 32 * 9)  # 12,800 vs 4,608
    assert (d.spec_macs, d.real_macs) == (28 * 28 * 12_800, 28 * 28 * 4_608)  # 10,035,200 vs 3,612,672
    assert d.real_name == "inception3a.branch3.1"


def test_bias_against_batch_norm(paper_vs_tv):
    d = _difference(paper_vs_tv, "conv1")
    assert d.fields == (("bias", "yes", "no"), ("batch norm", "no", "eps 0.001"))
    # 3 * 64 * 49 = 9,408 weights; + 64 biases = 9,472; + 2 * 64 batch-norm = 9,536
    assert (d.spec_params, d.real_params) == (9_472, 9_536)
    assert paper_vs_tv["conv1"]["params"].difference == 9_536 - 9_472


def test_pooling_differences(paper_vs_tv):
    assert _difference(paper_vs_tv, "maxpool4").fields == (("kernel", "3x3", "2x2"),)
    # the Inception pools round up in both (Caffe always does; torchvision sets ceil_mode=True)
    assert "inception3a.branch4.0" not in {d.name for d in paper_vs_tv.differences}
    assert _difference(paper_vs_tv, "avgpool").fields[0][0] == "layer"  # 7x7 window vs adaptive to 1x1
    assert _difference(paper_vs_tv, "dropout").fields == (("p", "0.4", "0.2"),)


def test_rows_on_one_side_only(paper_vs_tv):
    assert paper_vs_tv["lrn1"]["present"].verdict == MISMATCH  # LRN: the paper's, not torchvision's
    assert paper_vs_tv["conv3"]["present"].note.startswith("no row 'conv3' in the spec")
    kinds = {d.name: d.kind for d in paper_vs_tv.differences}
    assert kinds["lrn1"] == kinds["lrn2"] == kinds["conv2.1"] == "only in spec"
    assert kinds["conv3"] == "only in real"
    assert kinds["conv2.0"] == "differs"  # paired with torchvision's conv2 by position
    # the paper's aux pool (avg 5x5/3) has no module; torchvision's head calls adaptive_avg_pool2d
    assert kinds["aux1.pool"] == "only in spec" and "adaptive_avg_pool2d" in _difference(paper_vs_tv, "aux1.pool").note


def test_fc_is_the_same_layer_in_both(paper_vs_tv):
    assert paper_vs_tv["fc"].verdict == EXPLAINED  # 1024 * 1000 + 1000 = 1,025,000 params on both sides


# ----------------------------------------------------------------------------- against the built network


@pytest.mark.parametrize("size", ["3x224x224", "3x225x225"])  # 3x230x250: tests/test_check_cli.py
def test_googlenet_against_built(size):
    result = check("googlenet", "built", size, "branch")
    assert result.ok
    assert not result.differences
    # no batch norm, no adaptive pool: fvcore's total is the MACs, exactly
    assert result["total"]["fvcore"].verdict == EXACT
    assert result["lrn1"].unsupported  # LRN's pieces (pow, div, avg_pool3d...) have no fvcore handle


def test_googlenet_torchvision_against_built():
    result = check("googlenet-torchvision", "built", "3x230x250")
    assert result.ok and not result.differences  # every layer, its own pool module included


def test_a_real_mismatch_is_reported_with_its_difference():
    spec = {"name": "one", "input": [3, 6, 6], "rows": [{"name": "conv", "kind": "conv", "out": 4, "kernel": 3}]}
    other = {**spec, "rows": [{"name": "conv", "kind": "conv", "out": 5, "kernel": 3}]}
    counts = count_module(build(network_from_dict(other)), (3, 6, 6), "built other")
    result = reconcile(analyze(network_from_dict(spec)), counts)
    assert not result.ok
    q = result["conv"]["params"]
    # 3 * 4 * 9 + 4 = 112 analytic; 3 * 5 * 9 + 5 = 140 counted
    assert (q.analytic, q.counted, q.verdict, q.difference) == (112, 140, MISMATCH, 28)
    assert result["conv"]["layers"].note == "conv: out 4 -> 5"


# ----------------------------------------------------------------------------- signatures


def test_signature_ignores_relu_and_eps_without_batch_norm():
    a = Conv(out=8, kernel=(3, 3), relu=True, bn_eps=1e-5)
    b = Conv(out=8, kernel=(3, 3), relu=False, bn_eps=1e-3)
    assert signature(a) == signature(b)
    assert layer_differences(a, Conv(out=8, kernel=(3, 3), bn=True, bn_eps=1e-3)) == (("batch norm", "no", "eps 0.001"),)


def test_layers_of_different_kinds_differ_as_a_whole():
    assert layer_differences(Pool("avg", (7, 7), (1, 1), (0, 0), "ceil"), Pool("avg", output=(1, 1))) == (
        ("layer", "avg pool 7x7, ceil", "adaptive avg pool to 1x1"),)
