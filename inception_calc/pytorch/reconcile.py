"""Reconcile an analysis with the counts of a real network: a join by name, and a verdict per quantity.

Pure: sees an :class:`~inception_calc.core.results.Analysis` and a
:class:`~inception_calc.pytorch.counters.ModuleCounts` (plain numbers and shapes), imports no torch.

Every row (and, at ``--depth branch``, every Inception branch) is joined with the module of the
same name, and each quantity gets a verdict:

* ``exact``: the counter gives the analytic number;
* ``explained``: it gives the analytic number plus named convention terms, each with its size
  (fvcore's batch norm per element, its adaptive average pool per input element, FlopCounterMode's
  2 FLOPs per MAC, a linear layer's [N, out] output for the analysis's [out, 1, 1], a pool run as a
  function call rather than a module);
* ``MISMATCH``: neither; the difference is given.

Quantities: ``shape`` (output shape, forward hooks), ``params`` (numel), ``macs`` (fvcore's conv and
linear count), ``fvcore`` (fvcore's total), ``flop_counter`` (FlopCounterMode's total) and
``layers`` (each spec layer against the module of the same name: kernel, stride, padding, bias,
batch norm, rounding...). Layers that differ are also listed as :class:`Difference` s, grouped by
what differs, with the weights, params and MACs they change.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Any

from inception_calc.core import formulas as f
from inception_calc.pytorch.counters import ModuleCounts, Unit
from inception_calc.core.engine import named_layers
from inception_calc.core.results import Analysis, Cost
from inception_calc.core.kinds import KINDS, Layer

EXACT, EXPLAINED, MISMATCH = "exact", "explained", "MISMATCH"
VERDICTS = (EXACT, EXPLAINED, MISMATCH)
QUANTITIES = ("shape", "params", "macs", "fvcore", "flop_counter", "layers")
QUANTITY_TITLES = {
    "present": "module of that name",
    "shape": "output shape (forward hooks)",
    "params": "params = numel",
    "macs": "MACs = fvcore conv + linear",
    "fvcore": "fvcore total",
    "flop_counter": "FlopCounterMode total",
    "layers": "layers (kernel, stride, pad, bias, bn, rounding...)",
}


@dataclass(frozen=True)
class Term:
    """A convention term: what one counter adds or changes, its size, and the formula that gives it."""

    name: str
    size: int | None
    formula: str
    short: str = ""  # how a table's "why" column names it; the name with the size when empty

    @property
    def label(self) -> str:
        return self.short or (f"{self.name} {self.size:+,}" if self.size else self.name)


@dataclass(frozen=True)
class Quantity:
    """One quantity of one row: the analytic value, the counted one, and the verdict."""

    name: str
    analytic: Any
    counted: Any
    verdict: str
    terms: tuple[Term, ...] = ()
    note: str = ""

    @property
    def difference(self) -> int | None:
        """counted - (analytic + terms), for counts; None for shapes and structure."""
        if isinstance(self.analytic, int) and isinstance(self.counted, int):
            return self.counted - self.analytic - sum(t.size or 0 for t in self.terms)
        return None


@dataclass(frozen=True)
class RowCheck:
    """A row (``level`` layer), an Inception branch (``branch``) or the whole network (``total``)."""

    name: str
    level: str
    module: str | None
    quantities: tuple[Quantity, ...]
    aux: bool = False
    unsupported: tuple[tuple[str, int], ...] = ()
    note: str = ""  # how the row was checked when it is not one module (a branch with module = false)

    @property
    def verdict(self) -> str:
        return max((q.verdict for q in self.quantities), key=VERDICTS.index, default=EXACT)

    def __getitem__(self, name: str) -> Quantity:
        for q in self.quantities:
            if q.name == name:
                return q
        raise KeyError(name)


@dataclass(frozen=True)
class Difference:
    """A layer that differs between the spec and the real network, or exists on one side only.

    ``kind``: ``differs`` (both have it: ``fields`` says what differs, as (field, spec, real)),
    ``only in spec``, ``only in real``, or ``functional`` (the real network runs the layer as a
    function call, with no module: not a difference in cost, listed for the record).
    """

    row: str
    kind: str
    spec_name: str | None
    real_name: str | None
    spec_summary: str
    real_summary: str
    fields: tuple[tuple[str, str, str], ...] = ()
    spec_weights: int = 0
    real_weights: int = 0
    spec_params: int = 0
    real_params: int = 0
    spec_macs: int = 0
    real_macs: int = 0
    note: str = ""

    @property
    def name(self) -> str:
        return self.spec_name or self.real_name or self.row


@dataclass(frozen=True)
class Reconciliation:
    spec: str
    against: str
    input: tuple[int, int, int]
    depth: str
    rows: tuple[RowCheck, ...]
    differences: tuple[Difference, ...]
    unsupported: tuple[tuple[str, int, tuple[str, ...]], ...]
    versions: tuple[tuple[str, str], ...] = ()
    counters: tuple[Any, ...] = ()
    """``check --counters``: each tool's :class:`~inception_calc.pytorch.counter_check.CounterCheck`."""

    @property
    def ok(self) -> bool:
        """Every row exact or explained, and every counter exact: the check's exit status 0."""
        return all(r.verdict != MISMATCH for r in self.rows) and all(c.ok for c in self.counters)

    def __getitem__(self, name: str) -> RowCheck:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(name)


