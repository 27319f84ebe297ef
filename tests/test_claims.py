"""Claims: every value form, both operators, the conventions, the shipped claims files, the hints,
and every bad input the verify command promises to reject (one line, exit 2).

Expected numbers are worked out by hand from the paper's channel counts, with the arithmetic
beside each one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from inception_calc import analyze
from inception_calc.studies.claims import Convention, Verdict, claims_from_dict, load_claims, parse_claim, verify
from inception_calc.cli.main import main
from inception_calc.core.errors import CalcError
from inception_calc.core.derivation import derivation
from inception_calc.core.values import parse_number, parse_shape, parse_written, plain

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "seed_claims.toml"
WRONG = ROOT / "examples" / "wrong_claims.toml"


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one(text: str, **convention) -> Verdict:
    return verify([parse_claim(text, Convention(**convention))])[0]


# ----------------------------------------------------------------------------- value forms

@pytest.mark.parametrize("text, k, value, unit", [
    ("163328", 1000, 163328, 1),
    ("163,328", 1000, 163328, 1),
    ("163_328", 1000, 163328, 1),
    ("1,000,000", 1000, 10**6, 1),
    ("0.16M", 1000, 160_000, 10_000),          # 0.16 x 10^6; last digit 0.01M = 10,000
    ("0.16 M", 1000, 160_000, 10_000),
    (".5K", 1000, 500, 100),
    ("159K", 1000, 159_000, 1000),
    ("159K", 1024, 159 * 1024, 1024),          # 162,816
    ("2.7k", 1000, 2700, 100),
    ("2.7K", 1024, Fraction(27648, 10), Fraction(1024, 10)),  # 2.7 x 1024 = 2,764.8
    ("128M", 1000, 128 * 10**6, 10**6),
    ("128M", 1024, 128 * 1024**2, 1024**2),    # 134,217,728
    ("1.5G", 1000, 15 * 10**8, 10**8),
    ("1.5B", 1024, 15 * 10**8, 10**8),         # B is a billion whatever K is
    ("1.28e8", 1000, 128 * 10**6, 10**6),      # last digit 0.01e8 = 10^6
    ("1.28E+8", 1000, 128 * 10**6, 10**6),
    ("1.28x10^8", 1000, 128 * 10**6, 10**6),
    ("1.28×10^8", 1000, 128 * 10**6, 10**6),
    ("1.28 * 10**8", 1000, 128 * 10**6, 10**6),
    ("1.28亿", 1000, 128 * 10**6, 10**6),      # 亿 = 10^8
    ("16万", 1000, 160_000, 10_000),           # 万 = 10^4
    ("163328.0", 1000, 163328, Fraction(1, 10)),
])
def test_number_forms(text, k, value, unit):
    written = parse_number(text, k)
    assert (written.value, written.unit) == (value, unit)


@pytest.mark.parametrize("text, chw, order", [
    ("28x28x256", (256, 28, 28), "HWC"),
    ("28×28×256", (256, 28, 28), "HWC"),
    ("28 x 28 x 256", (256, 28, 28), "HWC"),
    ("28*28*256", (256, 28, 28), "HWC"),
    ("28x28", (None, 28, 28), "HW"),
    ("[256, 28, 28]", (256, 28, 28), "CHW"),
    ("(256,28,28)", (256, 28, 28), "CHW"),
])
def test_shape_forms(text, chw, order):
    shape = parse_shape(text)
    assert shape.chw() == chw and shape.order == order


def test_shape_or_number_is_told_apart():
    assert parse_written("28x28x256").order == "HWC"
    assert parse_written("1.28x10^8").value == 128 * 10**6


@pytest.mark.parametrize("text", ["1,28", "abc", "12.3.4", "1.2e3K", "", "-5", "5m", "1,2345"])
def test_unreadable_numbers(text):
    with pytest.raises(CalcError, match="cannot read|both an exponent"):
        parse_number(text)


def test_plain_shows_exact_numbers():
    assert plain(163328) == "163,328"
    assert plain(Fraction(163328, 1024)) == "159.5"  # 163,328 / 1024
    assert plain(Fraction(1, 3)) == "~0.3333"


# ----------------------------------------------------------------------------- operators and precision

def test_exact_operator():
    # 192x64 + 192x96 + 96x128x9 + 192x16 + 16x32x25 + 192x32 = 12,288 + 18,432 + 110,592 + 3,072 + 12,800 + 6,144
    assert one("inception3a.weights = 163,328").holds
    assert one("inception3a.weights == 163328").holds
    assert not one("inception3a.weights = 163,329").holds
    assert not one("inception3a.weights = 0.16M").holds  # 160,000 is not exactly 163,328


def test_approximate_operator_uses_the_written_precision():
    assert one("inception3a.weights ~ 0.16M").holds       # 163,328 in [155,000, 165,000]
    assert not one("inception3a.weights ~ 0.17M").holds   # [165,000, 175,000]
    assert one("inception3a.weights ~ 0.163M").holds      # [162,500, 163,500]
    assert not one("inception3a.weights ~ 0.1632M").holds  # [163,150, 163,250]
    assert one("inception3a.weights ~ 0.1633M").holds     # [163,250, 163,350]
    assert one("inception3a.weights ≈ 163K").holds        # [162,500, 163,500]
    assert not one("inception3a.weights ~ 164K").holds    # [163,500, 164,500]
    # MACs: 28 x 28 x 163,328 = 128,049,152 in [127,500,000, 128,500,000]
    assert one("inception3a.macs ~ 1.28e8").holds
    assert one("inception3a.macs ~ 128M").holds
    assert not one("inception3a.macs ~ 1.29e8").holds     # [128,500,000, 129,500,000]


def test_precision_boundaries_are_inclusive():
    # 163,328 / 1024 = 159.5 exactly: the top of 159K's interval [158.5K, 159.5K] with K = 1024, a tie
    assert one("inception3a.weights ~ 159K", k=1024).holds
    assert one("inception3a.weights ~ 160K", k=1024).holds  # and the bottom of 160K's [159.5K, 160.5K]
    # 128,049,152 against 128.0M: [127,950,000, 128,050,000] holds it (50,000 - 49,152 = 848 to spare)
    assert one("inception3a.macs ~ 128.0M").holds
    assert not one("inception3a.macs ~ 128.00M").holds      # [127,995,000, 128,005,000]


def test_shapes_are_exact_under_both_operators():
    assert one("inception3a.out_shape = 28x28x256").holds   # 64 + 128 + 32 + 32 = 256 channels
    assert one("inception3a.out_shape ~ 28x28x256").holds
    assert one("inception3a.out_shape = [256, 28, 28]").holds
    assert one("inception3a.in_shape = 28x28").holds        # H x W only
    assert not one("inception3a.out_shape ~ 28x28x255").holds


# ----------------------------------------------------------------------------- quantities and conventions

@pytest.mark.parametrize("claim", [
    "inception3a.biases = 368",             # 64 + 96 + 128 + 16 + 32 + 32
    "inception3a.bn = 0",                   # the paper's network has no batch norm
    "inception3a.params = 163,696",         # 163,328 + 368
    "inception3a.flops = 256,098,304",      # 2 x 128,049,152
    "inception3a.activations = 200,704",    # 28 x 28 x 256
    "inception3a.branch2.weights = 129,024",  # 18,432 + 110,592
    "inception3a.branch2.1.macs = 86,704,128",  # 28 x 28 x 110,592
    "conv1.out_shape = 112x112x64",         # floor((224 + 2x3 - 7) / 2) + 1 = 112
    "conv2.1.weights = 110,592",            # 64 x 192 x 3 x 3
    "aux1.conv.weights = 65,536",             # the head's 1x1 conv: 512 x 128 x 1 x 1
    "fc.weights = 1,024,000",               # 1024 x 1000
    "total.weights = 6,990,272",            # sum of the main rows (engine total, checked by its own tests)
    "total.macs ~ 1.58e9",                  # 1,582,671,872
])
def test_quantities(claim):
    assert one(claim).holds


def test_flops_convention():
    # 1.28e8 are MACs; FLOPs = 2 x 128,049,152 = 256,098,304 under the default convention
    assert not one("inception3a.flops ~ 1.28e8").holds
    assert one("inception3a.flops ~ 1.28e8", flops="macs").holds
    assert one("inception3a.flops ~ 2.56e8").holds


def test_k_convention():
    # 375,552 / 1024 = 366.75 -> 367K with K = 1024; with K = 1000 it is 375.6K
    assert one("inception4a.weights ~ 367K", k=1024).holds
    assert not one("inception4a.weights ~ 367K", k=1000).holds
    assert one("inception4a.weights ~ 376K", k=1000).holds


def test_other_input_size():
    claim = parse_claim("inception3a.in_shape = 37x37x192", input=(3, 299, 299))
    # 299 -> conv1 150 -> pool 75 -> conv2 75 -> pool ceil((75 - 3) / 2) + 1 = 37
    assert verify([claim])[0].holds


# ----------------------------------------------------------------------------- verdict contents

def test_difference_relative_and_derivation():
    verdict = one("inception3a.params = 163,328")
    assert verdict.computed == 163_696 and verdict.difference == -368  # 163,328 - 163,696
    assert verdict.relative == pytest.approx(-368 / 163_696)
    assert verdict.derivation == derivation(analyze("googlenet"), "inception3a")


@pytest.mark.parametrize("claim, convention, hint", [
    ("inception3a.weights ~ 159K", {}, "holds if K = 1024"),
    ("inception3a.weights ~ 163K", {"k": 1024}, "holds if K = 1000"),     # 163K x 1024 = 166,912
    ("inception3a.params = 163,328", {}, "inception3a's weights: params also count the 368 biases"),
    ("inception3a.branch1.0.weights = 12,352", {}, "weights + biases"),  # 192 x 64 + 64
    ("inception3a.flops ~ 1.28e8", {}, "holds if FLOPs means MACs"),
    ("inception3a.macs ~ 2.56e8", {}, "flops (2 x MACs)"),
    ("inception3a.weights = 0.16M", {}, "write '~' instead of '='"),
    ("inception3b.weights = 163,328", {}, "holds for inception3a"),
    ("inception3b.in_shape = [28, 28, 256]", {}, "write 28x28x256"),
    ("maxpool1.out_shape = 55x55x64", {}, "floor would give 55x55"),
    ("inception3a.out_shape = 28x28x192", {}, "in_shape, not its out_shape"),
])
def test_hints_name_the_likely_mistake(claim, convention, hint):
    verdict = one(claim, **convention)
    assert not verdict.holds
    assert any(hint in h for h in verdict.hints), verdict.hints


# ----------------------------------------------------------------------------- claims files and the CLI

def test_seed_claims_all_hold(capsys):
    code, out, err = run_cli(capsys, "verify", str(SEED))
    assert (code, err) == (0, "")
    assert "all 20 claims hold" in out
    for number in ("12,288", "18,432", "110,592", "3,072", "12,800", "6,144", "163,328", "128,049,152"):
        assert f"claimed {number}" in out
    assert "0.16M = 160,000, i.e. [155,000, 165,000]" in out
    assert "1.28e8 = 128,000,000, i.e. [127,500,000, 128,500,000]" in out
    # one full derivation per node claimed about: inception3a, branch1, branch1.0, branch2, branch2.0, branch2.1,
    # branch3, branch3.0, branch3.1, branch4, branch4.1 = 11; the other 9 claims point back to one of them
    assert out.count("derivation:\n") == 11 and out.count("derivation: as in [") == 9


def test_seed_claims_cover_every_number_of_section_4():
    _, claims = load_claims(SEED)
    texts = " ".join(c.text for c in claims)
    for value in ("28x28x192", "28x28x256", "12,288", "18,432", "110,592", "3,072", "12,800", "6,144",
                  "163,328", "0.16M", "128,049,152", "1.28e8"):
        assert value in texts


def test_wrong_claims_fail_naming_the_wrong_rows(capsys):
    code, out, _ = run_cli(capsys, "verify", str(WRONG), "--no-derivation")
    assert code == 1
    _, claims = load_claims(WRONG)
    summary = out.strip().splitlines()[-1]
    assert summary.startswith(f"{len(claims)} of {len(claims)} claims fail:")
    for i, claim in enumerate(claims, start=1):
        assert f"[{i}] {claim.node}.{claim.quantity}" in summary
        assert f"[{i}] FAIL  {claim.text}" in out
    assert "derivation:" not in out


def test_claims_on_the_command_line(capsys):
    code, out, _ = run_cli(capsys, "verify", "--claim", "inception3a.weights = 163,328",
                           "--claim", "inception3a.macs ~ 1.28e8", "--no-derivation")
    assert code == 0 and "all 2 claims hold" in out
    code, out, _ = run_cli(capsys, "verify", "googlenet", "--claim", "inception3a.weights ~ 159K", "--k", "1024")
    assert code == 0
    code, out, _ = run_cli(capsys, "verify", "--claim", "inception3a.flops ~ 1.28e8", "--flops", "macs")
    assert code == 0
    code, out, _ = run_cli(capsys, "verify", "--claim", "inception3a.in_shape = 37x37x192", "--input", "299")
    assert code == 0


def test_claim_settings_override_the_command_line(capsys, tmp_path):
    path = tmp_path / "claims.toml"
    path.write_text('k = 1000\n[[claims]]\nclaim = "inception3a.weights ~ 159K"\nk = 1024\n', encoding="utf-8")
    code, _, _ = run_cli(capsys, "verify", str(path), "--k", "1000")  # the claim's own k = 1024 wins
    assert code == 0
    path.write_text('k = 1024\nclaims = ["inception3a.weights ~ 159K"]\n', encoding="utf-8")
    assert run_cli(capsys, "verify", str(path))[0] == 0
    assert run_cli(capsys, "verify", str(path), "--k", "1000")[0] == 1  # the command line over the file


def test_json_output(capsys, tmp_path):
    target = tmp_path / "out.json"
    code, out, _ = run_cli(capsys, "verify", str(WRONG), "--format", "json", "-o", str(target))
    assert code == 1 and out == ""
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["holds"] == 0 and data["fails"] == len(data["claims"])
    first = data["claims"][0]
    # 159K at K = 1000 is [158,500, 159,500]; computed 163,328
    assert (first["claimed"], first["low"], first["high"], first["computed"]) == (159_000, 158_500, 159_500, 163_328)
    assert first["difference"] == -4_328 and first["convention"] == {"k": 1000, "flops": "2macs"}
    assert first["input"] == [3, 224, 224]
    assert first["derivation"].startswith("inception3a in googlenet")
    shape = next(c for c in data["claims"] if c["quantity"] == "out_shape")
    assert shape["computed"] == [64, 112, 112] and shape["claimed"] == [64, 109, 109]  # conv1, C, H, W


def test_verify_imports_no_heavy_library():
    code = ("import sys; from inception_calc.cli.main import main; "
            "main(['verify', '--claim', 'inception3a.weights = 163,328', '--no-derivation']); "
            "main(['paper-table', '--format', 'json', '-o', '/dev/null']); "
            "bad = [m for m in ('torch', 'torchvision', 'fvcore', 'pandas', 'matplotlib') if m in sys.modules]; "
            "sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr


def test_the_claims_package_keeps_its_names_and_the_rendering_is_a_layer_above():
    import inception_calc.studies.claims as claims
    from inception_calc.report.claims import summary_line, to_json, to_text
    from inception_calc.studies.claims import files, grammar, judge

    assert all(hasattr(claims, name) for name in claims.__all__)
    assert (claims.parse_claim, claims.verify, claims.load_claims) == (grammar.parse_claim, judge.verify,
                                                                       files.load_claims)
    assert not any(hasattr(claims, name) for name in ("to_text", "verdict_dict", "summary_line"))  # report.claims
    # 163,328 = 64 x 192 + 96 x 192 + 128 x 96 x 9 + 16 x 192 + 32 x 16 x 25 + 32 x 192 (the seed article's 3a)
    verdicts = verify([parse_claim("inception3a.weights = 163,328"), parse_claim("inception3a.weights = 163,329")])
    data = json.loads(to_json(verdicts, "two"))
    assert (data["title"], data["holds"], data["fails"]) == ("two", 1, 1)
    assert data["summary"] == summary_line(verdicts) == "1 of 2 claims fail: [2] inception3a.weights"
    assert [c["difference"] for c in data["claims"]] == [0, 1]  # 163,329 - 163,328
    assert to_text(verdicts, "two").startswith("claims: two\n\n[1] PASS  inception3a.weights = 163,328\n")


# ----------------------------------------------------------------------------- bad input: one line, exit 2

@pytest.mark.parametrize("claim, message", [
    ("inceptoin3a.weights = 1", "no row 'inceptoin3a' in googlenet; did you mean 'inception3a'? known rows: conv1,"),
    ("inception3a.branch5.weights = 1", "inception3a has no branch 'branch5'; its branches: branch1, branch2, branch3"),
    ("inception3a.branch2.7.weights = 1", "inception3a.branch2 has no layer '7'; its layers: 0, 1"),
    ("conv1.0.weights = 1", "conv1 has no layer '0'; conv1 is a single layer"),
    ("inception3a.wieghts = 1", "unknown quantity 'wieghts' in claim 'inception3a.wieghts = 1'; did you mean "
                                "'weights'? known quantities: weights, biases, bn, params, macs, flops, activations"),
    ("inception3a.weights = 12.3.4", "cannot read '12.3.4' as a number; write it as one of: 163328, 163,328"),
    ("inception3a.weights 163328", "no operator"),
    ("inception3a .weights = 1", "the name before the operator has a space in it"),
    ("inception3a = 5", "names no quantity"),
    ("inception3a.weights =", "has no value"),
    ("inception3a.weights = 28x28x256", "weights is a count, but '28x28x256' is a shape"),
    ("inception3a.out_shape = 256", "out_shape is a shape, but '256' is a number"),
    ("total.out_shape = 1x1x1000", "the whole network has no single out_shape"),
])
def test_bad_claims(capsys, claim, message):
    code, out, err = run_cli(capsys, "verify", "--claim", claim)
    assert (code, out) == (2, "")
    assert message in err and err.count("\n") == 1, err


@pytest.mark.parametrize("text, message", [
    ("claims = [", "malformed TOML"),
    ('claim = ["inception3a.weights = 1"]', "unknown field 'claim' in a claims file; did you mean 'claims'?"),
    ('title = "x"', "no claims; add claims ="),
    ("claims = []", "no claims"),
    ("claims = [5]", "claim 1: a claim must be text or a table, got 5"),
    ('[[claims]]\nquote = "x"', "claim 1: the table has no 'claim' field"),
    ('[[claims]]\nclaim = "inception3a.weights = 1"\nsource = "x"', "unknown field 'source' in a claim"),
    ('k = 1001\nclaims = ["inception3a.weights = 1"]', "unknown convention k = 1001; use k = 1000 or k = 1024"),
    ('flops = "4macs"\nclaims = ["inception3a.weights = 1"]', "unknown convention flops = '4macs'"),
    ('[[claims]]\nclaim = "inception3a.weights = 1"\nk = 1000.5', "claim 1: unknown convention k = 1000.5"),
    ('input = "3xAx3"\nclaims = ["inception3a.weights = 1"]', "cannot read input size '3xAx3'"),
    ('spec = "nonet"\nclaims = ["inception3a.weights = 1"]', "unknown spec 'nonet'"),
    ('claims = ["inception9z.weights = 1"]', "claim 1: no row 'inception9z'"),
])
def test_bad_claims_files(capsys, tmp_path, text, message):
    path = tmp_path / "claims.toml"
    path.write_text(text, encoding="utf-8")
    code, out, err = run_cli(capsys, "verify", str(path))
    assert (code, out) == (2, "")
    assert message in err and err.count("\n") == 1, err


@pytest.mark.parametrize("argv, message", [
    (("verify",), "nothing to verify"),
    (("verify", "a", "b", "c"), "too many arguments"),
    (("verify", "missing.toml"), "missing.toml: no such claims file"),
    (("verify", "--claim", "inception3a.weights = 1", "--input", "2"), "input 3x2x2 is too small"),
])
def test_bad_command_lines(capsys, argv, message):
    code, out, err = run_cli(capsys, *argv)
    assert (code, out) == (2, "")
    assert message in err and err.count("\n") == 1, err


@pytest.mark.parametrize("flag, message", [
    (("--k", "1001"), "argument --k: invalid choice: 1001"),
    (("--flops", "2flops"), "argument --flops: invalid choice: '2flops'"),
])
def test_unknown_conventions_on_the_command_line(capsys, flag, message):
    with pytest.raises(SystemExit) as exit_:
        main(["verify", "--claim", "inception3a.weights = 1", *flag])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and message in err and err.count("\n") == 1, err


def test_claims_from_dict_orders_settings():
    _, claims = claims_from_dict({"k": 1024, "flops": "macs", "claims": [
        "inception3a.weights ~ 159K", {"claim": "inception3a.weights ~ 163K", "k": 1000}]}, "inline")
    assert [c.convention for c in claims] == [Convention(1024, "macs"), Convention(1000, "macs")]
    assert [v.holds for v in verify(claims, derive=False)] == [True, True]
