"""The built-in spec inception-v3 against torchvision's inception_v3.

The first half is pure analysis checked against numbers derived by hand (in the comments) and the
figures torchvision documents; it runs without torch. The second half (marked ``torch``) joins the
spec with the live ``torchvision.models.inception_v3(weights=None, aux_logits=True,
transform_input=False)`` by name: its documented metadata (in torchvision's code, no download),
numel over its parameters, fvcore's conv + linear counts per module at three input sizes (eval mode;
the auxiliary head in training mode) and the output shapes its forward hooks see.
"""

from __future__ import annotations

import pytest

from inception_calc import analyze
from inception_calc.core.engine import named_layers
from inception_calc.core.kinds import Conv, Linear, Pool

SPEC = "inception-v3"
SIZES = ("3x299x299", "3x320x320", "3x299x331")

# torchvision's Inception3 children, in the order its __init__ registers them (AuxLogits between
# Mixed_6e and Mixed_7a, where its forward taps it).
ROWS = ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3", "maxpool2",
        "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e", "AuxLogits",
        "Mixed_7a", "Mixed_7b", "Mixed_7c", "avgpool", "dropout", "fc"]
MIXED = [name for name in ROWS if name.startswith("Mixed_")]


@pytest.fixture(scope="module")
def v3():
    return analyze(SPEC)


# ----------------------------------------------------------------------------- by hand, no torch


def test_rows_are_torchvisions_children_in_order(v3):
    assert [row.name for row in v3.rows] == ROWS
    assert v3.network.reference == "torchvision:inception_v3" and v3.input == (3, 299, 299)
    assert [row.name for row in v3.rows if row.aux] == ["AuxLogits"]
    assert v3.network.row("AuxLogits").after == "Mixed_6e"


def test_mixed_5b_by_hand(v3):
    # Mixed_5b reads 35x35x192 (every conv keeps 35x35: 1x1, 5x5 pad 2, 3x3 pad 1); weights Cin*Cout*kh*kw:
    #   branch1x1       192 * 64      = 12,288   bn 2*64 = 128
    #   branch5x5_1     192 * 48      =  9,216   bn 96
    #   branch5x5_2     48 * 64 * 25  = 76,800   bn 128
    #   branch3x3dbl_1  192 * 64      = 12,288   bn 128
    #   branch3x3dbl_2  64 * 96 * 9   = 55,296   bn 192
    #   branch3x3dbl_3  96 * 96 * 9   = 82,944   bn 192
    #   branch_pool     192 * 32      =  6,144   bn 64     (avg_pool before it: no weights)
    #   weights 254,976 + bn 928 = 255,904 params (no biases); MACs = 35 * 35 * 254,976 = 312,345,600
    #   out channels 64 + 64 + 96 + 32 = 256
    row = v3["Mixed_5b"]
    assert row.in_shape == (192, 35, 35) and row.out_shape == (256, 35, 35)
    assert (row.weights, row.biases, row.bn, row.params, row.macs) == (254_976, 0, 928, 255_904, 312_345_600)
    assert v3["Mixed_5b.branch5x5_2"].macs == 94_080_000  # 35 * 35 * 76,800
    assert v3["Mixed_5b.branch5x5"].macs == 105_369_600  # 35 * 35 * (9,216 + 76,800)


def test_aux_head_by_hand(v3):
    # AuxLogits on Mixed_6e's 17x17x768: avg pool 5/3 -> floor((17 - 5) / 3) + 1 = 5;
    #   conv0 1x1 768 -> 128: 98,304 weights, 5 * 5 * 98,304 = 2,457,600 MACs, bn 256
    #   conv1 5x5 128 -> 768: 2,457,600 weights, 5 -> 1, so 1 * 1 * 2,457,600 = 2,457,600 MACs, bn 1,536
    #   adaptive pool to 1x1; fc 768 -> 1000: 768,000 weights and MACs, 1,000 biases
    #   params 98,304 + 256 + 2,457,600 + 1,536 + 768,000 + 1,000 = 3,326,696; MACs 5,683,200
    aux = v3["AuxLogits"]
    assert aux.aux and aux.in_shape == (768, 17, 17)
    assert v3["AuxLogits.avg_pool"].out_shape == (768, 5, 5) and v3["AuxLogits.conv1"].out_shape == (768, 1, 1)
    assert (aux.params, aux.macs) == (3_326_696, 5_683_200)