# ----------------------------------------------------------------------------- layer signatures



def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, (*shape[1:], shape[0]) if len(shape) == 3 else shape)) or "-"


def signature(layer: Layer | None) -> dict[str, str]:
    """What a layer is, field by field, in words (its kind's :meth:`LayerKind.signature`): two layers
    are the same layer when these agree. ReLU is not part of it (a function call in both networks,
    visible to no counter); nor is a conv's batch-norm eps when it has no batch norm.
    """
    if layer is None:
        return {"layer": "unknown module"}
    return KINDS.of(layer).signature(layer)


def layer_differences(spec: Layer | None, real: Layer | None) -> tuple[tuple[str, str, str], ...]:
    """(field, spec value, real value) for every field of :func:`signature` that differs."""
    a, b = signature(spec), signature(real)
    if a["layer"] != b["layer"]:
        return (("layer", spec.summary if spec else a["layer"], real.summary if real else b["layer"]),)
    return tuple((k, a.get(k, "-"), b.get(k, "-")) for k in dict.fromkeys([*a, *b]) if a.get(k) != b.get(k))


def family(layer: Layer | None) -> str:
    """conv, pool, lrn, dropout, linear, softmax: layers of one family can stand for each other."""
    return "unknown" if layer is None else KINDS.of(layer).family


def pool_operator(layer: Layer) -> str | None:
    """The aten operator a layer runs as a function call (``max_pool2d``...), None for most kinds."""
    return KINDS.of(layer).operator(layer)


def call_operator(layer: Layer, own: dict[str, int]) -> str | None:
    """The op among ``own`` (a module's own ops) that runs ``layer`` as a function call: its kind's
    operator, or ``mean`` for a global average pool written ``x.mean((2, 3))`` (mnasnet's forward)."""
    op = pool_operator(layer)
    if op in own:
        return op
    if op == "adaptive_avg_pool2d" and getattr(layer, "output", None) == (1, 1) and "mean" in own:
        return "mean"
    return None


# ----------------------------------------------------------------------------- quantities


def _verdict(counted: int, analytic: int, terms: tuple[Term, ...]) -> str:
    if counted != analytic + sum(t.size or 0 for t in terms):
        return MISMATCH
    return EXPLAINED if any(t.size for t in terms) else EXACT


NOT_COMPARED = ("branch", "relu")
"""Leaves of the cost tree that are no layer to compare: an identity branch (no layers) and ReLU
layers (a function call in torchvision, a module in timm; neither changes a count)."""


