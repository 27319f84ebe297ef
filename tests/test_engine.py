"""The engine against the seed article, the paper's Table 1, and a whole-network derivation written
out here from the paper's channel counts (never from the engine's own numbers)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import re

import pytest

from inception_calc import CalcError, analyze, load_spec, parse_input
from inception_calc.core.engine import smallest_input
from inception_calc.core.derivation import derivation
from inception_calc.report.analysis import to_csv, to_markdown, to_table
from inception_calc.core.results import DEPTHS

# --------------------------------------------------------------------------- the seed article, section 4


def test_inception3a_worked_example_branch_by_branch(googlenet):
    a = googlenet
    assert a["inception3a"].in_shape == (192, 28, 28)   # 28x28x192 in
    assert a["inception3a"].out_shape == (256, 28, 28)  # 64 + 128 + 32 + 32 = 256 channels out
    assert a["inception3a.branch1.0"].weights == 12_288   # 192 * 64 = 12,288
    assert a["inception3a.branch2.0"].weights == 18_432   # 192 * 96 = 18,432
    assert a["inception3a.branch2.1"].weights == 110_592  # 96 * 128 * 3 * 3 = 110,592
    assert a["inception3a.branch3.0"].weights == 3_072    # 192 * 16 = 3,072
    assert a["inception3a.branch3.1"].weights == 12_800   # 16 * 32 * 5 * 5 = 12,800
    assert a["inception3a.branch4.0"].weights == 0        # the 3x3 max pool has no weights
    assert a["inception3a.branch4.1"].weights == 6_144    # 192 * 32 = 6,144
    assert a["inception3a.branch1"].weights == 12_288
    assert a["inception3a.branch2"].weights == 129_024    # 18,432 + 110,592
    assert a["inception3a.branch3"].weights == 15_872     # 3,072 + 12,800
    assert a["inception3a.branch4"].weights == 6_144
    assert a["inception3a"].weights == 163_328  # 12,288 + 18,432 + 110,592 + 3,072 + 12,800 + 6,144
    assert a["inception3a"].macs == 128_049_152  # 28 * 28 * 163,328 = 784 * 163,328 (every conv keeps 28x28)
    assert a["inception3a"].biases == 368  # 64 + 96 + 128 + 16 + 32 + 32 (Caffe convs have biases)
    assert a["inception3a"].params == 163_696  # 163,328 + 368
    assert a["inception3a"].flops == 256_098_304  # 2 * 128,049,152
    assert [b.out_shape for b in a["inception3a"].children] == [
        (64, 28, 28), (128, 28, 28), (32, 28, 28), (32, 28, 28)]


def test_conv2_is_the_depth_two_row(googlenet):
    conv2 = googlenet["conv2"]
    assert conv2.weights == 114_688  # 64 * 64 * 1 * 1 + 64 * 192 * 3 * 3 = 4,096 + 110,592
    assert googlenet["conv2.0"].weights == 4_096
    assert googlenet["conv2.1"].weights == 110_592
    assert conv2.macs == 359_661_568  # 56 * 56 * 114,688 = 3,136 * 114,688
    assert (conv2.in_shape, conv2.out_shape) == ((64, 56, 56), (192, 56, 56))


TABLE1_OUTPUT_AT_224 = [  # the paper's Table 1, "output size" column (H x W x C)
    ("conv1", "112x112x64"), ("maxpool1", "56x56x64"), ("conv2", "56x56x192"), ("maxpool2", "28x28x192"),
    ("inception3a", "28x28x256"), ("inception3b", "28x28x480"), ("maxpool3", "14x14x480"),
    ("inception4a", "14x14x512"), ("inception4b", "14x14x512"), ("inception4c", "14x14x512"),
    ("inception4d", "14x14x528"), ("inception4e", "14x14x832"), ("maxpool4", "7x7x832"),
    ("inception5a", "7x7x832"), ("inception5b", "7x7x1024"), ("avgpool", "1x1x1024"), ("dropout", "1x1x1024"),
    ("fc", "1x1x1000"),
]


@pytest.mark.parametrize("row, hwc", TABLE1_OUTPUT_AT_224)
def test_output_sizes_match_table1(googlenet, row, hwc):
    h, w, c = (int(n) for n in hwc.split("x"))
    assert googlenet[row].out_shape == (c, h, w)


def test_table1_rows_chain(googlenet):
    """Each main row reads what the row before it gives."""
    main = [r for r in googlenet.rows if not r.aux]
    assert main[0].in_shape == (3, 224, 224)
    for before, after in zip(main, main[1:]):
        assert after.in_shape == before.out_shape, after.name


# --------------------------------------------------------------------------- sums at every depth


def _check_sums(node):
    if not node.children:
        return
    for q in ("weights", "biases", "bn", "macs"):
        assert getattr(node, q) == sum(getattr(c, q) for c in node.children), (node.name, q)
    if node.children[0].level == "branch":  # concat: every branch reads the row's input, channels add
        assert all(c.in_shape == node.in_shape for c in node.children), node.name
        assert node.out_shape[0] == sum(c.out_shape[0] for c in node.children), node.name
        assert all(c.out_shape[1:] == node.out_shape[1:] for c in node.children), node.name
    else:  # a sequence: each layer reads the one before it
        assert node.children[0].in_shape == node.in_shape, node.name
        assert node.children[-1].out_shape == node.out_shape, node.name
        for before, after in zip(node.children, node.children[1:]):
            assert after.in_shape == before.out_shape, after.name
    for child in node.children:
        _check_sums(child)


@pytest.mark.parametrize("size", ["3x224x224", "3x300x250"])
def test_children_add_up_to_rows_and_rows_to_totals(size):
    a = analyze("googlenet", size)
    for row in a.rows:
        _check_sums(row)
        assert row.activations == row.out_shape[0] * row.out_shape[1] * row.out_shape[2]
    for depth in DEPTHS:  # the nodes a report at this depth shows and does not split further add up too
        nodes = [n for r in a.rows for n in r.walk(depth)]
        assert {n.level for n in nodes} <= set(DEPTHS[: DEPTHS.index(depth) + 1])
        ends = [n for n in nodes if not any(DEPTHS.index(c.level) <= DEPTHS.index(depth) for c in n.children)]
        for q in ("weights", "biases", "bn", "macs"):
            assert sum(getattr(n, q) for n in ends) == getattr(a.totals.training, q), (depth, q)
            assert sum(getattr(n, q) for n in ends if not n.aux) == getattr(a.totals.inference, q), (depth, q)
    for q in ("weights", "biases", "bn", "macs", "activations"):
        assert getattr(a.totals.inference, q) == sum(getattr(r, q) for r in a.rows if not r.aux)
        assert getattr(a.totals.training, q) == sum(getattr(r, q) for r in a.rows)


# --------------------------------------------------------------------------- the whole network, derived here

# The paper's Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj; and the map level it runs at.
PAPER_INCEPTION_ROWS = [
    ("inception3a", 64, 96, 128, 16, 32, 32, 28),
    ("inception3b", 128, 128, 192, 32, 96, 64, 28),
    ("inception4a", 192, 96, 208, 16, 48, 64, 14),
    ("inception4b", 160, 112, 224, 24, 64, 64, 14),
    ("inception4c", 128, 128, 256, 24, 64, 64, 14),
    ("inception4d", 112, 144, 288, 32, 64, 64, 14),
    ("inception4e", 256, 160, 320, 32, 128, 128, 14),
    ("inception5a", 256, 160, 320, 32, 128, 128, 7),
    ("inception5b", 384, 192, 384, 48, 128, 128, 7),
]


def inception_weights(cin, n1x1, n3x3red, n3x3, n5x5red, n5x5, pool_proj):
    """1x1 | 1x1 then 3x3 | 1x1 then 5x5 | pool then 1x1, bias-free kernel elements."""
    return (n1x1 * cin + n3x3red * cin + 9 * n3x3red * n3x3 + n5x5red * cin + 25 * n5x5red * n5x5
            + pool_proj * cin)


def ceil_pool(x, k, s):
    """Caffe's ceil-rounded pool without padding (its last window always starts inside the map)."""
    return math.ceil((x - k) / s) + 1


