"""The table kit (inception_calc.report.table): alignment, rules, totals set apart, grouped and
indented rows, markdown escaping done once, CSV; that every row adds up; and that tabulate is
imported only by the renderers that lay out text."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys

import pytest

from conftest import SRC
from inception_calc.report.table import (
    LEFT, RIGHT, Column, columns, csv_table, indented, markdown_cell, markdown_table, printable, text_table)

NAME_MACS = columns(("name", "MACs"), right={"MACs"})


# ----------------------------------------------------------------------------- text


@pytest.mark.parametrize("cols, rows, lines", [
    # left: padded on the right, trailing spaces stripped; right: padded on the left. The widths:
    # name max(4, 5, 9) = 9, MACs max(4, 5, 6) = 6; 9 + 2 + 6 = 17 dashes
    (NAME_MACS, [["conv1", "9,408"], ["  conv2.1", "12,288"]],
     ["name         MACs",
      "-----------------",
      "conv1       9,408",
      "  conv2.1  12,288"]),
    # both left: the short cells of the last column leave no trailing spaces; 3 + 2 + 5 = 10 dashes
    (columns(("a", "b")), [["x", "short"], ["xyz", "s"]],
     ["a    b",
      "----------",
      "x    short",
      "xyz  s"]),
    # both right; a title wider than every cell sets the width: 5 + 2 + 2 = 9
    (columns(("wide!", "n"), right={"wide!", "n"}), [["1", "10"]],
     ["wide!   n",
      "---------",
      "    1  10"]),
    # no rows: the titles and their rule
    (NAME_MACS, [], ["name  MACs", "----------"]),
])
def test_alignment(cols, rows, lines):
    assert text_table(cols, rows) == lines


def test_cells_are_laid_out_as_written():
    # tabulate would read "1e3" as 1000.0, right-align "-" as a number and strip the leading spaces
    cols = columns(("a", "b"), right={"b"})
    assert text_table(cols, [["   x", "1e3"], ["y", "-"]], header=False) == ["   x  1e3", "y       -"]


def test_totals_are_set_apart():
    rows, totals = [["conv1", "9,408"], ["conv2", "12,288"]], [["total", "21,696"]]
    # 9,408 + 12,288 = 21,696; the widths: 5 and 6, 5 + 2 + 6 = 13 dashes
    assert text_table(NAME_MACS, rows, totals) == [
        "name     MACs",
        "-------------",
        "conv1   9,408",
        "conv2  12,288",
        "-------------",
        "total  21,696"]
    # a total wider than every row widens its column, the rows and the rules with it
    wide = text_table(NAME_MACS, rows, [["total (inference)", "21,696"]])
    assert wide[1] == wide[4] == "-" * 25  # 17 + 2 + 6
    assert wide[2] == "conv1               9,408"


def test_rule_below_and_rule_limit():
    rows = [["a" * 30, "1"]]
    lines = text_table(NAME_MACS, rows, rule_below=True)
    assert lines[1] == lines[-1] == "-" * 36  # 30 + 2 + 4
    cut = text_table(NAME_MACS, rows, rule_below=True, rule_limit=10)
    assert cut[1] == cut[-1] == "-" * 10 and cut[2] == lines[2]  # the rows keep their widths


def test_grouped_and_headless_rows():
    rows = [["a", "1"], ["", "2"], ["b", "3"], ["", "4"]]
    # a blank line after every 2 rows, none after the last
    assert text_table(NAME_MACS, rows, group=2) == [
        "name  MACs", "----------", "a        1", "         2", "", "b        3", "         4"]
    # without titles: the rows only, laid out in columns (the specs list, the most-changed list)
    assert text_table(NAME_MACS, rows[:2], header=False) == ["a  1", "   2"]


@pytest.mark.parametrize("name, shown", [
    ("inception3a", "inception3a"),                 # a row: no indent
    ("inception3a.branch2", "  inception3a.branch2"),  # a branch: one step
    ("inception3a.branch2.1", "    inception3a.branch2.1"),  # a layer of it: two
])
def test_indented(name, shown):
    assert indented(name) == shown


def test_a_cell_stays_on_its_line():
    lines = text_table(NAME_MACS, [["a\nb\tc\x1b[31m", "1"]])
    assert lines[2] == "a\\nb\\tc\\x1b[31m     1" and len(lines) == 3  # "1" right-aligned under "MACs"


def test_wrong_row_length_is_refused():
    with pytest.raises(ValueError, match="row 0 has 1 cells for 2 columns"):
        text_table(NAME_MACS, [["only"]])
    with pytest.raises(ValueError, match="total 0 has 3 cells"):
        markdown_table(NAME_MACS, [], [["a", "b", "c"]])
    with pytest.raises(ValueError, match="align must be one of left, right"):
        Column("x", "center")


def _numbers(line: str) -> list[int]:
    return [int(x.replace(",", "")) for x in re.findall(r"\d[\d,]*", line)]


def test_every_row_adds_up():
    """A table of three rows and their total: every body column sums to the total line, and every
    line ends where the rule does (the last column is right-aligned)."""
    values = [[9_408, 118_013_952], [114_688, 359_661_568], [163_328, 128_049_152]]
    sums = [sum(column) for column in zip(*values)]  # 287,424 weights; 605,724,672 MACs
    assert sums == [287_424, 605_724_672]
    cols = columns(("name", "weights", "MACs"), right={"weights", "MACs"})
    rows = [[f"row{i}", f"{w:,}", f"{m:,}"] for i, (w, m) in enumerate(values)]
    lines = text_table(cols, rows, [["total", f"{sums[0]:,}", f"{sums[1]:,}"]])
    body, total = lines[2:5], lines[6]
    assert [_numbers(line)[1:] for line in body] == values  # _numbers reads row0's 0 first
    assert [sum(column) for column in zip(*(_numbers(line)[1:] for line in body))] == _numbers(total)
    assert {len(line) for line in lines} == {len(lines[1])}
    # each number ends at its column's right edge: the same offset on every line
    for k in (1, 2):
        ends = {m.end() for line in [*body, total] for m in [list(re.finditer(r"\d[\d,]*", line))[-3 + k]]}
        assert len(ends) == 1


# ----------------------------------------------------------------------------- markdown


@pytest.mark.parametrize("text, nowrap, cell", [
    ("1x1 64 | 3x3 128", False, "1x1 64 \\| 3x3 128"),  # a bare | would end the cell
    ("a\\|b", False, "a\\\\\\|b"),                      # a backslash is escaped too: \\ then \|
    ("  x  ", False, "x"),                              # outer spaces dropped
    ("  inception3a.branch1", True, "&nbsp;&nbsp;inception3a.branch1"),  # indentation kept
    ("total (inference)", True, "total&nbsp;(inference)"),
    ("line\nbreak", False, "line\\\\nbreak"),           # the escape \n, its backslash escaped
    ("", False, ""),
])
def test_markdown_cell(text, nowrap, cell):
    assert markdown_cell(text, nowrap) == cell


def test_markdown_table():
    cols = (Column("name", LEFT, nowrap=True), Column("layer"), Column("MACs", RIGHT))
    rows = [["conv1", "conv 7x7", "9,408"], ["  inception3a.branch1", "1x1 | 3x3", "12,288"]]
    assert markdown_table(cols, rows, [["total (inference)", "", "21,696"]]) == [
        "| name | layer | MACs |",
        "| --- | --- | ---: |",
        "| conv1 | conv 7x7 | 9,408 |",
        "| &nbsp;&nbsp;inception3a.branch1 | 1x1 \\| 3x3 | 12,288 |",
        "| **total&nbsp;(inference)** |  | **21,696** |",  # totals bold; an empty cell stays empty
    ]


def test_every_markdown_row_has_every_cell():
    # however many | the cells hold, each line splits into the table's columns at its unescaped |
    rows = [["a|b|c", "|"], ["\\", "x\\|y"]]
    for line in markdown_table(NAME_MACS, rows):
        assert len(re.split(r"(?<!\\)\|", line.replace("\\\\", ""))) == 2 + 2  # 2 cells, 3 bars


def test_printable():
    assert printable("googlenet Δ×") == "googlenet Δ×"
    assert printable("a\tb\x00") == "a\\tb\\x00"


# ----------------------------------------------------------------------------- CSV


def test_csv_table():
    text = csv_table(("name", "macs", "note"), [["conv1", 118_013_952, None], ["a,b", 0, 'say "x"']])
    assert text == 'name,macs,note\nconv1,118013952,\n"a,b",0,"say ""x"""\n'
    assert list(csv.reader(io.StringIO(text)))[2] == ["a,b", "0", 'say "x"']
    with pytest.raises(ValueError, match="row 0 has 1 values for 3 columns"):
        csv_table(("name", "macs", "note"), [["x"]])


