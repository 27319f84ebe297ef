"""--plot: report, compare and sweep write valid PNG files; bad plot paths and a missing matplotlib
are refused with one line and exit 2."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from inception_calc.cli import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the IHDR chunk, after checking the signature; then decode it whole."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    import matplotlib.image

    pixels = matplotlib.image.imread(path)  # a torn or invalid file fails to decode here
    assert pixels.shape[:2] == (height, width)
    return width, height


@pytest.mark.parametrize("argv", [
    ["report", "googlenet"],
    ["compare", "googlenet", "googlenet:naive", "googlenet:no-reduce"],
    ["compare", "googlenet", "googlenet:naive", "--rows", "inception3a", "--depth", "branch"],
    ["sweep", "googlenet", "--input", "192:320:32"],
])
def test_plots_are_valid_pngs(argv, tmp_path, capsys):
    target = tmp_path / "chart.png"
    assert main([*argv, "--plot", str(target)]) == 0
    assert capsys.readouterr().out  # the table is still printed
    width, height = png_size(target)
    assert width > 400 and height > 200
    assert [p.name for p in tmp_path.iterdir()] == ["chart.png"]  # no temporary file left behind


def test_plot_refusals(tmp_path, capsys):
    assert main(["report", "--plot", str(tmp_path / "chart.svg")]) == 2
    assert "--plot: " in capsys.readouterr().err
    assert main(["report", "--plot", str(tmp_path / "missing" / "chart.png")]) == 2
    assert "the folder does not exist" in capsys.readouterr().err
    assert main(["sweep", "googlenet", "--input", "32:64:32", "--plot", str(tmp_path / "s.png")]) == 2
    assert "no size of the range fits the network; nothing to plot; start the range at 223" in capsys.readouterr().err


def test_missing_matplotlib_names_the_extra(tmp_path):
    # a real interpreter in which importing matplotlib fails, as it does where it is not installed
    code = ("import sys; sys.modules['matplotlib'] = None; "
            "from inception_calc.cli import main; sys.exit(main(sys.argv[1:]))")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    done = subprocess.run([sys.executable, "-c", code, "report", "--plot", str(tmp_path / "r.png")],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""  # refused before any table is printed
    assert done.stderr.strip() == ("inception-calc report: error: --plot: matplotlib is not installed; "
                                   "install the plot extra: pip install 'inception_calc[plot]'")
    assert not (tmp_path / "r.png").exists()
