"""The built network: module names, output shapes, parameter counts and modes against the analysis.

Shapes are read with forward hooks on the real module (CPU, batch 1, no grad); the analysis writes a
linear layer's output as [out, 1, 1] (Table 1's 1x1x1000) where torch gives [N, out], so those
are compared by their elements.
"""

from __future__ import annotations

from math import prod

import pytest

torch = pytest.importorskip("torch")  # the torch extra: without it, this module is skipped, not an error

from torch import nn  # noqa: E402

from inception_calc import CalcError, analyze, network_from_dict  # noqa: E402
from inception_calc.pytorch.build import build, check_expressible  # noqa: E402

# 224: every pool's rounding agrees; 225 and 230x250: ceil and floor give different maps
# (the analysis warns of each: the tests below assert it, so the sizes keep their point).
SIZES = ["3x224x224", "3x225x225", "3x230x250"]


def _hooked_shapes(model: nn.Module, shape: tuple[int, int, int]) -> tuple[dict[str, tuple[int, ...]], object]:
    """Every named module's output shape per image, from one forward in training mode
    (the auxiliary heads run), and the forward's result."""
    shapes: dict[str, tuple[int, ...]] = {}
    handles = [m.register_forward_hook(lambda mod, i, o, name=name: shapes.__setitem__(name, tuple(o.shape[1:])))
               for name, m in model.named_modules() if name]
    model.train()
    try:
        with torch.no_grad():
            out = model(torch.zeros(1, *shape))
    finally:
        for h in handles:
            h.remove()
    return shapes, out


def _same(analytic: tuple[int, int, int], real: tuple[int, ...]) -> bool:
    """Equal shapes; or a linear output: torch [out], the analysis [out, 1, 1] (same elements)."""
    return tuple(analytic) == real or (real == (analytic[0],) and tuple(analytic[1:]) == (1, 1))


@pytest.mark.parametrize("size", SIZES)
def test_googlenet_every_row_branch_and_layer_has_the_analytic_shape(size):
    analysis = analyze("googlenet", size)
    if size != "3x224x224":
        assert analysis.warnings  # floor and ceil give different maps here
    model = build("googlenet", size)
    shapes, out = _hooked_shapes(model, analysis.input)
    names = analysis.names("conv")
    assert len(names) == 133  # 22 rows + 9 x 4 branches + 9 x 7 branch layers + conv2's 2 + 2 heads x 5
    for name in names:
        assert name in shapes, name
        assert _same(analysis[name].out_shape, shapes[name]), (name, analysis[name].out_shape, shapes[name])
    assert prod(shapes["fc"]) == prod(analysis["fc"].out_shape) == 1000  # torch [1000], analysis [1000, 1, 1]
    # training mode: (logits, aux1, aux2), each [1, 1000]
    assert isinstance(out, tuple) and [tuple(t.shape) for t in out] == [(1, 1000)] * 3


def test_googlenet_torchvision_built_shapes_at_a_size_where_rounding_matters():
    analysis = analyze("googlenet-torchvision", "3x230x250")
    assert any(w.startswith("maxpool4") for w in analysis.warnings)  # ceil 7x8, floor 7x7
    shapes, _ = _hooked_shapes(build("googlenet-torchvision", "3x230x250"), analysis.input)
    for name in analysis.names("conv"):
        if name in shapes:  # aux1.pool is a module here, as every spec layer is
            assert _same(analysis[name].out_shape, shapes[name]), name
    assert shapes["maxpool4"] == (832, 7, 8)  # ceil((14 - 2) / 2) + 1 = 7, ceil((15 - 2) / 2) + 1 = 8


@pytest.mark.parametrize("spec", ["googlenet", "googlenet-torchvision"])
def test_numel_of_every_module_equals_the_analytic_params(spec):
    analysis = analyze(spec)
    model = build(spec)
    modules = dict(model.named_modules())
    for name in analysis.names("conv"):
        assert sum(p.numel() for p in modules[name].parameters()) == analysis[name].params, name
    assert sum(p.numel() for p in model.parameters()) == analysis.totals.training.params


def test_module_names_are_the_analysis_names():
    model = build("googlenet-torchvision")
    names = set(dict(model.named_modules()))
    for expected in ("conv1", "inception3a", "inception3a.branch2", "inception3a.branch2.1", "aux1.conv",
                     "aux1.fc1", "aux1.fc2", "inception3a.branch2.1.conv", "inception3a.branch2.1.bn"):
        assert expected in names, expected


