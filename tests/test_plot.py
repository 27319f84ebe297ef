"""--plot: report, compare and sweep write valid PNG files; bad plot paths and a missing matplotlib
are refused with one line and exit 2."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from inception_calc.cli.main import main

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
    pytest.importorskip("matplotlib")  # the plot extra
    target = tmp_path / "chart.png"
    assert main([*argv, "--plot", str(target)]) == 0
    assert capsys.readouterr().out  # the table is still printed
    width, height = png_size(target)
    assert width > 400 and height > 200
    assert [p.name for p in tmp_path.iterdir()] == ["chart.png"]  # no temporary file left behind


def test_plot_refusals(tmp_path, capsys):
    assert main(["report", "--plot", str(tmp_path / "chart.gif")]) == 2
    assert "--plot: " in capsys.readouterr().err
    assert main(["report", "--plot", str(tmp_path / "missing" / "chart.png")]) == 2
    assert "the folder does not exist" in capsys.readouterr().err
    pytest.importorskip("matplotlib")  # the plot extra: the chart's own refusal comes once matplotlib is found
    assert main(["sweep", "googlenet", "--input", "32:64:32", "--plot", str(tmp_path / "s.png")]) == 2
    # the sweep itself refuses a range where no size fits (before any chart): exit 2, the smallest input named
    assert "every size is too small for googlenet (32, 64); the smallest input googlenet accepts is 3x223x223; " \
           "start the range at 223" in capsys.readouterr().err


POOL_ONLY = {"name": "x", "rows": [{"name": "pool", "kind": "maxpool", "kernel": 2, "rounding": "floor"}]}


def test_library_plot_errors_name_the_path_parameter(tmp_path, capsys):
    """A Python caller is told about ``path``, plot_report's parameter; the command line about --plot."""
    pytest.importorskip("matplotlib")  # without it, the error is the missing extra (the test below)
    from inception_calc import analyze, network_from_dict
    from inception_calc.core.errors import CalcError
    from inception_calc.report.plot import plot_report

    folder = tmp_path / "chart.png"  # a folder with a .png name: only writing the file finds it out
    folder.mkdir()
    with pytest.raises(CalcError) as caught:
        plot_report(analyze("googlenet"), str(folder))
    assert (caught.value.where, caught.value.what) == (f"path {folder}", "is a folder, not a file")
    with pytest.raises(CalcError) as caught:
        plot_report(analyze(network_from_dict(POOL_ONLY, "x")), str(tmp_path / "r.png"))
    assert caught.value.where == "path" and "--" not in caught.value.line()
    assert main(["report", "--plot", str(folder)]) == 2
    assert capsys.readouterr().err == (f"inception-calc report: error: --plot {folder}: is a folder, not a file; "
                                       "give a file name in it\n")


def test_missing_matplotlib_names_the_extra(tmp_path):
    # a real interpreter in which importing matplotlib fails, as it does where it is not installed
    code = ("import sys; sys.modules['matplotlib'] = None; "
            "from inception_calc.cli.main import main; sys.exit(main(sys.argv[1:]))")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", code, "report", "--plot", str(tmp_path / "r.png")],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""  # refused before any table is printed
    assert done.stderr.strip() == ("inception-calc report: error: --plot: matplotlib is not installed; "
                                   "install the plot extra: pip install 'inception_calc[plot]'")
    assert not (tmp_path / "r.png").exists()


# n -> label: round to 3 significant figures first, then pick the unit of the rounded value
COMPACT = [
    (0, "0"),
    (7, "7"),
    (999, "999"),
    (999.6, "1K"),                   # 3 figures: 1,000 (not 1e+03), which is 1 x 10^3
    (1_000, "1K"),
    (163_328, "163K"),               # 163,328 -> 163,000 = 163 x 10^3 (the seed article's 3a weights)
    (999_499, "999K"),               # 999,499 -> 999,000
    (999_999, "1M"),                 # 999,999 -> 1,000,000 = 1 x 10^6 (was '1e+03K')
    (1_000_000, "1M"),
    (128_049_152, "128M"),           # 128,049,152 -> 128,000,000 = 128 x 10^6 (3a's MACs)
    (999_600_000, "1G"),             # 999,600,000 -> 1,000,000,000 = 1 x 10^9 (was '1e+03M')
    (1_582_671_872, "1.58G"),        # 1,582,671,872 -> 1,580,000,000 = 1.58 x 10^9 (GoogLeNet's MACs)
    (999_400_000_000, "999G"),       # 999.4 x 10^9 -> 999 x 10^9
    (999_600_000_000, "1e+12"),      # 999.6 x 10^9 -> 1.00 x 10^12: from 10^12 on, no unit
    (2.77e37, "2.77e+37"),
    (-999_600_000, "-1G"),           # a difference: the same rounding, with its sign
]


@pytest.mark.parametrize("n, label", COMPACT)
def test_compact_rounds_before_choosing_the_unit(n, label):
    from inception_calc.report.plot import compact

    assert compact(n) == label
