"""Random spec generators shared by the property tests (standard library and hypothesis only, so that a test
without torch can use them): :class:`RandomGraphSpec`, seeded random graph-model networks (nested concat and add
blocks, scales, identity branches, blocks and branches that are no modules); :func:`small_network`, hypothesis's tiny
Inception networks (every row option, aux heads, classifiers)."""

from __future__ import annotations

import random
from itertools import count

from hypothesis import strategies as st

from inception_calc.core import formulas

class RandomGraphSpec:
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
