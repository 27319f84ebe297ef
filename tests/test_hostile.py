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

_IMPORTED_BEFORE = set(sys.modules)  # what was imported before these tests ran (torch, if another test did)
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


def test_verify_reads_a_pipe_once(tmp_path, capsys, monkeypatch):
    """verify looks at a lone positional twice (a spec, or a claims file?): a pipe's text went to the
    first look and the second found it empty ("no claims"); a silent FIFO was waited on twice."""
    claims = '[[claims]]\\nclaim = "inception3a.weights = 163,328"\\n'
    done = subprocess.run(["bash", "-c", f"{sys.executable} -m inception_calc verify --no-derivation <(printf '{claims}')"],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(SRC)}, timeout=60)
    assert done.returncode == 0 and "the claim holds" in done.stdout, done.stderr
    from inception_calc.core import files

    monkeypatch.setattr(files, "PIPE_WAIT_S", 1.0)
    fifo = tmp_path / "claims.toml"
    os.mkfifo(fifo)
    start = time.monotonic()
    err = refused(capsys, "verify", str(fifo))
    assert "a pipe that sent nothing for 1 seconds" in err and time.monotonic() - start < 1.9  # one wait, not two


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


def test_a_network_over_the_layer_limit_is_refused_before_its_rows_are_read(tmp_path, capsys):
    from inception_calc.core.loader import MAX_LAYERS
    from inception_calc.core.sources import network_from_dict

    rows = [{"name": f"r{i}", "kind": "relu"} for i in range(MAX_LAYERS)]
    assert len(network_from_dict({"name": "n", "rows": rows}).rows) == MAX_LAYERS  # at the limit: read
    rows.append({"name": "one_more", "kind": "relu"})
    start = time.monotonic()
    with pytest.raises(CalcError, match=f"has {MAX_LAYERS + 1:,} rows, more than {MAX_LAYERS:,} layers"):
        network_from_dict({"name": "n", "rows": rows})
    assert time.monotonic() - start < 0.5  # counted before any row is validated
    # repeats that pass the limit stop at the row that does: 7,000 + 7,000 + 7,000 one-layer rows
    spec = tmp_path / "repeats.toml"
    rows = "".join(f'[[rows]]\nname = "{n}0"\nkind = "relu"\nrepeat = 7000\n' for n in "abc")
    spec.write_text(TINY.split("[[rows]]")[0] + rows)
    err = refused(capsys, "report", str(spec))
    assert f"row 3 'c0': brings the network to 21,000 layers, more than {MAX_LAYERS:,}" in err


def test_one_file_given_twice_to_compare_is_read_and_analysed_once(tmp_path):
    from inception_calc.studies.compare import compare

    spec = tmp_path / "s.toml"
    spec.write_text(_rows(50))
    comparison = compare([str(spec), str(spec), "googlenet"], input=224)
    assert comparison.analyses[0] is comparison.analyses[1]
    assert comparison.analyses[0] is not comparison.analyses[2]


def test_a_sweep_is_bounded_by_sizes_times_nodes(tmp_path, capsys):
    from inception_calc.studies.sweep import MAX_WORK

    spec = tmp_path / "s.toml"
    spec.write_text(_rows(1000))  # 1,000 one-layer rows: 2,000 rows and layers
    allowed = MAX_WORK // 2000
    err = refused(capsys, "sweep", str(spec), "--input", f"8:{8 + allowed}:1")  # one size more
    assert f"{allowed + 1:,} sizes of big's 2,000 rows and layers" in err and f"give at most {allowed:,} sizes" in err
    assert cli(capsys, "sweep", str(spec), "--input", "8:12:1")[0] == 0
    # the largest built-in sweeps the whole range: 2,000 sizes x (54 rows + 252 layers) = 612,000
    assert 2000 * (54 + 252) <= MAX_WORK


