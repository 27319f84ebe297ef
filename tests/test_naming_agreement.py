"""The naming rule has two walkers: ``core.network.named_nodes`` (what the loader, the builder and the
reconciler call a row's nodes) and the engine's planner (``_plan_sub``, which names the Cost tree every
report prints). They must agree name for name, in order, or ``check`` would join the wrong modules.
The built-ins cover every naming case: module = false branches holding one layer (inception-v3's
``Mixed_5b.branch5x5_1``), nested blocks that are and are not modules (InceptionE, Inception-ResNet-v2),
rows with dotted names, repeat copies, and aux heads; the hand-made spec below puts them side by side."""

from __future__ import annotations

import pytest

from inception_calc import analyze, builtin_names, network_from_dict
from inception_calc.core.network import named_nodes


def _descendants(cost):
    for child in cost.children:
        yield child.name
        yield from _descendants(child)


def _disagreements(analysis):
    rows = {row.name: row for row in analysis.network.rows}
    return [(cost.name, list(_descendants(cost)), named_nodes(rows[cost.name]))
            for cost in analysis.rows if list(_descendants(cost)) != named_nodes(rows[cost.name])]


@pytest.mark.parametrize("name", builtin_names())
def test_the_engine_and_the_network_name_every_node_alike(name):
    analysis = analyze(name)
    assert analysis.rows, name
    assert _disagreements(analysis) == []


MIXED = {
    "name": "mixed-naming", "input": [3, 17, 17],
    "rows": [
        {"name": "stem.conv", "kind": "conv", "out": 8, "kernel": 3},
        {"name": "block", "kind": "concat", "branches": [
            {"name": "solo", "module": False, "layers": [{"kind": "conv", "out": 4, "kernel": 1}]},
            {"name": "named_solo", "module": False, "layers": [{"kind": "conv", "out": 4, "kernel": 1, "name": "x"}]},
            {"name": "pair", "layers": [
                {"kind": "conv", "out": 4, "kernel": 1},
                {"kind": "concat", "name": "inner", "module": False, "branches": [
                    {"name": "a", "layers": [{"kind": "conv", "out": 2, "kernel": [1, 3], "pad": [0, 1]}]},
                    {"name": "b", "module": False, "layers": [{"kind": "conv", "out": 2, "kernel": [3, 1],
                                                               "pad": [1, 0], "name": "b3"}]}]}]},
            {"name": "res", "layers": [{"kind": "add", "name": "r", "branches": [
                {"name": "id", "module": False},
                {"name": "p", "scale": 0.2, "layers": [{"kind": "conv", "out": 8, "kernel": 1}]}]},
                {"kind": "conv", "out": 3, "kernel": 1}]},
        ]},
    ],
}


def test_both_walkers_agree_on_every_naming_case_side_by_side():
    analysis = analyze(network_from_dict(MIXED))
    names = list(_descendants(analysis.rows[1]))
    # by hand from docs/architecture.md's rule: a module=false branch holding one unnamed layer is that
    # layer and takes the branch's name; a named one keeps its own name at the enclosing level; a block
    # that is no module adds no segment.
    for expected in ("block.solo", "block.x", "block.pair", "block.pair.0", "block.pair.inner",
                     "block.pair.a", "block.pair.a.0", "block.pair.b3", "block.res.r", "block.res.1"):
        assert expected in names, (expected, names)
    assert _disagreements(analysis) == []
