"""The built-in specs inception-v4, inception-resnet-v2 and xception against what they reproduce, timm
1.0.31's ``inception_v4``, ``inception_resnet_v2`` and ``legacy_xception``, module name for module name.

Three independent sources: the issue's figures (typed in, measured on timm by numel and fvcore), rows
derived by hand in the comments, and the live timm models (numel, fvcore conv + linear MACs, the module
names in forward order, each module's own settings, output shapes from forward hooks). The torch tests
skip without timm or fvcore; fvcore's passes are slow (several seconds per model and size).
"""

from __future__ import annotations

from functools import lru_cache

import pytest

from inception_calc import analyze, load_spec
from inception_calc.core.network import Conv, Pool

SPECS = {"inception-v4": "inception_v4", "inception-resnet-v2": "inception_resnet_v2", "xception": "legacy_xception"}

# The issue's figures: sum(p.numel() for p in model.parameters()) and fvcore's conv + linear count at
# 3x299x299, measured on timm 1.0.31 (docs/research/inception-family.md).
FIGURES = {
    "inception-v4": (42_679_816, 12_253_974_624),
    "inception-resnet-v2": (55_843_464, 13_155_794_016),
    "xception": (22_855_952, 8_357_403_496),
}
# fvcore conv + linear at 3x320x320 and 3x299x331, measured on timm (docs/research/inception-family.md).
OTHER_SIZES = {
    "inception-v4": (13_653_827_424, 13_680_027_232),
    "inception-resnet-v2": (14_568_593_248, 14_697_491_040),
    "xception": (9_314_987_680, 9_242_193_512),
}
SIZES = ("3x299x299", "3x320x320", "3x299x331")


def _forward(model, size: str, hooks: list) -> None:
    """One forward pass of zeros at ``size`` ("CxHxW"), then the hooks removed."""
    import torch

    c, h, w = (int(v) for v in size.split("x"))
    try:
        with torch.no_grad():
            model(torch.zeros(1, c, h, w))
    finally:
        for hook in hooks:
            hook.remove()


# ----------------------------------------------------------------------------- the figures


@pytest.mark.parametrize("spec", FIGURES)
def test_params_and_macs_at_299_are_the_issues_figures(spec):
    totals = analyze(spec).totals.inference
    assert (totals.params, totals.macs) == FIGURES[spec]


@pytest.mark.parametrize("spec", OTHER_SIZES)
def test_macs_at_320_and_299x331_are_fvcores_on_timm(spec):
    assert tuple(analyze(spec, size).totals.inference.macs for size in SIZES[1:]) == OTHER_SIZES[spec]


@pytest.mark.parametrize("spec,reference", SPECS.items())
def test_each_spec_names_the_timm_model_it_reproduces(spec, reference):
    assert load_spec(spec).reference == f"timm:{reference}"


# ----------------------------------------------------------------------------- rows derived by hand


def test_an_inception_a_row_by_hand():
    # features.6 (InceptionA) at 35x35x384, every conv + BN (2 per channel), no bias:
    #   branch0 1x1 384->96        384*96    = 36,864   bn 192
    #   branch1 1x1 384->64        384*64    = 24,576   bn 128
    #           3x3  64->96        64*96*9   = 55,296   bn 192
    #   branch2 1x1 384->64                    24,576   bn 128
    #           3x3  64->96                    55,296   bn 192
    #           3x3  96->96        96*96*9   = 82,944   bn 192
    #   branch3 avgpool, 1x1 384->96           36,864   bn 192
    #   weights 316,416; bn 1,216; params 317,632; MACs 35*35 * 316,416 = 387,609,600
    row = analyze("inception-v4")["features.6"]
    assert (row.in_shape, row.out_shape) == ((384, 35, 35), (96 + 96 + 96 + 96, 35, 35))
    assert (row.weights, row.bn, row.biases, row.params, row.macs) == (316_416, 1_216, 0, 317_632, 387_609_600)


