"""Every popular counter's convention, reproduced from the analysis: MACs plus named closed-form terms.

"Why does thop say 1.51 G, fvcore 1.50 G and ptflops 1.51 G?" Each counter counts the conv and
linear multiply-accumulates (the analysis's ``macs``) and then its own set of extra terms. A
:class:`Convention` names the counter, the version whose rules it follows, and the terms it adds;
:func:`count` computes every term of every node from the analysis alone (shapes and layers), by the
pure functions of :mod:`inception_calc.core.formulas`, each of which cites the tool's source.

A convention counts one forward pass at inference (eval mode), per image, of the network as
:mod:`inception_calc.pytorch.build` builds it from the spec, which for GoogLeNet is torchvision's
``googlenet`` module for module: a conv block's ReLU (and a row's ReLU after its sum) is one
``F.relu`` call, as torchvision's ``BasicConv2d`` calls it; a standalone ``relu``, pooling, LRN,
batch-norm, dropout and softmax layer is its ``nn`` module. ``total`` sums the main rows (the
auxiliary heads run only in training); ``by_node`` has every row, branch, block and layer, aux
heads included. Where the tool reports per module, :meth:`Counted.module_count` is what it
attributes to the module of that name.

Stdlib only; imports nothing above the core.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from inception_calc.core import formulas as f
from inception_calc.core.errors import CalcError
from inception_calc.core.kinds import KINDS, BatchNorm, Conv, Layer, Linear, LRN, Pool, ReLU, Softmax

if TYPE_CHECKING:  # pragma: no cover
    from inception_calc.core.results import Analysis, Cost

Shape = tuple[int, int, int]


@dataclass(frozen=True)
class Term:
    """One term a convention adds to the MACs: its name, what it counts, and whether the tool
    attributes it to the module that runs it (ptflops counts the functions it patches, ``F.relu``,
    ``F.max_pool2d``..., in its total only, not in any module's ``__flops__``)."""

    name: str
    rule: str
    attributed: bool = True


@dataclass(frozen=True)
class Convention:
    """A counter's convention: its name here, the tool and version whose rules it follows, what it
    counts in one line, and the terms it adds to the MACs (in the order tables show them)."""

    name: str
    tool: str
    version: str
    summary: str
    terms: tuple[Term, ...] = ()

    def term(self, name: str) -> Term:
        for term in self.terms:
            if term.name == name:
                return term
        raise KeyError(name)


@dataclass(frozen=True)
class Counted:
    """An analysis counted under one convention.

    ``total``: the main rows (what the tool reports for the eval-mode network); ``training``: with
    the auxiliary heads. ``macs``: the analytic MACs in ``total``; ``terms``: each
    term's size in ``total``, in the convention's order (zero terms kept). ``by_node``: every row,
    branch, block and layer name -> its count; ``node_terms``: the same names -> their terms.
    """

    convention: Convention
    spec: str
    input: Shape
    total: int
    training: int
    macs: int
    terms: dict[str, int]
    by_node: dict[str, int]
    node_terms: dict[str, dict[str, int]] = field(repr=False)

    def __getitem__(self, name: str) -> int:
        return self.by_node[name]

    def module_count(self, name: str) -> int:
        """What the tool attributes to the module ``name``: its count less the terms the tool
        counts in its total only (ptflops' patched functions)."""
        return self.by_node[name] - sum(size for term, size in self.node_terms[name].items()
                                        if not self.convention.term(term).attributed)

    def to_dict(self) -> dict:
        return {"convention": self.convention.name, "tool": self.convention.tool, "version": self.convention.version,
                "summary": self.convention.summary, "spec": self.spec, "input": list(self.input),
                "total": self.total, "macs": self.macs, "terms": dict(self.terms), "training": self.training}


# ----------------------------------------------------------------------------- the conventions

_X2 = Term("x2", "one more FLOP per MAC (the add of each multiply-accumulate)")
_BIAS = Term("bias", "one add per output element of a conv or linear layer with a bias")

CONVENTIONS: dict[str, Convention] = {c.name: c for c in (
    Convention("macs", "inception_calc", "", "multiply-accumulates of conv and linear weights (the paper's ops, "
               "torchvision's GFLOPS); nothing else"),
    Convention("flops", "inception_calc", "", "2 x MACs (a multiply and an add); nothing else", (_X2,)),
    Convention("fvcore", "fvcore", "0.1.5", "FlopCountAnalysis.total(): conv/linear MACs, batch norm 2 per element "
               "(eval), adaptive average pooling 1 per input element; max/avg pooling, ReLU, LRN, softmax 0", (
                   Term("bn", "2 per batch-norm output element (fvcore/nn/jit_handles.py batchnorm_flop_jit, eval)"),
                   Term("adaptive avg pool", "1 per input element (jit_handles.py elementwise_flop_counter(1, 0))"),
               )),
    Convention("flopcounter", "FlopCounterMode", "torch 2", "FlopCounterMode: 2 x conv/linear MACs "
               "(forward); biases, batch norm, pooling, ReLU, LRN 0", (_X2,)),
    Convention("ptflops", "ptflops", "0.7.5", "get_model_complexity_info, pytorch backend (the default): MACs, "
               "biases, batch norm 2 per element, ReLU and pooling 1 per element per call, and the functions it "
               "patches counted again in the total (a pooling or ReLU module counts twice)", (
                   _BIAS,
                   Term("bn", "2 per batch-norm input element (pytorch_ops.py bn_flops_counter_hook)"),
                   Term("relu module", "1 per element of an nn.ReLU (relu_flops_counter_hook)"),
                   Term("pool module", "1 per input element of a pooling module (pool_flops_counter_hook)"),
                   Term("F.relu", "1 per element of each F.relu call (_numel_functional_flops_hook), a conv "
                        "block's and an nn.ReLU's own", attributed=False),
                   Term("F.pool", "1 per input element of the F.max_pool2d / F.avg_pool2d / F.adaptive_avg_pool2d "
                        "each pooling module calls: pooling counted twice", attributed=False),
                   Term("F.softmax", "1 per input element of F.softmax", attributed=False),
                   Term("lrn", "the patched tensor ops of F.local_response_norm: 3 C H W + (C + size - 1) H W",
                        attributed=False),
               )),
    Convention("ptflops-aten", "ptflops", "0.7.5", "get_model_complexity_info(backend='aten'): aten.convolution, "
               "mm, addmm, bmm only: MACs and biases", (_BIAS,)),
    Convention("thop", "thop", "0.1.1.post2209072238", "profile: conv/linear MACs (no bias), batch norm 4 per "
               "element, average pooling 1 per output element, adaptive average pooling (kernel + 1) per output "
               "element, softmax 3n - 1 per row; ReLU, max pooling, LRN, dropout 0", (
                   Term("bn", "4 per batch-norm input element (vision/basic_hooks.py count_normalization)"),
                   Term("avg pool", "1 per output element (count_avgpool)"),
                   Term("adaptive avg pool", "(H/Hout * W/Wout + 1) per output element (count_adap_avgpool)"),
                   Term("softmax", "(3n - 1) per row of n features (count_softmax)"),
               )),
    Convention("torchinfo", "torchinfo", "1.8.0", "summary().total_mult_adds: each leaf module's parameters "
               "times its output positions (a conv's weights and bias times N Hout Wout, others' times N): MACs, "
               "conv bias per output element, linear bias, batch-norm parameters", (
                   _BIAS,
                   Term("bn", "2 per channel: the affine parameters, times N (layer_info.py calculate_macs)"),
               )),
)}
"""Every convention by name, in the order tables show them."""


def convention(name: str) -> Convention:
    """The convention called ``name``, or a CalcError listing the known ones."""
    try:
        return CONVENTIONS[name]
    except (KeyError, TypeError):
        raise CalcError(f"unknown convention {name!r}", where="convention",
                        fix="choose one of " + ", ".join(CONVENTIONS)) from None


# ----------------------------------------------------------------------------- each layer's terms
# A rule sees one primitive layer, its input and output shapes ([C, H, W], per image), and returns
# the terms it adds under the convention; MACs are the analysis's own.

Rule = Callable[[Layer, Shape, Shape, int], dict[str, int]]


def _elements(shape: Shape) -> int:
    return f.elements(*shape)


def _none(layer: Layer, in_shape: Shape, out_shape: Shape, macs: int) -> dict[str, int]:
    return {}


def _fvcore(layer: Layer, in_shape: Shape, out_shape: Shape, macs: int) -> dict[str, int]:
    """fvcore's handles beyond conv/linear, by the elements each kind says fvcore counts
    (:meth:`LayerKind.fvcore_elements`, the same the reconciler uses)."""
    handles = KINDS.of(layer).fvcore_elements(layer, in_shape, out_shape)
    terms = {}
    if handles.get("batch_norm"):
        terms["bn"] = f.fvcore_batch_norm_flops(handles["batch_norm"])
    if handles.get("adaptive_avg_pool2d"):
        terms["adaptive avg pool"] = f.fvcore_adaptive_avg_pool_flops(handles["adaptive_avg_pool2d"])
    return terms


def _ptflops(layer: Layer, in_shape: Shape, out_shape: Shape, macs: int) -> dict[str, int]:
    out = _elements(out_shape)
    if isinstance(layer, Conv):
        terms = {"bias": f.bias_adds(out)} if layer.bias else {}
        if layer.bn:
            terms["bn"] = f.ptflops_batch_norm_flops(out)
        if layer.relu:
            terms["F.relu"] = f.ptflops_elements_flops(out)
        return terms
    if isinstance(layer, Linear):
        terms = {"bias": f.bias_adds(out)} if layer.bias else {}
        if layer.relu:
            terms["F.relu"] = f.ptflops_elements_flops(out)
        return terms
    if isinstance(layer, BatchNorm):
        return {"bn": f.ptflops_batch_norm_flops(_elements(in_shape))}
    if isinstance(layer, ReLU):
        return {"relu module": f.ptflops_elements_flops(out), "F.relu": f.ptflops_elements_flops(out)}
    if isinstance(layer, Pool):
        n = _elements(in_shape)
        return {"pool module": f.ptflops_elements_flops(n), "F.pool": f.ptflops_elements_flops(n)}
    if isinstance(layer, Softmax):
        return {"F.softmax": f.ptflops_elements_flops(_elements(in_shape))}
    if isinstance(layer, LRN):
        return {"lrn": f.ptflops_lrn_flops(*in_shape, layer.size)}
    return {}


def _ptflops_aten(layer: Layer, in_shape: Shape, out_shape: Shape, macs: int) -> dict[str, int]:
    if isinstance(layer, (Conv, Linear)) and layer.bias:
        return {"bias": f.bias_adds(_elements(out_shape))}
    return {}


def _thop(layer: Layer, in_shape: Shape, out_shape: Shape, macs: int) -> dict[str, int]:
    if isinstance(layer, Conv) and layer.bn:
        return {"bn": f.thop_batch_norm_flops(_elements(out_shape))}
    if isinstance(layer, BatchNorm):
        return {"bn": f.thop_batch_norm_flops(_elements(in_shape))}
    if isinstance(layer, Pool) and layer.op == "avg":
        if layer.output:
            return {"adaptive avg pool": f.thop_adaptive_avg_pool_flops(in_shape[1:], out_shape[1:],
                                                                        _elements(out_shape))}
        return {"avg pool": f.thop_avg_pool_flops(_elements(out_shape))}
    if isinstance(layer, Softmax):
        return {"softmax": f.thop_softmax_flops(in_shape[0], _elements(in_shape))}
    return {}


def _torchinfo(layer: Layer, in_shape: Shape, out_shape: Shape, macs: int) -> dict[str, int]:
    if isinstance(layer, (Conv, Linear)):
        terms = {"bias": f.bias_adds(_elements(out_shape))} if layer.bias else {}
        if isinstance(layer, Conv) and layer.bn:
            terms["bn"] = f.batch_norm_params(layer.out)
        return terms
    if isinstance(layer, BatchNorm):
        return {"bn": f.batch_norm_params(in_shape[0])}
    return {}


def _x2(layer: Layer, in_shape: Shape, out_shape: Shape, macs: int) -> dict[str, int]:
    """2 x MACs: the second FLOP of each multiply-accumulate (formulas.flop_counter_mode_flops)."""
    return {"x2": f.flop_counter_mode_flops(macs) - macs} if macs else {}


_RULES: dict[str, Rule] = {
    "macs": _none,
    "flops": _x2,
    "fvcore": _fvcore,
    "flopcounter": _x2,
    "ptflops": _ptflops,
    "ptflops-aten": _ptflops_aten,
    "thop": _thop,
    "torchinfo": _torchinfo,
}
"""Each convention's rule for one layer."""

_CHECKED = frozenset(("conv", "pool", "lrn", "bn", "relu", "dropout", "linear", "softmax"))
COVERED: dict[str, frozenset[str] | None] = {name: None if name in ("macs", "flops") else _CHECKED for name in _RULES}
"""The layer kinds each counter's rule was written for and checked against the live tool
(tests/test_conventions.py); a layer of another kind is refused by :func:`count`, never counted 0
by default (a kind added later gets its rules, and its tests, here). ``macs`` and ``flops`` count
any layer (its MACs are the engine's)."""


def _combine_relu(name: str, out_shape: Shape) -> dict[str, int]:
    """A row's or block's ReLU after its concatenation or sum: one ``F.relu`` call (ptflops only)."""
    return {"F.relu": f.ptflops_elements_flops(_elements(out_shape))} if name == "ptflops" else {}


# ----------------------------------------------------------------------------- counting


def count(analysis: "Analysis", name: str) -> Counted:
    """``analysis`` counted under the convention ``name``: every node's count and terms, and the
    totals (main rows; with the auxiliary heads in ``training``).

    A CalcError names an unknown convention (listing the known) or a layer the convention cannot
    express (naming the layer and why)."""
    conv = convention(name)
    rule, covered = _RULES[conv.name], COVERED[conv.name]
    network = analysis.network
    layers = {n: layer for row in network.rows for n, layer in row.named_layers()}
    relu_after = {row.name: row.relu for row in network.rows}
    relu_after.update({n: block.relu for row in network.rows for n, block in row.named_blocks()})
    node_terms: dict[str, dict[str, int]] = {}
    by_node: dict[str, int] = {}
    order = [t.name for t in conv.terms]

    def visit(node: "Cost") -> dict[str, int]:
        layer = layers.get(node.name)
        if layer is not None and not node.children:
            kind = KINDS.of(layer).name
            if covered is not None and kind not in covered:
                raise CalcError(f"cannot count layer '{node.name}' ({layer.summary}): its rules are written for "
                                f"{', '.join(sorted(covered))} layers, and {conv.tool}'s count of a {kind} layer "
                                "is not reproduced", where=f"convention {conv.name}",
                                fix="choose another convention (macs and flops count every layer)")
            terms = rule(layer, node.in_shape, node.out_shape, node.macs)
        else:
            terms = {}
            for child in node.children:
                for term, size in visit(child).items():
                    terms[term] = terms.get(term, 0) + size
            if relu_after.get(node.name):
                for term, size in _combine_relu(conv.name, node.out_shape).items():
                    terms[term] = terms.get(term, 0) + size
        terms = {t: terms[t] for t in order if terms.get(t)}
        node_terms[node.name] = terms
        by_node[node.name] = node.macs + sum(terms.values())
        return terms

    totals = dict.fromkeys(order, 0)
    macs = training = 0
    for row in analysis.rows:
        terms = visit(row)
        training += by_node[row.name]
        if not row.aux:
            macs += row.macs
            for term, size in terms.items():
                totals[term] += size
    total = macs + sum(totals.values())
    return Counted(conv, analysis.spec, analysis.input, total, training, macs,
                   totals, by_node, node_terms)




def count_all(analysis: "Analysis", names: "tuple[str, ...] | list[str] | None" = None) -> list[Counted]:
    """``analysis`` counted under each convention of ``names`` (default: every one, in order)."""
    return [count(analysis, name) for name in (names or CONVENTIONS)]


__all__ = ["CONVENTIONS", "COVERED", "Convention", "Counted", "Term", "convention", "count", "count_all"]