# ----------------------------------------------------------------------------- imports


def _imports(*argv: str) -> set[str]:
    done = subprocess.run([sys.executable, "-X", "importtime", *argv], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(SRC)})
    assert done.returncode == 0, done.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}


@pytest.mark.parametrize("argv, tabulate", [
    (("-c", "import inception_calc; inception_calc.analyze('googlenet')"), False),
    (("-m", "inception_calc", "report", "--format", "csv"), False),
    (("-m", "inception_calc", "report", "--format", "json"), False),
    (("-m", "inception_calc", "report", "--format", "markdown"), False),  # the kit writes markdown itself
    (("-m", "inception_calc", "report"), True),                            # tabulate lays out the text table
])
def test_tabulate_is_imported_only_for_text_tables(argv, tabulate):
    assert ("tabulate" in _imports(*argv)) is tabulate


def test_report_imports_no_other_command():
    """The parser names every command's formats without importing its renderer: report imports
    neither the comparison nor the sweep."""
    modules = _imports("-m", "inception_calc", "report", "--format", "csv")
    assert "inception_calc.report.analysis" in modules  # the listing is real
    assert not {"inception_calc.studies.compare", "inception_calc.report.compare", "inception_calc.studies.sweep",
                "inception_calc.report.sweep"} & modules


def test_the_commands_name_their_renderers_formats():
    from inception_calc.cli import compare as compare_cli, sweep as sweep_cli
    from inception_calc.report import compare, sweep

    assert compare_cli.FORMATS == compare.FORMATS == tuple(compare.RENDERERS)
    assert sweep_cli.FORMATS == sweep.FORMATS == tuple(sweep.RENDERERS)
