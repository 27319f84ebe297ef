"""The machinery of scripts/docgen.py, knowing nothing of what is generated: entries, the one
marker syntax of generated blocks, the coverage check, and select / stale / write.

A block of a markdown file is the lines between two marker lines of its own, each a whole line:

    <!-- generated: BLOCK -->
    ...the text its entry makes...
    <!-- end generated: BLOCK -->

BLOCK (a letter or digit, then letters, digits, ``_``, ``.``, ``-``) is unique in its file; blocks
do not nest. A line that starts like a marker but is not exactly one, an ``end`` that closes no
open block, a block never closed are errors, as is a marker of the syntaxes this one replaced
(``<!-- output of: ... -->``, ``<!-- BEGIN ... -->``). A mention inside a line, as here, is no marker.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from inception_calc.core.errors import CalcError


@dataclass(frozen=True)
class Entry:
    """A generated file (``block`` empty) or a generated block of a markdown file."""

    target: str  # path from the checkout's root, with "/"
    make: Callable[[], str]  # the fresh text: the whole file, or the block's lines (each ending in "\n")
    source: str  # what makes it, in words (a command, a function), for --list
    block: str = ""
    needs: tuple[str, ...] = ()  # modules it imports beyond the analytic core
    machine: str = ""  # what of the machine it records: such an entry is never compared (scripts/docgen.py)

    @property
    def name(self) -> str:
        return f"{self.target}#{self.block}" if self.block else self.target

    def missing(self) -> list[str]:
        """The modules of ``needs`` that cannot be imported here."""
        return [m for m in self.needs if importlib.util.find_spec(m) is None]


def start_marker(block: str) -> str:
    return f"<!-- generated: {block} -->"


def end_marker(block: str) -> str:
    return f"<!-- end generated: {block} -->"


MARKER = re.compile(r"^<!-- (?P<end>end )?generated: (?P<block>[A-Za-z0-9][\w.-]*) -->$", re.M)
LOOSE = re.compile(r"^[ \t]*<!--\s*(?:end\s+)?generated\s*:", re.I | re.M)  # a line meant as a marker
LEGACY = re.compile(r"^<!-- (?:output of:|BEGIN |END )", re.M)  # the marker syntaxes this one replaced


def blocks(text: str, where: str) -> dict[str, tuple[int, int]]:
    """Each block's text as (start, end) offsets into ``text``, by block name: from the line after
    its start marker to its end marker. Raises CalcError for an unpaired, nested, repeated or
    malformed marker."""
    strict = {m.start() for m in MARKER.finditer(text)}
    for loose in LOOSE.finditer(text):
        if loose.start() not in strict:  # a marker's line with more, less or other than the marker
            line = text.count("\n", 0, loose.start()) + 1
            raise CalcError(f"a malformed marker {text[loose.start():].splitlines()[0][:80]!r}",
                            where=f"{where}:{line}",
                            fix=f"write {start_marker('NAME')!r} or {end_marker('NAME')!r} on a line of its own")
    spans: dict[str, tuple[int, int]] = {}
    opened: tuple[str, int, int] | None = None  # block, body start, line
    for m in MARKER.finditer(text):
        block, line = m["block"], text.count("\n", 0, m.start()) + 1
        if not m["end"]:
            if opened:
                raise CalcError(f"block '{block}' starts inside block '{opened[0]}' (line {opened[2]})",
                                where=f"{where}:{line}", fix=f"close it first with {end_marker(opened[0])!r}")
            if block in spans:
                raise CalcError(f"block '{block}' appears twice", where=f"{where}:{line}",
                                fix="give each block of a file its own name")
            opened = (block, m.end() + 1, line)
        elif not opened or opened[0] != block:
            raise CalcError(f"{end_marker(block)!r} closes no open block '{block}'", where=f"{where}:{line}",
                            fix=f"start it with {start_marker(block)!r}" if not opened else
                            f"close '{opened[0]}' (line {opened[2]}) with {end_marker(opened[0])!r}")
        else:
            spans[block] = (opened[1], m.start())
            opened = None
    if opened:
        raise CalcError(f"block '{opened[0]}' is never closed", where=f"{where}:{opened[2]}",
                        fix=f"end it with {end_marker(opened[0])!r} on a line of its own")
    return spans


def _span(entry: Entry, text: str) -> tuple[int, int]:
    span = blocks(text, entry.target).get(entry.block)
    if span is None:
        raise CalcError(f"no block '{entry.block}'", where=entry.target,
                        fix=f"add {start_marker(entry.block)!r} and {end_marker(entry.block)!r} where it goes")
    return span


def current(entry: Entry, text: str) -> str:
    """The entry's text as it stands in its file's ``text``."""
    if not entry.block:
        return text
    start, end = _span(entry, text)
    return text[start:end]


def replaced(entry: Entry, text: str, fresh: str) -> str:
    """The file's ``text`` with the entry's text replaced by ``fresh``."""
    if not entry.block:
        return fresh
    if fresh and not fresh.endswith("\n"):
        raise CalcError("its text does not end with a newline", where=entry.name,
                        fix="end the generated text with '\\n', so that the end marker stays on a line of its own")
    start, end = _span(entry, text)
    return text[:start] + fresh + text[end:]


# ----------------------------------------------------------------------------- coverage

def marked_files(root: Path) -> list[Path]:
    """The files that may hold generated blocks: README.md and every markdown file under docs/."""
    return [p for p in [root / "README.md", *sorted((root / "docs").rglob("*.md"))] if p.is_file()]


def coverage_problems(registry: Iterable[Entry], root: Path) -> list[str]:
    """What the registry and the checkout disagree on: a marker with no entry, an entry whose block or
    file is not there, a file in tests/golden/ that is no entry, a marker of a replaced syntax."""
    entries = {e.name: e for e in registry}
    problems = []
    for path in marked_files(root):
        rel = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        for legacy in LEGACY.finditer(text):
            line = text.count("\n", 0, legacy.start()) + 1
            problems.append(f"{rel}:{line}: a marker of a replaced syntax; use {start_marker('NAME')!r} ... "
                            f"{end_marker('NAME')!r} and a registry entry")
        try:
            found = blocks(text, rel)
        except CalcError as exc:
            problems.append(exc.line())
            continue
        problems += [f"{rel}#{block}: a block no entry makes; add an entry to scripts/docgen.py or remove the markers"
                     for block in found if f"{rel}#{block}" not in entries]
        problems += [f"{e.name}: an entry without its block; add its markers to {rel}"
                     for e in entries.values() if e.target == rel and e.block and e.block not in found]
    problems += [f"{e.name}: its file is not there; " + (f"run python scripts/docgen.py {e.name}" if not e.block else
                                                         "create it with the block's markers")
                 for e in entries.values() if not (root / e.target).is_file()]
    golden = root / "tests" / "golden"
    if golden.is_dir():
        problems += [f"{p.relative_to(root).as_posix()}: a golden file no entry makes; register it in scripts/docgen.py"
                     for p in sorted(golden.iterdir()) if p.is_file() and p.relative_to(root).as_posix() not in entries]
    return problems


# ----------------------------------------------------------------------------- select, check, write

def select(names: Iterable[str], registry: Sequence[Entry], machine: bool = False) -> list[Entry]:
    """The entries NAMES pick (an entry's name, a target file, or a shell pattern; all when none), in
    registry order. Machine-dependent entries are picked only by their exact name or with ``machine``."""
    names = list(names)
    for name in names:
        if not any(name in (e.name, e.target) or fnmatch.fnmatchcase(e.name, name) for e in registry):
            raise CalcError(f"no entry {name!r}", where="docgen NAME",
                            fix="give an entry's name, a generated file or a pattern (python scripts/docgen.py --list)")

    def picked(e: Entry) -> bool:
        if e.name in names:
            return True
        wanted = not names or any(n == e.target or fnmatch.fnmatchcase(e.name, n) for n in names)
        return wanted and (machine or not e.machine)

    return [e for e in registry if picked(e)]


def read(root: Path, target: str) -> str:
    """The file's text as it is on disk (no newline translation), or "" when there is none."""
    path = root / target
    if not path.is_file():
        return ""
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def stale(entries: Iterable[Entry], root: Path, log: Callable[[str], None] = print) -> list[Entry]:
    """The entries whose text differs from what they make now, never writing. A machine-dependent
    entry is not compared: it is stale only when its block is empty. An entry whose needs are
    missing is skipped, and ``log`` says so."""
    out = []
    for e in entries:
        text = read(root, e.target)
        if e.machine:
            if not current(e, text).strip():
                out.append(e)
            continue
        if e.missing():
            log(f"skipped {e.name}: needs {', '.join(e.missing())}")
            continue
        if current(e, text) != e.make():
            out.append(e)
    return out


def diff(entry: Entry, root: Path, lines: int = 40) -> str:
    """The first ``lines`` lines of a unified diff from the entry's text to what it makes now."""
    old = current(entry, read(root, entry.target)).splitlines(keepends=True)
    new = entry.make().splitlines(keepends=True)
    return "".join(list(difflib.unified_diff(old, new, entry.name, "fresh"))[:lines])


def write(entries: Iterable[Entry], registry: Sequence[Entry], root: Path,
          log: Callable[[str], None] = print) -> list[str]:
    """Make every entry (skipping, and logging, those whose needs are missing), then write each file
    that changed, its machine-dependent entries made again first; the changed files' paths. Nothing
    is written unless every entry could be made; each file is replaced atomically."""
    from inception_calc.report.output import write_atomic

    entries = list(entries)
    texts: dict[str, str] = {}
    done: set[str] = set()

    def apply(e: Entry) -> None:
        target = e.target
        texts[target] = replaced(e, texts.get(target, read(root, target)), e.make())
        done.add(e.name)

    for e in entries:
        if e.missing():
            log(f"skipped {e.name}: needs {', '.join(e.missing())}")
            continue
        apply(e)
    changed = [t for t in texts if texts[t] != read(root, t)]
    for e in registry:  # a machine-dependent entry records the machine that last wrote its file
        if e.machine and e.target in changed and e.name not in done and not e.missing():
            apply(e)
    for target in changed:
        write_atomic(root / target, texts[target])
        made = [e.block for e in registry if e.target == target and e.name in done and e.block]
        log(f"wrote {target}" + (f" (blocks {', '.join(made)})" if made else ""))
    return changed
