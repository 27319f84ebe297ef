"""The built-in googlenet against an independent definition: the BVLC Caffe reference model.

../shared/data/caffe/*.prototxt were written by nobody here. This test reads them with a small
parser of its own, infers every blob's shape with Caffe's rules (written out below, apart from
the engine's formulas), counts each layer's weights, biases and MACs, and compares layer by layer
with the analysis, joined through the name map Caffe name -> analysis name.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from inception_calc import analyze, load_spec
from inception_calc.core.prototext import parse

CAFFE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "caffe"
pytestmark = pytest.mark.skipif(not CAFFE.is_dir(), reason=f"the Caffe reference is not at {CAFFE}")

BRANCH_OF = {"1x1": "branch1.0", "3x3_reduce": "branch2.0", "3x3": "branch2.1", "5x5_reduce": "branch3.0",
             "5x5": "branch3.1", "pool": "branch4.0", "pool_proj": "branch4.1"}
NAMED = {"conv1/7x7_s2": "conv1", "pool1/3x3_s2": "maxpool1", "pool1/norm1": "lrn1", "conv2/3x3_reduce": "conv2.0",
         "conv2/3x3": "conv2.1", "conv2/norm2": "lrn2", "pool2/3x3_s2": "maxpool2", "pool3/3x3_s2": "maxpool3",
         "pool4/3x3_s2": "maxpool4", "pool5/7x7_s1": "avgpool", "loss3/classifier": "fc",
         "loss1/ave_pool": "aux1.pool", "loss1/conv": "aux1.conv", "loss1/fc": "aux1.fc1",
         "loss1/classifier": "aux1.fc2", "loss2/ave_pool": "aux2.pool", "loss2/conv": "aux2.conv",
         "loss2/fc": "aux2.fc1", "loss2/classifier": "aux2.fc2"}


def analysis_name(caffe_name: str) -> str | None:
    if caffe_name in NAMED:
        return NAMED[caffe_name]
    match = re.fullmatch(r"inception_(\d[a-e])/(\w+)", caffe_name)
    if match and match.group(2) in BRANCH_OF:
        return f"inception{match.group(1)}.{BRANCH_OF[match.group(2)]}"
    return None


def parse_layers(text: str) -> list[dict]:
    """Each ``layer { ... }`` as a dict: name, type, bottoms, tops and its scalar parameters, read with
    the package's text-format parser (inception_calc.core.prototext)."""
    layers = []
    for msg in parse(text, "prototxt").all("layer"):
        params = next((v for k, v, _ in msg.fields if k.endswith("_param") and k not in ("transform_param",)), None)
        numbers = {k: int(params.get(k)) for k in ("num_output", "kernel_size", "stride", "pad")
                   if params is not None and params.has(k)}
        layers.append({"name": msg.get("name"), "type": msg.get("type"), **numbers,
                       "pool": [str(params.get("pool"))] if params is not None and params.has("pool") else [],
                       "bottom": msg.all("bottom"), "top": msg.all("top")})
    return layers


