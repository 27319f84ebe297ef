"""inception-calc verify: check hand-computed claims against the exact analysis.

    inception-calc verify [SPEC] --claim "inception3a.weights = 163,328" [--claim ...]
    inception-calc verify [SPEC] CLAIMS.toml [--claim ...]

With --claim, a lone positional is the SPEC (unless it is a claims file: a TOML file with
``claims`` and no ``rows`` or ``base``); without, it is the claims file. Exit 0 when every
claim holds, 1 when any fails, 2 when a claim cannot be read or names an unknown row or quantity.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from inception_calc.cli.commands import COMMANDS
from inception_calc.cli import common
from inception_calc.cli.progress import add_progress, progress_for
from inception_calc.core.errors import CalcError
from inception_calc.core.inputs import input_size_parts
from inception_calc.core.sources import load_spec
from inception_calc.core.files import parse_text, read_text
from inception_calc.report.claims import to_json, to_text
from inception_calc.report.output import emit
from inception_calc.studies.claims import FLOPS_MEANINGS, K_VALUES, Settings, claims_from_dict, load_claims, verify

HELP = COMMANDS["verify"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="SPEC|CLAIMS",
                        help="the spec (default googlenet, or the claims file's) and/or a claims file; with --claim "
                             "a lone positional is the SPEC, without it the claims file")
    parser.add_argument("--claim", action="append", default=[], metavar="CLAIM",
                        help='a claim, "ROW[.BRANCH[.LAYER]].QUANTITY OP VALUE", e.g. "inception3a.macs ~ 1.28e8"; '
                             "repeat for more")
    common.add_input(parser)
    parser.add_argument("--k", type=int, choices=K_VALUES, default=None,
                        help="K of the K/M/G suffixes in the claims: 1000 (default) or 1024")
    parser.add_argument("--flops", choices=tuple(FLOPS_MEANINGS), default=None,
                        help="what the claims' FLOPs mean: 2macs (2 x MACs, default) or macs")
    parser.add_argument("--no-derivation", action="store_true", help="leave the derivations out of the text output")
    common.add_convention(parser)
    common.add_format(parser, ("table", "json"))
    common.add_output(parser)
    add_progress(parser)


def _split_paths(paths: list[str], claims: list[str]) -> tuple[str | None, str | None]:
    """(SPEC, CLAIMS file) from the positionals (see the module docstring)."""
    if len(paths) > 2:
        raise CalcError(f"too many arguments: {' '.join(paths)}", where="verify",
                        fix="give at most a SPEC and a CLAIMS.toml file")
    if len(paths) == 2:
        return paths[0], paths[1]
    if len(paths) == 1:
        if claims:
            return (None, paths[0]) if _is_claims_file(paths[0]) else (paths[0], None)
        if _is_spec(paths[0]):
            raise CalcError(f"{paths[0]!r} is a spec, and there is nothing to verify against it", where="verify",
                            fix=f'add --claim "ROW.QUANTITY = VALUE" or a CLAIMS.toml file after {paths[0]}')
        return None, paths[0]
    if not claims:
        raise CalcError("nothing to verify", where="verify", fix='give --claim "ROW.QUANTITY = VALUE" or a CLAIMS.toml file')
    return None, None


def _is_claims_file(text: str) -> bool:
    """Whether ``text`` names a readable TOML file with claims and no rows or base (so not a spec)."""
    try:
        raw = read_text(Path(text), "claims file")
        if "claims" not in raw:  # not one: a spec is not parsed twice (once here, once as the spec)
            return False
        data = parse_text(raw, text)
    except CalcError:
        return False
    return isinstance(data, dict) and "claims" in data and not {"rows", "base"} & set(data)


def _is_spec(text: str) -> bool:
    try:
        load_spec(text)
    except CalcError:
        return False
    return True


def run(args: argparse.Namespace) -> int:
    spec, path = _split_paths(args.paths, args.claim)
    override: dict = {k: v for k, v in (("k", args.k), ("flops", args.flops), ("spec", spec),
                                        ("convention", args.convention)) if v is not None}
    if args.convention is not None:
        from inception_calc.core.conventions import convention

        with common.flag_errors({"convention": "--convention"}):
            convention(args.convention)  # refused at its flag, before any claim is read
    if args.input is not None:
        override["input"] = list(input_size_parts(args.input, "--input"))
    title, claims = load_claims(path, override=override) if path else ("", [])
    if args.claim:
        _, extra = claims_from_dict({"claims": args.claim}, "--claim", Settings(), override)
        claims += extra
    verdicts = verify(claims, derive=args.format == "json" or not args.no_derivation,
                      progress=progress_for(args, "verify"))
    text = to_json(verdicts, title) if args.format == "json" else to_text(verdicts, title, not args.no_derivation)
    emit(text, args.output)
    return 0 if all(v.holds for v in verdicts) else 1
