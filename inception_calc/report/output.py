"""Write results whole or not at all: to a temporary file beside the target, then renamed over it.

Only a regular file (or a new one) is replaced so; a device, a pipe or a terminal (``/dev/null``,
``/dev/stdout``) is written straight, as a shell redirect would, and a symbolic link keeps
pointing where it did: the file it names is replaced (a dangling link's file is created). The new
file keeps the old one's permission bits, never its setuid or setgid bit, and its owner: root
writing over another user's file gives it back to that user, anyone else is refused. A SIGTERM or
SIGHUP ends the command through the clean-up here (cli/main.py), so no temporary file is left.

An error is located at the parameter that named the file, then the file (``path out/r.txt``); the
command line gives its flag instead (``--save-json out/r.json``).
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path

from inception_calc.core.errors import CalcError
from inception_calc.core.files import is_dir


def _mode_for(path: Path) -> int:
    """The mode a plain open() would give: the existing file's permission bits (never its setuid,
    setgid or sticky bit: a result is no program), else 0o666 less the umask (mkstemp makes its
    file 0o600, private to the user)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _write_straight(path: Path, data: str | bytes, param: str) -> None:
    """Write to a device, a pipe or a terminal, which no rename can replace (nor should)."""
    try:
        with open(path, "wb" if isinstance(data, bytes) else "w",
                  **({} if isinstance(data, bytes) else {"encoding": "utf-8", "newline": ""})) as handle:
            handle.write(data)
    except OSError as exc:
        raise CalcError(f"cannot write there ({exc.strerror or exc})", where=f"{param} {path}",
                        fix="check that it can be written to, or give another file") from None


def _is_link(path: Path) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except (OSError, ValueError):
        return False


def _owner(path: Path) -> tuple[int, int] | None:
    """The (uid, gid) of an existing file, kept when it is replaced."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_uid, info.st_gid


def check_outputs(outputs: dict[str, str | None]) -> None:
    """Before any work: each output (flag -> path) can be written where it is meant to go (a file,
    not a folder, in a folder that exists) and no two name the same file, which the later one
    would overwrite (a .png holding text). A device (``/dev/null``) may be given twice."""
    seen: dict[str, str] = {}
    for flag, value in outputs.items():
        if not value:
            continue
        path = Path(value)
        if "\x00" in value:
            raise CalcError(f"cannot write to {value!r}: a file name cannot hold a NUL character",
                            where=flag, fix="give another file name")
        target = path.resolve() if _is_link(path) else path.absolute()
        if is_dir(target):
            raise CalcError("is a folder, not a file", where=f"{flag} {value}", fix="give a file name in it")
        if not is_dir(target.parent):
            folder = path.parent if str(path.parent) else Path(".")
            raise CalcError("the folder does not exist", where=f"{flag} {value}", fix=f"create {folder} first")
        try:
            name_max = os.pathconf(target.parent, "PC_NAME_MAX")
        except (OSError, ValueError):
            name_max = 255
        if len(os.fsencode(target.name)) > name_max:  # found before check or bench runs, not after
            raise CalcError(f"the file name is longer than the {name_max} bytes the file system allows",
                            where=f"{flag} {value}", fix="give a shorter file name")
        try:
            special = not stat.S_ISREG(os.stat(target).st_mode)
        except OSError:
            special = False
        key = os.path.normpath(str(target))
        if key in seen and not special:
            raise CalcError(f"names the same file as {seen[key]}, which it would overwrite", where=f"{flag} {value}",
                            fix="give each output its own file")
        seen[key] = flag


def write_atomic(path: str | Path, data: str | bytes, param: str = "path") -> None:
    """Write ``data`` to ``path`` so that a reader (or a crash) sees the old file or the new one,
    never a torn one: write a temporary file in the same folder, flush it to disk, rename it.
    ``param`` names the parameter (or flag) that gave ``path``, for the errors."""
    path = Path(path)
    if "\x00" in str(path):
        raise CalcError(f"cannot write to {str(path)!r}: a file name cannot hold a NUL character",
                        where=param, fix="give another file name")
    try:
        kind = os.stat(path).st_mode  # follows a symbolic link
    except OSError:
        kind = None  # no such file yet (or a dangling link): created below
    if kind is not None and stat.S_ISDIR(kind):
        raise CalcError("is a folder, not a file", where=f"{param} {path}", fix="give a file name in it")
    if kind is not None and not stat.S_ISREG(kind):
        _write_straight(path, data, param)
        return
    if _is_link(path):
        path = path.resolve()  # replace (or, for a dangling link, create) the file the link names, not the link
    folder = path.parent if str(path.parent) else Path(".")
    owner = _owner(path)
    if not is_dir(folder):
        raise CalcError("the folder does not exist", where=f"{param} {path}", fix=f"create {folder} first")
    mode = "wb" if isinstance(data, bytes) else "w"
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise CalcError(f"cannot write there ({exc.strerror})", where=f"{param} {path}",
                        fix="check the folder's permissions and the name's length, or give another file") from None
    try:
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": ""})) as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _mode_for(path))
        if owner is not None and owner != (os.geteuid(), os.getegid()):
            os.chown(tmp, *owner)  # another user's file stays theirs (root may; anyone else is refused here)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, PermissionError) and owner is not None:
            raise CalcError("belongs to another user, and replacing it would make it ours", where=f"{param} {path}",
                            fix="give a file of your own; the old file is unchanged") from None
        if isinstance(exc, OSError):  # a full disk, a quota: the old file stays
            raise CalcError(f"cannot write there ({exc.strerror or exc})", where=f"{param} {path}",
                            fix="free some space, or give a file elsewhere; the old file is unchanged") from None
        raise


def emit(text: str, output: str | None, param: str = "output") -> None:
    """Print ``text``, or write it to ``output`` atomically when one is given (``param`` names the
    parameter or flag that gave ``output``, for the errors).

    This is the commands' printer (a Python caller renders to a string instead), so its errors
    about standard output point to the command's ``--output``. Standard output is flushed here, so
    that a full disk is reported as the error it is; a text the terminal's encoding cannot show is
    refused whole (the text is encoded before any of it is written), with the way round it.
    """
    if output:
        write_atomic(output, text, param)
        return
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except UnicodeEncodeError as exc:
        char = exc.object[exc.start:exc.end]
        raise CalcError(f"cannot show {char!r} in the {exc.encoding} encoding", where="standard output",
                        fix="set PYTHONIOENCODING=utf-8, or write to a file with --output FILE") from None
    except BrokenPipeError:
        raise  # the reader went away: the CLI ends quietly
    except OSError as exc:
        raise CalcError(f"cannot write ({exc.strerror or exc})", where="standard output",
                        fix="check where standard output goes (a full disk?), or write to a file with --output FILE") from None
