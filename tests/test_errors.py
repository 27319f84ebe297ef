"""Every bad input the analytic commands promise to reject, through the real CLI process: one line on stderr that
names where the problem is and how to fix it, exit status 2, nothing on stdout, never a traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import run_cli

TINY = {"name": "tiny", "rows": [{"name": "stem", "kind": "conv", "out": 8, "kernel": 3}]}


def toml_spec(rows: str) -> str:
    return f'name = "tiny"\n{rows}'


def write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


def assert_one_line_error(run, *fragments: str) -> str:
    assert run.code == 2, (run.code, run.err)
    assert run.out == ""
    assert "Traceback" not in run.err
    lines = run.err.splitlines()
    assert len(lines) == 1, run.err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def test_a_good_spec_file_in_toml_and_json_runs(tmp_path):
    """The files below differ from these by one field each."""
    toml_file = write(tmp_path, "tiny.toml", toml_spec('[[rows]]\nname = "stem"\nkind = "conv"\nout = 8\nkernel = 3\n'))
    json_file = write(tmp_path, "tiny.json", json.dumps(TINY))
    for path in (toml_file, json_file):
        run = run_cli("report", path, "--input", "3x5x5", "--format", "csv")
        assert run.code == 0 and run.err == ""
        assert "stem,layer,conv" in run.out
        assert ",216,8,0,224,1944," in run.out  # 3 * 8 * 9 = 216 weights, 8 biases; 3 * 3 * 216 = 1,944 MACs


def test_unknown_spec_name_lists_the_known():
    line = assert_one_line_error(run_cli("report", "googlenett"), "unknown spec 'googlenett'", "googlenet")
    from inception_calc import builtin_names

    assert "use one of " + ", ".join(builtin_names()) in line and "googlenet" in builtin_names()


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_missing_file(tmp_path, suffix):
    assert_one_line_error(run_cli("report", str(tmp_path / f"nowhere{suffix}")),
                          f"nowhere{suffix}: no such file", "check the path")


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_unreadable_file(tmp_path, suffix):
    path = write(tmp_path, f"latin1{suffix}", b'name = "caf\xe9"\n')  # not UTF-8
    assert_one_line_error(run_cli("report", path), f"latin1{suffix}", "cannot read the file", "UnicodeDecodeError",
                          "save it as UTF-8 text")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_file_without_read_permission(tmp_path):
    path = Path(write(tmp_path, "secret.toml", 'name = "x"\n'))
    path.chmod(0)
    assert_one_line_error(run_cli("report", str(path)), "secret.toml", "cannot read the file", "PermissionError",
                          "check that the file is readable")


def test_a_directory_is_not_a_spec(tmp_path):
    assert_one_line_error(run_cli("report", str(tmp_path)), "is a directory, not a spec file",
                          "give the path of a .toml or .json spec file")


def test_malformed_toml(tmp_path):
    path = write(tmp_path, "bad.toml", 'name = "tiny"\n[[rows]\nname = "stem"\n')
    assert_one_line_error(run_cli("report", path), "bad.toml: malformed TOML", "line 2", "fix the TOML syntax")


def test_malformed_json(tmp_path):
    path = write(tmp_path, "bad.json", '{"name": "tiny", "rows": [}')
    assert_one_line_error(run_cli("report", path), "bad.json: malformed JSON", "line 1, column 27",
                          "fix the JSON syntax")


@pytest.mark.parametrize("case, rows, fragments", [
    ("unknown row kind", '[[rows]]\nname = "stem"\nkind = "convolution"\nout = 8\nkernel = 3\n',
     ["row 1 'stem', field 'kind'", "unknown row kind 'convolution'", "use one of conv, maxpool"]),
    ("unknown layer kind", '[[rows]]\nname = "s"\nkind = "stack"\nlayers = [{kind = "gelu"}]\n',
     ["row 1 's', layer 0, field 'kind'", "unknown layer kind 'gelu'", "use one of conv"]),
    ("missing conv field", '[[rows]]\nname = "stem"\nkind = "conv"\nkernel = 3\n',
     ["row 1 'stem', field 'out'", "missing", "give the number of output channels"]),
    ("missing inception column",
     '[[rows]]\nname = "mix"\nkind = "inception"\nn1x1 = 8\nn3x3red = 4\nn3x3 = 8\nn5x5red = 2\nn5x5 = 4\n',
     ["row 1 'mix', field 'pool_proj'", "missing", "give the paper's 'pool_proj' column"]),
    ("missing pool rounding", '[[rows]]\nname = "pool"\nkind = "maxpool"\nkernel = 3\nstride = 2\n',
     ["row 1 'pool', field 'rounding'", "missing", 'rounding = "floor" or "ceil"']),
    ("zero field", '[[rows]]\nname = "stem"\nkind = "conv"\nout = 0\nkernel = 3\n',
     ["row 1 'stem', field 'out'", "must be a positive integer, got 0"]),
    ("negative field", '[[rows]]\nname = "stem"\nkind = "conv"\nout = 8\nkernel = 3\nstride = -2\n',
     ["row 1 'stem', field 'stride'", "must be a positive integer, got -2"]),
    ("negative padding", '[[rows]]\nname = "stem"\nkind = "conv"\nout = 8\nkernel = 3\npad = -1\n',
     ["row 1 'stem', field 'pad'", "must be an integer >= 0, got -1"]),
    ("zero inception column",
     '[[rows]]\nname = "mix"\nkind = "inception"\nn1x1 = 0\nn3x3red = 4\nn3x3 = 8\nn5x5red = 2\nn5x5 = 4\n'
     'pool_proj = 4\n',
     ["row 1 'mix', field 'n1x1'", "must be a positive integer, got 0"]),
    ("unknown field with a suggestion", '[[rows]]\nname = "stem"\nkind = "conv"\nout = 8\nkernal = 3\n',
     ["row 1 'stem'", "unknown field 'kernal' for a conv layer", "did you mean 'kernel'?"]),
    ("unknown inception field", '[[rows]]\nname = "mix"\nkind = "inception"\nn1x1 = 8\nn3x3_red = 4\n',
     ["row 1 'mix'", "unknown field 'n3x3_red' for an inception row", "did you mean 'n3x3red'?"]),
    ("aux head after an unknown row",
     '[[rows]]\nname = "stem"\nkind = "conv"\nout = 8\nkernel = 3\n'
     '[[rows]]\nname = "head"\nkind = "aux"\nafter = "stme"\nlayers = [{kind = "linear", out = 10}]\n',
     ["row 2 'head', field 'after'", "names 'stme', which is no main row before it", "use one of: stem"]),
    ("repeated row name",
     '[[rows]]\nname = "stem"\nkind = "conv"\nout = 8\nkernel = 3\n'
     '[[rows]]\nname = "stem"\nkind = "conv"\nout = 8\nkernel = 3\n',
     ["row 2 'stem'", "the name repeats row 1", "give each row its own name"]),
])
def test_bad_spec_file(tmp_path, case, rows, fragments):
    path = write(tmp_path, "spec.toml", toml_spec(rows))
    line = assert_one_line_error(run_cli("report", path), *fragments)
    assert line.startswith(f"inception-calc report: error: {path}, "), line  # the file comes first


def test_kernel_larger_than_its_padded_input(tmp_path):
    path = write(tmp_path, "big.toml", toml_spec('[[rows]]\nname = "stem"\nkind = "conv"\nout = 8\nkernel = 9\n'))
    assert_one_line_error(run_cli("report", path, "--input", "3x5x5"),
                          "input 3x5x5 is too small", "row 'stem'",
                          "the 9x9 kernel does not fit its 5x5 padded input",  # 5 + 2 * 0 = 5 < 9
                          "the smallest square input this network accepts is 3x9x9")  # 9 - 9 + 1 = 1 pixel


def test_window_larger_than_its_padded_input_inside_a_row(tmp_path):
    rows = ('[[rows]]\nname = "stem"\nkind = "conv"\nout = 8\nkernel = 3\nstride = 2\n'
            '[[rows]]\nname = "head"\nkind = "stack"\nlayers = [{kind = "conv", out = 4, kernel = 1},'
            ' {kind = "avgpool", kernel = 7, rounding = "floor"}]\n')
    path = write(tmp_path, "late.toml", toml_spec(rows))
    # 3x3/2 on 9: floor(6 / 2) + 1 = 4, and a 7x7 pool needs 7: 2 * (7 - 1) + 3 = 15 is the least input
    assert_one_line_error(run_cli("report", path, "--input", "9"),
                          "row 'head', layer 'head.1'", "the 7x7 window does not fit its 4x4 padded input",
                          "3x15x15")


def test_input_too_small_for_googlenet():
    # conv1 gives (100 + 6 - 7) // 2 + 1 = 50, the 3x3/2 ceil pools ceil(47/2)+1 = 25, 12, 6, 3: the 7x7
    # average pool sees 3x3. 223 is the least input: conv1 gives 222 // 2 + 1 = 112 as at 224, while 222
    # gives 111, then 55, 27, 13, 6 < 7 (test_engine.test_smallest_input derives it)
    line = assert_one_line_error(run_cli("report", "--input", "100"), "input 3x100x100 is too small", "row 'avgpool'",
                                 "the 7x7 window does not fit its 3x3 padded input",
                                 "the smallest square input this network accepts is 3x223x223")
    assert "googlenet" in line


@pytest.mark.parametrize("value", ["abc", "3x0x224", "-224", "1x2x3x4", "3x", "0"])
def test_bad_input_flag(value):
    assert_one_line_error(run_cli("report", "--input", value), repr(value), "write N (CxNxN), HxW (CxHxW) or CxHxW",
                          "C is the spec's input channels, 3 by default")


@pytest.mark.parametrize("args, fragments", [
    (["report", "--format", "xml"], ["argument --format: invalid choice: 'xml'", "'table', 'markdown', 'csv', 'json'"]),
    (["report", "--depth", "deep"], ["argument --depth: invalid choice: 'deep'", "'layer', 'branch', 'conv'"]),
    (["report", "--frobnicate"], ["unrecognized arguments: --frobnicate"]),
    (["nosuchcommand"], ["invalid choice: 'nosuchcommand'"]),
])
def test_bad_flags(args, fragments):
    assert_one_line_error(run_cli(*args), *fragments, "--help")


def test_explain_unknown_row_lists_the_rows():
    assert_one_line_error(run_cli("explain", "inception3z"), "no row, branch or layer named 'inception3z'",
                          "use one of: conv1, maxpool1", "inception3a.branch2")


def test_debug_shows_the_traceback():
    """--debug is the one way to see a traceback, for a developer."""
    run = run_cli("--debug", "report", "nosuchnet")
    assert run.code != 0 and "Traceback" in run.err and "CalcError" in run.err


# ----------------------------------------------------------------------------- parameters in Python, flags on the command line


def test_the_library_names_the_parameter_and_the_command_its_flag(tmp_path):
    from inception_calc import CalcError, analyze
    from inception_calc.report.output import write_atomic

    with pytest.raises(CalcError) as caught:
        analyze("googlenet", "abc")
    assert caught.value.where == "input"  # analyze's parameter
    assert_one_line_error(run_cli("report", "--input", "abc"), "inception-calc report: error: --input: cannot read")
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(CalcError) as caught:
        write_atomic(folder, "text")
    assert caught.value.where == f"path {folder}"  # write_atomic's parameter, then the file
    with pytest.raises(CalcError) as caught:
        write_atomic(folder, "text", "--save-json")
    assert caught.value.where == f"--save-json {folder}"  # a command gives its flag
    assert_one_line_error(run_cli("report", "--output", str(folder)), f"error: --output {folder}: is a folder")


@pytest.mark.parametrize("where, shown", [
    ("settings.batches", "--batch"),                  # the whole of where
    ("path out/r.png", "--plot out/r.png"),           # then the file
    ("input, row 'fc'", "--input, row 'fc'"),         # then more of the place
    ("settings.batchesX", "settings.batchesX"),       # another name that starts alike: kept
    ("pathological.toml", "pathological.toml"),       # a file: kept
    ("spec.toml, field 'input'", "spec.toml, field 'input'"),
    ("", ""),
])
def test_at_flag_replaces_a_leading_parameter_only(where, shown):
    from inception_calc.cli.common import at_flag

    assert at_flag(where, {"settings.batches": "--batch", "path": "--plot", "input": "--input"}) == shown


def test_flag_errors_relocates_and_keeps_what_and_fix():
    from inception_calc import CalcError
    from inception_calc.cli.common import flag_errors

    with pytest.raises(CalcError) as caught, flag_errors({"against": "--against"}):
        raise CalcError("unknown network 'x'", where="against", fix="use built or torchvision")
    assert caught.value.line() == "--against: unknown network 'x'; use built or torchvision"
    original = CalcError("no such file", where="a.toml")
    with pytest.raises(CalcError) as caught, flag_errors({"against": "--against"}):
        raise original
    assert caught.value is original  # nothing to re-locate: the same error
