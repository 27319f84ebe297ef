"""Progress lines for the commands whose loops can take seconds (sweep, compare, verify; bench has
its own, a line per run): on standard error, never standard output, so that a result piped on or
written as JSON is the same with or without them.

Shown when standard error is a terminal, or with ``--progress``; ``--no-progress`` turns them off.
A command that finishes within a second prints none; after that, at most one line a second, the
latest step: ``sweep: size 224, 130 of 2,000 (1.0 s)``.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Callable

DELAY_S = 1.0  # no line before the command has run this long
EVERY_S = 1.0  # then at most one line this often


def add_progress(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="a progress line on standard error at most once a second once the command has run "
                             "a second (default: when standard error is a terminal)")


class Progress:
    """A callable that is told each step (a text) and writes the latest one to standard error, at
    most every :data:`EVERY_S` seconds, once :data:`DELAY_S` seconds have passed."""

    def __init__(self, command: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.command = command
        self.clock = clock
        self.start = clock()
        self.last = self.start - EVERY_S
        self.lines = 0

    def __call__(self, text: str) -> None:
        now = self.clock()
        if now - self.start < DELAY_S or now - self.last < EVERY_S:
            return
        self.last = now
        self.lines += 1
        try:
            sys.stderr.write(f"{self.command}: {text} ({now - self.start:.1f} s)\n")
            sys.stderr.flush()
        except (OSError, ValueError):  # a closed or full standard error: the work goes on without it
            pass


def progress_for(args: argparse.Namespace, command: str) -> Progress | None:
    """A :class:`Progress` for ``command`` when ``--progress`` is given, or when standard error is a
    terminal and ``--no-progress`` is not; else None."""
    wanted = args.progress
    if wanted is None:
        try:
            wanted = sys.stderr.isatty()
        except (AttributeError, ValueError):
            wanted = False
    return Progress(command) if wanted else None
