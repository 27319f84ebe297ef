"""The examples run, and print the numbers the engine gives."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import ROOT, SRC


def run(*argv: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    return done.stdout


def test_report_api_example():
    pytest.importorskip("pandas")  # the example ends with a DataFrame
    out = run(sys.executable, "examples/report_api.py")
    assert "inception3a: (192, 28, 28) -> (256, 28, 28), 163,328 weights, 128,049,152 MACs" in out
    assert "weights 18,432 + 110,592 = 129,024" in out  # 192 * 96 + 96 * 128 * 9
    assert "DataFrame weights of the rows add up: True" in out
    assert "mini_inception:" in out


def test_custom_spec_example():
    out = run("bash", "examples/run_custom.sh")
    # stem: 3 * 32 * 3 * 3 = 864 weights; (64 + 2 - 3) // 2 + 1 = 32 -> 32x32x32
    assert "stem " in out and "64x64x3    32x32x32       864" in out
    # inception_a: 16 + 32 + 16 + 16 = 80 channels at 16x16 (pool1: ceil((32 - 3) / 2) + 1 = 16)
    assert "16x16x32   16x16x80" in out
    # inception_b.branch3 (kernel5x5 = 3): 80 * 8 + 8 * 24 * 3 * 3 = 640 + 1,728 = 2,368
    assert "weights = 640 + 1,728 = 2,368" in out
    # fc: 128 * 10 = 1,280 weights + 10 biases
    assert "'biases': 10" in out