def test_mixed_7b_nested_concats_by_hand(v3):
    # InceptionE on 8x8x1280: branch3x3_1 (1x1 384) feeds branch3x3_2a (1x3 pad 0,1) and branch3x3_2b
    # (3x1 pad 1,0), each 384 * 384 * 3 = 442,368 weights, 8 * 8 * 442,368 = 28,311,552 MACs, concatenated:
    # 768 channels. Out: 320 + 768 + 768 + 192 = 2048.
    inner = v3["Mixed_7b.branch3x3_2"]
    assert inner.kind == "concat" and inner.out_shape == (768, 8, 8) and inner.macs == 2 * 28_311_552
    assert v3["Mixed_7b.branch3x3_2a"].out_shape == v3["Mixed_7b.branch3x3_2b"].out_shape == (384, 8, 8)
    assert v3["Mixed_7b.branch3x3dbl"].out_shape == (768, 8, 8)
    assert v3["Mixed_7b"].out_shape == (2048, 8, 8)
    assert [c.name for c in v3["Mixed_7b"].children] == [
        "Mixed_7b.branch1x1", "Mixed_7b.branch3x3", "Mixed_7b.branch3x3dbl", "Mixed_7b.pool"]


def test_the_documented_totals(v3):
    # torchvision documents num_params 27,161,264 (with AuxLogits) and _ops 5.713 ("GFLOPS", in fact GMACs);
    # fvcore's conv + linear count of the live model is 5,713,216,096 (docs/research/inception-family.md).
    # Without the head: 27,161,264 - 3,326,696 (test_aux_head_by_hand) = 23,834,568.
    inference, training = v3.totals.inference, v3.totals.training
    assert (training.params, inference.params) == (27_161_264, 27_161_264 - 3_326_696)
    assert inference.params == 23_834_568
    assert inference.macs == 5_713_216_096 and training.macs == 5_713_216_096 + 5_683_200
    assert sum(r.macs for r in v3.rows if not r.aux) == inference.macs  # the rows add up to the total
    assert sum(r.params for r in v3.rows) == training.params


@pytest.mark.parametrize("size,grids", [
    # 299: conv 3/2 -> 149, conv 3 -> 147, pad 1 -> 147, pool 3/2 -> 73, 1x1 -> 73, conv 3 -> 71, pool 3/2 -> 35;
    #      Mixed_6a 3/2: floor((35 - 3) / 2) + 1 = 17; Mixed_7a 3/2: floor((17 - 3) / 2) + 1 = 8
    ("3x299x299", ((35, 35), (17, 17), (8, 8))),
    # 320: 159, 157, 157, 78, 78, 76, 37; then floor(34 / 2) + 1 = 18; floor(15 / 2) + 1 = 8
    ("3x320x320", ((37, 37), (18, 18), (8, 8))),
    # width 331: 165, 163, 163, 81, 81, 79, 39; then 19; then 9
    ("3x299x331", ((35, 39), (17, 19), (8, 9))),
])
def test_grid_sizes_by_hand(size, grids):
    a = analyze(SPEC, size)
    assert [a[name].out_shape[1:] for name in ("Mixed_5d", "Mixed_6e", "Mixed_7c")] == list(grids)
    assert a["Mixed_6a.max_pool"].out_shape == (288, *grids[1])  # the pool branch passes its 288 channels


def test_the_aux_head_needs_299():
    # AuxLogits.conv1 (5x5, no padding) needs a 5x5 map from the 5x5/3 pool, which needs 17x17 at Mixed_6e:
    # 298 -> 148 -> 146 -> 146 -> 72 -> 72 -> 70 -> 34 -> 16 at Mixed_6e, pooled to floor((16 - 5) / 3) + 1 = 4
    # Below 299 the head (training only) is left out, and said so; the inference analysis stands.
    small = analyze(SPEC, 298)
    assert "AuxLogits" not in [r.name for r in small.rows]
    assert small.warnings[0].startswith("auxiliary head left out (it runs only in training, and not at input "
                                        "3x298x298): row 'AuxLogits', layer 'AuxLogits.conv1'")
    assert small.warnings[0].endswith("the heads take 3x299x299 and larger")
    assert small.totals.training == small.totals.inference
    full = analyze(SPEC, 299)
    assert full["AuxLogits.avg_pool"].out_shape == (768, 5, 5) and not full.left_out


def test_inference_runs_down_to_75():
    # torchvision's documented min_size is 75x75 (its eval forward has no aux head):
    # 75 -> 37 -> 35 -> 35 -> 17 -> 17 -> 15 -> 7 (maxpool2) -> 3 (Mixed_6a) -> 1 (Mixed_7a)
    assert analyze(SPEC, 75)["Mixed_7c"].out_shape == (2048, 1, 1)
    from inception_calc.core.errors import CalcError

    with pytest.raises(CalcError, match=r"input 3x74x74 is too small: .*the smallest square input this network "
                                        r"accepts is 3x75x75"):
        analyze(SPEC, 74)


