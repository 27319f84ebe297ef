"""Property: for random valid Inception rows and small networks, the analysis equals the real network.

Hypothesis draws tiny networks (1 to 3 input channels, 4 to 11 pixels a side, 1 to 4 channels per
column): an optional stem conv, one or two Inception rows (random branch kernels, max or average
pool of 1x1 or 3x3 with floor or ceil rounding, with and without the 1x1 reductions and the pool
projection, batch norm and bias on or off, per network and per row), an optional max pool between
them, an optional auxiliary head and an optional classifier. For each, built with the builder and
counted with fvcore (called directly, not through inception_calc's counters):

* analytic params == numel, for every row, branch and layer;
* analytic MACs == fvcore's conv + linear count, for every row, branch and layer, exactly;
* analytic output shape == the shape forward hooks see (a linear output [N, out] as [out, 1, 1]).

200 examples, derandomized (the same ones on every run) for a stable CI.
"""

from __future__ import annotations

import warnings

import pytest
from hypothesis import HealthCheck, given, settings

torch = pytest.importorskip("torch")  # the torch extra: without it, this module is skipped, not an error
pytest.importorskip("fvcore")

from inception_calc import analyze, network_from_dict  # noqa: E402
from spec_generators import small_network  # noqa: E402
from inception_calc.pytorch.build import build  # noqa: E402

with warnings.catch_warnings():  # fvcore's import scripts a function: torch.jit.script's FutureWarning
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.jit")
    from fvcore.nn import FlopCountAnalysis

MAC_OPERATORS = ("conv", "linear", "addmm", "matmul")
@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(spec=small_network())
def test_analysis_equals_the_real_network(spec):
    network = network_from_dict(spec)
    analysis = analyze(network)
    model = build(network)
    modules = dict(model.named_modules())
    names = analysis.names("conv")

    shapes: dict[str, tuple[int, ...]] = {}
    handles = [modules[n].register_forward_hook(
        lambda m, i, o, n=n: shapes.__setitem__(n, tuple(o.shape[1:]))) for n in names]
    model.eval()
    model.training = True  # the top module only: the auxiliary head runs, batch norm uses running stats
    try:
        with torch.no_grad():
            fl = (FlopCountAnalysis(model, (torch.zeros(1, *analysis.input),))
                  .unsupported_ops_warnings(False).uncalled_modules_warnings(False))
            by_module = fl.by_module_and_operator()
    finally:
        for handle in handles:
            handle.remove()

    for name in names:
        node = analysis[name]
        assert sum(p.numel() for p in modules[name].parameters()) == node.params, name
        fv_macs = sum(by_module[name].get(op, 0) for op in MAC_OPERATORS)
        assert fv_macs == node.macs, (name, fv_macs, node.macs)
        real, expected = shapes[name], tuple(node.out_shape)
        assert real == expected or (real == expected[:1] and expected[1:] == (1, 1)), (name, real, expected)
    assert sum(p.numel() for p in model.parameters()) == analysis.totals.training.params
    assert sum(by_module[""].get(op, 0) for op in MAC_OPERATORS) == analysis.totals.training.macs
