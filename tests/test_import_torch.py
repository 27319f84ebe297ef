"""Importing torch modules as specs (pytorch/importer.py): torchvision's googlenet and inception_v3
equal the built-in specs; other torchvision and timm models of other shapes (plain, residual,
depthwise, Fire-style concat) check exactly against the real model, per row, at several input
sizes; the seed article's hand-written Inception block; and every refusal as one line."""

from __future__ import annotations

import textwrap

import pytest

from inception_calc import CalcError, analyze

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
pytest.importorskip("fvcore")

from inception_calc.pytorch.crosscheck import check  # noqa: E402
from inception_calc.pytorch.importer import from_python, from_timm, from_torchvision, network_from_module  # noqa: E402


@pytest.mark.parametrize("name, spec, size", [("googlenet", "googlenet-torchvision", 224),
                                              ("inception_v3", "inception-v3", 299)])
def test_import_equals_the_built_in_spec(name: str, spec: str, size: int) -> None:
    imported, built_in = analyze(from_torchvision(name)), analyze(spec)
    assert imported.input == (3, size, size)
    assert [r.name for r in imported.network.rows] == [r.name for r in built_in.network.rows]
    assert [(r.name, r.after) for r in imported.network.aux_rows] == \
        [(r.name, r.after) for r in built_in.network.aux_rows]
    for totals in ("inference", "training"):
        a, b = getattr(imported.totals, totals), getattr(built_in.totals, totals)
        assert (a.params, a.macs) == (b.params, b.macs)
    for a, b in zip(imported.rows, built_in.rows):  # row by row
        assert (a.name, a.params, a.macs, tuple(a.out_shape)) == (b.name, b.params, b.macs, tuple(b.out_shape))


def test_googlenet_import_checks_exactly_against_torchvision() -> None:
    """numel and fvcore's conv + linear counts, per row (aux heads included) and in total."""
    network = from_torchvision("googlenet")
    assert network.reference == "torchvision:googlenet"
    result = check(network, against="torchvision")
    assert result.ok, [(r.name, r.verdict) for r in result.rows if r.verdict == "MISMATCH"]
    assert result["total"]["params"].verdict == "exact"
    assert result["aux1"]["macs"].verdict == "exact"


# (library, model, the two input sizes): plain (alexnet, vgg11), residual (resnet18, bottleneck resnet26d,
# grouped regnet_x_400mf, built on the CPU: its constructor computes with tensors), depthwise (mobilenet_v2,
# mnasnet0_5 whose forward pools by x.mean([2, 3])), Fire-style concat (squeezenet), separable residual
# (xception41); small inputs, one of them not square, to keep the run short
MODELS = [("torchvision", "alexnet", (3, 64, 64), (3, 96, 80)),
          ("torchvision", "vgg11", (3, 64, 64), (3, 64, 96)),
          ("torchvision", "resnet18", (3, 128, 96), (3, 160, 160)),
          ("torchvision", "squeezenet1_0", (3, 128, 112), (3, 96, 96)),
          ("torchvision", "mobilenet_v2", (3, 96, 128), (3, 64, 64)),
          ("torchvision", "mnasnet0_5", (3, 64, 64), (3, 96, 80)),
          ("torchvision", "regnet_x_400mf", (3, 64, 64), (3, 96, 80)),
          ("timm", "resnet26d", (3, 64, 64), (3, 96, 80)),
          ("timm", "mobilenetv2_100", (3, 64, 64), (3, 80, 96)),
          ("timm", "xception41", (3, 64, 64), (3, 96, 80))]


def _real_model(library: str, name: str):
    """The real model, built on the CPU with no weights (what the counts are taken from)."""
    if library == "timm":
        return pytest.importorskip("timm").create_model(name, pretrained=False)
    return pytest.importorskip("torchvision").models.get_model(name, weights=None)