def map_sizes(x):
    """One side of every stage's maps, for an input side x, by the paper's / Caffe's strides."""
    s = {}
    s["conv1"] = (x + 2 * 3 - 7) // 2 + 1           # 7x7/2 pad 3, rounds down
    s["maxpool1"] = ceil_pool(s["conv1"], 3, 2)      # 3x3/2 ceil
    s["maxpool2"] = ceil_pool(s["maxpool1"], 3, 2)   # conv2 keeps the size; then 3x3/2 ceil
    s["maxpool3"] = ceil_pool(s["maxpool2"], 3, 2)
    s["maxpool4"] = ceil_pool(s["maxpool3"], 3, 2)
    s["avgpool"] = ceil_pool(s["maxpool4"], 7, 1)    # 7x7/1
    s["aux"] = ceil_pool(s["maxpool3"], 5, 3)        # the heads' 5x5/3 average pool on the 14x14 level
    return s


LEVEL = {28: "maxpool2", 14: "maxpool3", 7: "maxpool4"}  # the pool whose output an inception row runs at


def derived_totals(h, w):
    """Weights, biases and MACs of GoogLeNet at 3 x h x w, from Table 1's channel counts."""
    sh, sw = map_sizes(h), map_sizes(w)
    area = {k: sh[k] * sw[k] for k in sh}
    weights = biases = macs = 0

    conv1 = 3 * 64 * 7 * 7                     # 9,408
    weights, biases, macs = weights + conv1, biases + 64, macs + area["conv1"] * conv1
    conv2 = 64 * 64 + 64 * 192 * 3 * 3         # reduce 1x1 64 + 3x3 192 = 114,688, at the maxpool1 size
    weights, biases, macs = weights + conv2, biases + 64 + 192, macs + area["maxpool1"] * conv2

    cin, outs = 192, {}
    for name, n1, r3, n3, r5, n5, pp, level in PAPER_INCEPTION_ROWS:
        row = inception_weights(cin, n1, r3, n3, r5, n5, pp)
        weights += row
        biases += n1 + r3 + n3 + r5 + n5 + pp
        macs += area[LEVEL[level]] * row        # every conv of a row keeps its map size
        cin = outs[name] = n1 + n3 + n5 + pp    # the concatenation
    fc = cin * area["avgpool"] * 1000          # 1024 * 1 * 1 * 1000 at 224
    weights, biases, macs = weights + fc, biases + 1000, macs + fc
    inference = {"weights": weights, "biases": biases, "macs": macs}

    for after in ("inception4a", "inception4d"):  # each head: avgpool 5x5/3, 1x1 conv 128, fc 1024, fc 1000
        conv = outs[after] * 128
        fc1 = 128 * area["aux"] * 1024
        fc2 = 1024 * 1000
        weights += conv + fc1 + fc2
        biases += 128 + 1024 + 1000
        macs += area["aux"] * conv + fc1 + fc2
    training = {"weights": weights, "biases": biases, "macs": macs}
    return inference, training


