"""Reading the user's files: a file's text, and TOML or JSON parsed from it; every way either can
fail is a :class:`~inception_calc.core.errors.CalcError` naming the file."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from inception_calc.core.errors import CalcError, quote

MAX_FILE_BYTES = 1024 * 1024  # a spec or claims file: the largest built-in is 20 kB. Python's TOML reader takes
# up to 1.3 s of CPU a MB (a list of numbers: 2 MB took 2.6 s here), so 1 MiB keeps the slowest read near a second
PIPE_WAIT_S = 5.0  # a pipe (<(...), a FIFO) given as a file: the longest wait for its next bytes
MAX_BASE_DEPTH = 32  # specs named one from another through `base`: a chain of more is refused


def exists(path: Path) -> bool:
    """Whether ``path`` names anything; a name the file system cannot even look up (longer than it
    allows, a folder in it that is a file) names nothing, rather than raising."""
    try:
        os.stat(path)
    except (OSError, ValueError):
        return False
    return True


def is_dir(path: Path) -> bool:
    """Whether ``path`` is a folder (following links); False for a name that cannot be looked up."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def _read_pipe(fd: int, where: str, what: str) -> bytes:
    """A pipe's bytes up to the size limit, waiting at most :data:`PIPE_WAIT_S` seconds for each
    piece: a FIFO nobody writes to is an empty file (its writer never came) or, held open and
    silent, refused, never waited on for ever."""
    import select

    chunks: list[bytes] = []
    size = 0
    while size <= MAX_FILE_BYTES:
        ready, _, _ = select.select([fd], [], [], PIPE_WAIT_S)
        if not ready:
            raise CalcError(f"a pipe that sent nothing for {PIPE_WAIT_S:g} seconds", where=where,
                            fix=f"give the path of a file holding the {what}")
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            continue
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


_PIPES: dict[tuple[int, int, int], bytes | None] = {}
"""What each pipe gave (None: nothing within the wait), by device, inode and change time once read:
a pipe is read once, so a command that looks at a file twice (verify: is it a spec or a claims
file?) neither waits twice on a silent pipe nor finds the second read empty."""


def _pipe_key(fd: int) -> tuple[int, int, int]:
    info = os.fstat(fd)
    return info.st_dev, info.st_ino, info.st_ctime_ns  # the time tells a new pipe that reuses an inode


def _pipe_once(fd: int, where: str, what: str) -> bytes:
    if _pipe_key(fd) not in _PIPES:
        try:
            got: bytes | None = _read_pipe(fd, where, what)
        except CalcError:
            got = None
        _PIPES[_pipe_key(fd)] = got  # keyed as it is after the writer's last write
    raw = _PIPES[_pipe_key(fd)]
    if raw is None:
        raise CalcError(f"a pipe that sent nothing for {PIPE_WAIT_S:g} seconds", where=where,
                        fix=f"give the path of a file holding the {what}")
    return raw


