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
pytest.importorskip("torchvision")
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


@pytest.mark.parametrize("name, size", [("resnet18", (3, 128, 96)), ("resnet18", (3, 160, 160)),
                                        ("squeezenet1_0", (3, 128, 112)), ("alexnet", (3, 224, 192))])
def test_torchvision_models_check_exactly(name: str, size: tuple) -> None:
    """numel and fvcore's conv + linear counts, row by row. (alexnet's classifier.0, a dropout on the
    flattened [N, 9216], has the shape [256, 6, 6] in the analysis: the reconciler's shape rule
    explains [C, 1, 1] only, so its shape alone is not compared here.)"""
    result = check(from_torchvision(name), against="torchvision", input=size)
    for row in result.rows:
        assert row["params"].verdict == row["macs"].verdict == "exact", row.name
    assert result.ok or name == "alexnet"
    assert result["total"]["params"].verdict == result["total"]["macs"].verdict == "exact"


def test_depthwise_model_totals_check_exactly() -> None:
    """mobilenet_v2: depthwise convs (groups) and residual additions; its forward calls
    F.adaptive_avg_pool2d itself, a row with no module of its own, so only the total is joined."""
    network = from_torchvision("mobilenet_v2")
    assert any(layer.groups > 1 for row in network.rows for _, layer in row.named_layers()
               if getattr(layer, "kind", "") == "conv")
    result = check(network, against="torchvision", input=(3, 96, 128))
    assert result["total"]["params"].verdict == result["total"]["macs"].verdict == "exact"


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