def _live_counts(model, size: tuple) -> tuple[dict, dict]:
    """numel and fvcore's conv + linear count (its by_module_and_operator) per module, of the real model."""
    from fvcore.nn import FlopCountAnalysis

    model.eval()
    numel = {name: sum(p.numel() for p in m.parameters()) for name, m in model.named_modules()}
    with torch.no_grad():
        flops = (FlopCountAnalysis(model, torch.zeros(1, *size)).unsupported_ops_warnings(False)
                 .uncalled_modules_warnings(False).tracer_warnings("none").by_module_and_operator())
    macs = {name: sum(n for op, n in ops.items() if op in ("conv", "linear", "addmm", "matmul"))
            for name, ops in flops.items()}
    return numel, macs


@pytest.fixture(scope="module", params=MODELS, ids=lambda m: f"{m[0]}:{m[1]}")
def imported(request):
    library, name, *sizes = request.param
    network = (from_timm if library == "timm" else from_torchvision)(name)
    return library, name, network, _real_model(library, name), sizes


def test_imported_rows_equal_numel_and_fvcore_at_two_sizes(imported) -> None:
    """Every row that is a module of the real model has its numel and fvcore's conv + linear count,
    at both sizes; the totals too (a row of the model's own forward, mobilenet_v2's
    F.adaptive_avg_pool2d, has no module and no parameters or MACs)."""
    library, name, network, model, sizes = imported
    for size in sizes:
        numel, macs = _live_counts(model, size)
        a = analyze(network, size)
        joined = [row for row in a.rows if row.name in numel]
        assert len(joined) >= len(a.rows) - 1, [row.name for row in a.rows if row.name not in numel]
        for row in joined:
            assert (row.name, row.params, row.macs) == (row.name, numel[row.name], macs.get(row.name, 0))
        for row in a.rows:
            if row.name not in numel:
                assert (row.params, row.macs) == (0, 0), row.name
        assert (a.totals.training.params, a.totals.training.macs) == (numel[""], macs[""])


def test_imported_models_check_exact_or_explained(imported) -> None:
    """check --against the library: every row exact or explained by a named term (alexnet's
    classifier.0, a dropout on the flattened [N, 9216], is [256, 6, 6] in the analysis: explained as
    a flattened output; mobilenet_v2's F.adaptive_avg_pool2d is a function call of the network's own
    forward, its fvcore count 1 per input element)."""
    library, name, network, _, sizes = imported
    result = check(network, against=library, input=sizes[0])
    assert result.ok, [(r.name, [(q.name, q.note) for q in r.quantities if q.verdict == "MISMATCH"])
                       for r in result.rows if r.verdict == "MISMATCH"]
    for row in result.rows:
        assert row["params"].verdict == row["macs"].verdict == "exact", row.name
    if name == "mobilenet_v2":
        pool = result["adaptive_avg_pool2d"]
        # 1280 channels at 96/32 x 128/32 = 3 x 4: 1280 * 12 = 15,360 input elements
        assert pool["fvcore"].counted == 15_360 and pool["fvcore"].verdict == "explained"
        assert "function call" in pool["layers"].terms[0].label
    if name == "mnasnet0_5":
        mean = result["mean"]  # x.mean([2, 3]): aten::mean, which fvcore does not count (no adaptive-pool term)
        assert (mean["fvcore"].counted, mean["fvcore"].verdict) == (0, "exact")
        assert "mean a function call" in mean["layers"].terms[0].label
    if name == "alexnet":
        assert result["classifier.0"]["shape"].counted == (9216,)  # 256 * 6 * 6
        assert result["classifier.0"]["shape"].verdict == "explained"


def test_depthwise_model_has_groups() -> None:
    network = from_torchvision("mobilenet_v2")
    assert any(layer.groups > 1 for row in network.rows for _, layer in row.named_layers()
               if getattr(layer, "kind", "") == "conv")


def test_timm_model_checks_exactly() -> None:
    pytest.importorskip("timm")
    network = from_timm("resnet18")
    assert network.reference == "timm:resnet18"
    result = check(network, against="timm", input=(3, 112, 144))
    assert result.ok, [(r.name, r.verdict) for r in result.rows if r.verdict == "MISMATCH"]


