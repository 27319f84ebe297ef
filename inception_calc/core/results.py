"""Frozen results of an analysis: a tree of :class:`Cost` nodes (row, branch, layer) and totals.

Counting convention (docs/conventions.md): ``weights`` are conv and linear kernel elements;
``biases`` bias elements; ``bn`` batch-norm affine parameters (2 per channel); ``params`` =
weights + biases + bn, what ``numel`` over ``model.parameters()`` gives; ``macs`` multiply-accumulates
of conv and linear weights (the paper's "ops", torchvision's "GFLOPS", fvcore's conv/linear
"flops"); ``flops`` = 2 x macs; ``activations`` the node's output elements, per image.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

from inception_calc.core.receptive import receptive_fields as _receptive_fields
from inception_calc.core.rounding import rounding_notes

if TYPE_CHECKING:  # pragma: no cover
    import pandas

    from inception_calc.core.network import Network
    from inception_calc.core.receptive import ReceptiveField

Shape = tuple[int, int, int]

CONVENTION = (
    "per image; weights = conv/linear kernel elements; params = weights + biases + batch-norm affine; "
    "MACs = multiply-accumulates of conv and linear weights (the paper's ops, torchvision's GFLOPS, "
    "fvcore's conv/linear flops); FLOPs = 2 x MACs"
)
DEPTHS = ("layer", "branch", "conv")
QUANTITIES = ("weights", "biases", "bn", "params", "macs", "flops", "activations")


class _Derived:
    """The two quantities that follow from the counted ones, the same for a node and for a sum."""

    __slots__ = ()
    weights: int
    biases: int
    bn: int
    macs: int

    @property
    def params(self) -> int:
        """weights + biases + batch-norm affine: what numel over model.parameters() gives."""
        return self.weights + self.biases + self.bn

    @property
    def flops(self) -> int:
        """2 x MACs (a multiply and an add per multiply-accumulate)."""
        return 2 * self.macs


@dataclass(frozen=True)
class Cost(_Derived):
    """The cost of one node: a row, a branch of a row, or one primitive layer.

    The engine makes thousands of these a second through :func:`make_cost`, which fills the same
    fields 2.5x faster than the frozen ``__init__``, and :func:`make_cost_lazily`, whose
    ``children`` are made on first access; all three give equal objects.
    """

    name: str
    kind: str
    summary: str
    in_shape: Shape
    out_shape: Shape
    weights: int
    biases: int
    bn: int
    macs: int
    activations: int
    children: tuple["Cost", ...] = ()
    aux: bool = False
    level: str = "layer"  # "layer" (a row), "branch", or "conv" (a primitive layer)

    def __getattr__(self, name: str) -> Any:
        """Only reached for ``children`` of a node made by :func:`make_cost_lazily`, before the
        first access: the children are made then, once, and kept."""
        build = self.__dict__.pop("_children", None) if name == "children" else None
        if build is None:
            raise AttributeError(f"'Cost' object has no attribute {name!r}")
        children = self.__dict__["children"] = build()
        return children

    def walk(self, depth: str = "conv") -> Iterator["Cost"]:
        """This node, then its descendants down to ``depth``, in order."""
        yield self
        for child in self.children:
            if DEPTHS.index(child.level) <= DEPTHS.index(depth):
                yield from child.walk(depth)

    def to_dict(self, depth: str = "layer", fields: "Mapping[str, ReceptiveField] | None" = None) -> dict[str, Any]:
        """The JSON form: the contract's keys, ``receptive_field`` when ``fields`` (every node's, by
        name: :attr:`Analysis.receptive_fields`) are given, then the children at ``depth``
        (``branches`` of a concat row, ``layers`` of a branch or a sequence row)."""
        data: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "summary": self.summary,
            "in_shape": list(self.in_shape),
            "out_shape": list(self.out_shape),
            "weights": self.weights,
            "biases": self.biases,
            "bn": self.bn,
            "params": self.params,
            "macs": self.macs,
            "flops": self.flops,
            "activations": self.activations,
        }
        if fields is not None:
            data["receptive_field"] = fields[self.name].to_dict()
        if self.aux:
            data["aux"] = True
        shown = [c for c in self.children if DEPTHS.index(c.level) <= DEPTHS.index(depth)]
        if shown:
            key = "branches" if shown[0].level == "branch" else "layers"
            data[key] = [c.to_dict(depth, fields) for c in shown]
        return data


_new = object.__new__


def make_cost(name: str, kind: str, summary: str, in_shape: Shape, out_shape: Shape, weights: int, biases: int,
              bn: int, macs: int, activations: int, children: tuple[Cost, ...], aux: bool, level: str) -> Cost:
    """``Cost(...)`` with every field given, without the per-field ``object.__setattr__`` of a frozen
    dataclass's ``__init__`` (the engine's hot path; the result is just as frozen)."""
    cost = _new(Cost)
    cost.__dict__.update(name=name, kind=kind, summary=summary, in_shape=in_shape, out_shape=out_shape,
                         weights=weights, biases=biases, bn=bn, macs=macs, activations=activations,
                         children=children, aux=aux, level=level)
    return cost


del Cost.children  # the field's default () lives on in __init__; without the class attribute, an unset
#                   ``children`` reaches __getattr__ (a node of make_cost_lazily) instead of reading ()


def make_cost_lazily(name: str, kind: str, summary: str, in_shape: Shape, out_shape: Shape, weights: int,
                     biases: int, bn: int, macs: int, activations: int, children: Callable[[], tuple[Cost, ...]],
                     aux: bool, level: str) -> Cost:
    """:func:`make_cost`, with ``children`` a function that makes them when they are first read.

    A whole-network analysis has a hundred or more branch and layer nodes; a report at row depth,
    a total or a sweep reads none of them. The counts of every node are computed before this is
    called (errors surface at once); only the making of the child objects waits.
    """
    cost = _new(Cost)
    cost.__dict__.update(name=name, kind=kind, summary=summary, in_shape=in_shape, out_shape=out_shape,
                         weights=weights, biases=biases, bn=bn, macs=macs, activations=activations,
                         _children=children, aux=aux, level=level)
    return cost


@dataclass(frozen=True, slots=True)
class Sums(_Derived):
    """Whole-network sums over a set of rows."""

    weights: int
    biases: int
    bn: int
    macs: int
    activations: int

    @classmethod
    def of(cls, rows: list[Cost] | tuple[Cost, ...]) -> "Sums":
        weights = biases = bn = macs = activations = 0
        for r in rows:
            weights += r.weights
            biases += r.biases
            bn += r.bn
            macs += r.macs
            activations += r.activations
        return cls(weights=weights, biases=biases, bn=bn, macs=macs, activations=activations)

    def to_dict(self) -> dict[str, int]:
        return {q: getattr(self, q) for q in QUANTITIES}


@dataclass(frozen=True, slots=True)
class Totals:
    """``inference``: the main rows; ``training``: the main rows and the auxiliary heads."""

    inference: Sums
    training: Sums


@dataclass(frozen=True)
class Analysis:
    """Every row's cost at one input size, in the spec's order (auxiliary heads included,
    flagged ``aux``), and the totals."""

    spec: str
    input: Shape
    rows: tuple[Cost, ...]
    totals: Totals
    network: "Network" = field(repr=False, compare=False)
    left_out: tuple[str, ...] = ()
    """Auxiliary heads that do not fit at this input, each with why (they run only in training:
    the inference analysis stands without them, the training totals are without them)."""
    sized_weights: tuple[str, ...] = ()
    """The layers whose weights at this input differ from those at the spec's own input size (a
    linear layer whose in_features come from a flattened map that grows with the input), each
    with both counts (:func:`~inception_calc.core.engine.input_sized_weights`)."""

    @cached_property
    def warnings(self) -> tuple[str, ...]:
        """Auxiliary heads left out at this input, the layers whose weights follow the input size,
        then the pooling layers whose output size depends on their rounding rule at this input
        (:mod:`inception_calc.core.rounding`), in the order of the rows."""
        return self.left_out + self.sized_weights + rounding_notes(self.network, self.rows)

    @cached_property
    def receptive_fields(self) -> "Mapping[str, ReceptiveField]":
        """Every row's, branch's, nested block's and layer's receptive field by dotted name, read-only
        (:mod:`inception_calc.core.receptive`): computed on first use, never by the engine's walk, and
        kept on the network's plan, so that analyses repeated at one input share it."""
        return _receptive_fields(self)

    @cached_property
    def nodes(self) -> "dict[str, Cost]":
        """Every row, branch, nested block and layer by its dotted name, in the rows' order (the
        first of a name given twice): one walk, then each look-up is a dict's."""
        found: dict[str, Cost] = {}
        for row in self.rows:
            for node in row.walk("conv"):
                found.setdefault(node.name, node)
        return found

    def __getitem__(self, name: str) -> Cost:
        """A node by its dotted name: ``analysis["inception3a.branch2.1"]``."""
        return self.nodes[name]

    def names(self, depth: str = "conv") -> list[str]:
        return [node.name for row in self.rows for node in row.walk(depth)]

    def shown_rows(self, aux: bool) -> tuple[Cost, ...]:
        return self.rows if aux else tuple(r for r in self.rows if not r.aux)

    def to_dict(self, depth: str = "layer", aux: bool = False) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "input": list(self.input),
            "convention": CONVENTION,
            "rows": [r.to_dict(depth, self.receptive_fields) for r in self.shown_rows(aux)],
            "totals": {
                "inference": self.totals.inference.to_dict(),
                "training": self.totals.training.to_dict(),
            },
            "warnings": list(self.warnings),
        }

    def to_json(self, depth: str = "layer", aux: bool = False, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(depth, aux), indent=indent)

    def __repr__(self) -> str:
        """A short summary, not the whole tree: ``<Analysis googlenet at 3x224x224: 20 rows + 2 aux
        heads, 6,998,552 params, 1,582,671,872 MACs (inference)>``; :meth:`to_table` gives the table."""
        c, h, w = self.input
        t = self.totals.inference
        heads = sum(r.aux for r in self.rows)
        aux = f" + {heads} aux head{'s' if heads != 1 else ''}" if heads else ""
        return (f"<Analysis {self.spec} at {c}x{h}x{w}: {len(self.rows) - heads} rows{aux}, "
                f"{t.params:,} params, {t.macs:,} MACs (inference)>")

    def to_table(self, depth: str = "layer", aux: bool = False, rf: bool = False,
                 columns: "str | tuple[str, ...] | None" = None, units: str = "exact") -> str:
        """The report's text table (``inception-calc report``): ``columns`` a comma list or titles
        (``"name,params,macs%"``), ``units`` ``exact`` or ``auto``. The renderer is the report's own,
        imported here: the one import of the core from above it (docs/architecture.md says why)."""
        from inception_calc.report.analysis import render

        return render(self, "table", depth, aux, rf, _titles(columns), units)

    def to_markdown(self, depth: str = "layer", aux: bool = False, rf: bool = False,
                    columns: "str | tuple[str, ...] | None" = None, units: str = "exact") -> str:
        """The report's markdown table (``report --format markdown``); arguments as :meth:`to_table`."""
        from inception_calc.report.analysis import render

        return render(self, "markdown", depth, aux, rf, _titles(columns), units)

    def to_dataframe(self, depth: str = "layer", aux: bool = False) -> "pandas.DataFrame":
        """One line per node down to ``depth``; shapes as (C, H, W) tuples, counts as integers (the pandas extra)."""
        from inception_calc.core.extras import require

        pandas = require("pandas", "pandas", "Analysis.to_dataframe()")

        records = []
        for row in self.shown_rows(aux):
            for node in row.walk(depth):
                records.append({
                    "name": node.name, "level": node.level, "kind": node.kind, "summary": node.summary,
                    "in_shape": node.in_shape, "out_shape": node.out_shape,
                    **{q: getattr(node, q) for q in QUANTITIES}, "aux": node.aux,
                })
        return pandas.DataFrame.from_records(records).set_index("name")


def _titles(columns: "str | tuple[str, ...] | list[str] | None") -> "tuple[str, ...] | None":
    """``columns`` as :meth:`Analysis.to_table` takes them: None, a comma list, or names/titles."""
    if columns is None:
        return None
    from inception_calc.report.analysis import column_titles

    return column_titles(columns if isinstance(columns, str) else ",".join(columns))
