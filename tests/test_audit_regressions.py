"""What the reliability audit and the fuzzers found, each kept as a plain test (the errors
themselves are in tests/test_error_examples.py, one per line of docs/errors.md)."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import stat
import threading
from pathlib import Path

import pytest

from inception_calc.report.claims import verdict_dict
from inception_calc.studies.claims import parse_claim, verify
from inception_calc.cli.main import main
from inception_calc.core.errors import CalcError, quote
from inception_calc.core.sources import network_from_dict
from inception_calc.report.output import write_atomic


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_output_to_a_pipe_writes_to_it_and_leaves_it_a_pipe(tmp_path, capsys):
    """--output /dev/null renamed a regular file over the device (as root, who may write in /dev);
    a named pipe shows the same without root: it must be written to, not replaced."""
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()), daemon=True)
    reader.start()
    code, out, err = run(capsys, "report", "--format", "csv", "--output", str(pipe))
    reader.join(timeout=30)
    assert (code, out, err) == (0, "", "")
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)  # still the pipe
    assert received and received[0].startswith(b"name,level,kind")


@pytest.mark.skipif(not stat.S_ISCHR(os.stat(os.devnull).st_mode), reason="this machine's /dev/null is no device")
def test_output_to_dev_null_leaves_it_a_device(capsys):
    code, out, err = run(capsys, "report", "--output", os.devnull)
    assert (code, out, err) == (0, "", "")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_output_through_a_symlink_replaces_the_file_it_names(tmp_path):
    target = tmp_path / "report.txt"
    target.write_text("old\n")
    link = tmp_path / "latest.txt"
    link.symlink_to(target.name)
    write_atomic(link, "new\n")
    assert link.is_symlink() and target.read_text() == "new\n"


def test_compare_csv_lines_all_have_the_header_columns(capsys):
    """A line for a node one network lacks had 15 columns, not 16 (googlenet:naive has no 1x1
    reductions, so inception3a.branch2.0 is absent there)."""
    code, out, _ = run(capsys, "compare", "googlenet", "googlenet:naive", "--depth", "conv", "--format", "csv")
    table = list(csv.reader(io.StringIO(out)))
    assert code == 0 and {len(row) for row in table} == {len(table[0])} == {16}
    absent = [row for row in table if row[0] == "inception3a.branch2.0" and row[3] == "0"]
    assert absent and absent[0][4:] == [""] * 12


def test_verify_a_claims_file_beside_claim_flags(tmp_path, capsys):
    """With --claim, a lone positional was always taken for the SPEC: a claims file was read as a
    spec and refused ('unknown field claims for a spec')."""
    claims = tmp_path / "claims.toml"
    claims.write_text('claims = ["inception3a.weights = 163,328"]\n')
    code, out, err = run(capsys, "verify", str(claims), "--claim", "inception3a.macs ~ 1.28e8", "--no-derivation")
    assert code == 0 and err == "" and "all 2 claims hold" in out


def test_an_absurd_claim_fails_with_valid_json():
    """1e400 raised OverflowError computing its relative difference (a float)."""
    (verdict,) = verify([parse_claim("inception3a.weights = 1e400")], derive=False)
    assert not verdict.holds and verdict.relative is None
    assert verdict.difference == 10**400 - 163_328  # exact: the claimed value less the computed 163,328
    json.dumps(verdict_dict(verdict), allow_nan=False)  # no Infinity in the JSON


def test_a_claim_with_a_long_run_of_spaces_reads_in_linear_time():
    """The claim pattern's lazy value took quadratic time: 10^5 spaces took 25 s, 2 x 10^5 would
    take about 100 s. A 10 s alarm is far above what linear time needs (milliseconds)."""
    def too_slow(signum, frame):
        raise TimeoutError("the claim pattern backtracks")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(10)
    try:
        with pytest.raises(CalcError, match="cannot read"):
            parse_claim("inception3a.weights = 1" + " " * 200_000 + "x")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("kind", [["conv"], {"a": 1}, 3])
def test_a_layer_kind_that_is_not_text(kind):
    """A list as a layer's kind raised TypeError (unhashable)."""
    spec = {"name": "x", "rows": [{"name": "s", "kind": "stack", "layers": [{"kind": kind, "out": 8}]}]}
    with pytest.raises(CalcError, match="unknown layer kind"):
        network_from_dict(spec)


def test_field_names_that_are_not_text():
    """A Python dict with an integer key raised TypeError inside difflib."""
    with pytest.raises(CalcError, match="field names must be text, got 3"):
        network_from_dict({"name": "x", 3: "y", "rows": []})


def test_quote_is_short_and_safe_for_any_value():
    deep: list = []
    node = deep
    for _ in range(100_000):
        node.append([])
        node = node[0]
    assert quote(deep) == "[[[...]]]"  # repr() would raise RecursionError
    assert quote(10**5000) == "<an integer of 16610 bits>"  # str() refuses more than 4300 digits
    assert len(quote("x" * 10_000)) < 80


def test_usage_errors_stay_on_one_line(capsys):
    with pytest.raises(SystemExit):
        main(["report", "--frob\nnicate"])
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--frob\\nnicate" in err


def test_spec_file_path_with_a_nul_character(tmp_path):
    spec = Path(tmp_path, "spec.toml")
    spec.write_text('base = "a\\u0000b"\n')
    with pytest.raises(CalcError, match="must be a built-in spec name or a file path"):
        network_from_dict({"base": "a\x00b"}, str(spec))
