"""The CLI's subcommands, one module each, in the order ``--help`` lists them.

Each module has ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``, and
imports nothing heavy at module level (torch, pandas and fvcore are imported inside ``run``), so
that ``inception-calc report`` starts fast. A module may have ``FLAGS``, ``{parameter: flag}``: the
library errors located at a parameter of the command's call are shown at the flag that gave it
(``common.flag_errors``; ``common.FLAGS`` holds those every command shares).
"""

COMMANDS = ("report", "explain", "check", "bench", "compare", "sweep", "verify", "paper-table", "specs")
