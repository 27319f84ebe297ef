"""BN-Inception (Ioffe and Szegedy 2015, Figure 5): every row's weights and MACs derived by hand
from the figure's columns, the totals, the separable conv1, the stride-2 modules and the figure's
own inconsistency.

Weights of a conv: Cin/groups x Cout x k x k; its MACs: Hout x Wout x weights. Double 3x3 branch:
1x1 (double #3x3 reduce), 3x3 (double #3x3), 3x3 (double #3x3). conv1 is separable (appendix: "Our
model employed separable convolution with depth multiplier 8 on the first convolutional layer"):
a depthwise 7x7/2 with groups = 3 to 3 * 8 = 24 maps, then a pointwise 1x1 to 64.
"""

from __future__ import annotations

import pytest

from inception_calc import analyze, load_spec

# row -> (weights, MACs, out [C, H, W])
ROWS = {
    # depthwise 7x7/2: 3/3 * 24 * 7 * 7 = 1,176; pointwise 1x1: 24 * 64 = 1,536; 1,176 + 1,536 = 2,712;
    # both at 112x112 (floor((224 + 6 - 7) / 2) + 1 = 112): MACs 112*112 * (1,176 + 1,536) = 12,544 * 2,712
    "conv1": (2_712, 34_019_328, (64, 112, 112)),
    "conv2": (114_688, 359_661_568, (192, 56, 56)),         # 64*64 = 4,096 + 64*192*9 = 110,592; 56*56 * 114,688
    # 3a on 28x28x192: 192*64 = 12,288 | 192*64 = 12,288 + 64*64*9 = 36,864 | 192*64 = 12,288 + 64*96*9 = 55,296
    # + 96*96*9 = 82,944 | avg pool, 192*32 = 6,144: 12,288 + 49,152 + 150,528 + 6,144 = 218,112; x 784
    "inception3a": (218_112, 170_999_808, (256, 28, 28)),   # 64 + 64 + 96 + 32 = 256
    # 3b on 28x28x256: 256*64 = 16,384 | 16,384 + 64*96*9 = 55,296 | 16,384 + 55,296 + 82,944 | 256*64 = 16,384
    "inception3b": (259_072, 203_112_448, (320, 28, 28)),   # 16,384 + 71,680 + 154,624 + 16,384; x 784
    # 3c on 28x28x320, stride 2: 320*128 = 40,960 (at 28x28) + 128*160*9 = 184,320 (3x3/2, at 14x14)
    # | 320*64 = 20,480 (28x28) + 64*96*9 = 55,296 (28x28) + 96*96*9 = 82,944 (3x3/2, 14x14) | max pool/2
    # MACs: 784 * (40,960 + 20,480 + 55,296) + 196 * (184,320 + 82,944) = 91,521,024 + 52,383,744
    "inception3c": (384_000, 143_904_768, (576, 14, 14)),   # 160 + 96 + 320 passed through = 576
    # 4a on 14x14x576: 576*224 = 129,024 | 576*64 = 36,864 + 64*96*9 = 55,296 | 576*96 = 55,296 + 96*128*9 =
    # 110,592 + 128*128*9 = 147,456 | 576*128 = 73,728; x 196
    "inception4a": (608_256, 119_218_176, (576, 14, 14)),   # 224 + 96 + 128 + 128
    # 4b: 576*192 = 110,592 | 55,296 + 96*128*9 = 110,592 | 55,296 + 110,592 + 147,456 | 73,728; x 196
    "inception4b": (663_552, 130_056_192, (576, 14, 14)),   # 192 + 128 + 128 + 128
    # 4c: 576*160 = 92,160 | 576*128 = 73,728 + 128*160*9 = 184,320 | 73,728 + 184,320 + 160*160*9 = 230,400
    # | 73,728; x 196
    "inception4c": (912_384, 178_827_264, (608, 14, 14)),   # 160 + 160 + 160 + 128 = 608
    # 4d on 608: 608*96 = 58,368 | 608*128 = 77,824 + 128*192*9 = 221,184 | 608*160 = 97,280 + 160*192*9 =
    # 276,480 + 192*192*9 = 331,776 | 608*128 = 77,824; x 196
    "inception4d": (1_140_736, 223_584_256, (608, 14, 14)),  # 96 + 192 + 192 + 128 = 608
    # 4e on 14x14x608, stride 2: 608*128 = 77,824 (14x14) + 128*192*9 = 221,184 (7x7) | 608*192 = 116,736
    # (14x14) + 192*256*9 = 442,368 (14x14) + 256*256*9 = 589,824 (7x7) | max pool/2
    # MACs: 196 * (77,824 + 116,736 + 442,368) + 49 * (221,184 + 589,824) = 124,837,888 + 39,739,392
    "inception4e": (1_447_936, 164_577_280, (1056, 7, 7)),  # 192 + 256 + 608 passed through = 1,056
    # 5a on 7x7x1056: 1056*352 = 371,712 | 1056*192 = 202,752 + 192*320*9 = 552,960 | 1056*160 = 168,960
    # + 160*224*9 = 322,560 + 224*224*9 = 451,584 | 1056*128 = 135,168; x 49
    "inception5a": (2_205_696, 108_079_104, (1024, 7, 7)),  # 352 + 320 + 224 + 128
    # 5b on 1024: 1024*352 = 360,448 | 1024*192 = 196,608 + 552,960 | 196,608 + 192*224*9 = 387,072 + 451,584
    # | max pool, 1024*128 = 131,072; x 49
    "inception5b": (2_276_352, 111_541_248, (1024, 7, 7)),
    "fc": (1_024_000, 1_024_000, (1000, 1, 1)),             # 1,024 * 1,000
}
# 2,712 + 114,688 + 218,112 + 259,072 + 384,000 + 608,256 + 663,552 + 912,384 + 1,140,736 + 1,447,936
# + 2,205,696 + 2,276,352 + 1,024,000
TOTAL_WEIGHTS = 11_257_496
# 34,019,328 + 359,661,568 + 170,999,808 + 203,112,448 + 143,904,768 + 119,218,176 + 130,056,192
# + 178,827,264 + 223,584,256 + 164,577,280 + 108,079,104 + 111,541,248 + 1,024,000
TOTAL_MACS = 1_948_605_440
# conv output channels with batch norm (2 parameters each), all without bias: conv1 64 (the pointwise
# conv; its depthwise half, 24 maps, has no batch norm); conv2 64 + 192;
# 3a 64+64+64+64+96+96+32 = 480; 3b 544; 3c 128+160+64+96+96 = 544; 4a 864; 4b 896; 4c 1,024; 4d 1,088;
# 4e 128+192+192+256+256 = 1,024; 5a 1,600; 5b 1,632: in all 10,016
CONV_CHANNELS = 64 + 256 + 480 + 544 + 544 + 864 + 896 + 1024 + 1088 + 1024 + 1600 + 1632