def read_text(path: Path, what: str = "spec file") -> str:
    """A file's UTF-8 text; every way reading it can fail is a CalcError naming the file.

    Only a regular file or a pipe (a shell's ``<(...)``) is read, never more than
    :data:`MAX_FILE_BYTES` of it: it is opened non-blocking, so that a FIFO with no writer does not
    hang, then checked; a device (``/dev/zero``) or a socket is refused, a silent pipe is given up
    after :data:`PIPE_WAIT_S` seconds, and a file that grows past the limit while read is refused."""
    where = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise CalcError("no such file", where=where, fix="check the path, or run 'inception-calc specs'") from None
    except IsADirectoryError:
        raise CalcError(f"is a directory, not a {what}", where=where,
                        fix=f"give the path of a .toml{' or .json' if what == 'spec file' else ''} {what}") from None
    except OSError as exc:
        raise CalcError(f"cannot read the file ({exc.__class__.__name__}: {exc.strerror or exc})", where=where,
                        fix="check the path (its length, each folder in it) and that the file is readable") from None
    except ValueError as exc:  # a path with a NUL character in it
        raise CalcError(f"cannot read the file ({exc})", where=quote(str(path)), fix="check the path") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise CalcError(f"is a directory, not a {what}", where=where,
                            fix=f"give the path of a .toml{' or .json' if what == 'spec file' else ''} {what}")
        if stat.S_ISFIFO(info.st_mode):  # a pipe: a shell's <(...), or a named FIFO
            raw = _pipe_once(fd, where, what)
        elif not stat.S_ISREG(info.st_mode):
            raise CalcError(f"is a device or a socket, not a regular file: not a {what}", where=where,
                            fix=f"give the path of a file holding the {what}")
        elif info.st_size > MAX_FILE_BYTES:
            raise CalcError(f"is {info.st_size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit for a {what}",
                            where=where, fix="a spec or claims file is a few kilobytes; check that it is the right file")
        else:
            with os.fdopen(fd, "rb") as handle:
                fd = -1
                raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise CalcError(f"cannot read the file ({exc.__class__.__name__}: {exc.strerror or exc})", where=where,
                        fix="check that the file is readable (its permissions)") from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(raw) > MAX_FILE_BYTES:
        raise CalcError(f"holds more than the {MAX_FILE_BYTES:,}-byte limit for a {what} (it grew while read, or is a pipe)", where=where,
                        fix="give a file of a few kilobytes that is not being written to")
    try:
        return raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # newlines as open() reads them
    except UnicodeDecodeError as exc:
        raise CalcError(f"cannot read the file ({exc.__class__.__name__}: {exc})", where=where,
                        fix="save it as UTF-8 text") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    """A JSON object, refusing a key given twice (json's own rule: the last one silently wins)."""
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise CalcError(f"malformed JSON: the key {quote(twice)} is given twice in one object",
                        fix="give each key once (TOML refuses this too)")
    return data


def parse_text(text: str, where: str, fmt: str = "toml") -> Any:
    """Parse TOML (or JSON, ``fmt="json"``) text; every way it can be malformed is a CalcError,
    including what the parsers raise besides their own errors: nesting too deep for Python's
    recursion limit, an integer too long for ``int()`` (over 4300 digits), a lone surrogate."""
    import tomllib

    syntax = f"fix the {fmt.upper()} syntax there"
    try:
        if fmt == "json":
            data = json.loads(text, object_pairs_hook=_unique_keys)
            json.dumps(data, ensure_ascii=False).encode("utf-8")  # a lone surrogate (\ud800) fails here
            return data
        return tomllib.loads(text)
    except CalcError as exc:
        raise exc.located(where) from None
    except json.JSONDecodeError as exc:
        raise CalcError(f"malformed JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
                        where=where, fix=syntax) from None
    except tomllib.TOMLDecodeError as exc:
        raise CalcError(f"malformed TOML: {exc}", where=where, fix=syntax) from None
    except RecursionError:
        raise CalcError(f"malformed {fmt.upper()}: nested too deeply to read", where=where,
                        fix="a spec nests tables and lists a few levels deep; remove the extra levels") from None
    except UnicodeEncodeError as exc:
        raise CalcError(f"malformed JSON: a text holds {quote(exc.object[exc.start:exc.end])}, half a surrogate "
                        "pair, not a character", where=where,
                        fix="write the character itself, or both halves") from None
    except ValueError as exc:  # int(): "Exceeds the limit (4300 digits) for integer string conversion"
        raise CalcError(f"malformed {fmt.upper()}: a number with more than 4300 digits ({str(exc).split(':')[0]})",
                        where=where, fix="no size or count needs more than 19 digits") from None


def read_data(path: Path) -> Any:
    """A spec or claims file's data: ``.json`` read as JSON, anything else as TOML."""
    return parse_text(read_text(path), str(path), "json" if path.suffix.lower() == ".json" else "toml")
