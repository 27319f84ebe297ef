"""Where a network comes from: a built-in name, a file path, ``SPEC:variant,...``, or a spec whose
``base`` names another (a built-in or a file, resolved relative to the spec that names it).

The resolution rules, in order (:func:`load_spec`): a Network is returned as is; a built-in name;
``BASE:variants`` when no file of that name exists; a path (it exists, ends in .toml or .json, or
holds a '/'); else the built-in of that name, which then says it is unknown and lists the others.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from inception_calc.core.errors import CalcError, quote
from inception_calc.core.fields import Place, check_known
from inception_calc.core.files import MAX_BASE_DEPTH, exists, read_data
from inception_calc.core.inputs import spec_input
from inception_calc.core.loader import TOP_FIELDS, network_from_rows, variants_field
from inception_calc.core.network import Network
from inception_calc.core.variants import apply_variants, parse_variants

SPEC_DIR = Path(__file__).parents[1] / "specs"


def _based(data: dict, top: Place, chain: tuple[str, ...]) -> Network:
    """A spec written as ``base = "googlenet"`` plus ``variants``: the base network, renamed and
    re-described if the file says so, with its own input size if the file gives one."""
    base = data["base"]
    place = top / "field 'base'"
    if not isinstance(base, str) or not base or "\x00" in base:
        raise place.error(f"must be a built-in spec name or a file path, got {quote(base)}",
                          'write base = "googlenet" or base = "other.toml"')
    if "rows" in data or "defaults" in data:
        given = "rows" if "rows" in data else "defaults"
        raise (top / f"field '{given}'").error("given beside 'base'; a spec has its own rows or a base, not both",
                                               f"remove {given}, or remove base")
    variants = variants_field(data, top)
    if base in builtin_names():
        network = load_builtin(base)
    else:
        path = Path(base) if Path(base).is_absolute() else Path(top.parts[0]).parent / base
        here = (*chain, str(Path(top.parts[0]).resolve()))
        if len(here) >= MAX_BASE_DEPTH:
            raise place.error(f"a chain of more than {MAX_BASE_DEPTH} specs, each the base of the next",
                              "base a spec on a built-in or on a file with its own rows")
        if str(path.resolve()) in here:
            raise place.error(f"{quote(base)} leads back to a spec already on the way here, a cycle",
                              "name a built-in spec or a file with its own rows")
        try:
            raw = read_data(path)
        except CalcError as exc:
            raise exc.located(str(place)) from None
        network = network_from_dict(raw, str(path), here)  # its errors name its own file
    if variants:
        try:
            network = apply_variants(network, variants)
        except CalcError as exc:
            raise exc.located(top.parts[0]) from None
    changes: dict[str, Any] = {"path": top.parts[0]}
    for key in ("name", "description", "source"):
        if key in data:
            if not isinstance(data[key], str) or not data[key]:
                raise (top / f"field '{key}'").error(f"must be text, got {quote(data[key])}", f'write {key} = "..."')
            changes[key] = data[key]
    if "input" in data:
        changes["input"] = spec_input(data["input"], str(top / "field 'input'"), channels=network.input[0])
    if "notes" in data:
        notes = data["notes"]
        if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
            raise (top / "field 'notes'").error(f"must be a list of strings, got {quote(notes)}",
                                                'write notes = ["...", "..."]')
        changes["notes"] = network.notes + tuple(notes)
    return replace(network, **changes)


def network_from_dict(data: Any, origin: str = "spec", _chain: tuple[str, ...] = ()) -> Network:
    """Validate a parsed spec (a dict, as from TOML or JSON) and build its :class:`Network`.

    A spec has its own ``rows``, or a ``base`` (a built-in name, or a file path relative to this
    file) whose network it starts from; either may list ``variants`` to apply (docs/variants.md).
    """
    top = Place(origin)
    if not isinstance(data, dict):
        raise top.error(f"a spec must be a table at the top level, got {quote(data)}",
                        'start it with name = "..." and [[rows]] tables (docs/spec-format.md)')
    check_known(data, TOP_FIELDS, top, "a spec")
    if "base" in data:
        return _based(data, top, _chain)
    return network_from_rows(data, origin)


def load_file(path: str | Path) -> Network:
    """Load and validate a spec file; ``.json`` is read as JSON, anything else as TOML."""
    path = Path(path)
    return network_from_dict(read_data(path), str(path))


def builtin_names() -> list[str]:
    return sorted(p.stem for p in SPEC_DIR.glob("*.toml"))


@lru_cache(maxsize=None)
def load_builtin(name: str) -> Network:
    """A built-in spec by name, read once (a Network is frozen, so one copy serves every caller)."""
    path = SPEC_DIR / f"{name}.toml"
    if not exists(path):
        raise CalcError(f"unknown spec {quote(name)}", where="spec", fix=f"use one of {', '.join(builtin_names())} or a .toml/.json file")
    return replace(network_from_dict(read_data(path), path.name), path="")




def load_spec(text: str | Path | Network) -> Network:
    """A network from a built-in name (``googlenet``), a file path, or a Network (returned as is);
    ``SPEC:variant[,variant...]`` applies variants to it (``googlenet:naive``, docs/variants.md)."""
    if isinstance(text, Network):
        return text
    if isinstance(text, Path):
        return load_file(text)
    if not isinstance(text, str) or not text or "\x00" in text:
        raise CalcError(f"cannot read spec {quote(text)}", where="spec", fix="give a built-in name or a file path")
    if text in builtin_names():
        return load_builtin(text)
    path = Path(text)
    if ":" in text and not exists(path):
        base, _, names = text.rpartition(":")
        variants = parse_variants(names, where=f"spec {quote(text)}")
        return apply_variants(load_spec(base), variants)
    if exists(path) or path.suffix.lower() in (".toml", ".json") or "/" in text:
        return load_file(path)
    return load_builtin(text)
