"""Every pure function of inception_calc.core.formulas, table-driven, the arithmetic beside each number."""

from __future__ import annotations

import pytest

from inception_calc.core import formulas as f


@pytest.mark.parametrize("size, kernel, stride, pad, expected", [
    (224, 7, 2, 3, 112),  # floor((224 + 6 - 7) / 2) + 1 = floor(111.5) + 1 = 112  (GoogLeNet conv1)
    (56, 1, 1, 0, 56),    # floor((56 - 1) / 1) + 1 = 56                           (conv2 reduce)
    (56, 3, 1, 1, 56),    # floor((56 + 2 - 3) / 1) + 1 = 56                       ('same' 3x3)
    (28, 5, 1, 2, 28),    # floor((28 + 4 - 5) / 1) + 1 = 28                       ('same' 5x5)
    (299, 7, 2, 3, 150),  # floor((299 + 6 - 7) / 2) + 1 = 149 + 1 = 150
    (300, 3, 2, 0, 149),  # floor((300 - 3) / 2) + 1 = floor(148.5) + 1 = 149
    (7, 7, 1, 0, 1),      # floor(0 / 1) + 1 = 1: the kernel just fits
    (5, 7, 1, 0, -1),     # floor(-2 / 1) + 1 = -1: does not fit (callers report it)
    (5, 7, 1, 1, 1),      # floor((5 + 2 - 7) / 1) + 1 = 1: fits thanks to the padding
    (10, 3, 4, 0, 2),     # floor(7 / 4) + 1 = 1 + 1 = 2
])
def test_conv_output_size(size, kernel, stride, pad, expected):
    assert f.conv_output_size(size, kernel, stride, pad) == expected


@pytest.mark.parametrize("size, kernel, stride, pad, rounding, expected", [
    # GoogLeNet's 3x3/2 max pools round up (Caffe); floor would lose a row and a column
    (112, 3, 2, 0, "ceil", 56),   # ceil((112 - 3) / 2) + 1 = ceil(54.5) + 1 = 56
    (112, 3, 2, 0, "floor", 55),  # floor(54.5) + 1 = 55
    (56, 3, 2, 0, "ceil", 28),    # ceil(26.5) + 1 = 28
    (28, 3, 2, 0, "ceil", 14),    # ceil(12.5) + 1 = 14
    (14, 3, 2, 0, "ceil", 7),     # ceil(5.5) + 1 = 7
    (14, 3, 2, 0, "floor", 6),    # floor(5.5) + 1 = 6
    (113, 3, 2, 0, "ceil", 56),   # (113 - 3) / 2 = 55 exactly: ceil = floor, 55 + 1 = 56
    (113, 3, 2, 0, "floor", 56),
    (14, 5, 3, 0, "ceil", 4),     # aux head 5x5/3: ceil(9 / 3) + 1 = 4
    (7, 7, 1, 0, "ceil", 1),      # final 7x7 average pool: ceil(0) + 1 = 1
    (28, 3, 1, 1, "floor", 28),   # inception branch4 pool: floor((28 + 2 - 3) / 1) + 1 = 28
    # PyTorch/Caffe drop a last window that would start in the right padding: (out - 1) * s >= H + p
    (5, 2, 2, 1, "ceil", 3),      # ceil((5 + 2 - 2) / 2) + 1 = 4, but (4 - 1) * 2 = 6 >= 5 + 1: 3
    (5, 2, 2, 1, "floor", 3),     # floor(5 / 2) + 1 = 3
    (6, 2, 2, 1, "ceil", 4),      # ceil((6 + 2 - 2) / 2) + 1 = 4, (4 - 1) * 2 = 6 < 6 + 1: kept, 4
    (5, 1, 3, 0, "ceil", 2),      # ceil(4 / 3) + 1 = 3, but (3 - 1) * 3 = 6 >= 5 + 0: 2
    (4, 3, 2, 1, "ceil", 3),      # ceil((4 + 2 - 3) / 2) + 1 = 3, (3 - 1) * 2 = 4 < 4 + 1: kept, 3
    (4, 3, 2, 1, "floor", 2),     # floor(3 / 2) + 1 = 2
])
def test_pool_output_size(size, kernel, stride, pad, rounding, expected):
    assert f.pool_output_size(size, kernel, stride, pad, rounding) == expected


