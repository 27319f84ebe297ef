"""A Caffe net definition (``deploy.prototxt``, ``train_val.prototxt``) as a spec: its layers read
with Caffe's own parameters and defaults, its graph of blobs turned into rows (docs/sources.md).

The graph: every layer reads ``bottom`` blobs and writes ``top`` blobs (an in-place layer, such as
ReLU, writes the blob it reads: a new version of it). From the input blob on, a blob read by one
layer continues the current sequence; a blob read by several starts parallel paths, which must meet
at one ``Concat`` or ``Eltwise`` (a concat or add row, or a nested block inside a branch), or end in
an output of their own: a loss branch of ``train_val`` (``loss1/*``), which becomes an auxiliary
head (a row with ``after``), counted in the training totals only. Layer names become node names,
Caffe's ``/`` read as the module separator ``.`` (``conv1/7x7_s2`` -> ``conv1.7x7_s2``; inside a row
named ``inception_3a``, ``inception_3a/1x1`` -> ``inception_3a.1x1``).

Layers: Input (or ``input`` with ``input_shape``/``input_dim``; Data with ``crop_size``),
Convolution, Pooling (MAX, AVE; Caffe's ceil rounding, ``round_mode``, ``global_pooling``), LRN,
ReLU (folded into the conv or fc before it, as the built-in specs write it), Concat, Eltwise (SUM,
with ``coeff`` as the branches' scales), BatchNorm + Scale (one ``bn`` layer), InnerProduct,
Dropout, Softmax, SoftmaxWithLoss (a softmax); Accuracy is left out (it computes no activation).
``include``/``exclude`` phase rules keep the layers of one phase (TRAIN by default).

Every refusal is one :class:`CalcError` naming the file, the line and the layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inception_calc.core.errors import CalcError, quote
from inception_calc.core.files import read_text
from inception_calc.core.loader import network_from_rows
from inception_calc.core.network import Network
from inception_calc.core.prototext import Ident, Message, parse

PHASES = ("TRAIN", "TEST")
INPUTS = ("Input", "Data", "ImageData")
LEFT_OUT = ("Accuracy", "Silence")
"""Layers that compute no activation of the net: left out (their bottoms may be labels)."""
SUPPORTED = ("Convolution", "Pooling", "LRN", "ReLU", "Concat", "Eltwise", "BatchNorm", "Scale", "InnerProduct",
             "Dropout", "Softmax", "SoftmaxWithLoss", *INPUTS, *LEFT_OUT)
JOINS = ("Concat", "Eltwise")


@dataclass
class _Layer:
    name: str
    type: str
    msg: Message
    line: int
    bottoms: list[int] = field(default_factory=list)
    tops: list[int] = field(default_factory=list)


@dataclass
class _Item:
    """A node being built: a layer's spec table, or a join's branches (``branches`` set)."""

    caffe: str  # the Caffe layer name (the join's, for a block)
    table: dict[str, Any]
    line: int
    branches: list[list["_Item"]] | None = None
    scales: list[float] = field(default_factory=list)
    source: str = ""  # the Caffe type it came from (BatchNorm waits for its Scale)
    scaled: bool = False


def _dotted(name: str) -> str:
    """A Caffe name as a dotted module path: '/' -> '.', any other character not allowed in a name -> '_'."""
    return ".".join(re.sub(r"[^A-Za-z0-9_-]", "_", part) or "_" for part in name.split("/"))


class _Reader:
    def __init__(self, path: str, phase: str) -> None:
        self.path = path
        self.phase = phase

    # ------------------------------------------------------------------ errors and parameters

    def error(self, layer: _Layer | None, what: str, fix: str, line: int | None = None) -> CalcError:
        where = self.path if layer is None else f"{self.path}, line {line or layer.line}, layer {layer.name!r}"
        if layer is None and line:
            where = f"{self.path}, line {line}"
        return CalcError(what, where=where, fix=fix)

    def param(self, layer: _Layer, key: str) -> Message:
        value = layer.msg.get(key, Message(layer.line))
        if not isinstance(value, Message):
            raise self.error(layer, f"{key} must be a message {{ ... }}, got {quote(value)}", f"write {key} {{ ... }}")
        return value

    def count(self, layer: _Layer, msg: Message, key: str, default: int | None = None, *, low: int = 1,
              repeated: bool = False) -> int | list[int] | None:
        """A non-negative integer field (``repeated``: every value, as Caffe's repeated ``kernel_size``)."""
        values = msg.all(key)
        if not values:
            return [] if repeated else default
        for value in values:
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise self.error(layer, f"{key} must be an integer of at least {low}, got {quote(value)}",
                                 f"write {key}: N", msg.line_of(key))
        return [int(v) for v in values] if repeated else int(values[-1])  # type: ignore[arg-type]

    def number(self, layer: _Layer, msg: Message, key: str, default: float) -> float:
        value = msg.get(key, default)
        if isinstance(value, Ident) or not isinstance(value, (int, float)):
            raise self.error(layer, f"{key} must be a number, got {quote(value)}", f"write {key}: 0.5",
                             msg.line_of(key))
        return float(value)

    def flag(self, layer: _Layer, msg: Message, key: str, default: bool) -> bool:
        value = msg.get(key)
        if value is None:
            return default
        if isinstance(value, str) and value in ("true", "True", "t") or value == 1 and not isinstance(value, str):
            return True
        if isinstance(value, str) and value in ("false", "False", "f") or value == 0 and not isinstance(value, str):
            return False
        raise self.error(layer, f"{key} must be true or false, got {quote(value)}", f"write {key}: true",
                         msg.line_of(key))

    def enum(self, layer: _Layer, msg: Message, key: str, choices: tuple[str, ...], default: str,
             numbers: tuple[str, ...] = ()) -> str:
        value = msg.get(key, default)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(numbers):
            value = numbers[value]  # an enum by its number (PoolMethod MAX = 0, AVE = 1)
        if value not in choices:
            raise self.error(layer, f"{key} {quote(value)} is not supported", f"use one of {', '.join(choices)}",
                             msg.line_of(key))
        return str(value)

    def pair(self, layer: _Layer, msg: Message, key: str, default: int, *, low: int) -> list[int]:
        """Caffe's spatial parameters: ``key: N`` (or two values: H, W) or ``key_h`` with ``key_w``."""
        values = self.count(layer, msg, key, low=low, repeated=True)
        h, w = self.count(layer, msg, f"{key}_h", low=low), self.count(layer, msg, f"{key}_w", low=low)
        if (h is None) != (w is None):
            raise self.error(layer, f"gives one of {key}_h and {key}_w", f"give both, or {key}", msg.line_of(key))
        if h is not None:
            if values:
                raise self.error(layer, f"gives both {key} and {key}_h/{key}_w", "give one of them", msg.line_of(key))
            return [h, w]  # type: ignore[list-item]
        if len(values) > 2:  # type: ignore[arg-type]
            raise self.error(layer, f"gives {len(values)} values of {key}; the spec model is 2-d",  # type: ignore
                             f"give one {key} (or two: height, width)", msg.line_of(key))
        if not values:
            return [default, default]
        return [values[0], values[-1]]  # type: ignore[index]

    # ------------------------------------------------------------------ reading

    def included(self, msg: Message) -> bool:
        """Caffe's NetStateRule on the phase: any ``include`` matching keeps the layer, any ``exclude`` drops it."""
        rules = {"include": msg.all("include"), "exclude": msg.all("exclude")}
        for rule in (*rules["include"], *rules["exclude"]):
            if isinstance(rule, Message):
                for key in ("stage", "not_stage", "min_level", "max_level"):
                    if rule.has(key):
                        raise CalcError(f"a layer's {key} rule is not supported (only phase rules are)",
                                        where=f"{self.path}, line {rule.line_of(key)}",
                                        fix="remove the rule, or keep the layers of one stage yourself")

        def matches(rule: Any) -> bool:
            return isinstance(rule, Message) and (not rule.has("phase") or rule.get("phase") == self.phase)

        if rules["include"]:
            return any(matches(r) for r in rules["include"])
        return not any(matches(r) for r in rules["exclude"])

    def layers(self, net: Message) -> tuple[list[_Layer], tuple[int, int, int] | None, dict[str, int]]:
        if net.has("layers") and not net.has("layer"):
            raise CalcError("the net is written in Caffe's old V1 format ('layers { ... }')",
                            where=f"{self.path}, line {net.line_of('layers')}",
                            fix="convert it with Caffe's upgrade_net_proto_text, which writes 'layer { ... }'")
        blobs: dict[str, int] = {}  # the current version of each blob name
        shape = None
        counter = iter(range(1, 1 << 62))
        if net.has("input"):  # the net-level input: input: "data" with input_shape { dim } or input_dim
            names = net.all("input")
            line = net.line_of("input")
            if len(names) != 1 or not isinstance(names[0], str):
                raise CalcError(f"the net has {len(names)} inputs; the spec model has one", where=f"{self.path}, line {line}",
                                fix="keep one input blob")
            dims = []
            given = net.get("input_shape")
            if isinstance(given, Message):
                dims = given.all("dim")
            elif net.has("input_dim"):
                dims = net.all("input_dim")
            shape = self.input_shape(dims, None, line)
            blobs[str(names[0])] = next(counter)
        layers: list[_Layer] = []
        produced_later = {str(t) for m in net.all("layer") if isinstance(m, Message) for t in m.all("top")}
        labels: set[int] = set()
        for msg in net.all("layer"):
            if not isinstance(msg, Message):
                raise CalcError(f"layer must be a message {{ ... }}, got {quote(msg)}", where=self.path,
                                fix="write layer { name: ... type: ... }")
            name, kind = msg.get("name", ""), msg.get("type", "")
            if not isinstance(name, str) or not name:
                raise CalcError("a layer has no name", where=f"{self.path}, line {msg.line}", fix='give it name: "..."')
            layer = _Layer(name, str(kind), msg, msg.line)
            if not isinstance(kind, str) or isinstance(kind, Ident) or kind not in SUPPORTED:
                raise self.error(layer, f"unknown layer type {quote(kind)}",
                                 f"the layers read are {', '.join(SUPPORTED)}")
            if not self.included(msg):
                continue
            bottoms, tops = msg.all("bottom"), msg.all("top")
            if not all(isinstance(b, str) for b in (*bottoms, *tops)):
                raise self.error(layer, "bottom and top must be blob names in quotes", 'write bottom: "data"')
            if kind in INPUTS:
                if bottoms or not tops:
                    raise self.error(layer, f"an {kind} layer has a top and no bottom", 'write top: "data"')
                if shape is not None:
                    raise self.error(layer, "a second input; the spec model has one", "keep one input")
                shape = self.layer_input(layer)
                blobs[str(tops[0])] = next(counter)
                for label in tops[1:]:
                    blobs[str(label)] = next(counter)
                    labels.add(blobs[str(label)])
                continue
            for bottom in bottoms:
                if bottom not in blobs:
                    if bottom in produced_later:
                        raise self.error(layer, f"bottom {bottom!r} is read before any layer writes it (layers out of "
                                         "order, or a cycle)", "order the layers so that each reads what an earlier "
                                         "one writes", msg.line_of("bottom"))
                    raise self.error(layer, f"bottom {bottom!r} names no top", "name the top of an earlier layer, "
                                     f"or the input{'' if shape else ' (the net has none yet)'}", msg.line_of("bottom"))
            layer.bottoms = [blobs[str(b)] for b in bottoms]
            if kind in LEFT_OUT or kind == "SoftmaxWithLoss":
                layer.bottoms = [b for b in layer.bottoms if b not in labels]
                if kind in LEFT_OUT:
                    continue
            if any(b in labels for b in layer.bottoms):
                raise self.error(layer, "reads the data layer's label blob", "a label is read by a loss or accuracy only")
            if not layer.bottoms:
                raise self.error(layer, "has no bottom", "give it the blob it reads: bottom: \"...\"")
            if len(tops) != 1:
                raise self.error(layer, f"has {len(tops)} tops; the layers read write one", 'give it one top: "..."')
            if len(layer.bottoms) > 1 and kind not in JOINS:
                raise self.error(layer, f"a {kind} layer with {len(layer.bottoms)} bottoms",
                                 "only Concat and Eltwise read several blobs")
            blobs[str(tops[0])] = next(counter)
            layer.tops = [blobs[str(tops[0])]]
            layers.append(layer)
        return layers, shape, blobs

    def input_shape(self, dims: list, layer: _Layer | None, line: int) -> tuple[int, int, int]:
        if len(dims) != 4 or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in dims):
            raise self.error(layer, f"the input shape must be 4 positive dims N, C, H, W, got {quote(dims)}",
                             "write shape { dim: 1 dim: 3 dim: 224 dim: 224 }", line)
        return int(dims[1]), int(dims[2]), int(dims[3])

    def layer_input(self, layer: _Layer) -> tuple[int, int, int]:
        if layer.type == "Input":
            shapes = self.param(layer, "input_param").all("shape")
            if len(shapes) != 1 or not isinstance(shapes[0], Message):
                raise self.error(layer, f"an Input layer with {len(shapes)} shapes; the spec model has one input",
                                 "write input_param { shape { dim: 1 dim: 3 dim: 224 dim: 224 } }")
            return self.input_shape(shapes[0].all("dim"), layer, shapes[0].line)
        transform = self.param(layer, "transform_param")
        crop = self.count(layer, transform, "crop_size")
        if crop is None and layer.type == "ImageData":
            image = self.param(layer, "image_data_param")
            h, w = self.count(layer, image, "new_height"), self.count(layer, image, "new_width")
            if h and w:
                return 3, h, w  # type: ignore[return-value]
        if crop is None:
            raise self.error(layer, f"a {layer.type} layer without transform_param {{ crop_size }}: the input size "
                             "is the database's, which the prototxt does not say",
                             "add crop_size, or analyse the deploy.prototxt (its Input layer gives the size)")
        return 3, crop, crop  # type: ignore[return-value]  # images: 3 channels (the prototxt does not say)

    # ------------------------------------------------------------------ layers as spec tables

    def item(self, layer: _Layer) -> _Item:
        kind, table = layer.type, {}
        if kind == "Convolution":
            p = self.param(layer, "convolution_param")
            for key in ("axis",):
                if self.count(layer, p, key, 1, low=0) != 1:
                    raise self.error(layer, f"{key} other than 1", "the spec model convolves N x C x H x W blobs",
                                     p.line_of(key))
            dilation = self.count(layer, p, "dilation", low=1, repeated=True) or [1]
            if len(dilation) > 2:  # type: ignore[arg-type]
                raise self.error(layer, f"dilation {dilation} has more than 2 values (a 2-d conv has H and W)",
                                 "write dilation: D, or dilation: DH dilation: DW", p.line_of("dilation"))
            out = self.count(layer, p, "num_output")
            if out is None:
                raise self.error(layer, "a Convolution without num_output", "write convolution_param { num_output: N }")
            table = {"kind": "conv", "out": out, "kernel": self.pair(layer, p, "kernel_size", 0, low=1),
                     "stride": self.pair(layer, p, "stride", 1, low=1), "pad": self.pair(layer, p, "pad", 0, low=0),
                     "groups": self.count(layer, p, "group", 1), "bias": self.flag(layer, p, "bias_term", True),
                     "dilation": [dilation[0], dilation[-1]], "relu": False}  # type: ignore[index]
            if 0 in table["kernel"]:
                raise self.error(layer, "a Convolution without kernel_size", "write kernel_size: K")
        elif kind == "Pooling":
            p = self.param(layer, "pooling_param")
            op = self.enum(layer, p, "pool", ("MAX", "AVE"), "MAX", ("MAX", "AVE", "STOCHASTIC"))
            table = {"kind": "maxpool" if op == "MAX" else "avgpool"}
            if self.flag(layer, p, "global_pooling", False):
                table["output"] = [1, 1]
            else:
                kernel = self.pair(layer, p, "kernel_size", 0, low=1)
                if 0 in kernel:
                    raise self.error(layer, "a Pooling without kernel_size (nor global_pooling)",
                                     "write kernel_size: K, or global_pooling: true")
                stride, pad = self.pair(layer, p, "stride", 1, low=1), self.pair(layer, p, "pad", 0, low=0)
                rounding = self.enum(layer, p, "round_mode", ("CEIL", "FLOOR"), "CEIL", ("CEIL", "FLOOR")).lower()
                if rounding == "ceil" and any(pd == 0 and k < s for k, s, pd in zip(kernel, stride, pad)):
                    raise self.error(layer, f"an unpadded ceil-rounded pool with kernel {kernel} smaller than its "
                                     f"stride {stride}: Caffe keeps a last window PyTorch's ceil rule drops",
                                     "pad it, or use round_mode: FLOOR")
                table.update(kernel=kernel, stride=stride, pad=pad, rounding=rounding)
        elif kind == "LRN":
            p = self.param(layer, "lrn_param")
            self.enum(layer, p, "norm_region", ("ACROSS_CHANNELS",), "ACROSS_CHANNELS", ("ACROSS_CHANNELS",))
            table = {"kind": "lrn", "size": self.count(layer, p, "local_size", 5),
                     "alpha": self.number(layer, p, "alpha", 1.0), "beta": self.number(layer, p, "beta", 0.75),
                     "k": self.number(layer, p, "k", 1.0)}
        elif kind == "ReLU":
            slope = self.number(layer, self.param(layer, "relu_param"), "negative_slope", 0.0)
            if slope != 0:
                raise self.error(layer, f"a leaky ReLU (negative_slope {slope:g}) is not in the spec model",
                                 "use negative_slope: 0")
            table = {"kind": "relu"}
        elif kind == "InnerProduct":
            p = self.param(layer, "inner_product_param")
            if self.count(layer, p, "axis", 1, low=0) != 1 or self.flag(layer, p, "transpose", False):
                raise self.error(layer, "axis other than 1, or transpose", "the spec model flattens C x H x W")
            out = self.count(layer, p, "num_output")
            if out is None:
                raise self.error(layer, "an InnerProduct without num_output", "write inner_product_param { num_output: N }")
            table = {"kind": "linear", "out": out, "bias": self.flag(layer, p, "bias_term", True), "relu": False}
        elif kind == "Dropout":
            table = {"kind": "dropout", "p": self.number(layer, self.param(layer, "dropout_param"), "dropout_ratio", 0.5)}
        elif kind in ("Softmax", "SoftmaxWithLoss"):
            if self.count(layer, self.param(layer, "softmax_param"), "axis", 1, low=0) != 1:
                raise self.error(layer, "a softmax over an axis other than 1", "the spec model's softmax is over classes")
            table = {"kind": "softmax"}
        elif kind == "BatchNorm":
            table = {"kind": "bn", "eps": self.number(layer, self.param(layer, "batch_norm_param"), "eps", 1e-5)}
        elif kind == "Scale":
            p = self.param(layer, "scale_param")
            if not self.flag(layer, p, "bias_term", False):
                raise self.error(layer, "a Scale without bias_term: true (a batch norm's affine has a scale and a "
                                 "bias, 2 per channel)", "write scale_param { bias_term: true }")
        return _Item(layer.name, table, layer.line, source=kind)

    # ------------------------------------------------------------------ the graph

    def build(self, net: Message) -> dict[str, Any]:
        layers, shape, _ = self.layers(net)
        if shape is None:
            raise CalcError("the net has no input (no Input or Data layer, no input: with input_shape)",
                            where=self.path, fix='add layer { type: "Input" input_param { shape { dim: ... } } }')
        if not layers:
            raise CalcError("the net has no layers to analyse", where=self.path, fix="give a net with layers")
        self.by_id = {t: layer for layer in layers for t in layer.tops}
        self.consumers: dict[int, list[_Layer]] = {}
        for layer in layers:
            for b in layer.bottoms:
                self.consumers.setdefault(b, []).append(layer)
        self.visited: set[str] = set()
        self.auxes: list[tuple[int, list[_Item]]] = []
        outputs = [layer for layer in layers if layer.tops[0] not in self.consumers]
        self.reaches = self.ancestors(outputs[-1])  # the net's output: its last layer that nothing reads
        roots = sorted({b for layer in layers for b in layer.bottoms} - set(self.by_id))
        if len(roots) != 1:  # only the input has no producer here
            raise CalcError("the layers read more than one blob that no layer writes", where=self.path,
                            fix="give a net with one input")
        nodes, end = self.walk(roots[0], [], 0, top=True)
        if end is not None:
            join = end[0]
            raise self.error(join, "reads blobs that do not come from parallel paths of one fork",
                             "the rows model branches that split from one blob and meet at one Concat/Eltwise")
        for layer in layers:
            if layer.name not in self.visited:
                raise self.error(layer, "is not on the paths from the input", "give a net of one connected graph")
        return self.spec(nodes, shape, net)

    def add(self, nodes: list[_Item], layer: _Layer) -> None:
        self.visited.add(layer.name)
        item = self.item(layer)
        last = nodes[-1] if nodes else None
        if layer.type == "ReLU" and last is not None:
            if last.branches is not None and last.table.get("activation") != "relu":
                last.table["activation"] = "relu"
                return
            if last.table.get("kind") in ("conv", "linear") and not last.table["relu"]:
                last.table["relu"] = True
                return
        if layer.type == "Scale":
            if last is None or last.source != "BatchNorm" or last.scaled:
                raise self.error(layer, "a Scale that follows no BatchNorm", "the spec model has Scale only as a "
                                 "batch norm's affine part: put it right after the BatchNorm")
            last.scaled = True
            return
        nodes.append(item)

    def walk(self, blob: int, nodes: list[_Item], depth: int, *, top: bool = False
             ) -> tuple[list[_Item], tuple[_Layer, int] | None]:
        """The nodes from ``blob`` on, up to the end of the net (None) or to a join this path reaches
        (the join layer and the blob it arrives by), which the enclosing fork resolves. On the main
        sequence (``top``), a reader whose path never reaches the net's output starts an auxiliary head."""
        if depth > 200:
            raise CalcError("parallel blocks nested more than 200 deep", where=self.path, fix="give a shallower net")
        while True:
            readers = self.consumers.get(blob, [])
            source = self.by_id.get(blob)
            where = f"blob {source.name if source else 'input'!r}"
            if top and len(readers) > 1:
                for layer in [r for r in readers if r.tops[0] not in self.reaches]:
                    if layer.type in JOINS or not nodes:
                        raise self.error(layer, f"an output head that reads {'the input' if not nodes else where} "
                                         "and joins again, or reads the input", "an auxiliary head reads a row of "
                                         "the main network and ends in its own output")
                    first: list[_Item] = []
                    self.add(first, layer)
                    head, end = self.walk(layer.tops[0], first, depth + 1)
                    if end is not None:
                        raise self.error(end[0], f"joins a path of an output head (from {where}) and another",
                                         "the rows model heads that end in their own output")
                    self.auxes.append((len(nodes), head))
                readers = [r for r in readers if r.tops[0] in self.reaches]
            if not readers:
                return nodes, None
            if len(readers) == 1:
                layer = readers[0]
                if layer.type in JOINS:
                    return nodes, (layer, blob)
                self.add(nodes, layer)
                blob = layer.tops[0]
                continue
            paths = []
            for layer in readers:
                if layer.type in JOINS:
                    paths.append(([], (layer, blob)))
                else:
                    first = []
                    self.add(first, layer)
                    paths.append(self.walk(layer.tops[0], first, depth + 1))
            for path, end in paths:
                if end is None:
                    raise self.error(self.layer_named(path[0].caffe) or source, f"a path from {where} ends in an "
                                     "output of its own inside a parallel block", "the rows model one output; "
                                     "a loss head may leave from the main sequence only")
            joins = {id(end[0]): end[0] for _, end in paths}  # type: ignore[index]
            if len(joins) > 1:
                names = ", ".join(repr(j.name) for j in joins.values())
                raise self.error(list(joins.values())[-1], f"the paths from {where} meet at several layers ({names}), "
                                 "not at one", "the rows model branches that meet at one Concat/Eltwise")
            join = paths[0][1][0]  # type: ignore[index]
            arrived = [end[1] for _, end in paths]  # type: ignore[index]
            if sorted(arrived) != sorted(join.bottoms):
                raise self.error(join, f"reads blobs from outside the paths that fork at {where}",
                                 "the rows model branches that split from one blob and meet at one Concat/Eltwise")
            branches = []
            left = list(paths)
            for bottom in join.bottoms:  # the join's bottom order is the concatenation's order
                path = next(p for p in left if p[1][1] == bottom)  # type: ignore[index]
                left.remove(path)
                branches.append(path[0])
            nodes.append(self.join_item(join, branches))
            self.visited.add(join.name)
            blob = join.tops[0]

    def ancestors(self, output: _Layer) -> set[int]:
        """The blobs the path to ``output`` runs through (its top included)."""
        seen, todo = set(output.tops), list(output.bottoms)
        while todo:
            blob = todo.pop()
            if blob not in seen:
                seen.add(blob)
                if blob in self.by_id:
                    todo.extend(self.by_id[blob].bottoms)
        return seen

    def layer_named(self, name: str) -> _Layer | None:
        return next((layer for ls in self.consumers.values() for layer in ls if layer.name == name), None)

    def join_item(self, join: _Layer, branches: list[list[_Item]]) -> _Item:
        if join.type == "Concat":
            p = self.param(join, "concat_param")
            axis = self.count(join, p, "axis", None, low=0)
            axis = self.count(join, p, "concat_dim", 1, low=0) if axis is None else axis
            if axis != 1:
                raise self.error(join, f"a Concat along axis {axis}", "the spec model concatenates channels (axis 1)")
            if any(not b for b in branches):
                raise self.error(join, "concatenates the fork's own blob (a branch with no layer)",
                                 "the spec model's concat branches hold layers; only an Eltwise SUM has an identity")
            return _Item(join.name, {"kind": "concat"}, join.line, branches=branches)
        p = self.param(join, "eltwise_param")
        op = self.enum(join, p, "operation", ("SUM",), "SUM", ("PROD", "SUM", "MAX"))
        coeff = p.all("coeff")
        if coeff and len(coeff) != len(join.bottoms):
            raise self.error(join, f"{len(coeff)} coeff for {len(join.bottoms)} bottoms", "give one coeff per bottom")
        scales = [self.number(join, Message(p.line, [("c", c, p.line)]), "c", 1.0) for c in coeff] or \
            [1.0] * len(branches)
        if any(s < 0 for s in scales):
            raise self.error(join, f"an Eltwise {op} with a negative coeff {scales}", "the spec model adds branches "
                             "with non-negative scales")
        return _Item(join.name, {"kind": "add"}, join.line, branches=branches, scales=scales)

    # ------------------------------------------------------------------ rows

    def check_scaled(self, items: list[_Item]) -> None:
        for item in items:
            if item.source == "BatchNorm" and not item.scaled:
                raise CalcError("a BatchNorm with no Scale after it: its affine parameters are the Scale's, and the "
                                "spec's bn layer has them (2 per channel)", where=f"{self.path}, line {item.line}, "
                                f"layer {item.caffe!r}", fix="put the Scale layer (bias_term: true) right after it")
            for branch in item.branches or []:
                self.check_scaled(branch)

    def table(self, item: _Item, prefix: str, used: set[str]) -> dict[str, Any]:
        """The spec table of a node inside a row named ``prefix``: its name relative to the row."""
        dotted = _dotted(item.caffe)
        name = dotted[len(prefix) + 1:] if dotted.startswith(prefix + ".") else dotted
        if item.branches is None:
            return {"name": name, **item.table}
        return {"name": name, **item.table, "module": False, "branches": self.branches(item, prefix, used)}

    def branches(self, item: _Item, prefix: str, used: set[str]) -> list[dict[str, Any]]:
        result = []
        for i, (nodes, scale) in enumerate(zip(item.branches or [], item.scales or [1.0] * len(item.branches or [])),
                                           start=1):
            name = f"branch{i}"
            while name in used:
                name += "_"
            used.add(name)
            branch: dict[str, Any] = {"name": name, "module": False, "layers": [self.table(n, prefix, used) for n in nodes]}
            if item.table["kind"] == "add" and scale != 1.0:
                branch["scale"] = scale
            result.append(branch)
        return result

    def row(self, item: _Item, used_rows: set[str]) -> dict[str, Any]:
        if item.branches is None:
            return {"name": _dotted(item.caffe), **item.table}
        dotted = _dotted(item.caffe)
        name = dotted.rpartition(".")[0] or dotted
        if name in used_rows:
            name = dotted
        used = {_dotted(n.caffe).removeprefix(name + ".") for n in _all_items(item)}
        return {"name": name, **item.table, "branches": self.branches(item, name, used)}

    def spec(self, nodes: list[_Item], shape: tuple[int, int, int], net: Message) -> dict[str, Any]:
        self.check_scaled(nodes)
        for _, head in self.auxes:
            self.check_scaled(head)
        rows, names = [], set()
        for item in nodes:
            row = self.row(item, names)
            names.add(row["name"])
            rows.append(row)
        placed: dict[int, list[dict[str, Any]]] = {}
        for k, (index, head) in enumerate(self.auxes, start=1):
            firsts = {_dotted(n.caffe).split(".")[0] for n in head}
            name = next(iter(firsts)) if len(firsts) == 1 else f"aux{k}"
            if name in names or any(_dotted(n.caffe) == name for n in head):
                name = f"aux{k}"
            names.add(name)
            used = {_dotted(n.caffe).removeprefix(name + ".") for n in head}
            layers = [self.table(n, name, used) for n in head]
            placed.setdefault(index, []).append({"name": name, "kind": "aux", "after": rows[index - 1]["name"],
                                                 "layers": layers})
        ordered = []
        for i, row in enumerate(rows, start=1):
            ordered.append(row)
            ordered.extend(placed.get(i, []))
        title = net.get("name")
        stem = Path(self.path).stem
        return {"name": str(title) if isinstance(title, str) and title else stem,
                "description": f"the Caffe net of {Path(self.path).name} ({self.phase} phase)",
                "source": self.path, "input": list(shape),
                "defaults": {"bias": True, "bn": False, "relu": False}, "rows": ordered}


def _all_items(item: _Item) -> list[_Item]:
    out = []
    for branch in item.branches or []:
        for node in branch:
            out.append(node)
            out.extend(_all_items(node))
    return out


def spec_from_prototxt(text: str, where: str = "prototxt", phase: str = "TRAIN") -> dict[str, Any]:
    """The spec (as a dict, the form of a TOML spec file) of a Caffe net written in ``text``; layers
    whose ``include``/``exclude`` rules leave them out of ``phase`` are left out."""
    if phase not in PHASES:
        raise CalcError(f"unknown phase {quote(phase)}", where="phase", fix=f"use one of {', '.join(PHASES)}")
    return _Reader(where, phase).build(parse(text, where))


def load_prototxt(path: str | Path, phase: str = "TRAIN") -> Network:
    """The :class:`~inception_calc.core.network.Network` of a Caffe ``.prototxt`` file."""
    path = Path(path)
    data = spec_from_prototxt(read_text(path, "prototxt"), str(path), phase)
    return network_from_rows(data, str(path))
