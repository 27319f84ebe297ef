"""Claims files (TOML, docs/claims.md): a title, settings (spec, input, k, flops) at the top and
per claim, and the claims, as text or as tables with a quote and a note.

    title = "Inception(3a), by hand"
    k = 1000
    claims = ["inception3a.weights = 163,328", {claim = "inception3a.macs ~ 1.28e8", quote = "..."}]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inception_calc.core.errors import CalcError, did_you_mean
from inception_calc.core.errors import quote as quoted
from inception_calc.core.files import parse_text, read_text
from inception_calc.core.inputs import input_size_parts
from inception_calc.studies.claims.grammar import GRAMMAR, Claim, Convention, check_convention, parse_claim

FILE_FIELDS = ("title", "source", "spec", "input", "k", "flops", "convention", "claims")
CLAIM_FIELDS = ("claim", "quote", "note", "spec", "input", "k", "flops", "convention")


@dataclass(frozen=True)
class Settings:
    """What a claim is read with: the spec, the input size and the convention."""

    spec: str = "googlenet"
    input: tuple[int, ...] | None = None  # as written (N, HxW or CxHxW); the analysis completes it
    k: int = 1000
    flops: str = "2macs"
    counter: str = ""  # the convention a claim's ``counted`` follows ("convention" in a file, --convention)

    def over(self, table: dict, where: str) -> "Settings":
        """These settings with the ones ``table`` gives put over them (checked)."""
        check_convention(table.get("k"), table.get("flops"), where)
        spec = table.get("spec", self.spec)
        if not isinstance(spec, str) or not spec:
            raise CalcError(f"spec must be a built-in name or a file path, got {quoted(spec)}", where=where,
                            fix='write spec = "googlenet" or spec = "my.toml"')
        given = table.get("input")
        counter = table.get("convention", self.counter)
        if "convention" in table:
            from inception_calc.core.conventions import convention

            try:
                convention(counter)
            except CalcError as exc:
                raise CalcError(exc.what, where=f"{where}, field 'convention'", fix=exc.fix) from None
        return Settings(spec, self.input if given is None else input_size_parts(given, f"{where}, field 'input'"),
                        table.get("k", self.k), table.get("flops", self.flops), counter)

    def convention(self) -> Convention:
        return Convention(self.k, self.flops, self.counter)


def _text_field(table: dict, key: str, where: str) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise CalcError(f"field '{key}' must be text, got {quoted(value)}", where=where, fix=f'write {key} = "..."')
    return value


def _check_fields(table: dict, known: tuple[str, ...], where: str, what: str) -> None:
    for key in table:
        if key not in known:
            raise CalcError(f"unknown field '{key}' in {what}", where=where,
                            fix=did_you_mean(key, known).rstrip() or f"known fields: {', '.join(known)}")


MAX_CLAIMS = 2000
"""The most claims one claims file holds (docs/errors.md): each costs milliseconds and its derivation."""


def claims_from_dict(data: Any, origin: str, base: Settings = Settings(),
                     override: dict | None = None) -> tuple[str, list[Claim]]:
    """The claims of a parsed claims file: (its title, the claims). Settings, most specific
    first: the claim's own fields, then ``override`` (the command line), then the file's top level,
    then ``base``."""
    if not isinstance(data, dict):
        raise CalcError(f"a claims file must be a table at the top level, got {quoted(data)}", where=origin,
                        fix='write claims = ["inception3a.weights = 163,328", ...] (docs/claims.md)')
    _check_fields(data, FILE_FIELDS, origin, "a claims file")
    title = _text_field(data, "title", origin) or _text_field(data, "source", origin)
    top = base.over(data, origin).over(override or {}, "the command line")
    items = data.get("claims")
    if not isinstance(items, list) or not items:
        raise CalcError("no claims", where=origin,
                        fix='add claims = ["inception3a.weights = 163,328", ...] or [[claims]] tables with claim = "..."')
    if len(items) > MAX_CLAIMS:  # each is judged and derived in full: a bound on time and memory
        raise CalcError(f"{len(items):,} claims, more than the {MAX_CLAIMS:,} one file may hold", where=origin,
                        fix="split the claims over several files")
    claims = []
    for i, item in enumerate(items, start=1):
        where = f"{origin}, claim {i}"
        table = {"claim": item} if isinstance(item, str) else item
        if not isinstance(table, dict):
            raise CalcError(f"a claim must be text or a table, got {quoted(item)}", where=where, fix=f"write {GRAMMAR}")
        _check_fields(table, CLAIM_FIELDS, where, "a claim")
        if "claim" not in table:
            raise CalcError("the table has no 'claim' field", where=where, fix=f'add claim = "{GRAMMAR.split(", e.g. ")[1]}"')
        settings = top.over(table, where)
        claims.append(parse_claim(table["claim"], settings.convention(), spec=settings.spec, input=settings.input,
                                  where=where, quote=_text_field(table, "quote", where),
                                  note=_text_field(table, "note", where)))
    return title, claims


def load_claims(path: str | Path, base: Settings = Settings(), override: dict | None = None) -> tuple[str, list[Claim]]:
    """Read a claims file (TOML): its title and its claims (see :func:`claims_from_dict`)."""
    path = Path(path)
    try:
        text = read_text(path, "claims file")
    except CalcError as exc:
        if exc.what == "no such file":
            raise CalcError("no such claims file", where=exc.where, fix="check the path") from None
        raise
    return claims_from_dict(parse_text(text, str(path)), str(path), base, override)