def test_functional_pools_and_basic_conv2d(v3):
    layers = named_layers(v3.network)
    pools = {name: layer for name, layer in layers.items() if isinstance(layer, Pool) and "." in name}
    # F.avg_pool2d(x, 3, 1, 1) in every InceptionA, C, E (3 + 4 + 2), F.max_pool2d(x, 3, 2) in InceptionB, D,
    # F.avg_pool2d(x, 5, 3) and F.adaptive_avg_pool2d in the aux head: named after no module
    assert sorted({name.split(".", 1)[1] for name in pools}) == ["adaptive_avg_pool", "avg_pool", "max_pool"]
    avg = [layer for name, layer in pools.items() if name.endswith(".avg_pool") and not name.startswith("AuxLogits")]
    assert len(avg) == 9 and all(p.count_include_pad and p.pad == (1, 1) and p.stride == (1, 1) for p in avg)
    convs = [layer for layer in layers.values() if isinstance(layer, Conv)]
    assert len(convs) == 94 + 2  # torchvision's 94 BasicConv2d of the main path, 2 in the aux head
    assert all(not c.bias and c.bn and c.bn_eps == 0.001 and c.relu for c in convs)
    assert layers["Mixed_5b.branch5x5_2"].kernel == (5, 5)  # the 5x5 kept (pytorch/vision#798)


def test_report_and_explain_commands(capsys):
    from inception_calc.cli.main import main

    assert main(["report", SPEC, "--depth", "conv"]) == 0
    out = capsys.readouterr().out
    assert "Mixed_7b.branch3x3_2a" in out and "5,713,216,096" in out and "27,161,264" in out
    assert main(["explain", "--spec", SPEC, "Mixed_7b"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Mixed_7b in inception-v3 at input 3x299x299: 8x8x1280 -> 8x8x2048")
    assert "MACs    = " in out and "322,437,120" in out  # 26,214,400 + 88,080,384 + 192,413,696 + 15,728,640


# ----------------------------------------------------------------------------- the live torchvision model


def _torchvision():
    pytest.importorskip("torch")
    return pytest.importorskip("torchvision")


@pytest.fixture(scope="module")
def model():
    torchvision = _torchvision()
    return torchvision.models.inception_v3(weights=None, aux_logits=True, transform_input=False,
                                           init_weights=False).eval()


def _size(size: str) -> tuple[int, int]:
    _, h, w = (int(x) for x in size.split("x"))
    return h, w


@pytest.fixture(scope="module")
def fvcore_counts(model):
    """``counts(size)``: conv + linear MACs per module name from fvcore at ``size`` in eval mode, or
    (``"train"``) at 299 in training mode, batch norm kept in eval (with one image the aux head's 1x1
    map could not be normalised). Each is counted once, when first asked for."""
    torch = pytest.importorskip("torch")
    fvcore_nn = pytest.importorskip("fvcore.nn")
    cache: dict[str, dict[str, int]] = {}

    def count(h: int, w: int) -> dict[str, int]:
        with torch.no_grad():
            analysis = fvcore_nn.FlopCountAnalysis(model, torch.zeros(1, 3, h, w))
            analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            per_module = analysis.by_module_and_operator()
        return {name: ops.get("conv", 0) + ops.get("linear", 0) for name, ops in per_module.items()}

    def counts(size: str) -> dict[str, int]:
        if size not in cache:
            if size != "train":
                cache[size] = count(*_size(size))
            else:
                _training(model, torch)
                try:
                    cache[size] = count(299, 299)
                finally:
                    model.eval()
        return cache[size]

    return counts


def _training(model, torch) -> None:
    """Training mode, so that AuxLogits runs, with batch norm in eval (one image, a 1x1 map)."""
    model.train()
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.eval()


@pytest.mark.torch
def test_params_are_torchvisions_documented_num_params(model):
    torchvision = _torchvision()
    meta = torchvision.models.Inception_V3_Weights.IMAGENET1K_V1.meta
    totals = analyze(SPEC).totals
    assert totals.training.params == meta["num_params"] == sum(p.numel() for p in model.parameters())
    plain = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False)
    assert totals.inference.params == sum(p.numel() for p in plain.parameters())
    assert round(totals.inference.macs / 1e9, 3) == meta["_ops"]  # "5.713 GFLOPS" is this MAC count, rounded


@pytest.mark.torch
def test_rows_are_the_live_models_children(model):
    assert [name for name, _ in model.named_children()] == ROWS


@pytest.mark.torch
@pytest.mark.parametrize("size", SIZES)
def test_macs_equal_fvcore_row_by_row(fvcore_counts, size):
    a = analyze(SPEC, size)
    counts = fvcore_counts(size)
    assert a.totals.inference.macs == counts[""]  # eval mode: the aux head does not run
    assert {r.name: r.macs for r in a.rows if not r.aux} == {r.name: counts.get(r.name, 0) for r in a.rows
                                                            if not r.aux}


@pytest.mark.torch
def test_aux_head_macs_equal_fvcore_in_training_mode(fvcore_counts):
    a = analyze(SPEC)
    assert a["AuxLogits"].macs == fvcore_counts("train")["AuxLogits"] == 5_683_200
    assert a.totals.training.macs == fvcore_counts("train")[""]


@pytest.mark.torch
def test_every_conv_and_linear_joins_its_module_by_name(model, fvcore_counts):
    """Each spec conv is the BasicConv2d of that name (kernel, stride, padding, channels, no bias, BN eps),
    each linear the nn.Linear; together they are all of torchvision's; their MACs are fvcore's."""
    torch = pytest.importorskip("torch")
    a = analyze(SPEC)
    modules = dict(model.named_modules())
    layers = {name: layer for name, layer in named_layers(a.network).items() if isinstance(layer, (Conv, Linear))}
    basic = {name for name, m in modules.items() if type(m).__name__ == "BasicConv2d"}
    linear = {name for name, m in modules.items() if isinstance(m, torch.nn.Linear)}
    assert set(layers) == basic | linear
    for name, layer in layers.items():
        module = modules[name]
        if isinstance(layer, Linear):
            assert (module.out_features, module.bias is not None) == (layer.out, layer.bias), name
            continue
        conv, bn = module.conv, module.bn
        assert (conv.kernel_size, conv.stride, conv.padding, conv.out_channels, conv.bias) == (
            layer.kernel, layer.stride, layer.pad, layer.out, None), name
        assert conv.in_channels == a[name].in_shape[0] and bn.eps == layer.bn_eps, name
        counts = fvcore_counts("train" if name.startswith("AuxLogits") else "3x299x299")
        assert a[name].macs == counts[name], name


@pytest.mark.torch
@pytest.mark.parametrize("size", SIZES)
def test_output_shapes_equal_the_forward_hooks(model, size):
    torch = pytest.importorskip("torch")
    shapes: dict[str, tuple[int, ...]] = {}
    handles = [getattr(model, name).register_forward_hook(
        lambda module, inputs, output, name=name: shapes.__setitem__(name, tuple(output.shape[1:])))
        for name in ROWS]
    _training(model, torch)
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, *_size(size)))
    finally:
        model.eval()
        for handle in handles:
            handle.remove()
    a = analyze(SPEC, size)
    flat = {"AuxLogits", "fc"}  # nn.Linear gives [N, 1000]; the analysis writes [1000, 1, 1]
    assert {name: shapes[name] for name in MIXED} == {name: a[name].out_shape for name in MIXED}
    assert all(shapes[r] == (a[r].out_shape[0],) if r in flat else shapes[r] == a[r].out_shape for r in ROWS)


