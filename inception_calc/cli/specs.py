"""inception-calc specs: the built-in specs, each with its description and source."""

from __future__ import annotations

import argparse
import json

from inception_calc.cli.commands import COMMANDS
from inception_calc.core.sources import builtin_names, load_builtin
from inception_calc.core.variants import VARIANTS
from inception_calc.report.output import emit
from inception_calc.report.table import columns, text_table

HELP = COMMANDS["specs"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("table", "json"), default="table", help="default table")


def run(args: argparse.Namespace) -> int:
    networks = [load_builtin(name) for name in builtin_names()]
    if args.format == "json":
        data = [{"name": n.name, "description": n.description, "source": n.source, "input": list(n.input)}
                for n in networks]
        emit(json.dumps(data, indent=2) + "\n", None)  # a list, as before: the variants are --format table's
        return 0
    # two lines a spec, the name beside its description, its source under the description
    rows = [line for n in networks for line in ([n.name, n.description], ["", f"source: {n.source}"])]
    emit("\n".join([*text_table(columns(("name", "description")), rows, header=False), "", *variant_lines()]) + "\n",
         None)
    return 0


def variant_lines() -> list[str]:
    """The variants any spec takes (``SPEC:NAME[,NAME=F]``, core/variants.py), each with what it does."""
    rows = [[f"{name}=F" if kind.takes_value else name, kind.help] for name, kind in VARIANTS.items()]
    return ["variants, after any spec: SPEC:NAME[,NAME...] (googlenet:bn,width=0.5; docs/variants.md)",
            *text_table(columns(("variant", "what it does")), rows, header=False)]
