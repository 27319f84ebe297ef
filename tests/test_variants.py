"""Variants: Inception(3a) reduced vs naive vs no-reduce by hand, the naive width growth, the
factorized-5x5, bn and width=F totals by hand, spec-file variants, and every refusal."""

from __future__ import annotations

from fractions import Fraction

import pytest

from inception_calc import CalcError, analyze, load_spec, network_from_dict
from inception_calc.cli.main import main
from inception_calc.core.formulas import scaled_channels
from inception_calc.report.analysis import render
from inception_calc.core.variants import parse_variants

HW_28 = 28 * 28  # Inception(3a) and (3b) run on 28x28 maps: 784 output pixels per conv


@pytest.fixture(scope="module")
def three():
    return {name: analyze(f"googlenet{suffix}")
            for name, suffix in (("reduced", ""), ("naive", ":naive"), ("no-reduce", ":no-reduce"))}


# ----------------------------------------------------------------------------- Inception(3a), branch by branch

# (weights, MACs) of each branch at 28x28x192, in the three forms (seed article, section 4; Figure 2):
INCEPTION_3A = {
    "reduced": {
        "branch1": (12_288, 9_633_792),     # 192 * 64 = 12,288;                      784 * 12,288 = 9,633,792
        "branch2": (129_024, 101_154_816),  # 192 * 96 = 18,432; 96 * 128 * 9 = 110,592; sum 129,024; x 784
        "branch3": (15_872, 12_443_648),    # 192 * 16 = 3,072; 16 * 32 * 25 = 12,800; sum 15,872; x 784
        "branch4": (6_144, 4_816_896),      # pool, then 192 * 32 = 6,144;            784 * 6,144 = 4,816,896
    },
    "naive": {
        "branch1": (12_288, 9_633_792),     # unchanged
        "branch2": (221_184, 173_408_256),  # 3x3 on all 192 channels: 192 * 128 * 9 = 221,184; x 784
        "branch3": (153_600, 120_422_400),  # 5x5 on all 192 channels: 192 * 32 * 25 = 153,600; x 784
        "branch4": (0, 0),                  # the pool's 192 channels pass through: no weights
    },
    "no-reduce": {
        "branch1": (12_288, 9_633_792),
        "branch2": (221_184, 173_408_256),  # as naive
        "branch3": (153_600, 120_422_400),  # as naive
        "branch4": (6_144, 4_816_896),      # the projection stays, as reduced
    },
}
OUT_CHANNELS_3A = {"reduced": 256, "naive": 416, "no-reduce": 256}  # 64+128+32+32; 64+128+32+192; 64+128+32+32
TOTAL_3A = {"reduced": (163_328, 128_049_152),    # 12,288 + 129,024 + 15,872 + 6,144 = 163,328; x 784
            "naive": (387_072, 303_464_448),      # 12,288 + 221,184 + 153,600 + 0 = 387,072; x 784
            "no-reduce": (393_216, 308_281_344)}  # 12,288 + 221,184 + 153,600 + 6,144 = 393,216; x 784


@pytest.mark.parametrize("form", list(INCEPTION_3A))
def test_inception3a_branch_by_branch(three, form):
    row = three[form]["inception3a"]
    assert row.in_shape == (192, 28, 28)
    for branch, (weights, macs) in INCEPTION_3A[form].items():
        node = three[form][f"inception3a.{branch}"]
        assert (node.weights, node.macs) == (weights, macs), branch
        assert node.macs == HW_28 * node.weights  # every conv of the module runs at 28x28, stride 1
    assert (row.weights, row.macs) == TOTAL_3A[form]
    assert row.out_shape == (OUT_CHANNELS_3A[form], 28, 28)


