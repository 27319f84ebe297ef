"""core.rounding: the walk over a network's primitive layers and the floor/ceil note of a pool."""

from __future__ import annotations

import pytest

from inception_calc.core.engine import analyze, named_layers
from inception_calc.core.sources import builtin_names, load_spec
from inception_calc.core.network import Pool
from inception_calc.core.rounding import primitive_layers, rounding_note, window_pools


@pytest.mark.parametrize("name", builtin_names())
def test_primitive_layers_are_the_engines_named_layers(name):
    network = load_spec(name)
    assert list(primitive_layers(network)) == list(named_layers(network).items())  # same names, layers and order


def test_window_pools_leave_adaptive_pools_out():
    network = load_spec("googlenet-torchvision")
    adaptive = {name for name, layer in primitive_layers(network) if isinstance(layer, Pool) and layer.output}
    assert adaptive == {"aux1.pool", "aux2.pool", "avgpool"}  # torchvision's adaptive 4x4 and 1x1 average pools
    pools = window_pools(network)
    assert "maxpool1" in pools and "inception3a.branch4.0" in pools and not adaptive & set(pools)


@pytest.mark.parametrize("size, rounding, out, note", [
    # ceil((112 - 3) / 2) + 1 = 56; floor(109 / 2) + 1 = 55
    (112, "ceil", 56, "p: ceil rounding gives 56x56, floor would give 55x55"),
    (112, "floor", 55, "p: floor rounding gives 55x55, ceil would give 56x56"),
    # (113 - 3) / 2 = 55 exactly: both give 56
    (113, "ceil", 56, None),
])
def test_rounding_note(size, rounding, out, note):
    pool = Pool("max", (3, 3), (2, 2), (0, 0), rounding)
    assert rounding_note("p", pool, (64, size, size), (64, out, out)) == note


def test_analysis_warnings_name_each_pool_once():
    warnings = analyze("googlenet").warnings
    assert len({w.split(":")[0] for w in warnings}) == len(warnings) == 4  # maxpool1..4, see test_engine
