"""The builder over the graph model: nested concat/add blocks, scales, identity branches, module = false
branches and blocks, dotted row names, standalone batch norm and ReLU layers, average pools without the
padding; and the family's specs built with their reference implementation's module names.

Shapes come from forward hooks, parameters from numel: both independent of the analysis.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")  # the torch extra: without it, this module is skipped, not an error

from torch import nn  # noqa: E402

from inception_calc import CalcError, analyze, network_from_dict  # noqa: E402
from inception_calc.pytorch.build import build, check_expressible  # noqa: E402

# /work/tools/example-residual.toml's shape: an add row (identity + 0.17 x residual, then ReLU) whose
# residual holds a module=false concat block of a module=false branch and two module branches.
RESIDUAL = {
    "name": "residual", "input": [3, 35, 33],
    "defaults": {"bias": False, "bn": True, "bn_eps": 0.001},
    "rows": [
        {"name": "stem", "kind": "conv", "out": 8, "kernel": 3, "pad": 1},
        {"name": "repeat.0", "kind": "add", "repeat": 2, "activation": "relu", "branches": [
            {"name": "identity", "module": False},
            {"name": "residual", "module": False, "scale": 0.17, "layers": [
                {"kind": "concat", "name": "mixed", "module": False, "branches": [
                    {"name": "branch0", "module": False, "layers": [{"kind": "conv", "out": 4, "kernel": 1}]},
                    {"name": "branch1", "layers": [{"kind": "conv", "out": 4, "kernel": 1},
                                                   {"kind": "conv", "out": 6, "kernel": 3, "pad": 1}]},
                ]},
                {"kind": "conv", "name": "conv2d", "out": 8, "kernel": 1, "bias": True, "bn": False,
                 "relu": False},
            ]},
        ]},
    ],
}


def _hooked_shapes(model: nn.Module, shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    handles = [m.register_forward_hook(lambda mod, i, o, name=name: shapes.__setitem__(name, tuple(o.shape[1:])))
               for name, m in model.named_modules() if name]
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, *shape))
    finally:
        for h in handles:
            h.remove()
    return shapes


def test_a_residual_spec_builds_with_the_analysis_names_shapes_and_params():
    network = network_from_dict(RESIDUAL)
    analysis = analyze(network)
    model = build(network)
    modules = dict(model.named_modules())
    # module=false branches and the module=false block leave no module; their layers sit at the row
    expected = {"stem", "repeat", "repeat.0", "repeat.1", "repeat.0.branch0", "repeat.0.branch1",
                "repeat.0.branch1.0", "repeat.0.branch1.1", "repeat.0.conv2d"}
    assert expected <= set(modules)
    for gone in ("repeat.0.identity", "repeat.0.residual", "repeat.0.mixed"):
        assert gone not in modules and gone in analysis.names("conv"), gone
    shapes = _hooked_shapes(model, analysis.input)
    for name in analysis.names("conv"):
        if name in modules and name != "repeat":
            assert shapes[name] == analysis[name].out_shape, name
            assert sum(p.numel() for p in modules[name].parameters()) == analysis[name].params, name
    # the residual: branch0 1x1 8->4 (32 + bn 8), branch1 1x1 8->4 (32 + 8) and 3x3 4->6 (216 + 12),
    # conv2d 1x1 10->8 with bias (80 + 8): 40 + 40 + 228 + 88 = 396 per repeat; stem 3x3 3->8: 216 + 16
    assert analysis["repeat.0"].params == 396 and analysis["stem"].params == 232
    assert sum(p.numel() for p in model.parameters()) == analysis.totals.training.params == 232 + 2 * 396


def test_an_add_row_computes_the_scaled_sum_then_the_relu():
    spec = {"name": "sum", "input": [2, 3, 3], "rows": [
        {"name": "block", "kind": "add", "activation": "relu", "branches": [
            {"name": "identity", "module": False},
            {"name": "residual", "scale": 0.5, "layers": [
                {"kind": "conv", "out": 2, "kernel": 1, "bias": False, "relu": False}]},
        ]}]}
    model = build(network_from_dict(spec)).eval()
    conv = dict(model.named_modules())["block.residual.0.conv"]
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[[[1.0]], [[0.0]]], [[[0.0]], [[-4.0]]]]))  # y0 = x0, y1 = -4 x1
        x = torch.tensor([[[[1.0] * 3] * 3, [[1.0] * 3] * 3]])
        out = model(x)
    # channel 0: relu(1 + 0.5 * 1) = 1.5; channel 1: relu(1 + 0.5 * -4) = relu(-1) = 0
    assert torch.equal(out[0, 0], torch.full((3, 3), 1.5)) and torch.equal(out[0, 1], torch.zeros(3, 3))


def test_nested_module_blocks_and_dotted_rows_make_containers():
    spec = {"name": "nested", "input": [3, 16, 16], "rows": [
        {"name": "features.0", "kind": "conv", "out": 8, "kernel": 3, "stride": 2},
        {"name": "features.1", "kind": "concat", "branches": [
            {"name": "branch0", "layers": [{"kind": "conv", "out": 4, "kernel": 1}]},
            {"name": "branch1", "module": False, "layers": [
                {"kind": "conv", "name": "branch1_0", "out": 6, "kernel": 1},
                {"kind": "concat", "name": "split", "branches": [
                    {"name": "a", "module": False, "layers": [{"kind": "conv", "out": 3, "kernel": [1, 3],
                                                               "pad": [0, 1]}]},
                    {"name": "b", "module": False, "layers": [{"kind": "conv", "out": 5, "kernel": [3, 1],
                                                               "pad": [1, 0]}]},
                ]}]},
            {"name": "branch3", "layers": [
                {"kind": "avgpool", "kernel": 3, "stride": 1, "pad": 1, "rounding": "floor",
                 "count_include_pad": False},
                {"kind": "bn", "eps": 0.01}, {"kind": "relu"}]},
        ]},
    ]}
    network = network_from_dict(spec)
    analysis = analyze(network)
    model = build(network)
    modules = dict(model.named_modules())
    assert type(modules["features"]).__name__ == "Group" and modules["features"].plan is None  # a namespace
    for name in ("features.0", "features.1.branch0", "features.1.branch1_0", "features.1.split",
                 "features.1.split.a", "features.1.split.b", "features.1.branch3.0", "features.1.branch3.1"):
        assert name in modules, name
    assert modules["features.1.branch3.0"].count_include_pad is False
    assert isinstance(modules["features.1.branch3.1"], nn.BatchNorm2d) and modules["features.1.branch3.1"].eps == 0.01
    assert isinstance(modules["features.1.branch3.2"], nn.ReLU)
    shapes = _hooked_shapes(model, analysis.input)
    # features.0: floor((16 - 3) / 2) + 1 = 7; features.1: 4 + (3 + 5) + 8 = 20 channels at 7x7
    assert shapes["features.1"] == analysis["features.1"].out_shape == (20, 7, 7)
    assert shapes["features.1.split"] == (8, 7, 7)
    for name in analysis.names("conv"):
        if name in modules:
            assert shapes[name] == analysis[name].out_shape, name


def test_existing_specs_keep_their_module_names():
    # googlenet-torchvision: rows, branches, layers and the conv blocks' conv/bn, as before the graph model
    # (a branch of one layer holds it as '0': torchvision's inception3a.branch1 is the analysis's branch)
    names = set(dict(build("googlenet-torchvision").named_modules()))
    for expected in ("inception3a.branch1.0.conv", "inception3a.branch2.0.bn", "inception5b.branch4.1.conv",
                     "aux2.fc2", "maxpool4", "fc"):
        assert expected in names, expected


def test_check_expressible_recurses_into_nested_blocks():
    spec = {"name": "deep", "input": [3, 4, 4], "rows": [
        {"name": "mix", "kind": "concat", "branches": [
            {"name": "a", "layers": [{"kind": "concat", "name": "inner", "branches": [
                {"name": "x", "layers": [{"kind": "linear", "out": 4}]},
                {"name": "y", "layers": [{"kind": "conv", "out": 4, "kernel": 1}]}]}]},
            {"name": "b", "layers": [{"kind": "conv", "out": 4, "kernel": 1}]}]}]}
    with pytest.raises(CalcError, match=r"deep, row 'mix', block 'mix.a.inner': the builder cannot concatenate"):
        check_expressible(network_from_dict(spec))
    after = {"name": "after", "input": [3, 4, 4], "rows": [
        {"name": "r", "kind": "add", "branches": [
            {"name": "a", "layers": [{"kind": "linear", "out": 4}, {"kind": "conv", "out": 4, "kernel": 1}]},
            {"name": "b", "layers": [{"kind": "linear", "out": 4}]}]}]}
    with pytest.raises(CalcError, match=r"after, row 'r', layer 'r.a.1': the builder cannot express a conv layer"):
        check_expressible(network_from_dict(after))


# ----------------------------------------------------------------------------- the family, name for name

FAMILY = [("inception-v3", "torchvision", "inception_v3"), ("inception-v4", "timm", "inception_v4"),
          ("inception-resnet-v2", "timm", "inception_resnet_v2"), ("xception", "timm", "legacy_xception")]


def _reference(library: str, model: str) -> nn.Module:
    if library == "timm":
        timm = pytest.importorskip("timm")
        return timm.create_model(model, pretrained=False)
    torchvision = pytest.importorskip("torchvision")
    return getattr(torchvision.models, model)(weights=None, init_weights=False, aux_logits=True)


@pytest.mark.slow
@pytest.mark.parametrize("spec, library, model", FAMILY)
def test_every_layer_of_a_family_spec_is_a_module_of_its_reference_with_its_numel(spec, library, model):
    from inception_calc.core.engine import named_layers
    from inception_calc.core.sources import builtin_names

    if spec not in builtin_names():
        pytest.skip(f"{spec} is not a built-in here")
    network = analyze(spec).network
    real = {name: sum(p.numel() for p in m.parameters()) for name, m in _reference(library, model).named_modules()}
    built = {name: sum(p.numel() for p in m.parameters()) for name, m in build(spec).named_modules()}
    layers = named_layers(network)
    for name, layer in layers.items():
        if layer.kind == "relu":
            continue  # a function call in torchvision, a module of another name in timm
        assert name in built, name
        if name in real:  # pools torchvision calls as functions have no module there
            assert built[name] == real[name], name
        else:
            assert library == "torchvision" and built[name] == 0, name
    assert built[""] == real[""]