def test_the_seed_articles_block_from_a_python_file() -> None:
    a = analyze(from_python("examples/inception_block.py", "Inception3a"), "192x28x28")
    row = a.rows[0]
    # weights 192*64 + 192*96 + 96*128*9 + 192*16 + 16*32*25 + 192*32 = 163,328 (the seed article's sum)
    assert (row.weights, row.biases, row.macs) == (163_328, 368, 128_049_152)  # MACs = 28 * 28 * 163,328
    assert tuple(row.out_shape) == (256, 28, 28)


def _user_file(tmp_path, body: str) -> str:
    path = tmp_path / "net.py"
    path.write_text("import torch\nfrom torch import nn\n\n" + textwrap.dedent(body))
    return str(path)


def test_unsupported_op_is_one_line_naming_node_op_and_module() -> None:
    class Gated(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 8, 3)
            self.act = torch.nn.SiLU()

        def forward(self, x):
            return self.act(self.conv(x))

    with pytest.raises(CalcError) as err:
        network_from_module(Gated(), 32)
    line = str(err.value)
    assert "\n" not in line and "node 'act' (SiLU) in module 'act'" in line and "outside the supported set" in line


def test_untraceable_forward() -> None:
    class Branchy(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 8, 3)

        def forward(self, x):
            return self.conv(x) if x.sum() > 0 else x

    with pytest.raises(CalcError, match="torch.fx cannot trace the forward of Branchy"):
        network_from_module(Branchy(), 32)


def test_missing_attribute_and_factory_needing_arguments(tmp_path) -> None:
    path = _user_file(tmp_path, """
        def make(width):
            return nn.Conv2d(3, width, 3)

        answer = 42
    """)
    with pytest.raises(CalcError, match=r"has no attribute 'Net'; name one of make"):
        from_python(path, "Net")
    with pytest.raises(CalcError, match=r"make needs arguments \(width\)"):
        from_python(path, "make")
    with pytest.raises(CalcError, match="answer is not a torch.nn.Module"):
        from_python(path, "answer")
    with pytest.raises(CalcError, match="no such file"):
        from_python(str(tmp_path / "absent.py"), "Net")