def test_inception3a_ratios(three):
    def ratio(form, branch):
        return Fraction(three[form][f"inception3a.{branch}"].weights,
                        three["reduced"][f"inception3a.{branch}"].weights)

    # the 3x3 without its reduction: 221,184 / 129,024 = (12 * 18,432) / (7 * 18,432) = 12/7, x1.71
    assert ratio("naive", "branch2") == ratio("no-reduce", "branch2") == Fraction(12, 7)
    # the 5x5 without its reduction: 153,600 / 15,872 = (300 * 512) / (31 * 512) = 300/31, x9.68
    assert ratio("naive", "branch3") == Fraction(300, 31)
    # the module: 387,072 / 163,328 = 2.37 (naive); 393,216 / 163,328 = 2.41 (no-reduce); MACs alike (all at 28x28)
    assert three["naive"]["inception3a"].macs / three["reduced"]["inception3a"].macs == pytest.approx(387_072 / 163_328)
    assert three["no-reduce"]["inception3a"].weights / three["reduced"]["inception3a"].weights == \
        pytest.approx(393_216 / 163_328)


def test_layers_keep_their_names_without_the_reduction(three):
    # the 3x3 is inception3a.branch2.1 with or without the 1x1 before it, so comparisons align by name
    assert three["reduced"]["inception3a.branch2.1"].summary == three["naive"]["inception3a.branch2.1"].summary
    assert "inception3a.branch2.0" not in three["naive"].names()
    assert three["naive"]["inception3a.branch3.1"].weights == 153_600  # 192 * 32 * 25


# ----------------------------------------------------------------------------- the naive network widens row by row

# out channels = n1x1 + n3x3 + n5x5 + (input channels, passed through by the pool), from Table 1:
NAIVE_WIDTHS = [
    ("inception3a", 192, 416),    # 64 + 128 + 32 + 192 = 416
    ("inception3b", 416, 832),    # 128 + 192 + 96 + 416 = 832
    ("inception4a", 832, 1280),   # 192 + 208 + 48 + 832 = 1,280
    ("inception4b", 1280, 1728),  # 160 + 224 + 64 + 1,280 = 1,728
    ("inception4c", 1728, 2176),  # 128 + 256 + 64 + 1,728 = 2,176
    ("inception4d", 2176, 2640),  # 112 + 288 + 64 + 2,176 = 2,640
    ("inception4e", 2640, 3344),  # 256 + 320 + 128 + 2,640 = 3,344
    ("inception5a", 3344, 4048),  # 256 + 320 + 128 + 3,344 = 4,048
    ("inception5b", 4048, 4944),  # 384 + 384 + 128 + 4,048 = 4,944
]


def test_naive_widths_grow_row_by_row(three):
    naive = three["naive"]
    for name, cin, cout in NAIVE_WIDTHS:
        assert (naive[name].in_shape[0], naive[name].out_shape[0]) == (cin, cout), name
    assert naive["fc"].weights == 4_944_000  # 4,944 * 1,000: the classifier sees the widened map too
    # no-reduce keeps every row's width: the same shapes as the reduced network, row by row
    assert [r.out_shape for r in three["no-reduce"].rows] == [r.out_shape for r in three["reduced"].rows]


def test_naive_inception3b_by_hand(three):
    row = three["naive"]["inception3b"]
    # 416 * 128 = 53,248; 416 * 192 * 9 = 718,848; 416 * 96 * 25 = 998,400; sum 1,770,496
    assert row.weights == 1_770_496
    assert row.macs == HW_28 * 1_770_496  # = 1,388,068,864


def test_report_shows_the_growth(three):
    text = render(three["naive"])
    assert "googlenet:naive" in text.splitlines()[0]
    for shape in ("28x28x416", "28x28x832", "14x14x832", "14x14x1280", "7x7x3344", "7x7x4944"):
        assert shape in text


# ----------------------------------------------------------------------------- factorized-5x5, bn, width by hand

# The paper's Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj; the map side the row runs at.
TABLE1_INCEPTION = [
    (64, 96, 128, 16, 32, 32, 28), (128, 128, 192, 32, 96, 64, 28),                                 # 3a, 3b
    (192, 96, 208, 16, 48, 64, 14), (160, 112, 224, 24, 64, 64, 14), (128, 128, 256, 24, 64, 64, 14),
    (112, 144, 288, 32, 64, 64, 14), (256, 160, 320, 32, 128, 128, 14),                               # 4a-4e
    (256, 160, 320, 32, 128, 128, 7), (384, 192, 384, 48, 128, 128, 7),                               # 5a, 5b
]