def test_derivation_reproduces_the_article_at_224():
    """The test's own derivation agrees with the paper where the paper gives numbers."""
    assert map_sizes(224)["conv1"] == 112 and map_sizes(224)["maxpool4"] == 7 and map_sizes(224)["avgpool"] == 1
    assert inception_weights(192, 64, 96, 128, 16, 32, 32) == 163_328


@pytest.mark.parametrize("h, w", [(224, 224), (300, 250)])
def test_whole_network_totals_match_the_derivation(h, w):
    a = analyze("googlenet", f"3x{h}x{w}")
    inference, training = derived_totals(h, w)
    for label, sums, expected in (("inference", a.totals.inference, inference),
                                  ("training", a.totals.training, training)):
        assert sums.weights == expected["weights"], label
        assert sums.biases == expected["biases"], label
        assert sums.bn == 0, label  # the Caffe network has no batch norm
        assert sums.params == expected["weights"] + expected["biases"], label
        assert sums.macs == expected["macs"], label
        assert sums.flops == 2 * expected["macs"], label


def test_non_square_input_sizes():
    a = analyze("googlenet", "3x300x250")
    # 300: (300 + 6 - 7) // 2 + 1 = 150; 250: 249 // 2 + 1 = 125
    assert a["conv1"].out_shape == (64, 150, 125)
    # 150 -> ceil(147/2)+1 = 75 -> 37 -> 18 -> 9;  125 -> ceil(122/2)+1 = 62 -> 31 -> 15 -> 7
    assert a["maxpool4"].out_shape == (832, 9, 7)
    assert a["avgpool"].out_shape == (1024, 3, 1)  # 9 - 7 + 1 = 3, 7 - 7 + 1 = 1
    assert a["fc"].weights == 3_072_000  # (1024 * 3 * 1) * 1000
    assert a["aux1"].children[0].out_shape == (512, 6, 5)  # ceil((18-5)/3)+1 = 6, ceil((15-5)/3)+1 = 5