@pytest.mark.torch
def test_the_live_models_input_limits(model):
    """Eval mode runs down to the documented min_size (75x75); training mode, with the aux head, needs 299."""
    torch = pytest.importorskip("torch")
    meta = _torchvision().models.Inception_V3_Weights.IMAGENET1K_V1.meta
    with torch.no_grad():
        assert model(torch.zeros(1, 3, *meta["min_size"])).shape == (1, 1000) and meta["min_size"] == (75, 75)
        with pytest.raises(RuntimeError):
            model(torch.zeros(1, 3, 74, 74))
        _training(model, torch)
        try:
            assert [tuple(t.shape) for t in model(torch.zeros(1, 3, 299, 299))] == [(1, 1000), (1, 1000)]
            with pytest.raises(RuntimeError):
                model(torch.zeros(1, 3, 298, 298))
        finally:
            model.eval()


@pytest.mark.torch
def test_average_pool_counts_the_padding_as_torchvision_calls_it():
    torch = pytest.importorskip("torch")
    # F.avg_pool2d(x, 3, 1, 1) on ones: the corner window holds 4 ones and 5 zeros of padding; with
    # count_include_pad=True (the default torchvision relies on) it averages over 9: 4/9
    corner = torch.nn.functional.avg_pool2d(torch.ones(1, 1, 4, 4), kernel_size=3, stride=1, padding=1)[0, 0, 0, 0]
    assert corner.item() == pytest.approx(4 / 9)
    assert named_layers(analyze(SPEC).network)["Mixed_5b.avg_pool"].count_include_pad  # the spec says the same
