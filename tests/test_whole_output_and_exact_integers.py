"""Nothing half-written, and exact integers at any size.

Expected numbers are derived by hand in the comments, from the paper's channel counts and the
output-size formulas, never by calling the engine.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import SRC, run_cli
from inception_calc import analyze
from inception_calc.report.output import write_atomic

# ----------------------------------------------------------------------------- interrupted writes


def test_write_atomic_replaces_the_file_whole(tmp_path):
    target = tmp_path / "report.txt"
    target.write_text("old\n")
    write_atomic(target, "new\n" * 1000)
    assert target.read_text() == "new\n" * 1000
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]  # no temporary file left behind


def test_an_interrupt_during_the_write_leaves_the_old_file(tmp_path, monkeypatch):
    """Ctrl-C arrives while the data is being flushed: the old file stays, the temporary goes."""
    target = tmp_path / "report.csv"
    target.write_text("old,file\n")

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "new,file\n" * 10_000)
    assert target.read_text() == "old,file\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.csv"]


KILLED_WRITER = """
import sys
from inception_calc.report.output import write_atomic
write_atomic(sys.argv[1], "x" * (1 << 20) + ("y" * (1 << 20)) * 400)  # 401 MiB: takes a while to write
"""


def test_a_killed_writer_leaves_the_old_file_or_the_new_one(tmp_path):
    """SIGKILL mid-write (no handler can run): the target is still the old file, whole."""
    target = tmp_path / "big.txt"
    target.write_text("old\n")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(target)], env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(p.name.startswith(".big.txt.") for p in tmp_path.iterdir()):
        time.sleep(0.01)  # wait until the temporary file exists, i.e. the write has begun
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    text = target.read_text()
    assert text == "old\n" or len(text) == (1 << 20) * 401


def test_report_output_flag_writes_atomically(tmp_path):
    target = tmp_path / "r.json"
    target.write_text("old")
    run = run_cli("report", "--format", "json", "--output", str(target))
    assert run.code == 0 and run.out == ""
    assert target.read_text().startswith("{")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_output_into_a_missing_folder_is_a_clear_error(tmp_path):
    run = run_cli("report", "--output", str(tmp_path / "nope" / "r.txt"))
    assert run.code == 2 and "Traceback" not in run.err
    assert "folder does not exist" in run.err and len(run.err.strip().splitlines()) == 1


# ----------------------------------------------------------------------------- large and strange inputs


def test_googlenet_at_4096_is_exact():
    a = analyze("googlenet", 4096)
    # conv1 7x7/2 pad 3: (4096 + 6 - 7) // 2 + 1 = 2048; weights 3*64*49 = 9,408
    assert a["conv1"].out_shape == (64, 2048, 2048)
    assert a["conv1"].macs == 2048 * 2048 * 9408 == 39_460_012_032
    # maxpool1 ceil: ceil((2048 - 3) / 2) + 1 = 1023 + 1 = 1024; maxpool2: ceil(1021/2)+1 = 512
    assert a["inception3a"].in_shape == (192, 512, 512)
    # inception3a weights 163,328 (the seed article) at 512 x 512:
    # 262,144 x 160,000 = 41,943,040,000; 262,144 x 3,328 = 872,415,232; sum 42,815,455,232
    assert a["inception3a"].macs == 512 * 512 * 163_328 == 42_815_455_232
    # maxpool3: ceil(509/2)+1 = 256; maxpool4: ceil(253/2)+1 = 128; avgpool 7x7/1: 128 - 7 + 1 = 122
    assert a["avgpool"].out_shape == (1024, 122, 122)
    # fc on the flattened 122 x 122 x 1024 map: 15,241,216 inputs x 1000 outputs
    assert a["fc"].weights == 1024 * 122 * 122 * 1000 == 15_241_216_000
    assert isinstance(a.totals.inference.macs, int)


def test_4096_json_and_csv_carry_exact_integers():
    run = run_cli("report", "--input", "4096", "--format", "json")
    assert run.code == 0
    import json

    data = json.loads(run.out)
    fc = next(r for r in data["rows"] if r["name"] == "fc")
    assert fc["weights"] == 15_241_216_000 and fc["macs"] == 15_241_216_000  # as derived above
    csv = run_cli("report", "--input", "4096", "--format", "csv").out
    assert "39460012032" in csv and "e+" not in csv.lower()


def test_huge_channel_counts_stay_exact(tmp_path):
    spec = tmp_path / "wide.toml"
    spec.write_text('name = "wide"\n[[rows]]\nname = "c"\nkind = "conv"\nout = 1000000000000\nkernel = 3\npad = 1\n')
    a = analyze(str(spec), "1000000x8x8")
    # weights = 10^6 * 10^12 * 3 * 3 = 9 * 10^18; MACs = 8 * 8 * weights = 5.76 * 10^20, past 2^64 = 1.8 * 10^19
    assert a["c"].weights == 9 * 10**18
    assert a["c"].macs == 64 * 9 * 10**18 == 576 * 10**18  # past 2^64: still exact
    assert a["c"].params == 9 * 10**18 + 10**12


def test_non_square_inputs_work_everywhere():
    a = analyze("googlenet", "3x300x250")
    # conv1: (300+6-7)//2+1 = 150, (250+6-7)//2+1 = 125
    assert a["conv1"].out_shape == (64, 150, 125)
    # maxpool1 ceil: ceil(147/2)+1 = 75, ceil(122/2)+1 = 62; maxpool2: ceil(72/2)+1 = 37, ceil(59/2)+1 = 31
    assert a["inception3a"].in_shape == (192, 37, 31)
    assert a["inception3a"].macs == 37 * 31 * 163_328
    for args in (("report", "--input", "300x250"), ("explain", "inception3a", "--input", "3x300x250")):
        run = run_cli(*args)
        assert run.code == 0, run.err
    assert "37x31x192" in run_cli("explain", "inception3a", "--input", "300x250").out


@pytest.mark.parametrize("size", ["1", "3x1x1", "222", "3x222x4096", "3x4096x222"])
def test_tiny_inputs_give_the_smallest_input_error(size):
    run = run_cli("report", "--input", size)
    assert run.code == 2 and "Traceback" not in run.err
    # 223 is the least N that fits: 222 gives conv1 111, maxpool1 55, ... maxpool4 6 < the 7x7 avgpool
    assert "smallest square input this network accepts is 3x223x223" in run.err