def googlenet_by_hand(factor=Fraction(1), factorized=False):
    """(weights, MACs, conv output channels) of GoogLeNet's main rows at 224, from Table 1's columns.

    c(n) = n * factor for every channel count (exact at 1/2: every count is even); the image's 3
    channels and the 1,000 classes stay. conv1: 3 * c(64) * 49 at 112x112; conv2: c(64) * c(64) +
    c(64) * c(192) * 9 at 56x56; an Inception row on cin channels: cin * (n1 + r3 + r5 + pp) + 9 * r3 * n3
    + 25 * r5 * n5, or with factorized 5x5s 9 * r5 * n5 + 9 * n5 * n5 (two 3x3, the middle one n5 wide),
    at 28x28, 14x14 or 7x7; its output n1 + n3 + n5 + pp channels; fc: c(1024) * 1000 at 1x1.
    """
    def c(n):
        assert n * factor == int(n * factor)
        return int(n * factor)

    conv1, conv2 = 3 * c(64) * 49, c(64) * c(64) + c(64) * c(192) * 9
    weights, macs, channels, cin = conv1 + conv2, 112 * 112 * conv1 + 56 * 56 * conv2, c(64) + c(64) + c(192), c(192)
    for n1, r3, n3, r5, n5, pp, side in TABLE1_INCEPTION:
        n1, r3, n3, r5, n5, pp = (c(n) for n in (n1, r3, n3, r5, n5, pp))
        branch3 = 9 * r5 * n5 + 9 * n5 * n5 if factorized else 25 * r5 * n5
        row = cin * (n1 + r3 + r5 + pp) + 9 * r3 * n3 + branch3
        weights, macs = weights + row, macs + side * side * row
        channels += n1 + r3 + n3 + r5 + n5 + pp + (n5 if factorized else 0)
        cin = n1 + n3 + n5 + pp
    return weights + cin * 1000, macs + cin * 1000, channels


def test_googlenet_by_hand_is_the_paper_network():
    # the helper at factor 1 gives the totals tests/test_engine.py derives: 6,990,272 weights, 1,582,671,872 MACs
    # and 7,280 conv output channels (64 + 64 + 192 + Table 1's columns, row by row)
    assert googlenet_by_hand() == (6_990_272, 1_582_671_872, 7_280)

# Per row (map side, r = n5x5red, o = n5x5): the 5x5 weights 25 r o become 9 r o + 9 o o (middle layer o wide).
FACTORIZED = [
    (28, 16, 32),    # 3a: 12,800 -> 4,608 + 9,216 = 13,824 (+1,024)
    (28, 32, 96),    # 3b: 76,800 -> 27,648 + 82,944 = 110,592 (+33,792)
    (14, 16, 48),    # 4a: 19,200 -> 6,912 + 20,736 = 27,648 (+8,448)
    (14, 24, 64),    # 4b: 38,400 -> 13,824 + 36,864 = 50,688 (+12,288)
    (14, 24, 64),    # 4c: as 4b (+12,288)
    (14, 32, 64),    # 4d: 51,200 -> 18,432 + 36,864 = 55,296 (+4,096)
    (14, 32, 128),   # 4e: 102,400 -> 36,864 + 147,456 = 184,320 (+81,920)
    (7, 32, 128),    # 5a: as 4e (+81,920)
    (7, 48, 128),    # 5b: 153,600 -> 55,296 + 147,456 = 202,752 (+49,152)
]