def test_claims_against_a_large_network_take_one_pass_each_not_one_per_claim(tmp_path, capsys):
    # 1,500 conv rows and 1,500 failing claims over every kind of quantity: each claim's node, derivation,
    # hints ("a different row?" over every node) and training sums were a walk of the whole network
    # (over 300 s here); now look-ups in tables made once per analysis (2 s)
    spec = tmp_path / "s.toml"
    spec.write_text("\n".join(['name = "wide"\ninput = [3, 8, 8]'] + [
        f'[[rows]]\nname = "r{i}"\nkind = "conv"\nout = {1 + i % 7}\nkernel = 1' for i in range(1500)]) + "\n")
    kinds = ["weights = 7", "macs ~ 1K", "rf = 3", "rf_stride = 2x2", "backward_macs = 5", "saved_bytes = 9",
             "params = 0"]
    claims = [f'spec = "{spec}"'] + [f'[[claims]]\nclaim = "r{(i * 7) % 1500}.{kinds[i % len(kinds)]}"'
                                     for i in range(1400)]
    claims += ['[[claims]]\nclaim = "total.macs = 5"', '[[claims]]\nclaim = "total.peak_bytes = 5"'] * 50
    path = tmp_path / "c.toml"
    path.write_text("\n".join(claims) + "\n")
    start = time.monotonic()
    code, out, err = cli(capsys, "verify", str(path))
    assert code == 1 and "of 1500 claims fail" in out and "a different row?" in out, err
    assert time.monotonic() - start < 20


def test_the_other_rows_a_failing_claim_holds_for_are_every_such_node_in_order(googlenet):
    """The "a different row?" hint from the sorted tables, against a walk of every node with the
    claim's own test (what the hint was before the tables)."""
    from inception_calc.studies.claims import claims_from_dict, Settings
    from inception_calc.studies.claims.judge import _holds, _others, computed_value

    texts = ["inception3a.weights = 18,432", "conv1.macs ~ 1.4M", "inception4a.rf = 3", "pool1.rf_stride = 4x4",
             "inception3a.rf_padding = 0", "conv2.activations = 200704", "inception5b.params ~ 1.3K",
             "inception3b.backward_macs = 0", "fc.weights = 1"]
    _, claims = claims_from_dict({"claims": texts}, "test", Settings())
    for claim in claims:
        fields = googlenet.receptive_fields
        if claim.quantity.startswith("rf"):
            attribute = {"rf": "size", "rf_stride": "stride", "rf_padding": "padding"}[claim.quantity]
            walked = [n for n, f in fields.items() if n != claim.node
                      and _holds(claim.written, claim.op, getattr(f, attribute))]
        else:
            walked = [c.name for r in googlenet.rows for c in r.walk("conv") if c.name != claim.node
                      and _holds(claim.written, claim.op, computed_value(c, claim.quantity, claim.convention,
                                                                          googlenet))]
        assert _others(googlenet, claim, claim.node) == walked[:4], claim.text
    assert any(len(_others(googlenet, c, c.node)) == 4 for c in claims)  # the cases include many and none
    assert any(not _others(googlenet, c, c.node) for c in claims)


# ----------------------------------------------------------------------------- progress

