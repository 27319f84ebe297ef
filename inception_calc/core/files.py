"""Reading the user's files: a file's text, and TOML or JSON parsed from it; every way either can
fail is a :class:`~inception_calc.core.errors.CalcError` naming the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from inception_calc.core.errors import CalcError, quote

def read_text(path: Path, what: str = "spec file") -> str:
    """A file's UTF-8 text; every way reading it can fail is a CalcError naming the file."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CalcError("no such file", where=str(path), fix="check the path, or run 'inception-calc specs'") from None
    except IsADirectoryError:
        raise CalcError(f"is a directory, not a {what}", where=str(path),
                        fix=f"give the path of a .toml{' or .json' if what == 'spec file' else ''} {what}") from None
    except UnicodeDecodeError as exc:
        raise CalcError(f"cannot read the file ({exc.__class__.__name__}: {exc})", where=str(path),
                        fix="save it as UTF-8 text") from None
    except OSError as exc:
        raise CalcError(f"cannot read the file ({exc.__class__.__name__}: {exc})", where=str(path),
                        fix="check that the file is readable (its permissions)") from None
    except ValueError as exc:  # a path with a NUL character in it
        raise CalcError(f"cannot read the file ({exc})", where=quote(str(path)), fix="check the path") from None


def parse_text(text: str, where: str, fmt: str = "toml") -> Any:
    """Parse TOML (or JSON, ``fmt="json"``) text; every way it can be malformed is a CalcError,
    including what the parsers raise besides their own errors: nesting too deep for Python's
    recursion limit, an integer too long for ``int()`` (over 4300 digits), a lone surrogate."""
    import tomllib

    syntax = f"fix the {fmt.upper()} syntax there"
    try:
        if fmt == "json":
            data = json.loads(text)
            json.dumps(data, ensure_ascii=False).encode("utf-8")  # a lone surrogate (\ud800) fails here
            return data
        return tomllib.loads(text)
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