def caffe_costs(text: str, size: int) -> dict[str, dict]:
    """Every layer's (C, H, W) output, weights, biases and MACs, by Caffe's own shape rules:
    convolution floor((H + 2p - k) / s) + 1; pooling ceil((H + 2p - k) / s) + 1, less one when the
    last window starts in the padding (pad > 0 only); InnerProduct on C * H * W inputs."""
    blobs = {"data": (3, size, size)}
    costs = {}
    for layer in parse_layers(text):
        kind, name = layer["type"], layer["name"]
        if kind in ("Data", "Input", "Accuracy", "SoftmaxWithLoss"):
            continue
        c, h, w = blobs[layer["bottom"][0]]
        weights = biases = macs = 0
        if kind == "Convolution":
            k, s, p = layer["kernel_size"], layer.get("stride", 1), layer.get("pad", 0)
            out = (layer["num_output"], (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)
            weights, biases = c * out[0] * k * k, out[0]
            macs = out[1] * out[2] * weights
        elif kind == "Pooling":
            k, s, p = layer["kernel_size"], layer.get("stride", 1), layer.get("pad", 0)

            def pooled(n: int) -> int:
                o = math.ceil((n + 2 * p - k) / s) + 1
                return o - 1 if p and (o - 1) * s >= n + p else o

            out = (c, pooled(h), pooled(w))
        elif kind == "InnerProduct":
            out = (layer["num_output"], 1, 1)
            weights, biases = c * h * w * out[0], out[0]
            macs = weights
        elif kind == "Concat":
            shapes = [blobs[b] for b in layer["bottom"]]
            out = (sum(s[0] for s in shapes), shapes[0][1], shapes[0][2])
        else:  # ReLU, LRN, Dropout, Softmax: same shape, no weights
            out = (c, h, w)
        blobs[layer["top"][0]] = out
        costs[name] = {"in": (c, h, w), "out": out, "weights": weights, "biases": biases, "macs": macs}
    return costs


@pytest.mark.parametrize("size", [224, 301])
def test_every_caffe_layer_matches_the_analysis(size):
    caffe = caffe_costs((CAFFE / "train_val.prototxt").read_text(), size)
    analysis = analyze("googlenet", size)
    compared = 0
    for caffe_name, cost in caffe.items():
        name = analysis_name(caffe_name)
        if name is None:
            continue
        node = analysis[name]
        assert (node.in_shape, node.out_shape[0], node.weights, node.biases, node.macs) == (
            cost["in"], cost["out"][0], cost["weights"], cost["biases"], cost["macs"]), caffe_name
        if not name.endswith(("fc", "fc1", "fc2")):  # Caffe writes fc outputs as N x C, we as C x 1 x 1
            assert node.out_shape == cost["out"], caffe_name
        compared += 1
    # 9 Inception modules x 7 layers + conv1, conv2 x 2, 2 LRN, 5 pools, fc + 2 aux heads x 4 layers
    assert compared == 9 * 7 + 1 + 2 + 2 + 5 + 1 + 2 * 4


def test_caffe_totals_equal_the_analysis_totals():
    # train_val.prototxt has the auxiliary heads (training totals); deploy.prototxt has none (inference)
    analysis = analyze("googlenet")
    for file, totals in (("train_val.prototxt", analysis.totals.training),
                         ("deploy.prototxt", analysis.totals.inference)):
        caffe = caffe_costs((CAFFE / file).read_text(), 224)
        assert sum(c["weights"] + c["biases"] for c in caffe.values()) == totals.params, file
        assert sum(c["macs"] for c in caffe.values()) == totals.macs, file


def test_the_prototxt_sources_equal_the_builtin():
    # deploy: 6,998,552 params and 1,582,671,872 MACs; train_val with the two aux heads: 13,378,280 params
    builtin = analyze("googlenet")
    deploy, train = analyze(str(CAFFE / "deploy.prototxt")), analyze(str(CAFFE / "train_val.prototxt"))
    assert (deploy.totals.inference.params, deploy.totals.inference.macs) == (6_998_552, 1_582_671_872)
    def counts(sums):  # activations differ: Caffe's conv2 is two rows, and the nets end in a softmax row
        return sums.weights, sums.biases, sums.params, sums.macs

    assert counts(deploy.totals.training) == counts(deploy.totals.inference) == counts(builtin.totals.inference)
    assert counts(train.totals.inference) == counts(builtin.totals.inference)
    assert counts(train.totals.training) == counts(builtin.totals.training)
    assert train.totals.training.params == 13_378_280
    assert [r.name for r in load_spec(str(CAFFE / "train_val.prototxt")).aux_rows] == ["loss1", "loss2"]
    # row by row where the names correspond (inception_3a -> inception3a, loss1 -> aux1, pool1.3x3_s2 -> maxpool1)
    names = {"conv1.7x7_s2": "conv1", "pool1.3x3_s2": "maxpool1", "pool1.norm1": "lrn1", "pool2.3x3_s2": "maxpool2",
             "conv2.norm2": "lrn2", "pool3.3x3_s2": "maxpool3", "pool4.3x3_s2": "maxpool4", "pool5.7x7_s1": "avgpool",
             "loss3.classifier": "fc", "loss1": "aux1", "loss2": "aux2"}
    compared = 0
    for row in train.rows:
        name = names.get(row.name) or row.name.replace("_", "")
        if name in {r.name for r in builtin.rows}:
            ref = builtin[name]
            assert (row.out_shape, row.weights, row.biases, row.macs) == \
                (ref.out_shape, ref.weights, ref.biases, ref.macs), row.name
            compared += 1
    assert compared == 9 + 9 + 2  # 9 Inception rows, 9 single rows, 2 heads
