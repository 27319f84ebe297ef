"""Property test over random graph-model networks: nested concat and add blocks, scales, identity branches,
module = false branches and blocks, random channels, kernels, strides and (non-square) input sizes.

For every seeded network the built module must agree with the analysis, each by an independent counter:
params = numel of every module, MACs = fvcore's conv + linear count of every module, output shapes = forward
hooks. Names join the three.
"""

from __future__ import annotations

import random

import pytest

torch = pytest.importorskip("torch")
fvcore = pytest.importorskip("fvcore")

from inception_calc import analyze, network_from_dict  # noqa: E402
from inception_calc.pytorch.build import build  # noqa: E402
from spec_generators import RandomGraphSpec as _Spec  # noqa: E402

CASES = 30
MAC_OPS = ("conv", "linear", "addmm", "matmul")


def _fvcore_macs(model: torch.nn.Module, shape: tuple[int, int, int]) -> dict[str, int]:
    from fvcore.nn import FlopCountAnalysis

    analysis = (FlopCountAnalysis(model, torch.zeros(1, *shape)).unsupported_ops_warnings(False)
                .uncalled_modules_warnings(False).tracer_warnings("none"))
    return {name: sum(n for op, n in ops.items() if op in MAC_OPS)
            for name, ops in analysis.by_module_and_operator().items()}


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(CASES))
def test_random_graph_networks_agree_with_numel_fvcore_and_hooks(seed):
    spec = _Spec(random.Random(seed)).network()
    network = network_from_dict(spec)
    analysis = analyze(network)
    model = build(network).eval()
    modules = dict(model.named_modules())
    shapes: dict[str, tuple[int, ...]] = {}
    for name, module in modules.items():
        if name:
            module.register_forward_hook(lambda m, i, o, name=name: shapes.__setitem__(name, tuple(o.shape[1:])))
    with torch.no_grad():
        model(torch.zeros(1, *analysis.input))
    macs = _fvcore_macs(model, analysis.input)
    checked = 0
    for name in analysis.names("conv"):
        node = analysis[name]
        if name not in modules:
            continue  # a branch or block with module = false, or an identity branch
        module = modules[name]
        assert sum(p.numel() for p in module.parameters()) == node.params, (seed, name)
        assert macs.get(name, 0) == node.macs, (seed, name)
        real = shapes[name]
        assert real == node.out_shape or (real == node.out_shape[:1] and node.out_shape[1:] == (1, 1)), (seed, name)
        checked += 1
    assert checked >= len(spec["rows"])
    assert sum(p.numel() for p in model.parameters()) == analysis.totals.training.params
    assert macs[""] == analysis.totals.training.macs