def test_progress_lines_go_to_stderr_only_and_leave_stdout_unchanged(capsys, monkeypatch):
    from inception_calc.cli import progress

    quiet = cli(capsys, "sweep", "googlenet", "--input", "200:240:20")
    assert quiet[0] == 0 and quiet[2] == ""  # a second is not over: no line, even with --progress below
    assert cli(capsys, "sweep", "googlenet", "--input", "200:240:20", "--progress")[1:] == quiet[1:]
    monkeypatch.setattr(progress, "DELAY_S", 0.0)
    monkeypatch.setattr(progress, "EVERY_S", 0.0)
    code, out, err = cli(capsys, "sweep", "googlenet", "--input", "200:240:20", "--progress", "--format", "json")
    assert (code, out) == (0, cli(capsys, "sweep", "googlenet", "--input", "200:240:20", "--format", "json")[1])
    lines = err.splitlines()
    assert lines[0].startswith("sweep: finding the smallest input (")
    assert [line.split(" (")[0] for line in lines[1:]] == [
        "sweep: size 200, 1 of 3", "sweep: size 220, 2 of 3", "sweep: size 240, 3 of 3"]
    assert cli(capsys, "sweep", "googlenet", "--input", "200:240:20", "--no-progress")[2] == ""
    err = cli(capsys, "compare", "googlenet", "googlenet:naive", "--progress")[2]
    assert [line.split(" (")[0] for line in err.splitlines()] == [
        "compare: reading network 1 of 2", "compare: reading network 2 of 2",
        "compare: analysing network 1 of 2", "compare: analysing network 2 of 2"]
    err = cli(capsys, "verify", "--claim", "inception3a.weights = 163,328", "--claim", "conv1.macs ~ 118M",
              "--progress")[2]
    assert [line.split(" (")[0] for line in err.splitlines()] == [
        "verify: analysing spec 1", "verify: claim 1 of 2", "verify: claim 2 of 2"]


def test_progress_is_throttled_to_one_line_a_second():
    from inception_calc.cli.progress import Progress

    now = [100.0]
    shown = Progress("sweep", clock=lambda: now[0])
    for step in range(40):  # 40 steps a quarter of a second apart: 10 s
        now[0] += 0.25
        shown(f"step {step}")
    # the first line at 1.0 s, then at most one a second: at 1.0, 2.0, ..., 10.0
    assert shown.lines == 10


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


@pytest.mark.parametrize("command", [["report"], ["check", "googlenet"], ["bench", "--device", "cpu"]])
def test_an_output_name_too_long_is_refused_before_any_work(tmp_path, capsys, command):
    # check and bench found it only after counting or timing the network (10 s in the campaign)
    err = refused(capsys, *command, "--output", str(tmp_path / ("o" * 300)))
    assert "the file name is longer than the 255 bytes the file system allows" in err and "--output" in err
    assert "torch" not in sys.modules or "torch" in _IMPORTED_BEFORE


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

@pytest.mark.parametrize("command", [["check"], ["check", "--rf"], ["bench", "--device", "cpu"],
                                     ["bench", "--device", "cpu", "--train"]])
def test_a_network_too_long_to_run_in_torch_is_refused_before_torch(tmp_path, capsys, command):
    from inception_calc.pytorch.build import MAX_BUILT_LAYERS

    spec = tmp_path / "long.toml"
    spec.write_text("\n".join(['name = "long"\ninput = [3, 8, 8]'] + [
        f'[[rows]]\nname = "r{i}"\nkind = "conv"\nout = 2\nkernel = 1' for i in range(MAX_BUILT_LAYERS + 1)]) + "\n")
    err = refused(capsys, *command, str(spec))
    assert f"has {MAX_BUILT_LAYERS + 1:,} layers, more than the {MAX_BUILT_LAYERS:,} a torch build" in err
    assert "torch" not in sys.modules or "torch" in _IMPORTED_BEFORE  # refused before torch was imported



@pytest.mark.parametrize("command", [["check"], ["check", "--rf"], ["check", "--train"],
                                     ["bench", "--device", "cpu"], ["bench", "--device", "cuda", "--train"]])
def test_a_bad_spec_fails_before_torch_is_imported(tmp_path, command):
    spec = tmp_path / "bad.toml"
    spec.write_text(TINY.replace('kind = "conv"', 'kind = "convolution"'))
    done = run_cli(*command, str(spec), python_flags=("-X", "importtime"))
    errors = [line for line in done.err.splitlines() if not line.startswith("import time:")]
    assert done.code == 2 and len(errors) == 1 and "unknown row kind 'convolution'" in errors[0], done.err
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.err.splitlines() if line.startswith("import time:")}
    assert "inception_calc.cli.main" in imported and "torch" not in imported  # the error came first

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
