"""The command line: argument parsing and exit codes only; each subcommand calls one public function.

Exit codes: 0 success; 1 a check or claim that does not hold; 2 bad input or usage (one line on
stderr, never a traceback unless --debug asks for it); 70 an internal error, a bug of ours (one line
asking for a report; the fuzz tests show that no input reaches it); 130 interrupted (Ctrl-C).

Library errors name parameters (``settings.batches``, ``path``); a command's errors name its flags
(``--batch``, ``--plot``): :func:`~inception_calc.cli.common.flag_errors` re-locates them, with the
shared ``common.FLAGS`` and the command module's own ``FLAGS``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from typing import Sequence

from inception_calc.cli import common
from inception_calc.cli.commands import COMMANDS
from inception_calc.core import VERSION
from inception_calc.core.errors import CalcError

PROG = "inception-calc"
EXIT_OK, EXIT_FAILS, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 70, 130  # 70: sysexits' EX_SOFTWARE


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (what is wrong and where to look) and exit 2."""

    def error(self, message: str) -> "NoReturn":  # type: ignore[name-defined]
        message = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)  # an argument's '\n' stays on the line
        if len(message) > 2000:
            message = f"{message[:1960]}...{message[-37:]}"
        _say(f"{self.prog}: error: {message}; see '{self.prog} --help'\n")
        sys.exit(2)

    def _print_message(self, message: str, file: object = None) -> None:
        """The help, written and flushed: argparse's own drops a failed write (``--help > /dev/full``)."""
        if message:
            if file is None:
                raise OSError("standard output is closed")
            file.write(message)  # type: ignore[attr-defined]
            file.flush()  # type: ignore[attr-defined]


def _say(text: str) -> None:
    """Write to standard error, which may be closed (``2>&-``) or full: the exit status still tells."""
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):
        pass


def _flush_stdout() -> str | None:
    """Flush standard output; the reason it cannot be written (closed, a full disk), or None.
    After a failure, fd 1 is pointed at /dev/null so that Python's own flush at exit is quiet."""
    if sys.stdout is None:
        return None  # closed from the start: _main has said so where it matters
    try:
        sys.stdout.flush()
        return None
    except BrokenPipeError:
        reason = None  # the reader went away (| head): not an error
    except (OSError, ValueError) as exc:
        reason = f"cannot write standard output ({getattr(exc, 'strerror', None) or exc})"
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return reason


def _end_on_signal(signum: int, frame: object) -> None:
    """SIGTERM or SIGHUP ends the command as Ctrl-C would, through every ``finally``: a file being
    written with --output keeps its old contents and no temporary file is left."""
    raise SystemExit(128 + signum)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command; with ``only``, only that command's arguments are added (and
    only its module imported): ``inception-calc report`` need not import what ``verify`` or
    ``paper-table`` need. The others are still listed, with their help line."""
    parser = _Parser(prog=PROG, allow_abbrev=False,
                     description="Exact, closed-form cost analysis of GoogLeNet (Inception v1) and its variants.")
    parser.add_argument("--debug", action="store_true", help="show a traceback on error")
    parser.add_argument("--version", action="version", version=f"{PROG} {VERSION}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    parser.commands = {}  # type: ignore[attr-defined]
    for name, help in COMMANDS.items():
        command = parser.commands[name] = sub.add_parser(name, help=help, description=help, allow_abbrev=False)  # type: ignore[attr-defined]
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help="show a traceback on error")
        if only is None or name == only:
            module = importlib.import_module(f"inception_calc.cli.{name.replace('-', '_')}")
            module.add_arguments(command)
            command.set_defaults(run=module.run, flags={**common.FLAGS, **getattr(module, "FLAGS", {})})
    return parser


def _command_in(argv: list[str]) -> str | None:
    """The command ``argv`` names: its first word that is not an option (the top level has only
    ``--debug``, which takes no value), if that is a command."""
    word = next((a for a in argv if not a.startswith("-")), None)
    return word if word in COMMANDS else None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        argv = ["report"]
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _end_on_signal)
    status = _main(argv)
    reason = _flush_stdout()
    if reason:
        _say(f"{PROG}: error: {reason}; check where standard output goes, or write to a file with --output FILE\n")
        return max(status, EXIT_USAGE)
    return status


def _main(argv: list[str]) -> int:
    parser = build_parser(_command_in(argv))
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # said by the command's parser, so that the message names the command
            parser.commands.get(getattr(args, "command", None), parser).error(  # type: ignore[attr-defined]
                f"unrecognized arguments: {' '.join(extra)}")
    except OSError as exc:  # the help could not be written
        _flush_stdout()
        if isinstance(exc, BrokenPipeError):  # --help | head: the reader went away
            return EXIT_OK
        _say(f"{PROG}: error: cannot write the help ({exc.strerror or exc}); "
             "check where standard output goes (a full disk? closed?)\n")
        return EXIT_USAGE
    if not getattr(args, "command", None):
        if sys.stdout is not None:
            parser.print_help()
        return 2
    if sys.stdout is None and not getattr(args, "output", None):
        _say(f"{PROG} {args.command}: error: standard output is closed; "
             "give it somewhere to go (> FILE), or write to a file with --output FILE\n")
        return EXIT_USAGE
    try:
        with common.flag_errors(args.flags):
            from inception_calc.report.output import check_outputs

            check_outputs({f"--{key.replace('_', '-')}": getattr(args, key, None)
                           for key in ("output", "save_json", "save_csv", "plot")})  # before any work
            common.pick_format(args)  # --format from --output's suffix, or its contradiction refused
            return args.run(args)
    except CalcError as exc:
        if args.debug:
            raise
        if exc.where == "standard output":
            _flush_stdout()  # what could not be written is dropped, and said once
        _say(f"{PROG} {args.command}: error: {exc.line()}\n")
        return EXIT_USAGE
    except BrokenPipeError:
        _flush_stdout()  # the reader went away (| head): not an error of ours
        return EXIT_OK
    except KeyboardInterrupt:
        _say(f"{PROG}: interrupted\n")
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug of ours: one line, not a traceback, unless --debug asks for it
        if args.debug:
            raise
        message = CalcError(f"{type(exc).__name__}: {exc}").line()  # one line, escaped, shortened
        _say(f"{PROG} {args.command}: internal error: {message}; please report it with --debug output\n")
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
