"""The command line: argument parsing and exit codes only (:mod:`inception_calc.cli.main`)."""

from inception_calc.cli.main import (EXIT_FAILS, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, PROG,
                                     build_parser, main)

__all__ = ["EXIT_FAILS", "EXIT_INTERNAL", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "PROG", "build_parser", "main"]
