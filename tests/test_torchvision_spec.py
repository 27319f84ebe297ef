"""The built-in spec googlenet-torchvision against torchvision itself: its documentation (the weights'
metadata, in torchvision's code, no download) and the numel and fvcore counts of the real module."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")  # the torch extra: without it, this module is skipped, not an error
torchvision = pytest.importorskip("torchvision")

from torchvision.models import GoogLeNet_Weights  # noqa: E402

from inception_calc import analyze  # noqa: E402
from inception_calc.cli.main import main  # noqa: E402

META = GoogLeNet_Weights.IMAGENET1K_V1.meta


def _numel(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_params_without_aux_are_torchvisions_documented_num_params():
    assert analyze("googlenet-torchvision").totals.inference.params == META["num_params"]  # 6,624,904


def test_params_equal_numel_of_the_real_torchvision_module(torchvision_model):
    analysis = analyze("googlenet-torchvision")
    assert analysis.totals.training.params == _numel(torchvision_model)  # 13,004,888 with the heads
    plain = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False)
    assert analysis.totals.inference.params == _numel(plain)


def test_macs_are_torchvisions_documented_ops(torchvision_counts):
    macs = analyze("googlenet-torchvision").totals.inference.macs
    assert round(macs / 1e9, 3) == META["_ops"]  # "1.498 GFLOPS" is this MAC count, rounded
    heads = sum(torchvision_counts.fvcore_macs(h) for h in ("aux1", "aux2"))
    assert macs == torchvision_counts.fvcore_macs("") - heads  # fvcore conv + linear on the real module, exactly


def test_the_documented_figures_themselves():
    a = analyze("googlenet-torchvision")
    # aux head params: conv 512*128 + bn 2*128 + fc1 2048*1024 + 1024 + fc2 1024*1000 + 1000 = 3,188,968
    #                  and with 528 input channels: 3,188,968 + 16 * 128 = 3,191,016
    assert a.totals.training.params - a.totals.inference.params == 3_188_968 + 3_191_016
    assert (a.totals.inference.params, a.totals.inference.macs) == (6_624_904, 1_498_376_192)


def test_report_json_gives_the_documented_counts(capsys, torchvision_model):
    assert main(["report", "googlenet-torchvision", "--aux", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["totals"]["inference"]["params"] == META["num_params"]
    assert data["totals"]["training"]["params"] == _numel(torchvision_model)
    assert round(data["totals"]["inference"]["macs"] / 1e9, 3) == META["_ops"]
    assert [r["name"] for r in data["rows"]] == [name for name, _ in _forward_order(torchvision_model)]


def _forward_order(model: torch.nn.Module) -> list[tuple[str, torch.nn.Module]]:
    """torchvision's rows in the order its forward calls them (aux heads after their taps)."""
    order: list[str] = []
    handles = [m.register_forward_pre_hook(lambda mod, i, name=name: order.append(name))
               for name, m in model.named_children()]
    model.eval()
    model.training = True
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, 64, 64))
    finally:
        model.eval()
        for h in handles:
            h.remove()
    return [(n, getattr(model, n)) for n in order]


@pytest.mark.parametrize("row,kernel", [("inception3a", (3, 3)), ("inception5b", (3, 3))])
def test_the_5x5_branch_has_torchvisions_3x3_kernel(torchvision_model, row, kernel):
    real = getattr(torchvision_model, row).branch3[1].conv.kernel_size
    assert real == kernel  # pytorch/vision#906
    spec_layer = analyze("googlenet-torchvision")[f"{row}.branch3.1"]
    assert spec_layer.summary.startswith("conv 3x3 pad 1")