def test_factorized_5x5_totals():
    base = analyze("googlenet").totals.inference
    fact = analyze("googlenet:factorized-5x5").totals.inference
    extra_weights = sum(9 * r * o + 9 * o * o - 25 * r * o for _, r, o in FACTORIZED)
    extra_macs = sum(side * side * (9 * r * o + 9 * o * o - 25 * r * o) for side, r, o in FACTORIZED)
    assert extra_weights == 284_928  # 1,024 + 33,792 + 8,448 + 12,288 + 12,288 + 4,096 + 81,920 + 81,920 + 49,152
    assert extra_macs == 57_050_112  # 784 * 34,816 + 196 * 119,040 + 49 * 131,072
    assert fact.weights - base.weights == extra_weights
    assert fact.macs - base.macs == extra_macs
    assert fact.biases - base.biases == 752  # one middle layer per row: 32+96+48+64+64+64+128+128+128 = 752
    # absolute: 6,990,272 + 284,928 = 7,275,200 weights; 1,582,671,872 + 57,050,112 = 1,639,721,984 MACs
    weights, macs, channels = googlenet_by_hand(factorized=True)
    assert (weights, macs) == (7_275_200, 1_639_721_984) == (fact.weights, fact.macs)
    assert fact.biases == channels + 1_000 == 7_280 + 752 + 1_000  # a bias per conv channel, and the fc's


def test_factorized_5x5_inception3a_against_the_72_percent_rule():
    a = analyze("googlenet:factorized-5x5")
    assert a["inception3a.branch3"].summary == "1x1 16 > 3x3 32 > 3x3 32"
    assert a["inception3a.branch3.1"].weights == 4_608   # 16 * 32 * 9
    assert a["inception3a.branch3.2"].weights == 9_216   # 32 * 32 * 9
    # two 3x3 / one 5x5 = 9 o (r + o) / (25 r o) = 9 (16 + 32) / (25 * 16) = 432/400 = 108%, not the
    # (9 + 9) / 25 = 72% that holds when r = o
    ratio = Fraction(4_608 + 9_216, 16 * 32 * 25)
    assert ratio == Fraction(9 * (16 + 32), 25 * 16) == Fraction(27, 25)
    assert Fraction(9 * (32 + 32), 25 * 32) == Fraction(18, 25)  # r = o: the rule of thumb, 72%


def test_bn_totals():
    base = analyze("googlenet").totals.inference
    bn = analyze("googlenet:bn").totals.inference
    # conv outputs of the main rows: conv1 64; conv2 64 + 192; Inception rows n1x1 + n3x3red + n3x3 + n5x5red
    # + n5x5 + pool_proj: 368, 640, 624, 648, 664, 704, 1,024, 1,024, 1,264; in all 7,280
    conv_channels = 64 + 256 + 368 + 640 + 624 + 648 + 664 + 704 + 1024 + 1024 + 1264
    assert conv_channels == 7_280
    assert base.biases == conv_channels + 1_000  # conv biases, and the fc's 1,000
    assert (bn.weights, bn.macs) == (base.weights, base.macs)  # batch norm adds no weights and no MACs
    assert bn.biases == 1_000  # only the linear layer keeps its bias
    assert bn.bn == 2 * conv_channels == 14_560
    assert bn.params == base.weights + 1_000 + 14_560  # 6,990,272 + 1,000 + 14,560 = 7,005,832
    # absolute, from Table 1 alone: weights + 2 * 7,280 batch-norm + 1,000 fc biases
    weights, _, channels = googlenet_by_hand()
    assert (bn.bn, bn.biases) == (2 * channels, 1_000) == (14_560, 1_000)
    assert bn.params == weights + 2 * channels + 1_000 == 7_005_832
    layer = load_spec("googlenet:bn").row("inception3a").branches[1].layers[1]
    assert (layer.bias, layer.bn) == (False, True)