def test_a_block35_row_by_hand():
    # repeat.0 (Block35) at 35x35x320: x + 0.17 * conv2d(cat(branches)), then ReLU
    #   branch0 1x1 320->32   320*32 = 10,240  bn 64
    #   branch1 1x1 320->32            10,240  bn 64;  3x3 32->32  32*32*9 =  9,216  bn 64
    #   branch2 1x1 320->32            10,240  bn 64;  3x3 32->48  32*48*9 = 13,824  bn 96
    #                                                  3x3 48->64  48*64*9 = 27,648  bn 128
    #   conv2d  1x1 (32+32+64 = 128)->320  128*320 = 40,960, bias 320, no BN
    #   weights 122,368; bn 480; biases 320; params 123,168; MACs 35*35 * 122,368 = 149,900,800
    analysis = analyze("inception-resnet-v2")
    row = analysis["repeat.0"]
    assert (row.in_shape, row.out_shape) == ((320, 35, 35), (320, 35, 35))
    assert (row.weights, row.bn, row.biases, row.params, row.macs) == (122_368, 480, 320, 123_168, 149_900_800)
    assert analysis["repeat.0.mixed"].out_shape == (128, 35, 35)  # the concat before conv2d
    assert analysis["repeat.0.conv2d"].macs == 35 * 35 * 40_960  # 50,176,000
    assert analysis["repeat.0.identity"].macs == 0


def test_an_xception_middle_block_by_hand():
    # block4 at 19x19x728: relu > sep > bn > relu > sep > bn > relu > sep > bn, plus the input
    #   each SeparableConv2d: depthwise 3x3 (groups 728)  728*9 = 6,552; pointwise 728*728 = 529,984
    #   each BN 2*728 = 1,456
    #   weights 3 * 536,536 = 1,609,608; bn 4,368; params 1,613,976; MACs 19*19 * 1,609,608 = 581,068,488
    analysis = analyze("xception")
    row = analysis["block4"]
    assert (row.in_shape, row.out_shape) == ((728, 19, 19), (728, 19, 19))
    assert (row.weights, row.bn, row.biases, row.params, row.macs) == (1_609_608, 4_368, 0, 1_613_976, 581_068_488)
    assert analysis["block4.rep.1.conv1"].macs == 19 * 19 * 6_552  # 2,365,272: the depthwise conv


def test_map_sizes_by_hand_at_299():
    # floor((H + 2p - k) / s) + 1: 3x3/2 299 -> 149; 3x3 -> 147; 3x3/2 -> 73; 3x3 -> 71; 3x3/2 -> 35;
    # 3x3/2 -> 17; 3x3/2 -> 8. Xception's pools pad 1: (147 + 2 - 3) // 2 + 1 = 74, then 37, 19, 10.
    v4 = analyze("inception-v4")
    assert [v4[f"features.{i}"].out_shape for i in (0, 1, 2, 3, 4, 5, 9, 10, 17, 18, 21)] == [
        (32, 149, 149), (32, 147, 147), (64, 147, 147), (64 + 96, 73, 73), (192, 71, 71), (384, 35, 35),
        (384, 35, 35), (1024, 17, 17), (1024, 17, 17), (1536, 8, 8), (1536, 8, 8)]
    xc = analyze("xception")
    assert [xc[f"block{i}"].out_shape[1] for i in (1, 2, 3, 11, 12)] == [74, 37, 19, 19, 10]


# ----------------------------------------------------------------------------- structure the issue names


def test_inception_v4_concat_orders_and_nested_concats():
    v4 = analyze("inception-v4")
    assert [c.name for c in v4["features.3"].children] == ["features.3.maxpool", "features.3.conv"]  # pool first
    assert [c.name for c in v4["features.5"].children] == ["features.5.conv", "features.5.maxpool"]  # conv first
    assert v4["features.19.branch1_1"].out_shape == (256 + 256, 8, 8)  # cat(branch1_1a, branch1_1b)
    assert v4["features.19.branch2_3"].out_shape == (512, 8, 8)
    assert [r.name for r in load_spec("inception-v4").rows][6:10] == [f"features.{i}" for i in range(6, 10)]


