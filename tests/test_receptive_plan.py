"""Receptive fields on the engine's plan (issue 14: "receptive fields add less than 10% to an analysis's time").

``Analysis.receptive_fields`` walks the engine's plan (core/plan.py) with each row's fields memoized
there and shared between a repeated block's copies, renamed. The expected values are those of the
other walk, :class:`~inception_calc.core.receptive.Walk`, which goes over the network's rows itself
(and which the derivation and ``check --rf`` walk with): every name, in the same order, every field
equal, warm and cold, for every built-in spec at square and non-square sizes, sizes where ceil
rounding adds a window, and sizes that leave an auxiliary head out.
"""

from __future__ import annotations

import pytest

from inception_calc import CalcError, analyze, builtin_names, load_spec, network_from_dict
from inception_calc.core.engine import clear_memo
from inception_calc.core.receptive import Walk, input_field, network_fields, receptive_fields, walk_rows

SIZES = [(3, 224, 224), (3, 299, 299), (3, 225, 225), (3, 229, 240), (3, 331, 300), (3, 139, 139), (3, 140, 152)]


def walked(analysis) -> dict:
    """The fields by the network's own walk (not the plan's)."""
    input = analysis.input
    return walk_rows(Walk((input[1], input[2])), analysis.network, input, input_field(),
                     {r.name for r in analysis.rows}).fields


@pytest.mark.parametrize("spec", builtin_names())
def test_the_plan_gives_the_walks_fields(spec):
    network = load_spec(spec)
    checked = 0
    for size in SIZES:
        try:
            analysis = analyze(network, size)
        except CalcError:  # too small for this network (googlenet below 223)
            continue
        expected = walked(analysis)
        assert list(analysis.receptive_fields.items()) == list(expected.items()), (spec, size)
        clear_memo()  # cold: nothing memoized, twins computed afresh
        assert list(analyze(network, size).receptive_fields.items()) == list(expected.items()), (spec, size)
        checked += 1
    assert checked >= 4


def test_inception_v3_at_224_leaves_the_head_out_of_the_fields():
    analysis = analyze("inception-v3", 224)  # AuxLogits' 5x5 does not fit below 299... it is left out
    assert analysis.left_out and "AuxLogits" not in analysis.receptive_fields
    assert "AuxLogits" in analyze("inception-v3", 299).receptive_fields


def test_repeated_blocks_are_renamed():
    # Inception-ResNet-v2's block35 copies (repeat = 10) share one computation: every copy has its own names,
    # and, each adding a 3x3 at stride 8 on its widest path (2 x 3x3 pad 1 after a 1x1: 2 x 2 x 8 = 32 more),
    # a field 32 rows larger than the copy before
    fields = analyze("inception-resnet-v2", 299).receptive_fields
    copies = [name for name in fields if name.startswith("repeat.") and name.count(".") == 1]
    assert len(copies) == 10
    sizes = [fields[name].size[0] for name in copies]
    assert [b - a for a, b in zip(sizes, sizes[1:])] == [32] * 9
    for name in copies:
        assert {n[len(name):] for n in fields if n.startswith(name + ".")} == \
            {n[len(copies[0]):] for n in fields if n.startswith(copies[0] + ".")}


def test_twin_heads_not_aligned_name_their_own_block():
    # two auxiliary heads, equal but for their names, read the same row: the same input, so one computation
    # would serve both, but each head's note names its own block ('h1.mix', 'h2.mix'): a 2x2/2 pool (centre 0.5)
    # beside a 1x1/2 conv (centre 0) is not aligned
    head = {"kind": "aux", "after": "stem", "layers": [{"kind": "concat", "name": "mix", "branches": [
        {"name": "a", "layers": [{"kind": "maxpool", "kernel": 2, "stride": 2, "rounding": "floor"}]},
        {"name": "b", "layers": [{"kind": "conv", "out": 4, "kernel": 1, "stride": 2}]}]}]}
    network = network_from_dict({"name": "t", "input": [3, 32, 32], "rows": [
        {"name": "stem", "kind": "conv", "out": 8, "kernel": 3, "pad": 1},
        {"name": "h1", **head}, {"name": "h2", **head}]})
    fields = analyze(network).receptive_fields
    assert not fields["h1"].aligned and not fields["h2"].aligned
    assert "'h1.mix' is not aligned" in fields["h1"].note and "'h2.mix' is not aligned" in fields["h2"].note
    # stem 3x3 pad 1: (3, 1, 1); the pool's: 3 + (2 - 1) x 1 = 4, stride 2, padding 1
    assert fields["h1"].size == fields["h2"].size == (4, 4) and fields["h2.mix"].padding == (1, 1)
    assert dict(fields) == walked(analyze(network))


def test_fields_are_read_only_and_shared_by_repeated_analyses():
    first = analyze("googlenet", 224).receptive_fields
    assert analyze("googlenet", 224).receptive_fields is first  # kept on the plan by input: one look-up
    with pytest.raises(TypeError):
        first["conv1"] = None  # type: ignore[index]
    assert analyze("googlenet", 256).receptive_fields["fc"].size == (256, 256)  # whole: another input, another
    assert network_fields(load_spec("googlenet"), (3, 224, 224)) == receptive_fields(analyze("googlenet", 224))
