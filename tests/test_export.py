"""export-spec: a network written as a TOML spec (inception_calc.core.export) loads back to an equal network and
so to the same analysis, byte for byte in JSON: every built-in, variants of them, seeded random graph networks
and hypothesis's small Inception networks; TOML strings escaped so that any text reads back as itself."""

from __future__ import annotations

import random
import tomllib
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import run_cli
from inception_calc import CalcError, analyze, builtin_names, load_spec, network_from_dict
from inception_calc.core.export import spec_text, toml_string
from inception_calc.core.network import Branch, Conv, Row
from spec_generators import RandomGraphSpec, small_network

VARIANTS = ("googlenet:naive", "googlenet:no-reduce", "googlenet:width=0.5", "googlenet:bn,factorized-5x5",
            "bn-inception:width=2", "inception-v3:width=0.75", "inception-resnet-v2:width=0.5", "xception:width=0.25")


def _round_trip(network, tmp_path=None):
    text = spec_text(network, "test")
    if tmp_path is None:
        back = network_from_dict(tomllib.loads(text), "exported.toml")
    else:
        path = tmp_path / "exported.toml"
        path.write_text(text, encoding="utf-8")
        back = load_spec(str(path))
    assert replace(back, path="") == replace(network, path="")
    return back


@pytest.mark.parametrize("source", [*builtin_names(), *VARIANTS])
def test_every_builtin_and_variant_loads_back_to_the_same_network_and_analysis(source, tmp_path):
    network = load_spec(source)
    back = _round_trip(network, tmp_path)
    assert analyze(back).to_json(depth="conv", aux=True) == analyze(network).to_json(depth="conv", aux=True)


def test_repeated_rows_are_written_once_with_repeat():
    text = spec_text(load_spec("inception-resnet-v2"))
    data = tomllib.loads(text)
    assert [(r["name"], r.get("repeat")) for r in data["rows"] if "repeat" in r] == [
        ("repeat.0", 10), ("repeat_1.0", 20), ("repeat_2.0", 9)]  # timm's 10 Block35, 20 Block17, 9 scaled Block8


def test_comments_give_where_it_came_from_and_each_rows_output_and_macs():
    text = spec_text(load_spec("googlenet"), "googlenet")
    assert text.startswith("# googlenet: written by inception-calc export-spec from googlenet.\n")
    # conv1 at 224: 7x7/2 pad 3 -> 112x112x64; weights 3 x 64 x 49 = 9,408, MACs 112 x 112 x 9,408 = 118,013,952,
    # params 9,408 + 64 biases = 9,472
    assert "[[rows]]  # 112x112x64, 118,013,952 MACs, 9,472 params\nname = \"conv1\"" in text
    # conv2's 1x1: 56 x 56 x (64 x 64) = 12,845,056 MACs
    assert '{ kind = "conv", out = 64, kernel = 1 },  # 56x56x64, 12,845,056 MACs' in text
    # the paper's totals: 6,998,552 params and 1,582,671,872 MACs (BVLC deploy), 13,378,280 params with the heads
    assert "6,998,552 params, 1,582,671,872 MACs; with the auxiliary heads (training) 13,378,280 params" in text


@pytest.mark.parametrize("seed", range(25))
def test_random_graph_networks_round_trip(seed):
    network = network_from_dict(RandomGraphSpec(random.Random(seed)).network())
    _round_trip(network)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(spec=small_network())
def test_small_inception_networks_round_trip(spec):
    _round_trip(network_from_dict(spec))


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(text=TEXT)
def test_toml_strings_read_back_as_themselves(text):
    assert tomllib.loads(f"x = {toml_string(text)}")["x"] == text


def test_texts_with_quotes_backslashes_and_control_characters_round_trip():
    odd = 'a "quoted" \\ back\\slash\nnew line\ttab \x00 nul \x7f del \x1b esc \u00e9 \U0001f600 """'
    network = replace(load_spec("googlenet"), description=odd, source=odd, notes=(odd, "#not a comment"),
                      reference="torchvision:googlenet")
    back = _round_trip(network)
    assert back.description == odd and back.notes == (odd, "#not a comment")


def test_half_a_surrogate_pair_is_refused():
    with pytest.raises(CalcError, match="half a surrogate pair"):
        spec_text(replace(load_spec("googlenet"), description="\ud800"))


def test_a_row_the_format_cannot_write_is_refused():
    conv = Conv(out=4, kernel=(1, 1))
    network = load_spec("googlenet")
    lone = Row("lone", "concat", (Branch("only", (conv,)),), relu=True)
    with pytest.raises(CalcError, match="row 'lone'.*no spec form"):
        spec_text(replace(network, rows=(*network.rows[:1], lone)))


def test_a_spec_with_a_base_exports_whole(tmp_path):
    (tmp_path / "mine.toml").write_text('name = "mine"\nbase = "googlenet"\nvariants = ["bn"]\ninput = 256\n')
    network = load_spec(str(tmp_path / "mine.toml"))
    back = _round_trip(network)
    assert back.input == (3, 256, 256) and "base" not in tomllib.loads(spec_text(network))


def test_cli_export_spec_writes_a_file_that_reports_as_its_source(tmp_path):
    out = tmp_path / "naive.toml"
    done = run_cli("export-spec", "googlenet:naive", "-o", str(out))
    assert (done.code, done.out, done.err) == (0, "", "")
    exported = run_cli("report", str(out), "--format", "json", "--depth", "conv", "--aux")
    source = run_cli("report", "googlenet:naive", "--format", "json", "--depth", "conv", "--aux")
    assert exported.code == source.code == 0 and exported.out == source.out


def test_cli_export_spec_of_an_unknown_source_is_one_line_and_exit_2():
    done = run_cli("export-spec", "no-such-net")
    assert done.code == 2 and done.out == ""
    assert done.err.count("\n") == 1 and "unknown spec 'no-such-net'" in done.err


# ----------------------------------------------------------------------------- issue 15's rough edges


def test_version_prints_the_packages_version():
    import inception_calc

    done = run_cli("--version")
    assert (done.code, done.out) == (0, f"inception-calc {inception_calc.__version__}\n")


def test_sweep_where_every_size_is_too_small_says_so_and_exits_2():
    # sweep printed 'smallest input googlenet accepts: 3x223x223' under an empty table before: 8..32 all fail
    done = run_cli("sweep", "googlenet", "--input", "8:32:8")
    assert done.code == 2 and done.out == ""
    assert "every size is too small for googlenet (8, 16, 24, 32)" in done.err and "3x223x223" in done.err
