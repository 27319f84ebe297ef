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
        sys.stderr.write(f"{self.prog}: error: {message}; see '{self.prog} --help'\n")
        sys.exit(2)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command; with ``only``, only that command's arguments are added (and
    only its module imported): ``inception-calc report`` need not import what ``verify`` or
    ``paper-table`` need. The others are still listed, with their help line."""
    parser = _Parser(prog=PROG, allow_abbrev=False,
                     description="Exact, closed-form cost analysis of GoogLeNet (Inception v1) and its variants.")
    parser.add_argument("--debug", action="store_true", help="show a traceback on error")
    parser.add_argument("--version", action="version", version=f"{PROG} {VERSION}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, help in COMMANDS.items():
        command = sub.add_parser(name, help=help, description=help, allow_abbrev=False)
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
    parser = build_parser(_command_in(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        with common.flag_errors(args.flags):
            return args.run(args)
    except CalcError as exc:
        if args.debug:
            raise
        sys.stderr.write(f"{PROG} {args.command}: error: {exc.line()}\n")
        return EXIT_USAGE
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (| head): not an error of ours
        return EXIT_OK
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug of ours: one line, not a traceback, unless --debug asks for it
        if args.debug:
            raise
        message = " ".join(f"{type(exc).__name__}: {exc}".split())
        sys.stderr.write(f"{PROG} {args.command}: internal error: {message}; "
                         f"please report it with --debug output\n")
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
