"""Protocol Buffers' text format (what Caffe's ``.prototxt`` files are written in), read into plain
:class:`Message` s: a small, bounded tokenizer and parser, stdlib only, with no schema.

Grammar (the subset Caffe's files use, and the rest of the text format's syntax)::

    message := field*
    field   := NAME ( ':'? ( '{' message '}' | '<' message '>' )
                    | ':' ( value | '[' ( value | '{' message '}' ) ( ',' ... )* ']' ) ) ( ',' | ';' )?
    value   := STRING+ | NUMBER | '-'? IDENT          # adjacent strings join; IDENT: an enum, true, false, inf, nan

Comments run from ``#`` to the end of the line. A field given more than once is a repeated field
(:meth:`Message.all`). Malformed text raises :class:`CalcError` naming the file and the line.
Bounds: at most :data:`MAX_CHARS` characters and :data:`MAX_DEPTH` nested messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator, Union

from inception_calc.core.errors import CalcError, quote

MAX_CHARS = 32_000_000
MAX_DEPTH = 64


class Ident(str):
    """A bare identifier as a value: an enum constant (``MAX``, ``TRAIN``), ``true`` or ``false``."""


Value = Union[str, int, float, Ident, "Message"]


@dataclass
class Message:
    """A message's fields in the order written: ``(name, value, line)``."""

    line: int = 1
    fields: list[tuple[str, Value, int]] = field(default_factory=list)

    def all(self, name: str) -> list[Value]:
        """Every value of ``name`` (a repeated field), in order."""
        return [value for key, value, _ in self.fields if key == name]

    def has(self, name: str) -> bool:
        return any(key == name for key, _, _ in self.fields)

    def get(self, name: str, default: Value | None = None) -> Value | None:
        """The last value of ``name`` (the text format's rule for a field given twice), else ``default``."""
        values = self.all(name)
        return values[-1] if values else default

    def line_of(self, name: str) -> int:
        lines = [line for key, _, line in self.fields if key == name]
        return lines[-1] if lines else self.line

    def names(self) -> list[str]:
        return list(dict.fromkeys(key for key, _, _ in self.fields))


_TOKEN = re.compile(r"""
    (?P<space>[ \t\r\f\v]+) | (?P<newline>\n) | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<number>-?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[fF]?(?![A-Za-z_0-9]))
  | (?P<ident>-?[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[:{}<>\[\],;])
""", re.VERBOSE)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b", "f": "\f",
            "v": "\v", "?": "?"}


def _tokens(text: str, where: str) -> Iterator[tuple[str, str, int]]:
    """(kind, text, line) of every token; a character no token starts with is refused."""
    line, pos = 1, 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise CalcError(f"malformed text format: unexpected {quote(text[pos])}", where=f"{where}, line {line}",
                            fix="fix the prototxt syntax there (fields are NAME: VALUE or NAME { ... })")
        kind = match.lastgroup or ""
        if kind == "newline":
            line += 1
        elif kind not in ("space", "comment"):
            yield kind, match.group(), line
        pos = match.end()


