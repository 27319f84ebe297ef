"""Property test over random graph-model networks: nested concat and add blocks, scales, identity branches,
module = false branches and blocks, random channels, kernels, strides and (non-square) input sizes.

For every seeded network the built module must agree with the analysis, each by an independent counter:
params = numel of every module, MACs = fvcore's conv + linear count of every module, output shapes = forward
hooks. Names join the three.
"""

from __future__ import annotations

import random
from itertools import count

import pytest

torch = pytest.importorskip("torch")
fvcore = pytest.importorskip("fvcore")

from inception_calc import analyze, network_from_dict  # noqa: E402
from inception_calc.pytorch.build import build  # noqa: E402

CASES = 30
MAC_OPS = ("conv", "linear", "addmm", "matmul")


class _Spec:
    """A random spec: every branch and block gets a name of its own (unique across the network, as the
    loader requires of the names it makes), every conv keeps the map size ('same' padding) unless a
    whole row strides, so that the branches of a concat agree on H x W and those of an add on C x H x W."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.ids = count()

    def name(self, stem: str) -> str:
        return f"{stem}{next(self.ids)}"

    def conv(self, out: int, stride: int = 1, **extra: object) -> dict:
        r = self.rng
        kh, kw = r.choice([(1, 1), (3, 3), (1, 3), (3, 1), (5, 5), (1, 7), (7, 1)])
        layer = {"kind": "conv", "out": out, "kernel": [kh, kw], "pad": [kh // 2, kw // 2], "stride": stride,
                 "bn": r.random() < 0.6, "bias": r.random() < 0.5, **extra}
        if r.random() < 0.3:
            layer["name"] = self.name("c")
        return layer

    def pool(self, stride: int = 1) -> dict:
        op = self.rng.choice(["maxpool", "avgpool"])
        layer = {"kind": op, "kernel": 3, "stride": stride, "pad": 1, "rounding": "floor"}
        if op == "avgpool":
            layer["count_include_pad"] = self.rng.random() < 0.5
        return layer

    def chain(self, depth: int, stride: int = 1) -> tuple[list[dict], int]:
        """A branch's nodes and its output channels; the first node takes ``stride``."""
        r = self.rng
        nodes, channels = [], 0
        for i in range(r.randint(1, 3)):
            s = stride if i == 0 else 1
            if depth > 0 and r.random() < 0.3:
                block, channels = self.concat(depth - 1, s)
                nodes.append(block)
            elif i == 0 and r.random() < 0.2:
                nodes.append(self.pool(s))
                nodes.append(self.conv(channels := r.randint(1, 12)))
            else:
                nodes.append(self.conv(channels := r.randint(1, 12), s))
            if depth > 0 and r.random() < 0.25:  # a nested residual on what the branch has made so far
                nodes.append({**self.residual(channels, depth - 1), "name": self.name("r"),
                              "module": r.random() < 0.5})
        return nodes, channels

    def branch(self, layers: list[dict], **extra: object) -> dict:
        module = self.rng.random() < 0.6
        if not module:  # its layers' names sit at the enclosing level: name them to keep them apart
            for node in layers:
                node.setdefault("name", self.name("n"))
        return {"name": self.name("b"), "module": module, "layers": layers, **extra}

    def concat(self, depth: int, stride: int = 1) -> tuple[dict, int]:
        branches, channels = [], 0
        for _ in range(self.rng.randint(2, 3)):
            layers, c = self.chain(depth, stride)
            branches.append(self.branch(layers))
            channels += c
        return {"kind": "concat", "name": self.name("k"), "module": self.rng.random() < 0.6,
                "branches": branches}, channels

    def residual(self, channels: int, depth: int) -> dict:
        """An add of the identity and one or two scaled paths, each ending in a 1x1 conv back to ``channels``."""
        r = self.rng
        branches = [{"name": self.name("id"), "module": False}]
        for _ in range(r.randint(1, 2)):
            layers, _ = self.chain(depth)
            layers.append(self.conv(channels, relu=False) | {"kernel": 1, "pad": 0})
            branches.append(self.branch(layers, scale=r.choice([1.0, 0.17, 0.1, 0.2])))
        return {"kind": "add", "branches": branches, "activation": r.choice(["relu", "none"])}

    def network(self) -> dict:
        r = self.rng
        channels = r.randint(2, 8)
        rows = [{"name": "stem", "kind": "conv", "out": channels, "kernel": 3, "stride": r.choice([1, 2])}]
        for i in range(r.randint(2, 4)):
            if r.random() < 0.5:
                rows.append({"name": f"repeat.{i}", **self.residual(channels, depth=1)})
            else:
                block, channels = self.concat(depth=2, stride=r.choice([1, 1, 2]))
                rows.append({"name": f"mixed_{i}", "kind": "concat", "branches": block["branches"]})
        if r.random() < 0.5:
            rows.append({"name": "head.pool", "kind": "avgpool", "output": 1})
            rows.append({"name": "head.fc", "kind": "linear", "out": r.randint(2, 10)})
        h, w = r.randint(9, 40), r.randint(9, 40)
        return {"name": "random", "input": [3, h, w], "rows": rows}


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