def test_functional_forms_residual_scale_and_global_mean() -> None:
    """F.relu, a scaled residual (x + 0.17 * f(x)) then torch.relu, a global mean, view(N, -1), softmax."""
    F = torch.nn.functional

    class Residual(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = torch.nn.Conv2d(3, 16, 3, padding=1, bias=False)
            self.bn = torch.nn.BatchNorm2d(16)
            self.conv = torch.nn.Conv2d(16, 16, 3, padding=1)
            self.fc = torch.nn.Linear(16, 10)

        def forward(self, x):
            x = F.relu(self.bn(self.stem(x)))
            x = torch.relu(x + 0.17 * self.conv(x))
            x = x.mean((2, 3))
            return F.softmax(self.fc(x.view(x.size(0), -1)), dim=1)

    network = network_from_module(Residual(), 32)
    add = next(row for row in network.rows if row.combine == "add")
    assert add.relu and sorted(b.scale for b in add.branches) == [0.17, 1.0]
    a = analyze(network, "3x20x24")
    # stem 3*16*9 = 432 weights, bn 32, conv 16*16*9 = 2,304 + 16 biases, fc 160 + 10: 2,954 params
    assert a.totals.inference.params == sum(p.numel() for p in Residual().parameters()) == 2_954
    # MACs: 20 * 24 * (432 + 2,304) + 160 = 1,313,440
    assert a.totals.inference.macs == 1_313_440


@pytest.mark.parametrize("name, spec", [("googlenet", "googlenet-torchvision"), ("inception_v3", "inception-v3")])
@pytest.mark.parametrize("size", [(3, 160, 192), (3, 331, 257)])
def test_import_analyses_like_the_built_in_at_other_sizes(name: str, spec: str, size: tuple) -> None:
    """Adaptive pools keep the imported network right at any size, square or not."""
    a, b = analyze(from_torchvision(name), size), analyze(spec, size)
    assert [(r.name, r.params, r.macs) for r in a.rows] == [(r.name, r.params, r.macs) for r in b.rows]


@pytest.mark.parametrize("name, spec", [("inception_v4", "inception-v4"), ("xception", "xception"),
                                        ("inception_resnet_v2", "inception-resnet-v2")])
def test_timm_family_imports_equal_the_built_in_specs(name: str, spec: str) -> None:
    """timm's Inception family (scaled residual blocks: cat, conv, x + scale * y) import to the built-ins."""
    pytest.importorskip("timm")
    a, b = analyze(from_timm(name)), analyze(spec)
    assert [r.name for r in a.network.rows] == [r.name for r in b.network.rows]
    assert (a.totals.training.params, a.totals.training.macs) == (b.totals.training.params, b.totals.training.macs)


class _Aspp(torch.nn.Module):
    """A DeepLab-style head: a dilated conv, then parallel 3x3 convs at rates 1, 2, 3 (padding='same') and a
    1x1, concatenated, then a 1x1 projection and a classifier."""

    def __init__(self) -> None:
        super().__init__()
        nn = torch.nn
        self.stem = nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False)
        self.dilated = nn.Conv2d(16, 16, 3, padding=2, dilation=2)
        self.rate1 = nn.Conv2d(16, 8, 3, padding="same")
        self.rate2 = nn.Conv2d(16, 8, 3, padding="same", dilation=2)
        self.rate3 = nn.Conv2d(16, 8, (3, 5), padding="same", dilation=(3, 1))
        self.point = nn.Conv2d(16, 8, 1, padding="valid")
        self.project = nn.Conv2d(32, 16, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = torch.relu(self.dilated(torch.relu(self.stem(x))))
        x = torch.cat([self.rate1(x), self.rate2(x), self.rate3(x), self.point(x)], 1)
        return self.fc(torch.flatten(self.pool(self.project(x)), 1))


@pytest.mark.parametrize("size", [(3, 32, 32), (3, 41, 57)])
def test_dilation_and_same_padding_equal_numel_and_fvcore(size) -> None:
    model = _Aspp()
    network = network_from_module(model, 32)
    layers = {name.rsplit(".", 1)[-1]: layer for row in network.rows for name, layer in row.named_layers()}
    assert [(layers[n].dilation, layers[n].pad) for n in ("rate1", "rate2", "rate3")] == [
        ((1, 1), (1, 1)), ((2, 2), (2, 2)), ((3, 1), (3, 2))]  # same: d * (k - 1) / 2 a side: 2*2/2; 3*2/2, 1*4/2
    from torch.utils.flop_counter import FlopCounterMode

    # fvcore 0.1.5 has no handle for aten::_convolution_mode, the op a conv with string padding runs (it
    # counts 0 for rate1..point): FlopCounterMode, 2 FLOPs per conv/linear MAC, counts them
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, *size))
    flops = {k.removeprefix("_Aspp."): v for k, v in counter.get_flop_counts().items()}
    a = analyze(network, size)
    assert (a.totals.inference.params, 2 * a.totals.inference.macs) == (
        sum(p.numel() for p in model.parameters()), sum(flops["Global"].values()))
    for name in ("stem", "dilated", "rate1", "rate2", "rate3", "point", "project"):
        assert 2 * a[next(n for n in a.names() if n.rsplit(".", 1)[-1] == name)].macs == \
            sum(flops[name].values()), name
    with torch.no_grad():
        inner = model.dilated(model.stem(torch.zeros(1, *size)))
    assert tuple(a["dilated"].out_shape) == tuple(inner.shape[1:])  # 5x5 span, pad 2: the stem's size kept
    # the built network is the same: its numel and its output shape
    built = check(network, against="built", input=size)
    assert built.ok and built["total"]["params"].verdict == "exact"


def test_dilated_network_exports_and_loads_back() -> None:
    import tomllib
    from dataclasses import replace

    from inception_calc import network_from_dict
    from inception_calc.core.export import spec_text

    network = network_from_module(_Aspp(), 32)
    text = spec_text(network, "test")
    assert "dilation = [3, 1]" in text and "dilation = 2" in text
    back = network_from_dict(tomllib.loads(text), "exported.toml")
    assert replace(back, path="") == replace(network, path="")


