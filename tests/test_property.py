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
from hypothesis import strategies as st

torch = pytest.importorskip("torch")  # the torch extra: without it, this module is skipped, not an error
pytest.importorskip("fvcore")

from inception_calc import analyze, network_from_dict  # noqa: E402
from inception_calc.core import formulas  # noqa: E402
from inception_calc.pytorch.build import build  # noqa: E402

with warnings.catch_warnings():  # fvcore's import scripts a function: torch.jit.script's FutureWarning
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.jit")
    from fvcore.nn import FlopCountAnalysis

MAC_OPERATORS = ("conv", "linear", "addmm", "matmul")
channels = st.integers(1, 4)


@st.composite
def inception_row(draw, name: str) -> dict:
    reduce, project = draw(st.booleans()), draw(st.booleans())
    row = {"name": name, "kind": "inception", "n1x1": draw(channels), "n3x3": draw(channels),
           "n5x5": draw(channels), "kernel3x3": draw(st.sampled_from([1, 3, 5])),
           "kernel5x5": draw(st.sampled_from([1, 3, 5])), "pool": draw(st.sampled_from(["max", "avg"])),
           "pool_kernel": draw(st.sampled_from([1, 3])), "pool_rounding": draw(st.sampled_from(["floor", "ceil"])),
           "reduce": reduce, "project": project}
    if reduce:
        row["n3x3red"], row["n5x5red"] = draw(channels), draw(channels)
    if project:
        row["pool_proj"] = draw(channels)
    if draw(st.booleans()):  # this row's own batch norm and bias, over the network's defaults
        row["bn"], row["bias"] = draw(st.booleans()), draw(st.booleans())
    return row


@st.composite
def small_network(draw) -> dict:
    h, w = draw(st.integers(4, 11)), draw(st.integers(4, 11))  # the map the Inception rows see
    size = [h, w]
    rows = []
    if draw(st.booleans()):
        k = draw(st.integers(1, 3))
        stride, pad = draw(st.integers(1, 2)), draw(st.integers(0, k // 2))
        rows.append({"name": "stem", "kind": "conv", "out": draw(channels), "kernel": k, "stride": stride,
                     "pad": pad})
        size = [(n - 1) * stride + k - 2 * pad for n in (h, w)]  # the input the stem maps onto h x w
        assert [formulas.conv_output_size(n, k, stride, pad) for n in size] == [h, w]
    rows.append(draw(inception_row("inception1")))
    if draw(st.booleans()):
        rows.append({"name": "aux", "kind": "aux", "after": "inception1", "layers": [
            {"kind": "avgpool", "output": draw(st.integers(1, 2))},
            {"kind": "conv", "out": draw(channels), "kernel": 1},
            {"kind": "linear", "out": draw(channels), "relu": True},
            {"kind": "linear", "out": draw(channels)}]})
    if draw(st.booleans()):
        rows.append({"name": "pool", "kind": "maxpool", "kernel": 2, "stride": 2,
                     "rounding": draw(st.sampled_from(["floor", "ceil"]))})
    if draw(st.booleans()):
        rows.append(draw(inception_row("inception2")))
    if draw(st.booleans()):
        rows.append({"name": "gap", "kind": "avgpool", "output": 1})
        rows.append({"name": "fc", "kind": "linear", "out": draw(channels)})
    return {"name": "random", "input": [draw(st.integers(1, 3)), *size],
            "defaults": {"bias": draw(st.booleans()), "bn": draw(st.booleans())}, "rows": rows}


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