def _leaves(node: Cost) -> list[Cost]:
    """The primitive layers below ``node`` that are compared with the real network's layers."""
    return [n for n in node.walk("conv") if not n.children and n.kind not in NOT_COMPARED]


FVCORE_TERMS = {
    "batch_norm": ("fvcore batch_norm", f.fvcore_batch_norm_flops,
                   "2 x {n:,} batch-norm output elements (eval mode, affine)"),
    "adaptive_avg_pool2d": ("fvcore adaptive_avg_pool2d", f.fvcore_adaptive_avg_pool_flops, "1 x {n:,} input elements"),
}
"""fvcore's handles beyond conv/linear MACs: the term's name, its formula, and how it is derived."""


def fvcore_terms(leaves: list[Cost], layers: dict[str, Layer], by_mean: frozenset[str] = frozenset()
                 ) -> tuple[Term, ...]:
    """What fvcore counts beyond the conv/linear MACs of these layers, from the analysis alone: each
    kind says which elements fvcore counts for it (:meth:`LayerKind.fvcore_elements`): batch norm
    (eval mode, affine) 2 per output element; adaptive average pooling 1 per input element, but
    nothing for the global average pools of ``by_mean``, which the real network computes as
    ``x.mean((2, 3))`` (aten::mean: fvcore has no handle for it)."""
    elements = dict.fromkeys(FVCORE_TERMS, 0)
    for leaf in leaves:
        layer = layers.get(leaf.name)
        if layer is not None and leaf.name not in by_mean:
            for handle, n in KINDS.of(layer).fvcore_elements(layer, leaf.in_shape, leaf.out_shape).items():
                elements[handle] += n
    return tuple(Term(name, formula(elements[handle]), text.format(n=elements[handle]))
                 for handle, (name, formula, text) in FVCORE_TERMS.items() if elements[handle])


def _shape_quantity(node: Cost, counted: tuple[int, ...] | None) -> Quantity:
    analytic = tuple(node.out_shape)
    if counted == analytic:
        return Quantity("shape", analytic, counted, EXACT)
    if counted == (analytic[0],) and analytic[1:] == (1, 1):
        return Quantity("shape", analytic, counted, EXPLAINED, (Term(
            "flattened output", None, f"torch gives [N, {analytic[0]}] where the analysis writes "
            f"[{analytic[0]}, 1, 1] (Table 1's 1x1x{analytic[0]}): the same {analytic[0]:,} elements"),))
    if counted is not None and len(counted) == 1 and len(analytic) == 3 and counted[0] == _elements(analytic):
        # a layer between a flatten and a linear layer (alexnet's classifier.0, a dropout on [N, 9216]):
        # the spec format has no flatten (a linear layer flattens its input), so the map keeps its shape
        return Quantity("shape", analytic, counted, EXPLAINED, (Term(
            "flattened output", None, f"torch gives [N, {counted[0]:,}] (flattened before a linear layer) where "
            f"the analysis writes [{', '.join(map(str, analytic))}]: the same {counted[0]:,} elements"),))
    return Quantity("shape", analytic, counted, MISMATCH,
                    note=f"analytic {_shape(analytic)}, counted {_shape(counted) if counted else 'none (not called)'}")


def _count_quantity(name: str, analytic: int, counted: int, terms: tuple[Term, ...] = ()) -> Quantity:
    verdict = _verdict(counted, analytic, terms)
    q = Quantity(name, analytic, counted, verdict, terms)
    if verdict == MISMATCH:
        return Quantity(name, analytic, counted, verdict, terms, f"counted - expected = {q.difference:+,}")
    return q