@pytest.fixture(scope="module")
def bn():
    return analyze("bn-inception")


@pytest.mark.parametrize("name", list(ROWS))
def test_rows_by_hand(bn, name):
    weights, macs, out = ROWS[name]
    assert (bn[name].weights, bn[name].macs, bn[name].out_shape) == (weights, macs, out)


def test_totals_by_hand(bn):
    t = bn.totals.inference
    assert CONV_CHANNELS == 10_016
    assert sum(w for w, _, _ in ROWS.values()) == TOTAL_WEIGHTS == t.weights
    assert sum(m for _, m, _ in ROWS.values()) == TOTAL_MACS == t.macs
    assert t.bn == 2 * CONV_CHANNELS  # 20,032
    assert t.biases == 1_000          # the classifier's only; the paper drops the conv bias (Section 3.2)
    # params = 11,257,496 + 20,032 + 1,000 = 11,278,528: the "11.3M" usually quoted for BN-Inception.
    assert t.params == 11_278_528
    # The Caffe port has a dense 7x7 conv1 (3 * 64 * 49 = 9,408 weights, not 2,712: 6,696 more) and a
    # bias on every conv (10,016 more): 11,278,528 + 6,696 + 10,016 = 11,295,240, 11.3M too.
    assert t.params + (9_408 - 2_712) + CONV_CHANNELS == 11_295_240