# --------------------------------------------------------------------------- one number, every output


def test_inception3a_in_every_output_format(googlenet):
    a = googlenet
    table_line = next(l for l in to_table(a).splitlines() if l.startswith("inception3a "))
    cells = table_line.split()
    assert cells[-7:] == ["28x28x192", "28x28x256", "163,328", "163,696", "128,049,152", "8.1%", "200,704"]
    # MACs %: 128,049,152 / 1,582,671,872 (inference total, derived below) = 8.09%; 28 * 28 * 256 = 200,704

    md_line = next(l for l in to_markdown(a).splitlines() if l.startswith("| inception3a |"))
    cells = [c.strip() for c in re.split(r"(?<!\\)\|", md_line.strip("|"))]  # the summary escapes its '|'
    assert cells[1] == r"1x1 64 \| 1x1 96 > 3x3 128 \| 1x1 16 > 5x5 32 \| maxpool 3x3 > 1x1 32"
    assert cells[2:7] == ["28x28x192", "28x28x256", "163,328", "163,696", "128,049,152"]

    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(to_csv(a, depth="branch")))}
    r = rows["inception3a"]
    assert (r["in_c"], r["in_h"], r["out_c"], r["out_w"]) == ("192", "28", "256", "28")
    assert (int(r["weights"]), int(r["macs"])) == (163_328, 128_049_152)
    assert [int(rows[f"inception3a.branch{i}"]["weights"]) for i in (1, 2, 3, 4)] == [
        12_288, 129_024, 15_872, 6_144]  # 12,288 | 18,432 + 110,592 | 3,072 + 12,800 | 6,144

    data = json.loads(a.to_json(depth="conv"))
    row = next(r for r in data["rows"] if r["name"] == "inception3a")
    assert (row["in_shape"], row["out_shape"]) == ([192, 28, 28], [256, 28, 28])
    assert (row["weights"], row["macs"]) == (163_328, 128_049_152)
    assert [[layer["weights"] for layer in b["layers"]] for b in row["branches"]] == [
        [12_288], [18_432, 110_592], [3_072, 12_800], [0, 6_144]]

    text = derivation(a, "inception3a")
    assert "28x28x192 -> 28x28x256" in text
    for step in ("192 x 64 x 1 x 1 = 12,288", "192 x 96 x 1 x 1 = 18,432", "96 x 128 x 3 x 3 = 110,592",
                 "192 x 16 x 1 x 1 = 3,072", "16 x 32 x 5 x 5 = 12,800", "192 x 32 x 1 x 1 = 6,144",
                 "64 + 128 + 32 + 32 = 256 channels",
                 "weights = 12,288 + 18,432 + 110,592 + 3,072 + 12,800 + 6,144 = 163,328"):
        assert step in text, step
    assert text.splitlines()[-4].endswith("= 128,049,152")  # the MACs sum line

    pytest.importorskip("pandas")  # the pandas extra: the rest needs it
    df = a.to_dataframe(depth="conv")
    assert df.loc["inception3a", "weights"] == 163_328 and df.loc["inception3a", "macs"] == 128_049_152
    assert df.loc["inception3a", "in_shape"] == (192, 28, 28)
    assert df.loc["inception3a.branch2.1", "weights"] == 110_592
    assert df.loc["inception3a.branch3.1", "weights"] == 12_800