def test_dilated_resnet50_backbone_equals_numel_and_fvcore() -> None:
    """torchvision's resnet50 with its last two strides replaced by dilation (DeepLab's backbone)."""
    model = torchvision.models.resnet50(weights=None, replace_stride_with_dilation=[False, True, True])
    size = (3, 64, 64)
    network = network_from_module(model, size)
    numel, macs = _live_counts(model, size)
    a = analyze(network, size)
    assert (a.totals.inference.params, a.totals.inference.macs) == (numel[""], macs[""])
    assert tuple(a["layer4.2"].out_shape) == (2048, 8, 8)  # output stride 8: 64 / 8


@pytest.mark.parametrize("make, says", [
    (lambda nn: nn.Conv2d(3, 8, 2, padding="same"), "node 'layer' (Conv2d) in module 'layer': is a conv with "
                                                    "padding='same' with the even dilated kernel (2, 2)"),
    (lambda nn: nn.Conv2d(3, 8, 3, padding=1, padding_mode="reflect"), "padding_mode='reflect'"),
    (lambda nn: nn.MaxPool2d(3, 1, dilation=2), "node 'layer' (MaxPool2d) in module 'layer': is a pool with "
                                                "options the spec format cannot write (dilation)")])
def test_convs_and_pools_the_spec_cannot_write_are_one_line(make, says) -> None:
    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = make(torch.nn)

        def forward(self, x):
            return self.layer(x)

    with pytest.raises(CalcError) as err:
        network_from_module(Net(), 32)
    assert "\n" not in str(err.value) and says in str(err.value)


@pytest.mark.parametrize("name, says", [
    ("shufflenet_v2_x0_5", "node 'view' (Tensor.view) in module 'stage2.0': reshapes to ('getitem', 2, "
                           "'floordiv', 'getitem_2', 'getitem_3') (a channel shuffle"),
    ("mobilenet_v3_small", "node 'features_0_2' (Hardswish) in module 'features.0.2': is a Hardswish module, "
                           "outside the supported set"),
    ("timm:tf_mobilenetv3_small_minimal_100", "node 'conv_stem' (Conv2dSame) in module 'conv_stem': pads in its "
                                              "own forward (Conv2dSame: at 10x10 it gives 5x5 where its padding 0 "
                                              "gives 4x4")])  # TF 'SAME' at stride 2: ceil(10 / 2) = 5
def test_models_outside_the_supported_set_are_refused_naming_the_node(name, says) -> None:
    if name.startswith("timm:"):
        pytest.importorskip("timm")
    with pytest.raises(CalcError) as err:
        from_timm(name[5:]) if name.startswith("timm:") else from_torchvision(name)
    assert "\n" not in str(err.value) and says in str(err.value)


def test_dilated_receptive_fields_measure_as_the_analysis_says() -> None:
    """A dilated conv's field spans d * (k - 1) + 1 inputs; its border units reach from their first to their
    last real tap (taps d apart), which check --rf measures by gradients on the built network."""
    from inception_calc.pytorch.receptive import check_receptive_fields

    class Dilated(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = torch.nn.Conv2d(3, 8, 3, stride=2, padding=1)
            self.conv2 = torch.nn.Conv2d(8, 8, 3, padding=2, dilation=2)
            self.conv3 = torch.nn.Conv2d(8, 8, 3, padding="same", dilation=(4, 2))

        def forward(self, x):
            return self.conv3(torch.relu(self.conv2(torch.relu(self.conv1(x)))))

    result = check_receptive_fields(network_from_module(Dilated(), 32), (3, 37, 50))
    assert all(node.verdict == "exact" for node in result.nodes), [(n.name, n.note) for n in result.nodes]
    conv3 = next(node for node in result.nodes if node.name == "conv3")
    # conv1 3 (stride 2); conv2 spans 2 * (3 - 1) + 1 = 5: 3 + 4 * 2 = 11; conv3 spans 9 x 5: 11 + 8 * 2 = 27,
    # 11 + 4 * 2 = 19 -- as measured between two interior units
    assert tuple(ax.derived[0] for ax in conv3.axes) == (27, 19) and conv3.analytic.size == (27, 19)