def _unquote(token: str, where: str) -> str:
    body, out, i = token[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt in "01234567":
            digits = re.match(r"[0-7]{1,3}", body[i + 1:]).group()  # type: ignore[union-attr]
            out.append(chr(int(digits, 8)))
            i += 1 + len(digits)
        elif nxt in "xX" and re.match(r"[0-9a-fA-F]", body[i + 2:i + 3]):
            digits = re.match(r"[0-9a-fA-F]{1,2}", body[i + 2:]).group()  # type: ignore[union-attr]
            out.append(chr(int(digits, 16)))
            i += 2 + len(digits)
        else:
            raise CalcError(f"malformed text format: unknown escape {quote(body[i:i + 2])} in a string", where=where,
                            fix="write the character itself, or a known escape (\\n, \\t, \\\\, \\\")")
    return "".join(out)


def _number(token: str) -> int | float:
    text = token[:-1] if token[-1] in "fF" and not token.lower().startswith(("0x", "-0x")) else token
    if re.fullmatch(r"-?0[xX][0-9a-fA-F]+", text):
        return int(text, 16)
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return float(text)


class _Parser:
    def __init__(self, text: str, where: str) -> None:
        self.where = where
        self.tokens = list(_tokens(text, where))
        self.pos = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def line(self) -> int:
        token = self.peek()
        return token[2] if token else (self.tokens[-1][2] if self.tokens else 1)

    def fail(self, what: str, fix: str = "fix the prototxt syntax there (fields are NAME: VALUE or NAME { ... })",
             line: int | None = None) -> CalcError:
        return CalcError(f"malformed text format: {what}", where=f"{self.where}, line {line or self.line()}", fix=fix)

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise self.fail("the text ends inside a message", "close every '{' with a '}'")
        self.pos += 1
        return token

    def accept(self, text: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "punct" and token[1] == text:
            self.pos += 1
            return True
        return False

    def message(self, depth: int, close: str | None, line: int) -> Message:
        if depth > MAX_DEPTH:
            raise self.fail(f"messages nested more than {MAX_DEPTH} deep", "a Caffe net nests a few levels deep")
        msg = Message(line)
        while True:
            token = self.peek()
            if token is None:
                if close is None:
                    return msg
                raise self.fail(f"the message opened at line {line} is never closed", f"add its '{close}'")
            kind, text, at = token
            if kind == "punct" and text == close:
                self.pos += 1
                return msg
            if kind != "ident" or text.startswith("-"):
                raise self.fail(f"expected a field name, got {quote(text)}")
            self.pos += 1
            colon = self.accept(":")
            if self.accept("{"):
                msg.fields.append((text, self.message(depth + 1, "}", at), at))
            elif self.accept("<"):
                msg.fields.append((text, self.message(depth + 1, ">", at), at))
            elif not colon:
                raise self.fail(f"field {text!r} has no ':' before its value", f"write {text}: VALUE")
            elif self.accept("["):
                if not self.accept("]"):
                    while True:
                        if self.accept("{"):
                            msg.fields.append((text, self.message(depth + 1, "}", self.line()), at))
                        else:
                            msg.fields.append((text, self.scalar(text), at))
                        if self.accept("]"):
                            break
                        if not self.accept(","):
                            raise self.fail(f"expected ',' or ']' in the list of {text!r}")
            else:
                msg.fields.append((text, self.scalar(text), at))
            self.accept(",") or self.accept(";")

    def scalar(self, name: str) -> Value:
        kind, text, at = self.take()
        if kind == "string":
            parts = [_unquote(text, f"{self.where}, line {at}")]
            while (nxt := self.peek()) is not None and nxt[0] == "string":
                parts.append(_unquote(self.take()[1], f"{self.where}, line {nxt[2]}"))
            return "".join(parts)
        if kind == "number":
            return _number(text)
        if kind == "ident":
            low = text.lower()
            if low in ("inf", "-inf", "infinity", "-infinity", "nan", "-nan"):
                return float(low.replace("infinity", "inf"))
            if text.startswith("-"):
                raise self.fail(f"{quote(text)} is no value of field {name!r}", line=at)
            return Ident(text)
        raise self.fail(f"field {name!r} has no value (got {quote(text)})", f"write {name}: VALUE", line=at)


def parse(text: str, where: str) -> Message:
    """The top-level message of ``text``; ``where`` (the file) leads every error."""
    if len(text) > MAX_CHARS:
        raise CalcError(f"the file holds {len(text):,} characters, more than the {MAX_CHARS:,} a net definition needs",
                        where=where, fix="give the net's prototxt, not its weights (.caffemodel)")
    if "\x00" in text:
        raise CalcError("the file holds NUL characters: not a text-format file", where=where,
                        fix="give the net's .prototxt, not a binary .caffemodel")
    return _Parser(text, where).message(0, None, 1)
