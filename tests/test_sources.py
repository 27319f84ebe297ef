"""The one grammar of sources and variants (docs/sources.md, core/sources.py) and the Caffe reader's refusals."""

from __future__ import annotations

import pytest

from inception_calc import CalcError, analyze, builtin_names, load_spec, network_from_dict
from inception_calc.core.caffe import spec_from_prototxt
from inception_calc.core.sources import load_builtin

NET = """name: "tiny"
input: "data"
input_shape { dim: 1 dim: 3 dim: 32 dim: 32 }
layer { name: "c1" type: "Convolution" bottom: "data" top: "c1"
        convolution_param { num_output: 8 kernel_size: 3 pad: 1 } }
layer { name: "r1" type: "ReLU" bottom: "c1" top: "c1" }
layer { name: "b/a" type: "Convolution" bottom: "c1" top: "a" convolution_param { num_output: 4 kernel_size: 1 } }
layer { name: "b/p" type: "Pooling" bottom: "c1" top: "p" pooling_param { pool: MAX kernel_size: 3 stride: 1 pad: 1 } }
layer { name: "b/out" type: "Concat" bottom: "a" bottom: "p" top: "b" }
layer { name: "fc" type: "InnerProduct" bottom: "b" top: "fc" inner_product_param { num_output: 10 } }
"""


def test_builtins_never_look_like_files_or_prefixes():
    for name in builtin_names():
        assert not set(name) & set(".:/") and name not in ("torchvision", "timm")


def test_builtin_and_variants():
    assert load_spec("googlenet").name == "googlenet"
    assert load_spec("googlenet:naive").name == "googlenet:naive"


def test_files_with_variants(tmp_path, monkeypatch):
    (tmp_path / "tiny.prototxt").write_text(NET)
    a = analyze(str(tmp_path / "tiny.prototxt"))
    # c1: 3*8*9 = 216 + 8 biases; b/a: 8*4 + 4; fc: (4+8)*32*32*10 + 10
    assert a.totals.inference.params == 216 + 8 + 32 + 4 + 12 * 32 * 32 * 10 + 10
    assert [r.name for r in a.rows] == ["c1", "b", "fc"] and a["b.a"].weights == 32
    monkeypatch.chdir(tmp_path)
    (tmp_path / "g.toml").write_text('base = "googlenet"\n')
    assert analyze("g.toml:naive").totals.inference.macs == analyze("googlenet:naive").totals.inference.macs


@pytest.mark.parametrize("text, says", [
    ("torchvision", "names no model"), ("torchvision:", "names no model"), ("net.py", "names no class"),
    ("nope", "unknown spec"), ("googlenet:nope", "unknown variant"), ("missing.prototxt", "no such file")])
def test_refusals(text, says):
    with pytest.raises(CalcError, match=says):
        load_spec(text)


def test_a_builtin_that_is_also_a_file_here_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "googlenet").write_text('base = "googlenet"\n')
    with pytest.raises(CalcError, match="a built-in spec and a file here"):
        load_spec("googlenet")
    assert load_spec("./googlenet").rows == load_builtin("googlenet").rows


def test_caffe_dilation():
    net = NET.replace("num_output: 4 kernel_size: 1 }", "num_output: 4 kernel_size: 3 pad: 2 dilation: 2 }")
    a = analyze(network_from_dict(spec_from_prototxt(net, "t.prototxt"), "t.prototxt"))
    # b/a: 3x3 taps 2 apart span 2 * (3 - 1) + 1 = 5 inputs; pad 2 keeps 32x32; weights 8*4*9 = 288
    assert (a["b.a"].weights, tuple(a["b.a"].out_shape), a["b.a"].macs) == (288, (4, 32, 32), 32 * 32 * 288)


@pytest.mark.parametrize("change, says", [
    (("Concat", "Deconvolution"), "unknown layer type 'Deconvolution'"),
    (('bottom: "a" bottom', 'bottom: "zz" bottom'), "bottom 'zz' names no top"),
    (("pool: MAX kernel", "pool: MAX }"), "line 8"),
    (("num_output: 10 }", "num_output: 10"), "never closed"),
    (("kernel_size: 3 pad: 1 }", "kernel_size: 3 pad: 1 dilation: 1 dilation: 2 dilation: 3 }"),
     "dilation \\[1, 2, 3\\] has more than 2 values")])
def test_caffe_refusals(change, says):
    with pytest.raises(CalcError, match=says) as info:
        spec_from_prototxt(NET.replace(*change), "t.prototxt")
    assert "\n" not in str(info.value)


@pytest.mark.torch
def test_torchvision_source_goes_through_the_importer():
    pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    model = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False)
    # numel of the real model, without the aux heads (torchvision documents 6,624,904)
    assert analyze("torchvision:googlenet").totals.inference.params == sum(p.numel() for p in model.parameters())


def test_spec_help_names_the_whole_source_grammar():
    from conftest import run_cli

    done = run_cli("report", "--help")
    text = " ".join(done.out.split())
    assert done.code == 0
    for form in ("torchvision:MODEL", "timm:MODEL", "PATH.py:ATTR", "PATH.prototxt", ":VARIANTS", "docs/sources.md"):
        assert form in text, form