def test_explain_shows_a_dropped_last_window(tmp_path):
    spec = tmp_path / "drop.toml"
    spec.write_text('name = "drop"\ninput = [1, 5, 6]\n[[rows]]\nname = "pool"\nkind = "maxpool"\n'
                    'kernel = 2\nstride = 2\npad = 1\nrounding = "ceil"\n')
    text = derivation(analyze(str(spec)), "pool")
    # height: ceil((5 + 2 - 2) / 2) + 1 = 4, less the window starting at 3 * 2 = 6 >= 5 + 1: 3
    assert ("ceil((5 + 2*1 - 2) / 2) + 1 - 1 (the last window would start in the padding: 3 x 2 >= 5 + 1) = 3 "
            "(height)") in text
    # width: ceil((6 + 2 - 2) / 2) + 1 = 4, and 3 * 2 = 6 < 6 + 1 keeps it
    assert "ceil((6 + 2*1 - 2) / 2) + 1 = 4 (width)" in text


def test_totals_in_every_output_format(googlenet):
    a = googlenet
    inference, training = derived_totals(224, 224)
    total_line = next(l for l in to_table(a).splitlines() if l.startswith("total (inference)"))
    assert f"{inference['weights']:,}" in total_line and f"{inference['macs']:,}" in total_line
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(to_csv(a)))}
    assert int(rows["total.inference"]["macs"]) == inference["macs"]
    assert int(rows["total.training"]["weights"]) == training["weights"]
    data = json.loads(a.to_json())
    assert data["totals"]["inference"]["params"] == inference["weights"] + inference["biases"]
    assert data["totals"]["training"]["macs"] == training["macs"]
    pytest.importorskip("pandas")  # the pandas extra: the rest needs it
    df = a.to_dataframe(aux=True)
    assert df["macs"].sum() == training["macs"] and df[~df["aux"]]["weights"].sum() == inference["weights"]


# --------------------------------------------------------------------------- inputs, warnings, limits


@pytest.mark.parametrize("given, expected", [
    (224, (3, 224, 224)),
    ("224", (3, 224, 224)),
    ("299x299", (3, 299, 299)),
    ("300x250", (3, 300, 250)),
    ("3x299x299", (3, 299, 299)),
    ("1X224X224", (1, 224, 224)),
    ("3×224×224", (3, 224, 224)),
    ("3,224,224", (3, 224, 224)),
    ([3, 300, 250], (3, 300, 250)),
    ((3, 224, 224), (3, 224, 224)),
])
def test_parse_input_forms(given, expected):
    assert parse_input(given) == expected


@pytest.mark.parametrize("given", ["", "abc", "3x", "0", "-224", "3x0x224", "1x2x3x4", True, 2.5, [3, "a", 2], []])
def test_parse_input_rejects(given):
    with pytest.raises(CalcError, match="input"):
        parse_input(given)


def test_input_forms_agree():
    by_int = analyze("googlenet", 299)
    assert analyze("googlenet", "3x299x299").totals == by_int.totals == analyze("googlenet", "299x299").totals
    assert by_int.input == (3, 299, 299)


def _pool_rounding_differs(x, k, s):
    return (x - k) % s != 0  # ceil and floor of (x - k) / s differ


