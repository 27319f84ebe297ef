"""The one error a user of inception_calc ever sees.

Every problem with user input (a spec file, a row, a flag, a claim, an input size) is raised as
:class:`CalcError`, which carries where the problem is, what the bad value is, and how to fix it.
The CLI prints it as one line on stderr and exits with status 2.
"""

from __future__ import annotations

import difflib
import reprlib
from typing import Iterable


MAX_LINE = 2000  # an error line's most characters: a long quoted value is cut with "..."


class CalcError(ValueError):
    """A user-facing error: ``where: what; fix``, printed on one line.

    ``where`` names the place (file, row, branch, layer, field), ``what`` says what is wrong and
    quotes the value, ``fix`` says how to put it right.
    """

    def __init__(self, what: str, *, where: str = "", fix: str = "") -> None:
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(self.line())

    def line(self) -> str:
        text = f"{self.where}: {self.what}" if self.where else self.what
        if self.fix:
            text = f"{text}; {self.fix}"
        text = " ".join(text.split())  # one line, whatever the parts held
        if not text.isprintable():  # an escape sequence from a file (ESC[2J clears a terminal) is shown, not sent
            text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
        if len(text) > MAX_LINE:
            text = f"{text[:MAX_LINE - 40]}...{text[-37:]}"
        return text

    def located(self, outer: str) -> "CalcError":
        """The same error with ``outer`` (say the file) put in front of its location."""
        where = f"{outer}, {self.where}" if self.where else outer
        return CalcError(self.what, where=where, fix=self.fix)


class _ShortRepr(reprlib.Repr):
    """reprlib's bounded repr, safe for integers too long for ``str()`` (over 4300 digits)."""

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 4 * self.maxlong:  # more digits than are worth showing, perhaps more than str() allows
            return f"<an integer of {x.bit_length()} bits>"
        return super().repr_int(x, level)


_SHORT = _ShortRepr()
_SHORT.maxlevel, _SHORT.maxdict, _SHORT.maxlist, _SHORT.maxtuple = 2, 4, 6, 6
_SHORT.maxstring = _SHORT.maxother = _SHORT.maxlong = 60


def quote(value: object) -> str:
    """``repr(value)`` for an error message, kept short and safe: a long text, list or table is cut
    with ``...``, a deeply nested one is not walked down, a huge integer is given by its size."""
    return _SHORT.repr(value)


def did_you_mean(name: str, known: Iterable[str], n: int = 1) -> str:
    """The hint of an unknown name, with a space after it: ``did you mean 'inception3b'? `` (with
    ``n`` > 1 up to ``n`` names, nearest first: ``did you mean 'a', 'b' or 'c'? ``), or "" when no
    known name is near. Near: difflib's ratio of at least 0.6 (``get_close_matches``). The one home
    of every "did you mean" (spec fields, variants, claims, explain, sweep --rf)."""
    close = difflib.get_close_matches(name, list(dict.fromkeys(known)), n=n)
    if not close:
        return ""
    shown = [f"'{c}'" for c in close]
    names = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"
    return f"did you mean {names}? "