@pytest.mark.parametrize("spec", ["inception-v4", "inception-resnet-v2"])
def test_every_average_pool_leaves_the_padding_out(spec):
    pools = [layer for row in load_spec(spec).rows for _, layer in row.named_layers()
             if isinstance(layer, Pool) and layer.op == "avg" and layer.output is None]
    assert pools and not any(p.count_include_pad for p in pools)


def test_inception_resnet_v2_scales_and_final_block8():
    network = load_spec("inception-resnet-v2")
    adds = [row for row in network.rows if row.combine == "add"]
    scales = [row.branches[1].scale for row in adds]
    assert scales == [0.17] * 10 + [0.10] * 20 + [0.20] * 9 + [1.0]
    assert [row.relu for row in adds] == [True] * 39 + [False]  # block8: Block8(no_relu=True)
    assert adds[-1].name == "block8" and [r.name for r in adds[:2]] == ["repeat.0", "repeat.1"]
    assert all(row.branches[0].layers == () for row in adds)  # the identity


def test_xception_shortcuts():
    network = load_spec("xception")
    blocks = {row.name: row for row in network.rows if row.combine == "add"}
    assert list(blocks) == [f"block{i}" for i in range(1, 13)]
    with_skip = [name for name, row in blocks.items() if row.branches[1].layers]
    assert with_skip == ["block1", "block2", "block3", "block12"]
    assert [n for n, _ in blocks["block12"].named_layers()][-2:] == ["block12.skip", "block12.skipbn"]
    assert all(not row.relu for row in blocks.values())  # x += skip, no ReLU after the sum


# ----------------------------------------------------------------------------- the live timm models


@lru_cache(maxsize=None)
def _timm_model(name: str):
    timm = pytest.importorskip("timm")
    return timm.create_model(name, pretrained=False).eval()


def _as_map(shape: tuple) -> tuple:
    """A hooked output shape as the analysis writes it: a flattened [C] (global_pool's Flatten, the
    linear layer) is [C, 1, 1] there."""
    return (*shape, 1, 1) if len(shape) == 1 else shape


def _spec_layers(spec: str) -> dict:
    return {name: layer for row in load_spec(spec).rows for name, layer in row.named_layers()}


@pytest.mark.torch
@pytest.mark.parametrize("spec", SPECS)
def test_params_equal_numel_of_the_timm_model(spec):
    model = _timm_model(SPECS[spec])
    assert analyze(spec).totals.inference.params == sum(p.numel() for p in model.parameters())


SMALL = "3x96x96"  # small enough for a quick forward pass; every map still at least 1x1 (v4: 47, 45, 22, 9, 4, 1)


@pytest.mark.torch
@pytest.mark.parametrize("spec", SPECS)
def test_every_layer_is_the_timm_module_of_its_name_in_forward_order(spec):
    torch = pytest.importorskip("torch")
    model = _timm_model(SPECS[spec])
    modules = dict(model.named_modules())
    layers = _spec_layers(spec)
    assert set(layers) <= set(modules), sorted(set(layers) - set(modules))
    # every module holding parameters directly is one spec layer, or inside one (ConvNormAct's conv, bn)
    owners = [name for name, m in model.named_modules() if any(True for _ in m.parameters(recurse=False))]
    assert all(any(o == n or o.startswith(n + ".") for n in layers) for o in owners)
    order: list[str] = []
    shapes: dict[str, tuple] = {}

    def called(name: str):
        def hook(module, inputs) -> None:
            order.append(name)
        return hook

    def done(name: str):
        def hook(module, inputs, out) -> None:  # None: a forward hook that returns a value replaces the output
            shapes[name] = _as_map(tuple(out.shape[1:]))
        return hook

    hooks = [h for name in layers for h in (modules[name].register_forward_pre_hook(called(name)),
                                            modules[name].register_forward_hook(done(name)))]
    _forward(model, SMALL, hooks)
    assert order == list(layers)  # each called once, in the spec's order
    analysis = analyze(spec, SMALL)
    assert {name: analysis[name].out_shape for name in layers} == shapes  # every layer's output shape