def test_conv1_is_separable(bn):
    # depthwise: groups 3, 3 -> 24 maps (depth multiplier 8), no batch norm, no ReLU; pointwise 24 -> 64,
    # then batch norm and ReLU (as TF-Slim's separable_conv2d: normalizer and activation after the pointwise)
    depthwise, pointwise = load_spec("bn-inception").row("conv1").branches[0].layers
    assert (depthwise.groups, depthwise.out, depthwise.kernel, depthwise.stride, depthwise.pad) == (3, 24, (7, 7),
                                                                                                   (2, 2), (3, 3))
    assert (depthwise.bn, depthwise.relu, depthwise.bias) == (False, False, False)
    assert (pointwise.groups, pointwise.out, pointwise.kernel, pointwise.bn, pointwise.relu, pointwise.bias) == (
        1, 64, (1, 1), True, True, False)
    # conv1.0: 3/3 * 24 * 7 * 7 = 1,176 weights, 112*112 * 1,176 = 14,751,744 MACs, out 24x112x112
    assert (bn["conv1.0"].weights, bn["conv1.0"].macs, bn["conv1.0"].out_shape) == (1_176, 14_751_744, (24, 112, 112))
    # conv1.1: 24 * 64 = 1,536 weights, 112*112 * 1,536 = 19,267,584 MACs; batch norm 2 * 64 = 128
    assert (bn["conv1.1"].weights, bn["conv1.1"].macs, bn["conv1.1"].bn) == (1_536, 19_267_584, 128)
    assert bn["conv1"].params == 2_712 + 128  # 2,840: no bias, batch norm on the 64 outputs only


def test_stride_2_modules(bn):
    net = load_spec("bn-inception")
    for name in ("inception3c", "inception4e"):
        row = net.row(name)
        assert [b.name for b in row.branches] == ["branch2", "branch3", "branch4"]  # no 1x1 branch
        pool = row.branches[-1].layers
        assert len(pool) == 1 and pool[0].op == "max" and pool[0].stride == (2, 2)  # passes through
        assert row.branches[0].layers[-1].stride == (2, 2) and row.branches[1].layers[-1].stride == (2, 2)
    assert bn["inception3c.branch4"].out_shape == (320, 14, 14)  # 3b's 320 channels, halved map


def test_projections_are_average_pools_but_5b(bn):
    net = load_spec("bn-inception")
    ops = {r.name: r.branches[-1].layers[0].op for r in net.rows if r.inception}
    assert ops == {"inception3a": "avg", "inception3b": "avg", "inception3c": "max", "inception4a": "avg",
                   "inception4b": "avg", "inception4c": "avg", "inception4d": "avg", "inception4e": "max",
                   "inception5a": "avg", "inception5b": "max"}


def test_the_figure_disagrees_with_itself_on_4c_4d_4e(bn):
    # Figure 5's output-size column says 576 channels for 4c and 4d and 1024 for 4e; its branch columns
    # give 160 + 160 + 160 + 128 = 608, 96 + 192 + 192 + 128 = 608, 0 + 192 + 256 + 608 = 1,056. The spec
    # follows the branch columns; the report shows it.
    assert [bn[n].out_shape[0] for n in ("inception4c", "inception4d", "inception4e")] == [608, 608, 1056]
    assert bn["inception5a"].in_shape == (1056, 7, 7)


def test_every_size_concatenates():
    # the stride-2 pool pads 1 and rounds down, so it matches the 3x3/2 convs beside it at odd maps too:
    # at 199, conv1 floor(198/2)+1 = 100, pool1 ceil(97/2)+1 = 50, pool2 ceil(47/2)+1 = 25, 3c
    # floor((25+2-3)/2)+1 = 13 for both the convs and the pool
    assert analyze("bn-inception", 199)["inception3c"].out_shape == (576, 13, 13)


def test_branch1_switch_is_checked():
    from inception_calc import CalcError, network_from_dict

    row = {"name": "mix", "kind": "inception", "n3x3red": 4, "n3x3": 8, "n5x5red": 2, "n5x5": 4, "pool_proj": 4}
    net = network_from_dict({"name": "t", "rows": [{**row, "branch1": False}]})
    assert [b.name for b in net.row("mix").branches] == ["branch2", "branch3", "branch4"]
    with pytest.raises(CalcError, match="field 'n1x1': given, but the row has branch1 = false; remove n1x1"):
        network_from_dict({"name": "t", "rows": [{**row, "branch1": False, "n1x1": 8}]})
    with pytest.raises(CalcError, match="field 'n1x1': must be a positive integer, got 0"):
        network_from_dict({"name": "t", "rows": [{**row, "n1x1": 0}]})  # 0 is no way to drop the branch


def test_bn_variant_reaches_only_the_depthwise_conv1():
    # every conv of bn-inception has batch norm and no bias but conv1.0 (the depthwise half of the separable
    # conv): the bn variant adds batch norm there, 2 * 24 = 48 parameters, and changes nothing else
    plain, with_bn = analyze("bn-inception"), analyze("bn-inception:bn")
    assert with_bn["conv1.0"].bn == 48 and plain["conv1.0"].bn == 0
    assert with_bn.totals.inference.params == 11_278_528 + 48  # 11,278,576
    assert with_bn.totals.inference.macs == plain.totals.inference.macs