def test_width_half_totals():
    base = analyze("googlenet")
    half = analyze("googlenet:width=0.5")
    # every channel count of GoogLeNet is even, so x0.5 is exact: a conv between two scaled widths keeps
    # a quarter of its weights; conv1 (3 input channels, 64 -> 32 outputs) and fc (1,024 -> 512 inputs,
    # 1,000 classes kept) keep half
    conv1, fc = base["conv1"], base["fc"]
    middle_w = base.totals.inference.weights - conv1.weights - fc.weights  # 6,990,272 - 9,408 - 1,024,000
    middle_m = base.totals.inference.macs - conv1.macs - fc.macs
    assert half.totals.inference.weights == conv1.weights // 2 + middle_w // 4 + fc.weights // 2  # 2,005,920
    assert half.totals.inference.macs == conv1.macs // 2 + middle_m // 4 + fc.macs // 2  # 425,427,456
    # absolute, from Table 1 with every column halved: conv1 3 * 32 * 49 = 4,704; conv2 32 * 32 + 32 * 96 * 9
    # = 28,672; 3a on 96: 96 * (32 + 48 + 8 + 16) + 9 * 48 * 64 + 25 * 8 * 16 = 40,832 (163,328 / 4); ...;
    # fc 512 * 1,000 = 512,000
    weights, macs, _ = googlenet_by_hand(Fraction(1, 2))
    assert (weights, macs) == (2_005_920, 425_427_456)
    assert (half.totals.inference.weights, half.totals.inference.macs) == (weights, macs)
    assert half["fc"].out_shape == (1000, 1, 1)
    assert half["inception3a"].out_shape == (128, 28, 28)  # 32 + 64 + 16 + 16


def test_width_keeps_every_classifier():
    half = analyze("googlenet:width=0.5")
    aux = half["aux1"]
    # aux1: avgpool, conv 128 -> 64, fc 1024 -> 512, dropout, classifier 1000 kept
    assert [c.out_shape[0] for c in aux.children] == [256, 64, 512, 512, 1000]


# (column, width) -> scaled: C * F rounded half up, at least 1
ROUNDING = [
    ("n5x5red", 16, "0.03125", 1),   # 16 / 32 = 0.5 -> 1 (half up)
    ("n1x1", 112, "0.03125", 4),     # 112 / 32 = 3.5 -> 4 (half up; round() gives 4 too)
    ("n3x3red", 144, "0.03125", 5),  # 144 / 32 = 4.5 -> 5 (half up; round() would give 4)
    ("n3x3", 208, "0.03125", 7),     # 208 / 32 = 6.5 -> 7
    ("n5x5red", 16, "0.01", 1),      # 0.16 rounds to 0: at least 1
    ("n3x3", 128, "1/3", 43),        # 42.67 -> 43 (a fraction is read exactly)
]


@pytest.mark.parametrize("column, channels, factor, expected", ROUNDING)
def test_width_rounding(column, channels, factor, expected):
    assert scaled_channels(channels, Fraction(factor)) == expected
    network = load_spec(f"googlenet:width={factor}")
    row = next(r for r in network.rows if r.inception and dict(load_spec("googlenet").row(r.name).columns)[column]
               == channels)
    assert dict(row.columns)[column] == expected


def test_width_rounds_half_up_on_odd_counts():
    spec = {"name": "odd", "input": [3, 8, 8],
            "rows": [{"name": "a", "kind": "conv", "out": 5, "kernel": 1},
                     {"name": "b", "kind": "conv", "out": 3, "kernel": 1},
                     {"name": "fc", "kind": "linear", "out": 7}]}
    a = analyze(network_from_dict({**spec, "variants": ["width=0.5"]}))
    # 5 x 0.5 = 2.5 -> 3 (Python's round() would give 2); 3 x 0.5 = 1.5 -> 2; the classifier keeps 7
    assert [r.out_shape[0] for r in a.rows] == [3, 2, 7]
    assert scaled_channels(0, Fraction(1, 2)) == 0  # nothing stays nothing


# ----------------------------------------------------------------------------- spec files

def test_variants_in_a_spec_file(tmp_path):
    (tmp_path / "naive.toml").write_text('base = "googlenet"\nvariants = ["naive"]\n', encoding="utf-8")
    (tmp_path / "chain.toml").write_text('base = "naive.toml"\nvariants = ["bn"]\nname = "mine"\n', encoding="utf-8")
    naive = analyze(str(tmp_path / "naive.toml"))
    assert naive.spec == "googlenet:naive"
    assert naive["inception3a"].out_shape == (416, 28, 28)
    chained = analyze(str(tmp_path / "chain.toml"))
    assert chained.spec == "mine"
    assert chained.totals.inference.bn > 0 and chained["inception3b"].in_shape == (416, 28, 28)
    # and the command-line form on a file
    assert analyze(f"{tmp_path / 'naive.toml'}:bn").spec == "googlenet:naive:bn"


