"""Hostile input (issue 16): each class of input that once gave an internal error, a hang, an
unbounded read, a silently wrong number, a quadratic path, an unsafe output or a misleading message,
with each example the issue gives. benchmarks/hostile_campaign.py runs a larger campaign.

Most cases run main() in-process (fast); the ones about the process itself (closed or full standard
streams, signals, file descriptors) run it as a subprocess. Only the check/bench memory cases need torch.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import SRC, run_cli
from inception_calc.cli.main import main
from inception_calc.core.errors import MAX_LINE, CalcError
from inception_calc.core.files import MAX_BASE_DEPTH, MAX_FILE_BYTES, read_text

TINY = 'name = "tiny"\ninput = [3, 16, 16]\n[[rows]]\nname = "stem"\nkind = "conv"\nout = 4\nkernel = 3\n'


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # a usage error, from argparse: exit 2 in a real process
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys, *argv: str) -> str:
    """The one error line of a command that must refuse its input (exit 2, nothing on stdout)."""
    code, out, err = cli(capsys, *argv)
    assert (code, out) == (2, ""), (code, out, err)
    assert err.count("\n") == 1 and "Traceback" not in err and "internal error" not in err, err
    return err


# ----------------------------------------------------------------------------- internal errors on plain bad input

def test_a_name_longer_than_the_file_system_allows_is_no_file(capsys):
    err = refused(capsys, "report", "a" * 300 + ".toml")
    assert "File name too long" in err


def test_a_long_base_chain_is_refused_at_the_depth_limit(tmp_path, capsys):
    (tmp_path / "s0.toml").write_text(TINY)
    for i in range(1, 500):
        (tmp_path / f"s{i}.toml").write_text(f'base = "s{i - 1}.toml"\n')
    err = refused(capsys, "report", str(tmp_path / "s499.toml"))
    assert f"a chain of more than {MAX_BASE_DEPTH} specs" in err
    (tmp_path / "short.toml").write_text('base = "s5.toml"\n')  # a chain within the limit still reads
    assert cli(capsys, "report", str(tmp_path / "short.toml"))[0] == 0


@pytest.mark.parametrize("value", ["1e" + "9" * 5000, "1.5e-" + "9" * 3000, "1." + "9" * 5000, "1" + "0" * 5000])
def test_numbers_with_thousands_of_digits_are_refused(capsys, value):
    err = refused(capsys, "verify", "--claim", f"inception3a.weights = {value}", "--no-derivation")
    assert "digits" in err and len(err) < MAX_LINE + 100


def test_a_closed_stdout_is_exit_2_without_a_traceback():
    done = subprocess.run(f"{sys.executable} -m inception_calc report >&-", shell=True, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(SRC)}, timeout=60)
    assert done.returncode == 2 and "standard output is closed" in done.stderr and "Traceback" not in done.stderr


# ----------------------------------------------------------------------------- unbounded reads and hangs

def test_dev_zero_is_refused_without_reading_it(capsys):
    assert "is a device" in refused(capsys, "report", "/dev/zero")


def test_a_fifo_nobody_writes_to_is_given_up_not_waited_on(tmp_path, capsys):
    fifo = tmp_path / "spec.toml"
    os.mkfifo(fifo)
    start = time.monotonic()
    err = refused(capsys, "report", str(fifo))
    assert time.monotonic() - start < 8 and "pipe" in err


def test_a_pipe_with_a_spec_in_it_is_read(tmp_path):
    """A shell's <(...) is a pipe: read, not refused (docs use it)."""
    done = subprocess.run(["bash", "-c", f"{sys.executable} -m inception_calc report <(printf '{TINY}')"],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(SRC)}, timeout=60)
    assert done.returncode == 0 and "stem" in done.stdout, done.stderr


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, capsys):
    big = tmp_path / "big.toml"
    with open(big, "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk, and read_text must not read it
    assert f"over the {MAX_FILE_BYTES:,}-byte limit" in refused(capsys, "report", str(big))


def test_a_claims_file_over_the_size_limit_is_refused(tmp_path):
    claims = tmp_path / "claims.toml"
    with open(claims, "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(CalcError, match="byte limit for a claims file"):
        read_text(claims, "claims file")


# ----------------------------------------------------------------------------- silently wrong numbers

def test_an_explicit_name_equal_to_another_layers_default_index_is_refused(tmp_path, capsys):
    """[conv (default name stem.0), conv named "0"]: two layers named stem.0."""
    spec = tmp_path / "dup.toml"
    spec.write_text(textwrap.dedent('''\
        name = "t"
        input = [3, 32, 32]
        [[rows]]
        name = "stem"
        kind = "stack"
        layers = [{kind = "conv", out = 8, kernel = 3}, {kind = "conv", out = 8, kernel = 3, name = "0"}]
        '''))
    for command in ("report", "explain", "verify"):
        args = [command, str(spec)] if command == "report" else \
            [command, "stem", "--spec", str(spec)] if command == "explain" else \
            [command, str(spec), "--claim", "stem.weights = 792"]
        assert "is given twice" in refused(capsys, *args)


def test_duplicate_json_keys_are_refused(tmp_path, capsys):
    spec = tmp_path / "dup.json"
    spec.write_text('{"name": "a", "name": "b", "input": [3, 16, 16], "rows": [{"name": "r", "kind": "relu"}]}')
    assert "the key 'name' is given twice" in refused(capsys, "report", str(spec))


def test_a_two_element_input_list_is_refused_not_read_as_h_w(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(TINY.replace("[3, 16, 16]", "[3, 224]"))
    assert "is ambiguous: a list gives [C, H, W]" in refused(capsys, "report", str(spec))


def test_a_row_named_like_the_total_claim_word_is_refused(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(TINY.replace('name = "stem"', 'name = "total"'))
    assert "'total' is reserved" in refused(capsys, "report", str(spec))


def test_the_smallest_input_is_found_past_65536(tmp_path, capsys):
    """A 70000x70000 kernel: the search used to stop at 65536 and claim no input works."""
    spec = tmp_path / "k.toml"
    spec.write_text(TINY.replace("kernel = 3", "kernel = 70000"))
    assert "accepts is 3x70000x70000" in refused(capsys, "report", str(spec))
    code, out, _ = cli(capsys, "sweep", str(spec), "--input", "69995:70005:5")
    assert code == 0 and "smallest input tiny accepts: 3x70000x70000" in out


def test_the_sweep_never_says_smallest_above_a_size_its_table_runs():
    from inception_calc.studies.sweep import sweep

    result = sweep("googlenet", range(200, 260, 8))
    ran = [p.size for p in result.points if p.totals is not None]
    assert result.smallest is not None and result.smallest <= min(ran)


# ----------------------------------------------------------------------------- quadratic paths

def _rows(n: int, aux: int = 0) -> str:
    parts = ['name = "big"\ninput = [3, 8, 8]']
    parts += [f'[[rows]]\nname = "r{i}"\nkind = "relu"' for i in range(n)]
    parts += [f'[[rows]]\nname = "a{i}"\nkind = "aux"\nafter = "r{i}"\nlayers = [{{kind = "relu"}}]' for i in range(aux)]
    return "\n".join(parts) + "\n"


def test_merged_names_is_linear_and_keeps_its_order():
    from inception_calc.studies.compare import merged_names

    # by hand: x goes before a (first in its network), y, z after a, w after c; q first, r after b
    assert merged_names([["a", "b", "c"], ["x", "a", "y", "z", "c", "w"], ["q", "b", "r"]]) == \
        ["q", "x", "a", "y", "z", "b", "r", "c", "w"]
    names = [f"n{i}" for i in range(200_000)]
    start = time.monotonic()
    assert merged_names([names, names[::-1]]) == names
    assert time.monotonic() - start < 2  # a list's index() made this hours


def test_many_aux_rows_load_in_linear_time(tmp_path):
    from inception_calc.core.sources import load_file

    spec = tmp_path / "aux.toml"
    spec.write_text(_rows(4000, aux=4000))
    start = time.monotonic()
    assert len(load_file(spec).rows) == 8000
    assert time.monotonic() - start < 10  # was 4000 walks of the rows before each head


def test_a_chart_of_thousands_of_rows_is_refused(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    spec = tmp_path / "s.toml"
    spec.write_text("\n".join(['name = "p"\ninput = [3, 8, 8]'] + [
        f'[[rows]]\nname = "r{i}"\nkind = "conv"\nout = 2\nkernel = 1' for i in range(600)]) + "\n")
    err = refused(capsys, "report", str(spec), "--plot", str(tmp_path / "p.png"))
    assert "more than the 500" in err and not (tmp_path / "p.png").exists()


# ----------------------------------------------------------------------------- output that is not safe

def test_two_outputs_on_one_path_are_refused(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "a.png"
    assert "names the same file as --output" in refused(capsys, "report", "--output", str(out), "--plot", str(out))
    assert not out.exists()


def test_an_error_after_the_plot_leaves_no_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    refused(capsys, "report", "--plot", str(tmp_path / "p.png"), "--output", str(tmp_path / "no" / "r.txt"))
    assert list(tmp_path.iterdir()) == []


def test_a_dangling_link_keeps_pointing_at_its_file(tmp_path, capsys):
    link = tmp_path / "out.txt"
    link.symlink_to("target.txt")
    assert cli(capsys, "report", "--output", str(link))[0] == 0
    assert link.is_symlink() and os.readlink(link) == "target.txt" and "inception5b" in (tmp_path / "target.txt").read_text()


def test_setuid_and_setgid_are_not_copied_and_the_owner_is_kept(tmp_path, capsys):
    target = tmp_path / "r.txt"
    target.write_text("old")
    os.chmod(target, 0o6754)
    owner = (target.stat().st_uid, target.stat().st_gid)
    if os.geteuid() == 0:  # root writing over another user's file gives it back to that user
        os.chown(target, 4321, 4321)
        owner = (4321, 4321)
    assert cli(capsys, "report", "--output", str(target))[0] == 0
    info = target.stat()
    assert stat.S_IMODE(info.st_mode) == 0o754 and (info.st_uid, info.st_gid) == owner


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_while_writing_leaves_no_temp_file_and_the_old_contents(tmp_path, signum):
    """A real signal, sent while write_atomic's temporary file exists (from its fsync)."""
    target = tmp_path / "r.txt"
    target.write_text("old")
    code = textwrap.dedent(f'''\
        import os, signal, sys
        import inception_calc.report.output as output
        real = os.fsync
        def fsync(fd):
            real(fd)
            os.kill(os.getpid(), {int(signum)})
        output.os.fsync = fsync
        from inception_calc.cli.main import main
        sys.exit(main(["report", "--output", {str(target)!r}]))
        ''')
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(SRC)}, timeout=60)
    assert done.returncode == 128 + signum and "Traceback" not in done.stderr, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.txt"] and target.read_text() == "old"


# ----------------------------------------------------------------------------- closed or full standard streams

@pytest.mark.parametrize("command", ["--help", "report --help", "report", "specs", "paper-table"])
def test_a_full_stdout_is_exit_2_with_one_line(command):
    done = subprocess.run(f"{sys.executable} -m inception_calc {command} > /dev/full", shell=True,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(SRC)}, timeout=60)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr


def test_a_closed_stderr_still_gives_the_exit_status():
    done = subprocess.run(f"{sys.executable} -m inception_calc report --input 7 2>&-", shell=True,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(SRC)}, timeout=60)
    assert done.returncode == 2 and done.stdout == ""


def test_a_closed_stdout_with_output_still_writes_the_file(tmp_path):
    done = subprocess.run(f"{sys.executable} -m inception_calc report --output {tmp_path / 'r.txt'} >&-",
                          shell=True, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(SRC)},
                          timeout=60)
    assert done.returncode == 0 and (tmp_path / "r.txt").exists(), done.stderr


# ----------------------------------------------------------------------------- messages

def test_control_characters_from_a_file_are_escaped(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(TINY.replace('kind = "conv"', 'kind = "\\u001b[2Jconv"'))
    err = refused(capsys, "report", str(spec))
    assert "\x1b" not in err and "\\x1b[2J" in err


def test_a_long_value_is_shortened_with_an_ellipsis(capsys):
    err = refused(capsys, "report", "--input", "7" * 50_000)
    assert len(err) < MAX_LINE + 100 and "..." in err


def test_a_long_error_line_is_cut_at_the_limit():
    line = CalcError("x" * 100_000, where="w").line()
    assert len(line) <= MAX_LINE and "..." in line


@pytest.mark.parametrize("command", ["specs", "paper-table", "report", "sweep", "explain"])
def test_usage_errors_name_the_command(capsys, command):
    err = refused(capsys, command, "--frobnicate")
    assert err.startswith(f"inception-calc {command}: error:")


def test_output_errors_name_the_flag_given_and_come_before_any_work(tmp_path, capsys):
    err = refused(capsys, "bench", "--device", "cpu", "--save-json", str(tmp_path / "no" / "r.json"))
    assert err.startswith("inception-calc bench: error: --save-json ") and "folder does not exist" in err


# ----------------------------------------------------------------------------- hypothesis: any text as a spec

@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_any_text_is_a_result_or_one_error_line(tmp_path, capsys, text):
    spec = tmp_path / "h.toml"
    spec.write_bytes((TINY + text).encode("utf-8", "surrogatepass"))
    code = main(["report", str(spec)])
    out, err = capsys.readouterr()
    assert code in (0, 2), err
    if code == 2:
        assert out == "" and err.count("\n") == 1 and err[:-1].isprintable(), err


# ----------------------------------------------------------------------------- check and bench: memory

@pytest.mark.torch
@pytest.mark.parametrize("command", [["check"], ["bench", "--device", "cpu", "--iters", "1", "--warmup", "0"]])
def test_a_network_too_large_to_allocate_is_refused_with_the_estimate(tmp_path, command):
    pytest.importorskip("torch")
    spec = tmp_path / "huge.toml"
    spec.write_text(TINY.replace("out = 4", f"out = {2 ** 40}"))
    done = run_cli(*command, str(spec))
    assert done.code == 2 and "needs at least" in done.err and "memory here" in done.err, done.err


@pytest.mark.torch
def test_a_batch_too_large_to_allocate_is_refused_before_timing(tmp_path):
    pytest.importorskip("torch")
    done = run_cli("bench", "--device", "cpu", "--batch", "100000000", "--iters", "1", "--warmup", "0")
    assert done.code == 2 and done.err.startswith("inception-calc bench: error: --batch") and "needs at least" in done.err