def test_layers_are_faithful_to_the_spec():
    modules = dict(build("googlenet").named_modules())
    assert isinstance(modules["lrn1"], nn.LocalResponseNorm) and modules["lrn1"].size == 5
    assert modules["lrn1"].alpha == 1e-4 and modules["lrn1"].beta == 0.75
    assert modules["maxpool1"].ceil_mode is True
    assert modules["inception3a.branch4.0"].ceil_mode is True  # pool_rounding = "ceil", as Caffe rounds
    assert modules["inception3a.branch3.1.conv"].kernel_size == (5, 5)
    assert modules["conv1.conv"].bias is not None and modules["conv1"].bn is None
    assert modules["dropout"].p == 0.4
    tv = dict(build("googlenet-torchvision").named_modules())
    assert tv["conv1.conv"].bias is None and tv["conv1.bn"].eps == 0.001
    assert tv["inception3a.branch3.1.conv"].kernel_size == (3, 3)  # pytorch/vision#906
    assert tv["inception3a.branch4.0"].ceil_mode is True
    assert tv["maxpool4"].kernel_size == (2, 2)
    assert isinstance(tv["avgpool"], nn.AdaptiveAvgPool2d) and isinstance(tv["aux1.pool"], nn.AdaptiveAvgPool2d)


TINY = {
    "name": "tiny", "input": [3, 9, 9],
    "rows": [
        {"name": "conv1", "kind": "conv", "out": 4, "kernel": 3, "stride": 2, "bn": True},
        {"name": "mix", "kind": "inception", "n1x1": 2, "n3x3red": 2, "n3x3": 3, "n5x5red": 1, "n5x5": 2,
         "pool_proj": 2},
        {"name": "aux", "kind": "aux", "after": "mix",
         "layers": [{"kind": "avgpool", "output": 2}, {"kind": "linear", "out": 5}]},
        {"name": "pool", "kind": "avgpool", "output": 1},
        {"name": "fc", "kind": "linear", "out": 3},
    ],
}


def test_training_mode_returns_the_aux_outputs_and_eval_does_not():
    model = build(network_from_dict(TINY))
    x = torch.zeros(2, 3, 9, 9)  # a batch of 2: shapes per image stay the analysis's
    with torch.no_grad():
        model.train()
        logits, aux = model(x)
        assert tuple(logits.shape) == (2, 3) and tuple(aux.shape) == (2, 5)
        model.eval()
        out = model(x)
    assert isinstance(out, torch.Tensor) and tuple(out.shape) == (2, 3)
    # conv1: floor((9 - 3) / 2) + 1 = 4; mix: 2 + 3 + 2 + 2 = 9 channels at 4x4
    assert analyze(network_from_dict(TINY))["mix"].out_shape == (9, 4, 4)


def test_a_conv_after_a_linear_layer_cannot_be_built():
    spec = {"name": "flat", "input": [3, 8, 8], "rows": [
        {"name": "fc", "kind": "linear", "out": 16},
        {"name": "conv", "kind": "conv", "out": 4, "kernel": 1}]}
    network = network_from_dict(spec)
    analyze(network)  # the analysis goes on: the linear output is [16, 1, 1]
    with pytest.raises(CalcError, match=r"flat, row 'conv': the builder cannot express a conv layer after a "
                                        r"linear layer .*put conv, pool and LRN layers before the first linear"):
        build(network)


def test_a_concat_of_a_linear_branch_and_a_map_cannot_be_built():
    spec = {"name": "mixed", "input": [3, 1, 1], "rows": [
        {"name": "mix", "kind": "concat", "branches": [
            {"layers": [{"kind": "linear", "out": 4}]},
            {"layers": [{"kind": "conv", "out": 4, "kernel": 1}]}]}]}
    with pytest.raises(CalcError, match="cannot concatenate a linear branch"):
        check_expressible(network_from_dict(spec))


def test_an_aux_head_after_a_map_row_may_end_in_linear_layers():
    check_expressible(network_from_dict(TINY))  # no error: the head reads mix's map


def test_an_aux_head_of_one_linear_layer_flattens_and_applies_its_relu():
    spec = {"name": "head", "input": [2, 4, 4], "rows": [
        {"name": "conv", "kind": "conv", "out": 3, "kernel": 1},
        {"name": "aux", "kind": "aux", "after": "conv", "layers": [{"kind": "linear", "out": 5, "relu": True}]},
        {"name": "fc", "kind": "linear", "out": 2}]}
    model = build(network_from_dict(spec)).train()
    torch.manual_seed(0)
    with torch.no_grad():
        logits, aux = model(torch.randn(1, 2, 4, 4))
    assert tuple(aux.shape) == (1, 5) and bool((aux >= 0).all())  # 3 * 4 * 4 = 48 features in, ReLU after
    assert tuple(logits.shape) == (1, 2)