def test_rounding_warnings_at_224(googlenet):
    # conv1 gives 112, then 56, 28, 14: every (x - 3) is odd, so each 3x3/2 pool's ceil gains one pixel
    assert googlenet.warnings == (
        "maxpool1: ceil rounding gives 56x56, floor would give 55x55",   # floor(109/2)+1 = 55
        "maxpool2: ceil rounding gives 28x28, floor would give 27x27",   # floor(53/2)+1 = 27
        "maxpool3: ceil rounding gives 14x14, floor would give 13x13",   # floor(25/2)+1 = 13
        "maxpool4: ceil rounding gives 7x7, floor would give 6x6",       # floor(11/2)+1 = 6
    )  # the heads' 5x5/3 pool sees 14: (14 - 5) / 3 = 3 exactly, no warning
    assert "note: maxpool1: ceil rounding gives 56x56, floor would give 55x55" in to_table(googlenet)


def test_rounding_warnings_follow_the_input():
    def warned(h, w):
        sh, sw = map_sizes(h), map_sizes(w)
        names = set()
        for pool, before in (("maxpool1", "conv1"), ("maxpool2", "maxpool1"), ("maxpool3", "maxpool2"),
                             ("maxpool4", "maxpool3")):
            if _pool_rounding_differs(sh[before], 3, 2) or _pool_rounding_differs(sw[before], 3, 2):
                names.add(pool)
        if _pool_rounding_differs(sh["maxpool3"], 5, 3) or _pool_rounding_differs(sw["maxpool3"], 5, 3):
            names |= {"aux1.pool", "aux2.pool"}
        return names

    quiet = next(n for n in range(224, 1000) if not warned(n, n))
    a = analyze("googlenet", quiet)
    assert a.warnings == a.sized_weights  # no rounding note (fc's weights at this size: tests/test_readable.py)
    a = analyze("googlenet", "3x300x250")
    assert {w.split(":")[0] for w in a.warnings if w not in a.sized_weights} == warned(300, 250)
    # 18 and 15 on the 14x14 level: ceil gives 6x5, floor gives floor(13/3)+1 = 5 by floor(10/3)+1 = 4
    assert "aux1.pool: ceil rounding gives 6x5, floor would give 5x4" in a.warnings


def test_smallest_input():
    def fits(n):  # every pooling window fits the map it reads (the convs' padding always lets them fit)
        s = map_sizes(n)
        return (min(s["conv1"], s["maxpool1"], s["maxpool2"]) >= 3  # 3x3/2 pools
                and s["maxpool3"] >= 5                               # the heads' 5x5 pool (and maxpool4's 3x3)
                and s["maxpool4"] >= 7)                              # the final 7x7 average pool

    expected = next(n for n in range(1, 1000) if fits(n))  # 223: conv1 gives 112 as at 224; 222 gives 111
    network = load_spec("googlenet")
    assert smallest_input(network) == expected == 223
    analyze("googlenet", expected)
    with pytest.raises(CalcError, match=rf"avgpool.*3x{expected}x{expected}"):
        analyze("googlenet", expected - 1)


# --------------------------------------------------------------------------- frozen results


def test_results_are_frozen(googlenet):
    a = googlenet
    row = a["inception3a"]
    for obj, field in ((row, "weights"), (a["inception3a.branch2"], "macs"), (a["inception3a.branch2.1"], "name"),
                       (a.totals, "inference"), (a.totals.inference, "weights"), (a, "rows"),
                       (a.network, "rows"), (a.network.rows[0], "name")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, field, 0)
    assert isinstance(a.rows, tuple) and isinstance(row.children, tuple)
    assert isinstance(row.in_shape, tuple) and isinstance(a.input, tuple)


def test_analysis_is_repeatable_and_cache_safe():
    first = analyze("googlenet")
    again = analyze(load_spec("googlenet"), (3, 224, 224))
    assert first.rows == again.rows and first.totals == again.totals
    other = analyze("googlenet", 300)
    assert other.totals != first.totals and analyze("googlenet").totals == first.totals


def test_unknown_node_name(googlenet):
    with pytest.raises(KeyError):
        googlenet["inception3z"]
    assert googlenet.names("layer")[:3] == ["conv1", "maxpool1", "lrn1"]
    assert "inception3a.branch2.1" in googlenet.names("conv")