def test_spec_base_refusals(tmp_path):
    (tmp_path / "self.toml").write_text('base = "self.toml"\n', encoding="utf-8")
    with pytest.raises(CalcError, match="leads back to a spec already on the way here"):
        load_spec(str(tmp_path / "self.toml"))
    (tmp_path / "both.toml").write_text('base = "googlenet"\n[[rows]]\nname = "a"\nkind = "conv"\nout = 1\nkernel = 1\n',
                                        encoding="utf-8")
    with pytest.raises(CalcError, match="given beside 'base'"):
        load_spec(str(tmp_path / "both.toml"))
    (tmp_path / "bad.toml").write_text('base = "googlenet"\nvariants = ["bogus"]\n', encoding="utf-8")
    with pytest.raises(CalcError, match="field 'variants': unknown variant 'bogus'"):
        load_spec(str(tmp_path / "bad.toml"))


# ----------------------------------------------------------------------------- refusals: one line, exit 2

REFUSALS = [
    ("googlenet:nope", "unknown variant 'nope'; known variants: naive, no-reduce, factorized-5x5, bn, width=F"),
    ("googlenet:facorized-5x5", "did you mean 'factorized-5x5'?"),
    ("googlenet:width=0", "the factor must be greater than 0, got 0"),
    ("googlenet:width=-0.5", "the factor must be greater than 0, got -0.5"),
    ("googlenet:width=abc", "cannot read the factor 'abc'"),
    ("googlenet:width=nan", "cannot read the factor 'nan'"),
    ("googlenet:width", "width needs a value"),
    ("googlenet:naive=2", "naive takes no value"),
    ("googlenet:", "no variant given"),
    ("googlenet:bn,,naive", "empty variant"),
    ("googlenet:naive,naive", "variant 'googlenet:naive', row 'inception3a': it is naive already"),
    ("googlenet:no-reduce,no-reduce", "row 'inception3a': it has no 1x1 reductions already"),
    ("bn-inception:factorized-5x5", "row 'inception3a': it has no 5x5 branch to factorize"),
    ("googlenet-torchvision:bn", "every conv has batch norm and no bias already"),
]


@pytest.mark.parametrize("spec, message", REFUSALS)
def test_refusals(spec, message, capsys):
    assert main(["report", spec]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_naive_needs_inception_rows(tmp_path, capsys):
    plain = tmp_path / "plain.toml"
    plain.write_text('name = "plain"\n[[rows]]\nname = "c"\nkind = "conv"\nout = 8\nkernel = 3\n', encoding="utf-8")
    assert main(["report", f"{plain}:naive", "--input", "16"]) == 2
    assert "variant 'plain:naive': plain has no inception rows" in capsys.readouterr().err


def test_factorized_needs_a_real_5x5(tmp_path, capsys):
    # torchvision's GoogLeNet runs a 3x3 in its "5x5" branch: nothing to factorize, and the row is named
    spec = tmp_path / "tv.toml"
    spec.write_text('name = "tv"\n[[rows]]\nname = "mixed"\nkind = "inception"\nn1x1 = 4\nn3x3red = 4\nn3x3 = 4\n'
                    'n5x5red = 4\nn5x5 = 4\npool_proj = 4\nkernel5x5 = 3\n', encoding="utf-8")
    assert main(["report", f"{spec}:factorized-5x5", "--input", "8"]) == 2
    assert "row 'mixed': its '5x5' branch has a 3x3 kernel (kernel5x5 = 3)" in capsys.readouterr().err


def test_parse_variants_keeps_order():
    assert [v.text for v in parse_variants("bn, width=3/4,naive")] == ["bn", "width=3/4", "naive"]
    assert analyze("googlenet:bn,width=0.5").spec == "googlenet:bn,width=0.5"