def test_pool_output_size_matches_torch_ceil_and_floor_mode():
    """Cross-check every small case against the output shape of a real PyTorch pooling call."""
    torch = pytest.importorskip("torch")
    x = torch.zeros(1, 1, 24, 24)
    checked = dropped = 0
    for size in range(1, 24):
        for kernel in range(1, 6):
            for stride in range(1, 5):
                for pad in range(0, kernel // 2 + 1):  # PyTorch allows pad <= kernel // 2
                    if size + 2 * pad < kernel:
                        continue
                    for ceil_mode in (False, True):
                        out = torch.nn.functional.max_pool2d(x[:, :, :size, :size], kernel, stride, pad,
                                                             ceil_mode=ceil_mode)
                        rounding = "ceil" if ceil_mode else "floor"
                        assert f.pool_output_size(size, kernel, stride, pad, rounding) == out.shape[-1], (
                            size, kernel, stride, pad, rounding)
                        checked += 1
                        span = size + 2 * pad - kernel
                        drops = ceil_mode and out.shape[-1] == -(-span // stride)  # ceil(span / s) + 1 - 1
                        if ceil_mode:
                            assert f.ceil_drops_last_window(size, kernel, stride, pad) == drops, (
                                size, kernel, stride, pad)
                        dropped += drops
    assert checked > 1000
    assert dropped > 0  # the last-window rule was exercised, not just the plain ceil


@pytest.mark.parametrize("size, kernel, stride, pad, expected", [
    (5, 2, 2, 1, True),     # ceil(5 / 2) * 2 = 6 >= 5 + 1
    (6, 2, 2, 1, False),    # ceil(6 / 2) * 2 = 6 < 6 + 1
    (5, 1, 3, 0, True),     # ceil(4 / 3) * 3 = 6 >= 5 + 0 (PyTorch drops it; Caffe only does so when padded)
    (112, 3, 2, 0, False),  # ceil(109 / 2) * 2 = 110 < 112: GoogLeNet's pools never drop one
    (3, 5, 1, 0, False),    # the window does not fit at all: nothing to drop
])
def test_ceil_drops_last_window(size, kernel, stride, pad, expected):
    assert f.ceil_drops_last_window(size, kernel, stride, pad) is expected


@pytest.mark.parametrize("cin, cout, kh, kw, groups, expected", [
    (192, 64, 1, 1, 1, 12_288),    # 192 * 64 = 12,288      (inception3a #1x1)
    (96, 128, 3, 3, 1, 110_592),   # 96 * 128 * 9 = 110,592 (inception3a #3x3)
    (16, 32, 5, 5, 1, 12_800),     # 16 * 32 * 25 = 12,800  (inception3a #5x5)
    (3, 64, 7, 7, 1, 9_408),       # 3 * 64 * 49 = 9,408    (conv1)
    (64, 64, 3, 3, 64, 576),       # 64 / 64 * 64 * 9 = 576 (depthwise)
    (64, 128, 3, 1, 2, 12_288),    # 32 * 128 * 3 * 1 = 12,288
])
def test_conv_weights(cin, cout, kh, kw, groups, expected):
    assert f.conv_weights(cin, cout, kh, kw, groups) == expected


@pytest.mark.parametrize("channels, bias, expected", [(64, True, 64), (64, False, 0), (1000, True, 1000)])
def test_bias_count(channels, bias, expected):
    assert f.bias_count(channels, bias) == expected


@pytest.mark.parametrize("channels, expected", [(64, 128), (1, 2), (832, 1664)])  # 2 * C
def test_batch_norm_params(channels, expected):
    assert f.batch_norm_params(channels) == expected


@pytest.mark.parametrize("hout, wout, weights, expected", [
    (28, 28, 12_288, 9_633_792),      # 784 * 12,288 = 9,633,792
    (28, 28, 110_592, 86_704_128),    # 784 * 110,592 = 86,704,128
    (112, 112, 9_408, 118_013_952),   # 12,544 * 9,408 = 118,013,952 (conv1)
    (3, 5, 7, 105),                   # 3 * 5 * 7 = 105 (non-square)
])
def test_conv_macs(hout, wout, weights, expected):
    assert f.conv_macs(hout, wout, weights) == expected


@pytest.mark.parametrize("fan_in, fan_out, expected", [
    (1024, 1000, 1_024_000),   # 1024 * 1000 (fc)
    (2048, 1024, 2_097_152),   # 128 * 4 * 4 * 1024 (aux fc1)
])
def test_linear_weights_and_macs(fan_in, fan_out, expected):
    assert f.linear_weights(fan_in, fan_out) == expected
    assert f.linear_macs(expected) == expected  # one multiply-accumulate per weight per image


@pytest.mark.parametrize("c, h, w, expected", [(64, 112, 112, 802_816), (256, 28, 28, 200_704), (1000, 1, 1, 1000)])
def test_elements(c, h, w, expected):  # 64 * 12,544 = 802,816; 256 * 784 = 200,704
    assert f.elements(c, h, w) == expected


@pytest.mark.parametrize("threshold, start, expected", [
    (1, 1, 1),          # fits at the start
    (37, 1, 37),        # exponential search to 64, then binary search down to 37
    (223, 1, 223),      # GoogLeNet's smallest input (see test_engine)
    (1000, 999, 1000),
    (5, 10, 10),        # start already fits
])
def test_smallest_valid_size(threshold, start, expected):
    calls = []

    def fits(n: int) -> bool:
        calls.append(n)
        return n >= threshold

    assert f.smallest_valid_size(fits, start) == expected
    assert len(calls) <= 2 * max(threshold, 2).bit_length() + 2  # O(log n) questions, not a scan


def test_smallest_valid_size_gives_up_beyond_limit():
    assert f.smallest_valid_size(lambda n: False, 1, limit=1024) is None
    assert f.smallest_valid_size(lambda n: n >= 2000, 1, limit=1024) is None  # 1024 < 2000
