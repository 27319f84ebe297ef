"""The counters on real modules, and the convention formulas against the counters themselves."""

from __future__ import annotations

import warnings

import pytest

torch = pytest.importorskip("torch")  # the torch extra: without it, this module is skipped, not an error
pytest.importorskip("fvcore")

from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from inception_calc import CalcError  # noqa: E402
from inception_calc.core import formulas as f  # noqa: E402
from inception_calc.pytorch.counters import check_version, count_module, layer_of_module, version_tuple  # noqa: E402
from inception_calc.core.network import LRN, Conv, Dropout, Linear, Pool  # noqa: E402

with warnings.catch_warnings():  # fvcore's import scripts a function: torch.jit.script's FutureWarning
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.jit")
    from fvcore.nn import FlopCountAnalysis


def _fvcore(module: nn.Module, x: torch.Tensor) -> dict[str, int]:
    with torch.no_grad():
        analysis = FlopCountAnalysis(module, (x,)).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        return dict(analysis.by_operator())


@pytest.mark.parametrize("training,affine,factor", [(False, True, 2), (False, False, 1), (True, True, 5),
                                                    (True, False, 4)])
def test_batch_norm_term_is_what_fvcore_counts(training, affine, factor):
    bn = nn.BatchNorm2d(3, affine=affine).train(training)
    x = torch.ones(2, 3, 4, 5)
    elements = 2 * 3 * 4 * 5  # N * C * H * W = 120
    assert f.fvcore_batch_norm_flops(elements, training, affine) == factor * 120
    assert _fvcore(bn, x)["batch_norm"] == factor * 120


def test_adaptive_avg_pool_term_is_what_fvcore_counts():
    x = torch.ones(1, 8, 14, 14)
    assert _fvcore(nn.AdaptiveAvgPool2d(4), x)["adaptive_avg_pool2d"] == f.fvcore_adaptive_avg_pool_flops(
        8 * 14 * 14) == 1568  # 1 x the input's 8 * 14 * 14 elements, whatever the output size


def test_flop_counter_mode_counts_two_flops_per_mac():
    conv = nn.Conv2d(4, 6, 3, padding=1)
    macs = f.conv_macs(5, 5, f.conv_weights(4, 6, 3, 3))  # 5 * 5 * (4 * 6 * 9) = 5,400
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        conv(torch.ones(1, 4, 5, 5))
    assert counter.get_total_flops() == f.flop_counter_mode_flops(macs) == 10_800


@pytest.mark.parametrize("text,expected", [("0.29.1+cu130", (0, 29, 1)), ("0.1.5.post20221221", (0, 1, 5)),
                                           ("2.14.1", (2, 14, 1)), ("0.15.0a0", (0, 15, 0)), ("dev", ())])
def test_version_tuple(text, expected):
    assert version_tuple(text) == expected


def test_a_too_old_torchvision_is_named_with_the_version_needed():
    check_version("torchvision", "0.15.2", (0, 15))  # new enough: no error
    with pytest.raises(CalcError, match=r"torchvision 0\.12\.0 is too old: the check needs torchvision >= 0\.15; "
                                        r"pip install 'torchvision>=0\.15'"):
        check_version("torchvision", "0.12.0", (0, 15))


def test_layer_of_module_reads_real_modules():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
            self.bn = nn.BatchNorm2d(8, eps=0.001)

    assert layer_of_module(Block()) == Conv(out=8, kernel=(3, 3), stride=(2, 2), pad=(1, 1), bias=False, bn=True,
                                            bn_eps=0.001)
    assert layer_of_module(nn.MaxPool2d(3, 2, ceil_mode=True)) == Pool("max", (3, 3), (2, 2), (0, 0), "ceil")
    assert layer_of_module(nn.AdaptiveAvgPool2d((4, 4))) == Pool("avg", output=(4, 4))
    assert layer_of_module(nn.LocalResponseNorm(5, 1e-4, 0.75, 1.0)) == LRN(5, 1e-4, 0.75, 1.0)
    assert layer_of_module(nn.Dropout(0.2)) == Dropout(0.2)
    assert layer_of_module(nn.Linear(4, 2)) == Linear(2, bias=True)
    assert layer_of_module(nn.ReLU()) is None
    assert layer_of_module(nn.Conv2d(3, 3, 3, dilation=2)) == Conv(out=3, kernel=(3, 3), dilation=(2, 2))
    # padding='same' at dilation 2: 2 * (3 - 1) = 4 padded in all, 2 a side; a 2x2 kernel pads 1 in all: refused
    assert layer_of_module(nn.Conv2d(3, 3, 3, padding="same", dilation=2)) == Conv(
        out=3, kernel=(3, 3), pad=(2, 2), dilation=(2, 2))
    assert layer_of_module(nn.Conv2d(3, 3, 2, padding="same")) is None
    assert layer_of_module(nn.Conv2d(3, 3, 3, padding=1, padding_mode="reflect")) is None


class Tiny(nn.Module):
    """conv 3x3 (bias, bn) -> max pool 2x2 (function call) -> flatten -> fc."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(2, 4, 3, bias=True), nn.BatchNorm2d(4))
        self.fc = nn.Linear(4 * 3 * 3, 5)

    def forward(self, x):
        x = torch.nn.functional.max_pool2d(self.conv(x), 2)
        return self.fc(torch.flatten(x, 1))


def test_count_module_on_a_tiny_network():
    counts = count_module(Tiny(), (2, 8, 8), "tiny")
    # conv: 6 x 6 outputs x (2 * 4 * 9) weights = 2,592 MACs; bn: 2 x 4 * 6 * 6 = 288; fc: 36 * 5 = 180
    assert counts.fvcore["conv"] == {"conv": 2592, "batch_norm": 288}
    assert counts.fvcore_macs("") == 2592 + 180
    assert counts.fvcore_total("") == 2592 + 288 + 180
    assert counts.flop_counter_total("") == 2 * (2592 + 180)
    assert counts.fvcore_unsupported[""] == {"aten::max_pool2d": 1}
    assert counts.own_ops("") == {"max_pool2d": 1}  # the network itself calls it; its children run the rest
    # numel: conv 72 + 4 bias + bn 8 = 84; fc 180 + 5 = 185
    assert (counts.numel["conv"], counts.numel["fc"], counts.numel[""]) == (84, 185, 269)
    assert counts.out_shapes["conv"] == (4, 6, 6) and counts.out_shapes["fc"] == (5,)
    assert [u.name for u in counts.units] == ["conv.0", "conv.1", "fc"]
    assert counts.units[2].in_shape == (36,)  # the function call max-pooled 4x6x6 to 4x3x3, then flattened


def test_count_module_restores_the_modes():
    model = Tiny().train()
    model.conv.eval()
    count_module(model, (2, 8, 8), "tiny")
    assert model.training and not model.conv.training and model.fc.training
