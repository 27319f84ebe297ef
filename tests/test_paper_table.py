"""The paper's Table 1 against the channel counts: the rule, verdicts worked out by hand for rows of
each kind (consistent, consistent only with the slack, inconsistent, explained by an alternative),
the renderings, and a malformed data file.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from inception_calc import analyze
from inception_calc.core import formulas as f
from inception_calc.cli.main import main
from inception_calc.core.errors import CalcError
from inception_calc.core.sources import network_from_dict
from inception_calc.studies.paper_table import DATA, agreement, judge, paper_table, row_columns, row_depth, row_patch


@pytest.fixture(scope="module")
def table():
    return paper_table()


def row(table, name):
    return next(r for r in table.rows if r.name == name)


# ----------------------------------------------------------------------------- the rule, row by row

def test_conv2_params_and_ops_are_consistent(table):
    conv2 = row(table, "conv2")
    params, ops = conv2.judgements["params"], conv2.judgements["ops"]
    # weights: 64 x 64 x 1 x 1 + 64 x 192 x 3 x 3 = 4,096 + 110,592 = 114,688; / 1024 = 112.0 -> "112K" exactly
    assert (params.best.counted, params.best.k, params.best.count, params.best.fit) == ("weights", 1024, 114_688,
                                                                                        "rounds")
    # MACs: 56 x 56 x 114,688 = 359,661,568 -> 359.66M rounds to "360M"
    assert (ops.best.count, ops.best.fit) == (359_661_568, "rounds")


def test_inception3a_params_fit_weights_with_k1024_at_a_tie(table):
    params = row(table, "inception3a").judgements["params"]
    # 163,328 / 1024 = 159.5 exactly: the top of 159K's interval [158.5K, 159.5K], a tie (both ends included)
    assert (params.best.counted, params.best.k, params.best.fit) == ("weights", 1024, "rounds")
    # K = 1000: 163,328 -> 163.3K, far from 159K
    assert next(r for r in params.readings if (r.counted, r.k) == ("weights", 1000)).fit == "no"


def test_inception3b_params_fit_only_with_biases():
    # weights: 256x128 + 256x128 + 128x192x9 + 256x32 + 32x96x25 + 256x64
    #        = 32,768 + 32,768 + 221,184 + 8,192 + 76,800 + 16,384 = 388,096; / 1024 = 379.0: one full unit below 380
    # biases: 128 + 128 + 192 + 32 + 96 + 64 = 640; (388,096 + 640) / 1024 = 379.625 -> rounds to 380
    judged = judge("params", "380K", {"weights": 388_096, "weights + biases": 388_736})
    fits = {(r.counted, r.k): r.fit for r in judged.readings}
    assert fits[("weights", 1024)] == "no" and fits[("weights + biases", 1024)] == "rounds"
    assert judged.consistent and judged.best.counted == "weights + biases"


def test_inception4a_ops_consistent_only_with_the_slack(table):
    ops = row(table, "inception4a").judgements["ops"]
    # weights 480x192 + 480x96 + 96x208x9 + 480x16 + 16x48x25 + 480x64
    #       = 92,160 + 46,080 + 179,712 + 7,680 + 19,200 + 30,720 = 375,552; MACs 14 x 14 x 375,552 = 73,608,192
    # 73.61M rounds to 74M, not 73M; 73M is 73.61M truncated: |73.61 - 73| < 1, "within one unit"
    assert (ops.best.count, ops.best.fit, ops.consistent) == (73_608_192, "within one unit", True)


@pytest.mark.parametrize("name, published, weights, note", [
    # 375,552 / 1024 = 366.75 (4a): 2.75K above 364K
    ("inception4a", "364K", 375_552, "366.75"),
    # 512x160 + 512x112 + 112x224x9 + 512x24 + 24x64x25 + 512x64 = 81,920 + 57,344 + 225,792 + 12,288 + 38,400
    # + 32,768 = 448,512; / 1024 = 438.0: exactly one unit above 437K, and the slack is strict (< u)
    ("inception4b", "437K", 448_512, "438"),
    # 512x128 + 512x128 + 128x256x9 + 512x24 + 24x64x25 + 512x64 = 65,536 + 65,536 + 294,912 + 12,288 + 38,400
    # + 32,768 = 509,440; / 1024 = 497.5, / 1000 = 509.4: both far from 463K
    ("inception4c", "463K", 509_440, "497.5"),
])
def test_inconsistent_params(table, name, published, weights, note):
    params = row(table, name).judgements["params"]
    assert params.published == published and not params.consistent
    assert next(r for r in params.readings if (r.counted, r.k) == ("weights", 1024)).count == weights
    assert params.best.arithmetic().endswith(f"= {note}")


def test_inception5a_both_figures_inconsistent(table):
    r5a = row(table, "inception5a")
    # weights 832x256 + 832x160 + 160x320x9 + 832x32 + 32x128x25 + 832x128
    #       = 212,992 + 133,120 + 460,800 + 26,624 + 102,400 + 106,496 = 1,042,432 -> 1018K (K = 1024), not 1072K
    # MACs 7 x 7 x 1,042,432 = 51,079,168 -> 51M, not 54M
    assert not r5a.judgements["params"].consistent and not r5a.judgements["ops"].consistent
    assert r5a.judgements["ops"].best.count == 51_079_168
    # ... but they agree with each other: 1072K x 1024 x 49 = 53,788,672 -> 54M
    assert r5a.agreement.consistent and r5a.agreement.k == 1024
    assert "both describe a different module" in r5a.likely_cause("ops")


def test_conv1_matches_a_separable_7x7_not_the_dense_one(table):
    conv1 = row(table, "conv1")
    # dense: 3 x 64 x 7 x 7 = 9,408 weights (9.4K / 9.2K), MACs 112 x 112 x 9,408 = 118,013,952: not 2.7K / 34M
    assert conv1.judgements["params"].consistent is False and conv1.judgements["ops"].best.count == 118_013_952
    alt = conv1.alternatives[0]
    # separable, depth multiplier 8: depthwise 3 x 8 x 7 x 7 = 1,176; pointwise 3 x 8 x 64 = 1,536; total 2,712
    # MACs 112 x 112 x 2,712 = 34,019,328
    assert (alt.weights, alt.macs, alt.status) == (2_712, 34_019_328, "documented")
    assert alt.judgements["params"].best.fit == "rounds" and alt.judgements["params"].best.k == 1000  # 2.712K
    assert alt.judgements["ops"].best.fit == "rounds"  # 34.02M
    assert "follows from separable 7x7/2, depth multiplier 8" in conv1.likely_cause("params")


def test_params_figures_that_disagree_with_their_own_ops(table):
    # 4c: 463K x 1024 x 196 = [462.5K, 463.5K] -> 92.8M to 93.0M, not 100M; its ops (99.85M) follow from the columns
    r4c = row(table, "inception4c")
    assert not r4c.agreement.consistent and r4c.judgements["ops"].consistent
    assert "the params figure is the odd one out" in r4c.likely_cause("params")
    assert table.summary()["params_agree_with_ops"]["inconsistent"] == [
        "inception4c", "inception4d", "inception4e", "inception5b"]


@pytest.mark.parametrize("params, ops, map_size, fit", [
    ("159K", "128M", 784, "rounds"),    # [158.5, 159.5] x 1024 x 784 = 127.25M to 128.05M: holds 128M
    ("380K", "304M", 784, "within one unit"),  # [379.5, 380.5] x 1024 x 784 = 304.67M to 305.47M: 0.67M from 304M
    ("463K", "100M", 196, "no"),        # 92.82M to 93.03M (K = 1024)
    ("2.7K", "34M", 12_544, "rounds"),  # [2.65, 2.75] x 1000 x 12,544 = 33.24M to 34.50M
])
def test_agreement(params, ops, map_size, fit):
    assert agreement(params, ops, map_size).fit == fit


def test_summary_counts(table):
    summary = table.summary()
    # consistent: conv2, 3a, 3b, fc (params, 4); every ops but conv1 and 5a (10) = 14 of 2 x 12 = 24
    assert (summary["consistent"], summary["published"]) == (14, 24)
    assert list(summary["explained"]) == ["conv1 params", "conv1 ops"]
    assert list(summary["unexplained"]) == ["inception4a params", "inception4b params", "inception4c params",
                                            "inception4d params", "inception4e params", "inception5a params",
                                            "inception5a ops", "inception5b params"]
    structure = summary["structure"]
    # 19 rows with an output size; 7 with a patch (conv1, conv2, 4 max pools, avg pool); 2 + 9 x 6 = 56 channels
    assert {k: (v["consistent"], v["published"]) for k, v in structure.items()} == {
        "output": (19, 19), "patch": (7, 7), "depth": (19, 19), "channels": (56, 56)}


def test_sums(table):
    # 34 + 360 + 128 + 304 + 73 + 88 + 100 + 119 + 170 + 54 + 71 + 1 = 1,502 (M)
    assert table.published_ops_sum == 1_502 * 10**6
    # computed: 1,582,671,872 with the dense conv1; with the separable one 1,582,671,872 - 118,013,952 + 34,019,328
    assert table.computed_macs == 1_582_671_872
    assert table.macs_with_documented_alternatives == 1_498_677_248


# ----------------------------------------------------------------------------- structure helpers and formulas

def test_structure_helpers():
    network = analyze("googlenet").network
    assert row_patch(network.row("conv1")) == "7x7/2" and row_patch(network.row("conv2")) == "3x3/1"
    assert row_patch(network.row("inception3a")) == ""
    assert [row_depth(network.row(n)) for n in ("conv1", "maxpool1", "conv2", "inception3a", "fc")] == [1, 0, 2, 2, 1]
    assert row_columns(network.row("conv2")) == {"n3x3red": 64, "n3x3": 192}
    assert row_columns(network.row("inception4e"))["pool_proj"] == 128


def test_separable_formulas_match_a_grouped_conv_in_the_engine():
    # the same separable conv built from the engine's own layers: a grouped 7x7/2 conv (groups = Cin = 3, out 24)
    # and a 1x1 conv to 64; the engine computes it with conv_weights (Cin/g x Cout x kh x kw), not with the formula
    spec = {"name": "sep", "input": [3, 224, 224], "rows": [{"name": "sep", "kind": "stack", "layers": [
        {"kind": "conv", "out": 24, "kernel": 7, "stride": 2, "pad": 3, "groups": 3},
        {"kind": "conv", "out": 64, "kernel": 1}]}]}
    node = analyze(network_from_dict(spec))["sep"]
    assert sum(f.separable_conv_weights(3, 64, 7, 7, 8)) == node.weights == 2_712
    assert f.separable_conv_macs(112, 112, 3, 64, 7, 7, 8) == node.macs == 34_019_328


# ----------------------------------------------------------------------------- renderings

def test_text_table(capsys):
    assert main(["paper-table"]) == 0
    out = capsys.readouterr().out
    assert "rule: a figure P printed to a last digit of unit u" in out
    assert "inception3a params 159K: consistent (rounds): weights 163,328 / 1024 = 159.5" in out
    assert "inception4a ops 73M: consistent (within one unit): MACs 73,608,192 / 10^6 = 73.608192" in out
    assert "summary: 14 of 24 published params/ops values are consistent" in out
    assert "the computed MACs with the documented alternatives in place (1,498,677,248): yes" in out


def test_json_rows(capsys):
    assert main(["paper-table", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    names = [r["name"] for r in data["rows"]]
    assert names[:3] == ["conv1", "maxpool1", "conv2"] and names[-1] == "softmax" and len(names) == 19
    for r in data["rows"]:
        for quantity in ("params", "ops"):
            if quantity in r:
                assert {"published", "computed", "consistent", "rule"} <= set(r[quantity])
    r3a = next(r for r in data["rows"] if r["name"] == "inception3a")
    assert r3a["params"]["published"] == "159K" and r3a["params"]["fit"] == "rounds"
    assert (r3a["params"]["computed"], r3a["params"]["consistent"], r3a["params"]["k"]) == (163_328, True, 1024)
    assert data["summary"]["consistent"] == 14


def test_csv_and_markdown(capsys):
    assert main(["paper-table", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    by_name = {r["name"]: r for r in rows}
    assert by_name["inception4c"]["params_consistent"] == "0" and by_name["inception4c"]["ops_consistent"] == "1"
    assert by_name["conv1"]["params_alternative"] == "separable 7x7/2, depth multiplier 8"
    assert main(["paper-table", "--format", "markdown"]) == 0
    assert "| inception3a | inception (3a) | 28x28x256 | 159K | 159.5K | weights, K=1024 | rounds |" in \
        capsys.readouterr().out


def test_data_file_cites_its_source():
    text = DATA.read_text(encoding="utf-8")
    assert "arXiv:1409.4842" in text and "Table 1" in text and "Szegedy" in text


# ----------------------------------------------------------------------------- a bad data file

@pytest.mark.parametrize("edit, message", [
    (('name = "conv2"', 'name = "conv9"'), "no row 'conv9' in googlenet"),
    (('depth = 2\nn3x3red = 64', 'depht = 2\nn3x3red = 64'), "unknown field 'depht'"),
    (('kind = "separable"', 'kind = "sparse"'), "unknown alternative kind 'sparse'"),
    (('params = "112K"', 'params = "112 K K"'), "cannot read '112 K K' as a number"),
    (('title =', 'title = = '), "malformed TOML"),  # read as every spec file is (core.files)
    (('input = [3, 224, 224]', 'input = "abc"'), r"^table.toml, input: cannot read input size 'abc'"),
])
def test_bad_data_file(tmp_path, edit, message):
    path = tmp_path / "table.toml"
    text = DATA.read_text(encoding="utf-8")
    assert edit[0] in text
    path.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    with pytest.raises(CalcError, match=message):
        paper_table(path)


def test_the_data_file_is_read_as_spec_files_are(tmp_path):
    with pytest.raises(CalcError, match=r"no such file; check the path$"):
        paper_table(tmp_path / "missing.toml")
    with pytest.raises(CalcError, match="is a directory, not a published table"):
        paper_table(tmp_path)
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes(b'title = "caf\xe9"\n')
    with pytest.raises(CalcError, match="save it as UTF-8 text"):
        paper_table(latin1)


# ----------------------------------------------------------------------------- the docs

def _inception5a(n1x1: int = 256) -> dict:
    return {"name": "inception5a", "kind": "inception", "n1x1": n1x1, "n3x3red": 160, "n3x3": 320, "n5x5red": 32,
            "n5x5": 128, "pool_proj": 128}


@pytest.mark.parametrize("channels, n1x1", [(928, 256), (832, 322)])
def test_one_number_changes_that_fit_inception5a(channels, n1x1):
    # docs/paper-table.md: 928 input channels (928 x 576 + 460,800 + 102,400 = 1,097,728 = 1072 x 1024 exactly), or
    # #1x1 322 (832 x 642 + 460,800 + 102,400 = 1,097,344 -> 1071.6K), both fit 1072K and 54M (x 49 = 53.8M)
    node = analyze(network_from_dict({"name": "one", "input": [channels, 7, 7], "rows": [_inception5a(n1x1)]}))[
        "inception5a"]
    assert judge("params", "1072K", {"weights": node.weights}).consistent
    assert judge("ops", "54M", {"MACs": node.macs}).consistent
