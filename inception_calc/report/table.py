r"""The one table kit: aligned text, markdown and CSV tables, for every renderer and the benchmarks' summaries.

A table is a sequence of :class:`Column` (a title, an alignment) and rows of cells: strings the
renderer has already formatted (``grouped(n)``, ``hwc(shape)``), one per column. The kit lays them
out and escapes them; it never formats a number. Totals are rows of the same columns, set apart.
:func:`indented` gives a name its depth in the tree (by default one level per dot of a dotted name),
so that branches and layers sit under their row.

Text, :func:`text_table`::

    name         MACs
    -----------------
    conv1       9,408
      conv2.1  12,288
    -----------------
    total      21,696

tabulate lays it out: its ``simple`` format pads each cell to the widest of its column (display
width: a wide character counts 2 where tabulate finds ``wcwidth``), two spaces between columns,
each column left- or right-aligned as its :class:`Column` says, cells as written
(``disable_numparse``: ``1,234`` and ``-`` stay text). The kit adds what tabulate does not do as
these reports always have:

- the titles go to tabulate as the first row, not as ``headers``: tabulate widens a titled column
  to its title plus two (``MIN_PADDING``);
- indentation: tabulate strips a cell's outer spaces (its ``preserve_whitespace`` option would keep
  them, but tabulate 0.9, which the project allows, lacks it), so a cell's leading spaces go to it
  as a private-use character of the same width, and come back as spaces;
- every rule is one unbroken line of dashes as wide as the table: tabulate draws a rule per column
  (``-----  ----``), above and below the table and at each ``SEPARATING_LINE``; the kit puts one
  line of dashes of the same width there, cut at ``rule_limit`` characters if asked;
- a rule before the totals, and on request below the last line; a blank line between groups of
  rows (``group``); no trailing spaces; a control character written as its escape (one cell, one
  line).

tabulate is imported inside :func:`text_table`: a CSV or JSON report, and ``import inception_calc``,
never pay for its import (about 45 ms: it imports ``importlib.metadata``).

Markdown, :func:`markdown_table`::

    | name | MACs |
    | --- | ---: |
    | conv1 | 9,408 |
    | conv2.1 | 12,288 |
    | **total** | **21,696** |

written by the kit: tabulate's ``pipe`` format pads every cell to its column's width and writes
the rule ``|:------|-------:|``, and ``github`` pads and drops the alignment, where these reports
(their golden files and the documents made from them) have unpadded cells and ``| --- | ---: |``.
Escaping is done here, once, for every cell (:func:`markdown_cell`): a control character is
written as its escape (``\n``), then ``\`` and ``|`` are escaped (``\\``, ``\|``: a bare ``|``
ends the cell); outer spaces are dropped, except in a ``nowrap`` column, whose spaces become
``&nbsp;`` so that indentation shows and a name does not wrap. Totals are bold.

CSV, :func:`csv_table`: the standard library's writer, one line per row ending in ``\n``; the
values as they are (exact integers, not formatted text), quoted only where CSV needs it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

LEFT, RIGHT = "left", "right"
ALIGNMENTS = (LEFT, RIGHT)
RULE_LIMIT = 120  # the longest rule of a table with a long free-text column (check, bench): a wide terminal

Cells = Sequence[str]


@dataclass(frozen=True)
class Column:
    """One column: its title and how its cells line up (``left`` for text, ``right`` for numbers).

    ``nowrap`` is for markdown only: the column's spaces become ``&nbsp;``, so that indentation shows
    and a cell does not wrap; its cells keep their outer spaces."""

    title: str
    align: str = LEFT
    nowrap: bool = False

    def __post_init__(self) -> None:
        if self.align not in ALIGNMENTS:
            raise ValueError(f"column {self.title!r}: align must be one of {', '.join(ALIGNMENTS)}, "
                             f"got {self.align!r}")


def columns(titles: Iterable[str], right: Iterable[str] = (), nowrap: Iterable[str] = ()) -> tuple[Column, ...]:
    """Columns from their titles: those in ``right`` right-aligned (numbers), the others left;
    those in ``nowrap`` kept on one line in markdown (see :class:`Column`)."""
    right, nowrap = frozenset(right), frozenset(nowrap)
    return tuple(Column(t, RIGHT if t in right else LEFT, t in nowrap) for t in titles)


def indented(name: str, unit: str = "  ", depth: int | None = None) -> str:
    """A name indented by its depth in the tree: ``depth`` units of ``unit``, so that branches and
    layers sit under their row. Without ``depth``, one unit per dot of a dotted name
    (``inception3a.branch2.1`` -> 4 spaces + the name); a renderer that walks a Cost tree gives the
    node's own depth, since row names may be dotted (``features.6``) and a branch that is no module
    puts its layers' names at the enclosing level (``repeat.0.conv2d`` sits two levels below
    ``repeat.0``)."""
    return unit * (name.count(".") if depth is None else depth) + name


def printable(text: str) -> str:
    r"""``text`` with each character that is not printable (a newline, a tab, an escape) written as
    its Python escape, so that a cell stays one cell on one line: a newline becomes ``\n``, the two
    characters backslash and n."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


