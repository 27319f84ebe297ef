"""Where a network comes from: one grammar of sources and variants (docs/sources.md), or a spec whose
``base`` names another (a built-in or a file, resolved relative to the spec that names it).

:func:`load_spec` reads a Network (as is), an ``nn.Module`` (traced by ``pytorch.importer``), a
built-in name, ``torchvision:MODEL``, ``timm:MODEL``, ``PATH.py:ATTR``, ``PATH.prototxt`` or a
``.toml``/``.json`` spec, each optionally followed by ``:variant,...``. A name with a file suffix or a
'/' is a path, ``torchvision``/``timm`` are prefixes only, and a bare name that is a built-in and a file
here is refused. The torch sources are imported by name inside the call, so core imports no torch.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from inception_calc.core.caffe import load_prototxt
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




IMPORTER = "inception_calc.pytorch.importer"
"""Where the torch sources are read (imported by name inside :func:`load_spec`, never by core itself)."""
TORCH_SOURCES = {"torchvision": ("from_torchvision", (("torch", "torch"), ("torchvision", "torch"))),
                 "timm": ("from_timm", (("torch", "torch"), ("timm", "timm"))),
                 "python": ("from_python", (("torch", "torch"),)),
                 "module": ("network_from_module", (("torch", "torch"),))}
"""source kind -> (the importer's function, the (package, extra) pairs it needs)."""
PREFIXES = ("torchvision", "timm")
_FILE = re.compile(r"(?P<path>.+?\.(?P<suffix>py|prototxt|toml|json))(?::(?P<rest>.*))?", re.IGNORECASE | re.DOTALL)


def _torch(kind: str, *args: Any) -> Network:
    """The other engineer's importer function for ``kind``, behind the extras check."""
    from inception_calc.core.extras import require

    function, needs = TORCH_SOURCES[kind]
    for package, extra in needs:
        require(package, extra, f"a {kind} source", where="spec")
    try:
        importer = importlib.import_module(IMPORTER)
    except ModuleNotFoundError as exc:
        if exc.name != IMPORTER:
            raise
        raise CalcError(f"this installation cannot read {kind} sources (no torch importer)", where="spec",
                        fix="give a built-in name, a .toml/.json spec or a .prototxt") from None
    return getattr(importer, function)(*args)


def is_module(value: object) -> bool:
    """Whether ``value`` is a torch ``nn.Module``, told without importing torch."""
    return any(c.__module__.startswith("torch.nn") and c.__name__ == "Module" for c in type(value).__mro__)


def _with_variants(network: Network, names: str | None, text: str) -> Network:
    if names is None:
        return network
    return apply_variants(network, parse_variants(names, where=f"spec {quote(text)}"))


def load_spec(text: "str | Path | Network | Any", input: Any = None) -> Network:
    """A network from a source (docs/sources.md): a Network (returned as is), an ``nn.Module``
    (traced at ``input``), or text in the one grammar of sources and variants::

        NAME[:VARIANTS]                     a built-in (googlenet, googlenet:naive)
        torchvision:MODEL[:VARIANTS]        timm:MODEL[:VARIANTS]
        PATH.py:ATTR[:VARIANTS]             PATH.prototxt[:VARIANTS]     PATH.toml|.json[:VARIANTS]

    A built-in name holds no '.', ':' or '/', so a file (a suffix, or a '/') is never read as one;
    ``torchvision`` and ``timm`` are prefixes only; a bare name that is a built-in and a file here is refused.
    """
    if isinstance(text, Network):
        return text
    if is_module(text):
        return _torch("module", text, input)
    if isinstance(text, Path):
        return load_prototxt(text) if text.suffix.lower() == ".prototxt" else load_file(text)
    if not isinstance(text, str) or not text or "\x00" in text:
        raise CalcError(f"cannot read spec {quote(text)}", where="spec", fix="give a built-in name or a file path")
    head, colon, rest = text.partition(":")
    if head in PREFIXES:
        model, _, names = rest.partition(":")
        if not colon or not model:
            raise CalcError(f"{quote(text)} names no model", where="spec", fix=f"write {head}:MODEL, e.g. {head}:googlenet")
        return _with_variants(_torch(head, model), names if _ else None, text)
    match = _FILE.fullmatch(text)
    if match:
        path, suffix, rest2 = Path(match["path"]), match["suffix"].lower(), match["rest"]
        if suffix == "py":
            attr, sep, names = (rest2 or "").partition(":")
            if not attr:
                raise CalcError(f"{quote(text)} names no class or factory", where="spec",
                                fix=f"write {match['path']}:ATTR (a class or a function of no arguments in that file)")
            return _with_variants(_torch("python", path, attr), names if sep else None, text)
        network = load_prototxt(path) if suffix == "prototxt" else load_file(path)
        return _with_variants(network, rest2, text)
    if head in builtin_names():
        if exists(Path(text)) or (colon and exists(Path(head))):
            raise CalcError(f"{quote(head)} is a built-in spec and a file here", where="spec",
                            fix=f"write ./{head} for the file (or rename it {head}.toml); move it away for the built-in")
        return _with_variants(load_builtin(head), rest if colon else None, text)
    path = Path(text)
    if exists(path) or "/" in text:
        return load_file(path)
    if colon and exists(Path(head)):
        return _with_variants(load_file(Path(head)), rest, text)
    return load_builtin(head if colon else text)