def _layers_quantity(node: Cost, diffs: list[Difference], n_real: int) -> Quantity:
    n_spec = len(_leaves(node))
    real = [d for d in diffs if d.kind != "functional"]
    functional = [d for d in diffs if d.kind == "functional"]
    if real:
        what = (f"{real[0].name}: " + (", ".join(f"{k} {a} -> {b}" for k, a, b in real[0].fields) or real[0].kind)
                if len(real) == 1 else f"{len(real)} layers differ")
        return Quantity("layers", n_spec, n_real, MISMATCH, note=what)
    terms = tuple(Term("function call", None, d.note, f"{d.spec_name} a function call") for d in functional)
    return Quantity("layers", n_spec, n_real, EXPLAINED if terms else EXACT, terms)


# ----------------------------------------------------------------------------- structure


def _owner(name: str, counts: ModuleCounts) -> str:
    """The deepest real module whose name is a prefix of ``name`` ("" for the whole network)."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        if ".".join(parts[:i]) in counts.children:
            return ".".join(parts[:i])
    return ""


def _row_differences(row: Cost, layers: dict[str, Layer], counts: ModuleCounts,
                     units: list[Unit]) -> list[Difference]:
    """Pair the row's spec layers with the real layers under the module of the same name: by name
    (a branch's sole layer also by the branch's name, as torchvision's ``branch1``), then the rest
    in order within each family; what is left is on one side only."""
    leaves = _leaves(row)
    alias = {}
    for node in row.walk("conv"):
        if node.level == "branch" and len(node.children) == 1:
            alias[node.children[0].name] = node.name
    by_name = {u.name: u for u in units}
    pairs: list[tuple[Cost, Unit]] = []
    used: set[str] = set()
    rest = []
    for leaf in leaves:
        unit = by_name.get(leaf.name) or by_name.get(alias.get(leaf.name, ""))
        if unit and unit.name not in used:
            pairs.append((leaf, unit))
            used.add(unit.name)
        else:
            rest.append(leaf)
    free = [u for u in units if u.name not in used]
    unmatched = []
    j = 0
    for leaf in rest:
        kind = family(layers[leaf.name])
        k = next((k for k in range(j, len(free)) if family(free[k].layer) == kind), None)
        if k is None:
            unmatched.append(leaf)
            continue
        pairs.append((leaf, free[k]))
        used.add(free[k].name)
        j = k + 1
    diffs = []
    for leaf, unit in sorted(pairs, key=lambda p: leaves.index(p[0])):
        layer = layers[leaf.name]
        fields = layer_differences(layer, unit.layer)
        if _elements(leaf.in_shape) != _elements(unit.in_shape) or (
                len(unit.in_shape) == 3 and tuple(leaf.in_shape) != unit.in_shape):
            fields += (("input", _shape(leaf.in_shape), _shape(unit.in_shape)),)
        if fields:
            diffs.append(Difference(row.name, "differs", leaf.name, unit.name, layer.summary, unit.summary, fields,
                                    leaf.weights, unit.weights, leaf.params, unit.params, leaf.macs,
                                    counts.fvcore_macs(unit.name)))
    for leaf in unmatched:
        diffs.append(_unmatched_spec_layer(row.name, leaf, layers[leaf.name], counts))
    position = {leaf.name: i for i, leaf in enumerate(leaves)}
    diffs.sort(key=lambda d: position[d.spec_name])
    for unit in units:
        if unit.name not in used:
            diffs.append(Difference(row.name, "only in real", None, unit.name, "", unit.summary, (), 0, unit.weights,
                                    0, unit.params, 0, counts.fvcore_macs(unit.name)))
    return diffs


def _elements(shape: tuple[int, ...]) -> int:
    return prod(shape) if shape else 0


def _unmatched_spec_layer(row: str, leaf: Cost, layer: Layer, counts: ModuleCounts) -> Difference:
    """A spec layer with no module: a pool the real network runs as a function call (the op shows
    among its owner's own ops), or a layer it does not have."""
    owner = _owner(leaf.name, counts) if row in counts.children else None
    own = counts.own_ops(owner) if owner is not None else {}
    args = (leaf.weights, 0, leaf.params, 0, leaf.macs, 0)
    op = call_operator(layer, own) if leaf.params == 0 else None
    if op is not None:
        note = f"{leaf.name} ({layer.summary}) has no module: '{owner or 'the network'}' calls {op} itself"
        return Difference(row, "functional", leaf.name, None, layer.summary, f"function {op}", (), *args, note=note)
    note = f"'{owner}' itself calls {', '.join(sorted(own))}" if own else ""
    return Difference(row, "only in spec", leaf.name, None, layer.summary, "", (), *args, note=note)


# ----------------------------------------------------------------------------- the join


def _node_check(node: Cost, module: str, counts: ModuleCounts, layers: dict[str, Layer], diffs: list[Difference],
                level: str, by_mean: frozenset[str] = frozenset()) -> RowCheck:
    if module not in counts.children:
        return _moduleless_check(node, counts, layers, diffs, level, by_mean)
    n_real = sum(1 for u in counts.units if u.name == module or u.name.startswith(module + "."))
    quantities = (
        _shape_quantity(node, counts.out_shapes.get(module)),
        _count_quantity("params", node.params, counts.numel.get(module, 0)),
        _count_quantity("macs", node.macs, counts.fvcore_macs(module)),
        _count_quantity("fvcore", node.macs, counts.fvcore_total(module), fvcore_terms(_leaves(node), layers, by_mean)),
        _count_quantity("flop_counter", node.macs, counts.flop_counter_total(module), _factor_two(node.macs)),
        _layers_quantity(node, diffs, n_real),
    )
    unsupported = tuple(sorted(counts.fvcore_unsupported.get(module, {}).items()))
    return RowCheck(node.name, level, module, quantities, node.aux, unsupported)


def _members(node: Cost, counts: ModuleCounts) -> list[Cost]:
    """The outermost nodes below ``node`` that are modules of the real network, in order."""
    found: list[Cost] = []

    def visit(n: Cost) -> None:
        for child in n.children:
            if child.name in counts.children:
                found.append(child)
            else:
                visit(child)

    visit(node)
    return found


def _moduleless_check(node: Cost, counts: ModuleCounts, layers: dict[str, Layer], diffs: list[Difference],
                      level: str, by_mean: frozenset[str] = frozenset()) -> RowCheck:
    """A branch or block with no module of its own (``module = false``: torchvision's
    ``Mixed_5b.branch5x5_1`` and ``_2`` are one branch, but no module holds the two): checked from
    the sum of its nodes' modules, and its output shape from its last node's module. Layers with no
    module there (a function call) count 0 on the real side, as they do in the module that calls them."""
    members = _members(node, counts)
    names = [m.name for m in members]
    last = node.children[-1] if node.children else None
    leaves = [leaf for m in members for leaf in _leaves(m)]
    n_real = sum(1 for u in counts.units if any(u.name == n or u.name.startswith(n + ".") for n in names))
    if last is not None and last.name in counts.children:
        shape = _shape_quantity(node, counts.out_shapes.get(last.name))
    else:
        shape = Quantity("shape", tuple(node.out_shape), None, EXACT,
                         note="not checked: its last node has no module")
    quantities = (
        shape,
        _count_quantity("params", node.params, sum(counts.numel.get(n, 0) for n in names)),
        _count_quantity("macs", node.macs, sum(counts.fvcore_macs(n) for n in names)),
        _count_quantity("fvcore", node.macs, sum(counts.fvcore_total(n) for n in names),
                        fvcore_terms(leaves, layers, by_mean)),
        _count_quantity("flop_counter", node.macs, sum(counts.flop_counter_total(n) for n in names),
                        _factor_two(node.macs)),
        _layers_quantity(node, diffs, n_real),
    )
    shown = ", ".join(n.rsplit(".", 1)[-1] for n in names) or "none"
    return RowCheck(node.name, level, None, quantities, node.aux, (),
                    note=f"no module of its own: the sum of its modules ({shown})")


def _operators(node: Cost, layers: dict[str, Layer], own: dict[str, int]) -> set[str]:
    return {call_operator(layers[leaf.name], own) for leaf in _leaves(node)} - {None}


def _is_function_call(row: Cost, layers: dict[str, Layer], counts: ModuleCounts, own: dict[str, int]) -> bool:
    """A row that is no module of the real network but a function call of its own forward
    (mobilenet_v2's ``F.adaptive_avg_pool2d``, mnasnet's ``x.mean([2, 3])``): every layer free of
    parameters and MACs, each an operator the network runs itself, not through a child module
    (fvcore's trace)."""
    leaves = _leaves(row)
    return bool(leaves) and row.params == 0 and row.macs == 0 and all(
        call_operator(layers[leaf.name], own) is not None for leaf in leaves)


def _run_by_mean(analysis: Analysis, layers: dict[str, Layer], counts: ModuleCounts) -> frozenset[str]:
    """The global average pools with no module that the real network computes as ``x.mean((2, 3))``
    (aten::mean, which fvcore does not count), not as an adaptive average pool."""
    found = set()
    for row in analysis.rows:
        for leaf in _leaves(row):
            if leaf.name not in counts.children and pool_operator(layers[leaf.name]) == "adaptive_avg_pool2d" and \
                    call_operator(layers[leaf.name], counts.own_ops(_owner(leaf.name, counts))) == "mean":
                found.add(leaf.name)
    return frozenset(found)


def _own_fvcore(counts: ModuleCounts, op: str) -> int:
    """fvcore's count of ``op`` in the network's own forward (the whole network less its children)."""
    total = counts.fvcore.get("", {}).get(op, 0)
    return total - sum(counts.fvcore.get(child, {}).get(op, 0) for child in counts.children.get("", ()))


def _own_flop_counter(counts: ModuleCounts) -> int:
    """FlopCounterMode's count in the network's own forward, outside every child module."""
    return counts.flop_counter_total("") - sum(counts.flop_counter_total(c) for c in counts.children.get("", ()))


def _function_row(row: Cost, layers: dict[str, Layer], counts: ModuleCounts, own: dict[str, int],
                  shared: dict[str, list[str]], by_mean: frozenset[str]) -> tuple[RowCheck, list[Difference]]:
    """A row the network's own forward runs as a function call: no module to join, so params and
    MACs are 0 on both sides, fvcore's count is its count of that operator in the network's own
    forward (shared out among the rows that call the same operator, each its analytic share), and
    the layers are 'functional' differences (no difference in cost)."""
    leaves = _leaves(row)
    ops = sorted(_operators(row, layers, own))
    terms = fvcore_terms(leaves, layers, by_mean)
    counted = 0
    notes = []
    for op in ops:
        callers = shared.get(op, [row.name])
        if len(callers) == 1:
            counted += _own_fvcore(counts, op)
        else:  # several rows call it: each is given its analytic share, the total joins the sum
            counted += sum(t.size or 0 for t in terms if t.name == FVCORE_TERMS.get(op, ("",))[0])
            notes.append(f"fvcore counts {op} once for {', '.join(callers)}; the total joins the sum")
    diffs = [Difference(row.name, "functional", leaf.name, None, layers[leaf.name].summary,
                        f"function {call_operator(layers[leaf.name], own)}", (), 0, 0, 0, 0, 0, 0,
                        note=f"{leaf.name} ({layers[leaf.name].summary}) has no module: the network's own forward "
                             f"calls {call_operator(layers[leaf.name], own)}") for leaf in leaves]
    quantities = (
        Quantity("shape", tuple(row.out_shape), None, EXACT, note="not checked: a function call has no module"),
        _count_quantity("params", row.params, 0),
        _count_quantity("macs", row.macs, 0),
        _count_quantity("fvcore", row.macs, counted, terms),
        _count_quantity("flop_counter", row.macs, _own_flop_counter(counts), _factor_two(row.macs)),
        _layers_quantity(row, diffs, 0),
    )
    note = f"no module: the network's own forward calls {', '.join(ops)}" + (f" ({'; '.join(notes)})" if notes else "")
    return RowCheck(row.name, "layer", None, quantities, row.aux, note=note), diffs


def _factor_two(macs: int) -> tuple[Term, ...]:
    extra = f.flop_counter_mode_flops(macs) - macs
    return (Term("FlopCounterMode factor 2", extra, f"2 x {macs:,} MACs", "FlopCounterMode x2"),) if extra else ()


def _absent_row(node: Cost, source: str) -> RowCheck:
    quantities = (
        Quantity("present", node.name, None, MISMATCH, note=f"no module '{node.name}' in {source}"),
        Quantity("params", node.params, None, MISMATCH),
        Quantity("macs", node.macs, None, MISMATCH),
    )
    return RowCheck(node.name, "layer", None, quantities, node.aux)


def _real_only_row(name: str, counts: ModuleCounts, source: str) -> RowCheck:
    summary = "; ".join(u.summary for u in counts.units if u.name == name or u.name.startswith(name + "."))
    quantities = (
        Quantity("present", None, name, MISMATCH, note=f"no row '{name}' in the spec; {source} has {summary}"),
        Quantity("params", None, counts.numel.get(name, 0), MISMATCH),
        Quantity("macs", None, counts.fvcore_macs(name), MISMATCH),
    )
    return RowCheck(name, "layer", name, quantities, False,
                    tuple(sorted(counts.fvcore_unsupported.get(name, {}).items())))


def real_rows(counts: ModuleCounts, spec_rows: set[str]) -> list[str]:
    """The real network's modules that stand for rows, in order: its children, a container that
    holds spec rows (timm's ``features``, Inception-ResNet's ``repeat``) expanded into the modules
    below it; parameter-free modules never called and modules that cost nothing (activations) are
    left out unless the spec has a row of that name."""
    rows: list[str] = []

    def visit(parent: str) -> None:
        for name in counts.children.get(parent, ()):
            if name in spec_rows:
                rows.append(name)
            elif any(r.startswith(name + ".") for r in spec_rows):
                visit(name)
            elif (name in counts.out_shapes or counts.numel.get(name)) and name not in counts.passive:
                rows.append(name)

    visit("")
    return rows


def _row_of(name: str, rows: set[str]) -> str | None:
    """The row (of ``rows``) a module belongs to: the longest of them that is ``name`` or a prefix of it."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        if ".".join(parts[:i]) in rows:
            return ".".join(parts[:i])
    return None


def reconcile(analysis: Analysis, counts: ModuleCounts, depth: str = "layer") -> Reconciliation:
    """Join every row (and at ``depth`` "branch" every branch) of ``analysis`` with the module of the
    same name in ``counts``; give each quantity its verdict; list the layers that differ."""
    layers = named_layers(analysis.network)
    source = counts.source
    spec_rows = {row.name for row in analysis.rows}
    rows_real = real_rows(counts, spec_rows)
    checks: list[RowCheck] = []
    differences: list[Difference] = []
    extra = _real_only_by_position(rows_real, spec_rows, counts)
    checks += [_real_only_row(n, counts, source) for n in extra.get(None, ())]
    own = counts.own_ops("")
    calls = [row for row in analysis.rows if row.name not in counts.children
             and _is_function_call(row, layers, counts, own)]
    shared = {op: [r.name for r in calls if _operators(r, layers, own) & {op}]
              for r in calls for op in _operators(r, layers, own)}
    by_mean = _run_by_mean(analysis, layers, counts)
    for row in analysis.rows:
        if row.name in counts.children:
            units = [u for u in counts.units if u.name == row.name or u.name.startswith(row.name + ".")]
            diffs = _row_differences(row, layers, counts, units)
            checks.append(_node_check(row, row.name, counts, layers, diffs, "layer", by_mean))
            if depth != "layer":
                for branch in (n for n in row.children if n.level == "branch"):
                    mine = [d for d in diffs if _under(d, branch.name)]
                    if branch.kind == "branch" and not branch.children and branch.name not in counts.children:
                        continue  # an identity branch: no layers, nothing to count
                    checks.append(_node_check(branch, branch.name, counts, layers, mine, "branch", by_mean))
        elif _is_function_call(row, layers, counts, own):
            check_, diffs = _function_row(row, layers, counts, own, shared, by_mean)
            checks.append(check_)
        else:
            checks.append(_absent_row(row, source))
            diffs = [Difference(row.name, "only in spec", leaf.name, None, layers[leaf.name].summary, "", (),
                                leaf.weights, 0, leaf.params, 0, leaf.macs, 0) for leaf in _leaves(row)]
        differences += diffs
        for name in extra.get(row.name, ()):
            checks.append(_real_only_row(name, counts, source))
            differences += [Difference(name, "only in real", None, u.name, "", u.summary, (), 0, u.weights, 0,
                                       u.params, 0, counts.fvcore_macs(u.name))
                            for u in counts.units if u.name == name or u.name.startswith(name + ".")]
    checks.append(_total_check(analysis, counts, layers, differences, by_mean))
    return Reconciliation(analysis.spec, source, analysis.input, depth, tuple(checks), tuple(differences),
                          _unsupported(counts, rows_real), tuple(sorted(counts.versions.items())))


def _under(d: Difference, prefix: str) -> bool:
    return any(n and (n == prefix or n.startswith(prefix + ".")) for n in (d.spec_name, d.real_name))


def _real_only_by_position(rows: list[str], spec_rows: set[str], counts: ModuleCounts) -> dict:
    """Rows only in the real network, each placed after the last shared row called before it."""
    known = set(rows) | spec_rows
    order = list(dict.fromkeys(r for r in (_row_of(u.name, known) for u in counts.units) if r))
    order += [r for r in rows if r not in order]
    placed: dict[str | None, list[str]] = {}
    last = None
    for name in order:
        if name in spec_rows:
            last = name
        elif name in rows:
            placed.setdefault(last, []).append(name)
    return placed


def _total_check(analysis: Analysis, counts: ModuleCounts, layers: dict[str, Layer],
                 differences: list[Difference], by_mean: frozenset[str] = frozenset()) -> RowCheck:
    """The whole network: the analysis's training totals (main rows and auxiliary heads, all of
    which the counted forward runs) against the counters' totals."""
    sums = analysis.totals.training
    terms = fvcore_terms([leaf for row in analysis.rows for leaf in _leaves(row)], layers, by_mean)
    n_real = len(counts.units)
    n_spec = sum(len(_leaves(r)) for r in analysis.rows)
    real = [d for d in differences if d.kind != "functional"]
    layers_q = (Quantity("layers", n_spec, n_real, MISMATCH, note=f"{len(real)} layers differ") if real else
                Quantity("layers", n_spec, n_real, EXACT))
    quantities = (
        _count_quantity("params", sums.params, counts.numel.get("", 0)),
        _count_quantity("macs", sums.macs, counts.fvcore_macs("")),
        _count_quantity("fvcore", sums.macs, counts.fvcore_total(""), terms),
        _count_quantity("flop_counter", sums.macs, counts.flop_counter_total(""), _factor_two(sums.macs)),
        layers_q,
    )
    return RowCheck("total", "total", "", quantities, False,
                    tuple(sorted(counts.fvcore_unsupported.get("", {}).items())))


def _unsupported(counts: ModuleCounts, real_rows: list[str]) -> tuple[tuple[str, int, tuple[str, ...]], ...]:
    """Each op fvcore has no handle for: how many calls, and in which rows (or the network itself)."""
    result = []
    for op, n in sorted(counts.fvcore_unsupported.get("", {}).items()):
        rows = tuple(r for r in real_rows if counts.fvcore_unsupported.get(r, {}).get(op))
        result.append((op, n, rows))
    return tuple(result)