_SPACE = "\ue000"  # a private-use character: not printable, so printable() leaves none in a cell


def _kept(cell: str) -> str:
    """A cell for tabulate: printable, trailing spaces dropped, leading spaces (indentation) as
    ``_SPACE``, which tabulate does not strip and the kit turns back into spaces."""
    text = printable(cell).rstrip()
    body = text.lstrip(" ")
    return _SPACE * (len(text) - len(body)) + body


def _checked(cols: Sequence[Column], rows: Sequence[Cells], what: str) -> list[list[str]]:
    out = []
    for k, row in enumerate(rows):
        if len(row) != len(cols):
            raise ValueError(f"{what} {k} has {len(row)} cells for {len(cols)} columns: {list(row)!r}")
        out.append([str(c) for c in row])
    return out


# ----------------------------------------------------------------------------- text


def text_table(cols: Sequence[Column], rows: Sequence[Cells], totals: Sequence[Cells] = (), *, header: bool = True,
               group: int = 0, rule_below: bool = False, rule_limit: int | None = None) -> list[str]:
    """The lines of an aligned text table: the titles, a rule, the rows; then, when there are
    ``totals``, a rule and the totals.

    ``header=False`` leaves the titles and the first rule out (a list laid out in columns).
    ``group=n`` puts a blank line after every ``n`` rows (one name's lines across networks).
    ``rule_below`` draws a rule under the last line. ``rule_limit`` cuts each rule at that many
    characters (a table with a long free-text column would wrap a full-width rule). A rule spans
    the table: the columns' widths and the gaps between them.
    """
    from tabulate import SEPARATING_LINE, tabulate

    if not cols:
        raise ValueError("a table needs at least one column")
    head = [[_kept(c.title) for c in cols]] if header else []
    body = [[_kept(c) for c in row] for row in _checked(cols, rows, "row")]
    sums = [[_kept(c) for c in row] for row in _checked(cols, totals, "total")]
    data: list[Any] = [*head, *([SEPARATING_LINE] if header else []), *body]
    if sums:
        data += [*([SEPARATING_LINE] if data else []), *sums]
    if not data:
        return []
    # "simple" without titles frames the table with a rule above and below it, and draws one at
    # each SEPARATING_LINE: the columns' dashes, two spaces apart; every other entry is one line
    laid = tabulate(data, tablefmt="simple", colalign=[c.align for c in cols],
                    disable_numparse=True).split("\n")
    if len(laid) != len(data) + 2:  # printable() leaves no line break in a cell
        raise RuntimeError(f"tabulate gave {len(laid)} lines for {len(data)} entries and 2 rules")
    rule = "-" * len(laid[0].rstrip())
    rule = rule if rule_limit is None else rule[:rule_limit]
    lines = [rule if entry is SEPARATING_LINE else line.replace(_SPACE, " ").rstrip()
             for entry, line in zip(data, laid[1:-1])]
    if group > 0 and body:
        first = len(head) + bool(head)  # the body's first line: after the titles and their rule
        spaced = [x for k, line in enumerate(lines[first:first + len(body)])
                  for x in ([""] if k and k % group == 0 else []) + [line]]
        lines[first:first + len(body)] = spaced
    return [*lines, *([rule] if rule_below else [])]


# ----------------------------------------------------------------------------- markdown


def markdown_cell(text: str, nowrap: bool = False) -> str:
    r"""One cell as markdown: control characters as their escapes (:func:`printable`), then ``\``
    written ``\\`` and ``|`` written ``\|``; outer spaces dropped, or (``nowrap``) every space
    written ``&nbsp;``."""
    text = printable(text).replace("\\", "\\\\").replace("|", "\\|")
    return text.replace(" ", "&nbsp;") if nowrap else text.strip()


def markdown_table(cols: Sequence[Column], rows: Sequence[Cells], totals: Sequence[Cells] = ()) -> list[str]:
    """The lines of a markdown (GitHub) table: the titles, the alignment row (``---`` left,
    ``---:`` right), the rows, then the totals in bold (an empty cell stays empty)."""
    if not cols:
        raise ValueError("a table needs at least one column")

    def line(cells: Cells, bold: bool = False) -> str:
        shown = [markdown_cell(c, col.nowrap) for c, col in zip(cells, cols)]
        return "| " + " | ".join(f"**{c}**" if bold and c else c for c in shown) + " |"

    align = "| " + " | ".join("---:" if c.align == RIGHT else "---" for c in cols) + " |"
    return [line([c.title for c in cols]), align, *(line(r) for r in _checked(cols, rows, "row")),
            *(line(t, bold=True) for t in _checked(cols, totals, "total"))]


# ----------------------------------------------------------------------------- CSV


def csv_table(titles: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A CSV text: the titles, then one line per row (values as they are: ``None`` is empty),
    each line ending in ``\\n``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(titles)
    for k, row in enumerate(rows):
        if len(row) != len(titles):
            raise ValueError(f"row {k} has {len(row)} values for {len(titles)} columns: {list(row)!r}")
        writer.writerow(row)
    return out.getvalue()