@pytest.mark.torch
@pytest.mark.parametrize("spec", SPECS)
def test_each_layer_has_its_timm_modules_settings(spec):
    nn = pytest.importorskip("torch").nn
    modules = dict(_timm_model(SPECS[spec]).named_modules())
    for name, layer in _spec_layers(spec).items():
        real = modules[name]
        if isinstance(layer, Conv):
            conv = getattr(real, "conv", real)  # timm's ConvNormAct, or a plain nn.Conv2d
            bn = getattr(real, "bn", None)
            assert (conv.out_channels, conv.kernel_size, conv.stride, conv.padding, conv.groups, conv.bias is not None) \
                == (layer.out, layer.kernel, layer.stride, layer.pad, layer.groups, layer.bias), name
            assert (bn is not None) == layer.bn and (bn is None or bn.eps == layer.bn_eps), name
        elif isinstance(layer, Pool) and layer.output is None:
            kind = nn.MaxPool2d if layer.op == "max" else nn.AvgPool2d
            assert isinstance(real, kind) and not real.ceil_mode, name
            assert ((real.kernel_size,) * 2, (real.stride,) * 2, (real.padding,) * 2) == (
                layer.kernel, layer.stride, layer.pad), name
            if layer.op == "avg":
                assert real.count_include_pad == layer.count_include_pad, name
        elif layer.kind == "bn":
            assert isinstance(real, nn.BatchNorm2d) and real.eps == layer.eps, name


SHAPE_ROWS = {
    "inception-v4": ["features.3", "features.5", "features.6", "features.10", "features.18", "features.19.branch1_1a",
                     "features.21"],
    "inception-resnet-v2": ["maxpool_5a", "mixed_5b", "repeat.0", "repeat.0.conv2d", "mixed_6a", "repeat_1.19",
                            "mixed_7a", "block8", "conv2d_7b"],
    "xception": ["act2", "block1", "block1.skipbn", "block3", "block4", "block4.rep.1.conv1", "block12",
                 "conv4.pointwise"],
}


@pytest.mark.torch
@pytest.mark.slow  # two forward passes of a full-size model
@pytest.mark.parametrize("size", ["3x299x299", "3x299x331"])
@pytest.mark.parametrize("spec", SPECS)
def test_output_shapes_from_forward_hooks(spec, size):
    torch = pytest.importorskip("torch")
    model = _timm_model(SPECS[spec])
    modules = dict(model.named_modules())
    shapes: dict[str, tuple] = {}

    def keep(name: str):
        def hook(module, inputs, out) -> None:  # None: a forward hook that returns a value replaces the output
            shapes[name] = _as_map(tuple(out.shape[1:]))
        return hook

    hooks = [modules[n].register_forward_hook(keep(n)) for n in SHAPE_ROWS[spec]]
    _forward(model, size, hooks)
    analysis = analyze(spec, size)
    assert {n: analysis[n].out_shape for n in SHAPE_ROWS[spec]} == shapes


@pytest.mark.torch
@pytest.mark.slow  # fvcore traces each model: several seconds per model and size
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("spec", SPECS)
def test_macs_equal_fvcores_conv_and_linear_count_on_timm(spec, size):
    torch = pytest.importorskip("torch")
    fvcore_nn = pytest.importorskip("fvcore.nn")
    c, h, w = (int(v) for v in size.split("x"))
    counts = fvcore_nn.FlopCountAnalysis(_timm_model(SPECS[spec]), torch.zeros(1, c, h, w))
    counts.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    by_operator = counts.by_operator()
    assert analyze(spec, size).totals.inference.macs == by_operator["conv"] + by_operator["linear"]
