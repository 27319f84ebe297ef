"""The layer-kind registry: one definition per kind, and everything else looks kinds up in it.

Checks that the registry refuses duplicates, that every kind has what every consumer needs, that
the loader's fields are the kinds' fields, that docs/spec-format.md's layer table states the
kinds' own defaults, and that adding a kind is one definition (a toy kind, registered in a fresh
registry, loads and costs without touching any other module).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from inception_calc.core.kinds import KINDS, Registry
from inception_calc.core.kinds.base import FROM_LAYER, INHERITED, REQUIRED, Field, LayerKind, Marker
from inception_calc.core.kinds.conv import Conv
from inception_calc.core.loader import LAYER_FIELDS
from inception_calc.core.fields import Place

DOC = Path(__file__).resolve().parents[1] / "docs" / "spec-format.md"


def test_registry_refuses_a_second_kind_of_the_same_name_spec_kind_or_type():
    conv = KINDS["conv"]
    with pytest.raises(ValueError, match="registered already"):
        Registry((conv, conv))

    class Other(LayerKind):
        name = "other"
        layer_type = Conv  # the type conv owns
        spec_kinds = ("other",)

    with pytest.raises(ValueError, match="Conv"):
        Registry((conv, Other()))


def test_every_spec_kind_maps_to_a_kind_and_the_loader_uses_its_fields():
    assert set(LAYER_FIELDS) == {"conv", "maxpool", "avgpool", "lrn", "bn", "relu", "dropout", "linear", "softmax"}
    for spec_kind, names in LAYER_FIELDS.items():
        assert names == KINDS.for_spec(spec_kind).field_names()


@pytest.mark.parametrize("kind", list(KINDS), ids=lambda k: k.name)
def test_each_kind_is_complete(kind):
    """Every kind names its layer type and spec kinds, and each field's default is a value of the
    layer dataclass, a marker, or stated by the kind."""
    assert kind.spec_kinds and kind.layer_type
    layer_fields = set(kind.layer_type.__dataclass_fields__)
    for field in kind.fields:
        assert field.name in layer_fields, (kind.name, field.name)
        assert field.type in Field.TYPES
    assert KINDS.of(kind.layer_type(**_required(kind))) is kind


def _required(kind: LayerKind) -> dict:
    """Values for a layer dataclass's fields without defaults (Conv's out and kernel, Pool's op)."""
    values = {"out": 8, "kernel": (3, 3)} if kind.name == "conv" else {"out": 8} if kind.name == "linear" else {}
    return {"op": "max"} if kind.name == "pool" else values


def _default_text(kind: LayerKind, field: Field) -> str:
    if field.default is REQUIRED:
        return "required"
    if field.default is INHERITED:
        return "from [defaults]"
    if isinstance(field.default, Marker) and field.default is not FROM_LAYER:
        return "(none)" if field.name == "output" else str(field.default)
    value = kind.default(field, {})
    if isinstance(value, tuple):
        assert value[0] == value[1]
        value = value[0]
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _doc_defaults() -> dict[tuple[str, str], str]:
    """(spec kind, field) -> default, as the 'Single-layer rows' table of docs/spec-format.md writes them."""
    text = DOC.read_text(encoding="utf-8")
    table = text.split("### Single-layer rows", 1)[1].split("\n### ", 1)[0]
    found: dict[tuple[str, str], str] = {}
    kinds: list[str] = []
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] == "kind" or re.fullmatch(r"-+", cells[0]):
            continue
        if cells[0]:
            kinds = re.findall(r"`(\w+)`", cells[0])
        names = re.findall(r"`(\w+)`", cells[1])
        defaults = [d.strip().replace("`", "") for d in cells[2].split(",")]
        if len(defaults) != len(names):
            defaults = defaults[:1] * len(names)
        for kind in kinds:
            for name, default in zip(names, defaults):
                found[(kind, name)] = default
    return found


def test_spec_format_doc_states_each_kinds_fields_and_defaults():
    """The doc's layer table has exactly the kinds' fields, and each default is the kind's own
    (the one place defaults live is the layer dataclass; the doc must agree with it)."""
    doc = _doc_defaults()
    expected = {(spec_kind, field.name): _default_text(KINDS.for_spec(spec_kind), field)
                for spec_kind in KINDS.spec_kinds for field in KINDS.for_spec(spec_kind).fields}
    assert set(doc) == set(expected), set(doc) ^ set(expected)
    assert doc == expected


def test_a_new_kind_is_one_definition():
    """A toy kind (a 'scale' layer: one weight per channel, C x H x W MACs) registered in a fresh
    registry reads its fields, checks them, and costs itself; nothing else needs to know it."""

    @dataclass(frozen=True)
    class Scale:
        init: float = 1.0
        name: str = ""
        kind = "scale"
        summary = short = "scale"

    class ScaleKind(LayerKind):
        name = "scale"
        layer_type = Scale
        spec_kinds = ("scale",)
        fields = (Field("init", "number", "initial value"),)

        def cost(self, layer, shape):
            c, h, w = shape
            return shape, c, 0, 0, c * h * w  # c weights; c * h * w MACs

    registry = Registry((*KINDS, ScaleKind()))
    kind = registry.for_spec("scale")
    layer = kind.read("scale", {"kind": "scale", "init": 2}, Place("spec"), {})
    assert layer == Scale(init=2.0)
    assert kind.cost(layer, (4, 5, 6)) == ((4, 5, 6), 4, 0, 0, 120)  # 4 x 5 x 6 = 120
    with pytest.raises(Exception, match="field 'init': must be a number"):
        kind.read("scale", {"kind": "scale", "init": "x"}, Place("spec"), {})
