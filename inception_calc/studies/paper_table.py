"""The paper's Table 1 beside the exact analysis: which published figures follow from the channel
counts, under which reading, and which do not.

The published values live in ``data/paper_table1.toml`` (with its source); this module judges
them. The rule (:data:`RULE`), for a figure P printed to a last digit of unit u ("159K": u = 1K;
"2.7K": u = 0.1K; "34M": u = 1M) against a computed count N:

* params are read as N / K with K = 1000 or 1024, N = the weights or the weights + biases;
  ops as MACs / 10^6 (the paper's ops are multiply-adds: "1.5 billion multiply-adds");
* **rounds**: |N - P| <= u/2 (N rounds to P; a tie either way);
* **within one unit** (the stated slack): |N - P| < u (P is N truncated or rounded up);
* otherwise the figure is **inconsistent** with the channel counts.

Among the readings that fit, the closest one that rounds is named; when none fits, the closest
reading is shown. Alternatives in the data file (a separable conv1; a different input channel
count) are computed by pure formulas or by the engine and judged by the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from inception_calc.core import formulas as f
from inception_calc.core.engine import analyze
from inception_calc.core.errors import CalcError
from inception_calc.core.files import parse_text, read_text
from inception_calc.core.values import grouped, hwc
from inception_calc.core.results import Analysis, Cost
from inception_calc.core.network import Conv, Linear, Pool, Row
from inception_calc.core.values import parse_number, parse_shape, plain, within_precision

DATA = Path(__file__).parents[1] / "data" / "paper_table1.toml"
COLUMNS = ("n1x1", "n3x3red", "n3x3", "n5x5red", "n5x5", "pool_proj")
COLUMN_TITLES = dict(zip(COLUMNS, ("#1x1", "#3x3 reduce", "#3x3", "#5x5 reduce", "#5x5", "pool proj")))
ROW_FIELDS = ("name", "type", "patch", "output", "depth", *COLUMNS, "params", "ops", "cause", "unsure",
              "same_shape_as", "alternatives")
TOP_FIELDS = ("title", "source", "spec", "input", "text_ops_total", "rows")
K_READINGS = (1000, 1024)
FITS = ("rounds", "within one unit", "no")
RULES = {
    "params": "N / K with K = 1000 or 1024, N = weights or weights + biases; rounds: |N - P| <= u/2; within one unit: "
              "|N - P| < u",
    "ops": "N / 10^6 with N = MACs; rounds: |N - P| <= u/2; within one unit: |N - P| < u",
}
RULE = ("a figure P printed to a last digit of unit u (1K for '159K', 0.1K for '2.7K', 1M for '34M') is consistent "
        "with a computed count N when |N - P| <= u/2 (N rounds to P, a tie either way) or, with a slack of one "
        "unit, |N - P| < u (P is N truncated or rounded up); params are read with K = 1000 or K = 1024 and as "
        "weights or weights + biases, ops as MACs / 10^6")


@dataclass(frozen=True)
class Reading:
    """One way of reading a computed count against a published figure."""

    counted: str  # "weights", "weights + biases" or "MACs"
    k: int
    count: int
    published: Fraction  # the figure's value in units (159K with K = 1024: 162,816)
    unit: Fraction
    scale: Fraction  # the figure's suffix: 1000 or 1024 for K, 10**6 for M
    fit: str  # one of FITS

    @property
    def scaled(self) -> Fraction:
        """The count in the figure's suffix: 163,328 / 1024 = 159.5 (K)."""
        return Fraction(self.count) / self.scale

    @property
    def consistent(self) -> bool:
        return self.fit != "no"

    def arithmetic(self) -> str:
        """``weights 163,328 / 1024 = 159.5`` (or ``/ 10^6`` for M)."""
        divisor = {1000: "1000", 1024: "1024", 10**6: "10^6", 1024**2: "1024^2"}.get(int(self.scale), plain(self.scale))
        return f"{self.counted} {grouped(self.count)} / {divisor} = {plain(self.scaled, 10)}"


@dataclass(frozen=True)
class Judgement:
    """A published params or ops figure against every reading of the computed counts."""

    quantity: str  # "params" | "ops"
    published: str
    readings: tuple[Reading, ...]

    @property
    def best(self) -> Reading:
        """The reading that fits best: one that rounds before one within one unit, then the closest."""
        return min(self.readings, key=lambda r: (FITS.index(r.fit), abs(r.count - r.published) / r.unit))

    @property
    def consistent(self) -> bool:
        return self.best.consistent

    def shown(self) -> str:
        """The best reading at one digit more than the figure is printed with: ``159.5K``."""
        text = self.published.rstrip("KkMGT")
        places = len(text.split(".")[1]) + 1 if "." in text else 1
        return f"{float(self.best.scaled):,.{places}f}{self.published[len(text):]}"

    def to_dict(self) -> dict[str, Any]:
        best = self.best
        return {
            "published": self.published, "computed": best.count, "consistent": self.consistent, "fit": best.fit,
            "counted": best.counted, "k": best.k, "computed_in_unit": float(best.scaled), "rule": RULES[self.quantity],
            "readings": [{"counted": r.counted, "k": r.k, "computed": r.count, "computed_in_unit": float(r.scaled),
                          "fit": r.fit} for r in self.readings],
        }


def fit_of(count: int, value: Fraction, unit: Fraction) -> str:
    """"rounds" when |count - value| <= unit/2; "within one unit" when < unit; else "no"."""
    if within_precision(count, value, unit):
        return "rounds"
    return "within one unit" if abs(count - value) < unit else "no"


def judge(quantity: str, published: str, counts: dict[str, int], where: str = "") -> Judgement:
    """Judge a printed figure against named counts: params under K = 1000 and 1024, ops as
    MACs / 10^6 (the figure's suffix sets the scale)."""
    ks = K_READINGS if quantity == "params" else (1000,)
    readings = []
    for k in ks:
        written = parse_number(published, k, where)
        for counted, count in counts.items():
            readings.append(Reading(counted, k, count, written.value, written.unit, written.scale,
                                    fit_of(count, written.value, written.unit)))
    return Judgement(quantity, published, tuple(readings))


def _judgements(pub: dict, weights: int, biases: int, macs: int, where: str) -> dict[str, Judgement]:
    found = {}
    if "params" in pub:
        found["params"] = judge("params", pub["params"], {"weights": weights, "weights + biases": weights + biases},
                                f"{where}, params")
    if "ops" in pub:
        found["ops"] = judge("ops", pub["ops"], {"MACs": macs}, f"{where}, ops")
    return found


@dataclass(frozen=True)
class Agreement:
    """Whether a row's published params and ops agree with *each other*: when every weighted layer
    runs at the output map (Hout x Wout), MACs = Hout x Wout x weights, so the ops figure must
    round to what the params figure implies. The params figure P (unit u) stands for weights in
    [P - u/2, P + u/2]; times the map that is a range of MACs; the ops figure fits when that range
    comes within u_ops/2 of it ("rounds") or within u_ops ("within one unit")."""

    params: str
    ops: str
    map_size: int
    k: int
    low: Fraction
    high: Fraction
    fit: str

    @property
    def consistent(self) -> bool:
        return self.fit != "no"

    def arithmetic(self) -> str:
        return (f"{self.params} (K = {self.k}) x {self.map_size:,} (Hout x Wout) = {float(self.low) / 1e6:,.3f}M to "
                f"{float(self.high) / 1e6:,.3f}M multiply-adds against {self.ops}: {self.fit}")

    def to_dict(self) -> dict[str, Any]:
        return {"params": self.params, "ops": self.ops, "map_size": self.map_size, "k": self.k,
                "implied_macs": [float(self.low), float(self.high)], "fit": self.fit, "consistent": self.consistent}


def agreement(params: str, ops: str, map_size: int, where: str = "") -> Agreement:
    """Judge ops against map_size x params, with K = 1000 and 1024 for the params (best kept)."""
    ops_written = parse_number(ops, 1000, where)
    found = []
    for k in K_READINGS:
        written = parse_number(params, k, where)
        low, high = (written.value - written.unit / 2) * map_size, (written.value + written.unit / 2) * map_size
        target = ops_written.value
        distance = 0 if low <= target <= high else min(abs(low - target), abs(high - target))
        fit = "rounds" if distance <= ops_written.unit / 2 else ("within one unit" if distance < ops_written.unit
                                                                  else "no")
        found.append((FITS.index(fit), distance, Agreement(params, ops, map_size, k, low, high, fit)))
    return min(found, key=lambda item: item[:2])[2]


def single_map(node: Cost) -> int | None:
    """Hout x Wout when every layer with weights under ``node`` runs at its output map, else None."""
    leaves = [n for n in node.walk("conv") if not n.children and n.weights]
    if leaves and all(n.out_shape[1:] == node.out_shape[1:] for n in leaves):
        return node.out_shape[1] * node.out_shape[2]
    return None


# ----------------------------------------------------------------------------- alternatives


@dataclass(frozen=True)
class Alternative:
    """Another reading of a row's structure (from the data file), computed and judged."""

    label: str
    status: str  # "documented" | "fit"
    source: str
    weights: int
    biases: int
    macs: int
    derivation: str
    judgements: dict[str, Judgement] = field(default_factory=dict)
    replaced_macs: int = 0  # the MACs of the spec's row it stands in for


def _separable(spec: dict, row: Row, node: Cost, where: str) -> tuple[int, int, int, str]:
    layer = row.branches[0].layers[0] if row.layout == "single" else None
    if not isinstance(layer, Conv):
        raise CalcError("a separable alternative needs a single conv row", where=where)
    m = spec.get("depth_multiplier")
    if isinstance(m, bool) or not isinstance(m, int) or m < 1:
        raise CalcError(f"depth_multiplier must be a positive integer, got {m!r}", where=where)
    cin, (cout, ho, wo) = node.in_shape[0], node.out_shape
    kh, kw = layer.kernel
    depthwise, pointwise = f.separable_conv_weights(cin, cout, kh, kw, m)
    macs = f.separable_conv_macs(ho, wo, cin, cout, kh, kw, m)
    biases = (cin * m + cout) if layer.bias else 0
    text = (f"depthwise {kh}x{kw}: Cin x m x kh x kw = {cin} x {m} x {kh} x {kw} = {grouped(depthwise)}; "
            f"pointwise 1x1: Cin x m x Cout = {cin} x {m} x {cout} = {grouped(pointwise)}; "
            f"weights = {grouped(depthwise)} + {grouped(pointwise)} = {grouped(depthwise + pointwise)}; "
            f"MACs = Hout x Wout x weights = {ho} x {wo} x {grouped(depthwise + pointwise)} = {grouped(macs)}")
    return depthwise + pointwise, biases, macs, text


def _alternative(spec: Any, pub: dict, row: Row, node: Cost, where: str) -> Alternative:
    if not isinstance(spec, dict):
        raise CalcError(f"an alternative must be a table, got {spec!r}", where=where)
    kind = spec.get("kind")
    if kind == "separable":
        weights, biases, macs, text = _separable(spec, row, node, where)
    else:
        raise CalcError(f"unknown alternative kind {kind!r}", where=where, fix="use separable")
    status = spec.get("status", "")
    if status not in ("documented", "fit"):
        raise CalcError(f"status must be documented or fit, got {status!r}", where=where)
    return Alternative(str(spec.get("label", kind)), status, str(spec.get("source", "")), weights, biases, macs, text,
                       _judgements(pub, weights, biases, macs, where), node.macs)


# ----------------------------------------------------------------------------- structure columns


def row_patch(row: Row) -> str:
    """``7x7/2``: the window of a one-branch row's last conv or pooling layer ("" for others)."""
    if len(row.branches) != 1:
        return ""
    windows = [layer for layer in row.branches[0].layers if isinstance(layer, Conv)
               or (isinstance(layer, Pool) and not layer.output)]
    if not windows:
        return ""
    last = windows[-1]
    return f"{last.kernel[0]}x{last.kernel[1]}/{last.stride[0]}"


def row_depth(row: Row) -> int:
    """Layers with weights on the deepest branch: the paper's "depth" column."""
    return max(sum(isinstance(layer, (Conv, Linear)) for layer in b.layers) for b in row.branches)


def row_columns(row: Row) -> dict[str, int]:
    """The paper's channel columns of a row: an Inception row's six; a 1x1 reduce then k x k stack
    gives #kxk reduce and #kxk (conv2: 64 and 192)."""
    if row.columns:
        return dict(row.columns)
    layers = row.branches[0].layers if len(row.branches) == 1 else ()
    if len(layers) == 2 and all(isinstance(x, Conv) for x in layers) and layers[0].kernel == (1, 1):
        k = layers[1].kernel[0]
        return {f"n{k}x{k}red": layers[0].out, f"n{k}x{k}": layers[1].out}
    return {}


@dataclass(frozen=True)
class Check:
    """A published structure value (output size, patch, depth, a channel column) against the spec."""

    column: str
    published: str | int
    computed: str | int | None

    @property
    def consistent(self) -> bool:
        return self.published == self.computed


# ----------------------------------------------------------------------------- rows and table


@dataclass(frozen=True)
class PaperRow:
    name: str
    type: str
    spec_row: str  # the spec row it was computed from ("" when the spec has none)
    checks: tuple[Check, ...]
    judgements: dict[str, Judgement]
    alternatives: tuple[Alternative, ...] = ()
    agreement: Agreement | None = None
    cause: str = ""
    unsure: str = ""

    def check(self, column: str) -> Check | None:
        return next((c for c in self.checks if c.column == column), None)

    def likely_cause(self, quantity: str) -> str:
        """Why a published figure that does not follow from the channel counts may be what it is:
        a documented alternative; or, from the row's own two figures, which of them is off."""
        judgement = self.judgements.get(quantity)
        if judgement is None or judgement.consistent:
            return ""
        alt = explained_by(self, quantity)
        if alt:
            return f"follows from {alt.label} ({alt.status}: {alt.source})"
        if self.agreement is None:
            return "unknown"
        other = self.judgements["ops" if quantity == "params" else "params"]
        best = judgement.best
        off = f"{judgement.published} is {float((best.published - best.count) / best.count):+.1%} off the closest reading"
        if self.agreement.consistent and other.consistent:
            return (f"{off}; the row's {other.quantity} follow from the channel counts and agree with this figure too "
                    "(ops = Hout x Wout x params): a small discrepancy, inside what the other figure can resolve")
        if self.agreement.consistent:
            return (f"{off}; params and ops agree with each other (ops = Hout x Wout x params) but not with the printed "
                    "channel counts: both describe a different module than the columns do")
        if other.consistent:
            return (f"{off}; the {other.quantity} follow from the channel counts, but the {quantity} do not, nor do "
                    f"they agree with the {other.quantity} (ops = Hout x Wout x params): the {quantity} figure is the "
                    "odd one out (a slip in the paper, or in this transcription)")
        return f"{off}; neither figure follows from the channel counts, nor do they agree with each other"


@dataclass(frozen=True)
class PaperTable:
    title: str
    source: str
    spec: str
    input: tuple[int, int, int]
    rows: tuple[PaperRow, ...]
    published_ops_sum: Fraction
    published_params_sum: Fraction
    computed_macs: int
    computed_weights: int
    text_ops_total: str = ""

    @property
    def macs_with_documented_alternatives(self) -> int:
        """The computed MACs with each documented alternative put in place of its row."""
        return self.computed_macs + sum(a.macs - a.replaced_macs for r in self.rows for a in r.alternatives
                                        if a.status == "documented")

    def judgements(self) -> list[tuple[PaperRow, Judgement]]:
        return [(r, j) for r in self.rows for j in r.judgements.values()]

    def summary(self) -> dict[str, Any]:
        """Counts of consistent values, and the names of the rest."""
        judged = self.judgements()
        consistent = [f"{r.name} {j.quantity}" for r, j in judged if j.consistent]
        explained = {f"{r.name} {j.quantity}": f"{alt.label} ({alt.status})" for r, j in judged
                     if not j.consistent and (alt := explained_by(r, j.quantity))}
        unexplained = {f"{r.name} {j.quantity}": r.likely_cause(j.quantity) for r, j in judged
                       if not j.consistent and f"{r.name} {j.quantity}" not in explained}
        agreements = [r.agreement for r in self.rows if r.agreement]
        checks = [c for r in self.rows for c in r.checks]
        structure = {}
        for column in ("output", "patch", "depth", "channels"):
            group = [c for c in checks if (c.column in COLUMNS if column == "channels" else c.column == column)]
            structure[column] = {"consistent": sum(c.consistent for c in group), "published": len(group),
                                 "inconsistent": [c.column for c in group if not c.consistent]}
        return {"published": len(judged), "consistent": len(consistent), "explained": explained,
                "unexplained": unexplained, "structure": structure,
                "params_agree_with_ops": {"consistent": sum(a.consistent for a in agreements),
                                          "rows": len(agreements),
                                          "inconsistent": [r.name for r in self.rows
                                                           if r.agreement and not r.agreement.consistent]}}

    def summary_line(self) -> str:
        s = self.summary()
        explained = "; ".join(f"{k} by {v}" for k, v in s["explained"].items())
        line = (f"{s['consistent']} of {s['published']} published params/ops values are consistent with "
                f"{self.spec}'s channel counts")
        if explained:
            line += f"; {len(s['explained'])} more follow from an alternative ({explained})"
        if s["unexplained"]:
            line += f"; {len(s['unexplained'])} without a documented cause: {', '.join(s['unexplained'])}"
        agree = s["params_agree_with_ops"]
        line += (f". Published params agree with published ops (ops = Hout x Wout x params) in {agree['consistent']} "
                 f"of {agree['rows']} rows" + (f", not in {', '.join(agree['inconsistent'])}" if agree["inconsistent"]
                                               else ""))
        parts = [f"{k} {v['consistent']}/{v['published']}" for k, v in s["structure"].items()]
        return line + f". Structure columns consistent: {', '.join(parts)}."


def _text(table: dict, key: str, where: str) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise CalcError(f"field '{key}' must be text, got {value!r}", where=where)
    return value


def _paper_row(data: Any, i: int, analysis: Analysis, origin: str) -> PaperRow:
    where = f"{origin}, row {i}"
    if not isinstance(data, dict):
        raise CalcError(f"a row must be a table, got {data!r}", where=where)
    for key in data:
        if key not in ROW_FIELDS:
            raise CalcError(f"unknown field '{key}'", where=where, fix=f"known fields: {', '.join(ROW_FIELDS)}")
    name = _text(data, "name", where)
    where = f"{origin}, row {i} '{name}'"
    spec_name = _text(data, "same_shape_as", where) or name
    rows = {r.name: r for r in analysis.network.rows}
    if spec_name not in rows:
        raise CalcError(f"no row {spec_name!r} in {analysis.spec}", where=where,
                        fix=f"name one of: {', '.join(rows)} (or give same_shape_as for a row the spec lacks)")
    row, node = rows[spec_name], analysis[spec_name]
    own = spec_name == name
    checks = []
    if "output" in data:
        shape = parse_shape(_text(data, "output", where), f"{where}, output")
        checks.append(Check("output", f"{shape.height}x{shape.width}x{shape.channels}", hwc(node.out_shape)))
    if "patch" in data:
        checks.append(Check("patch", _text(data, "patch", where).replace("×", "x"), row_patch(row) if own else ""))
    if "depth" in data:
        checks.append(Check("depth", data["depth"], row_depth(row) if own else 0))
    computed_columns = row_columns(row) if own else {}
    for column in COLUMNS:
        if column in data:
            checks.append(Check(column, data[column], computed_columns.get(column)))
    pub = {k: _text(data, k, where) for k in ("params", "ops") if k in data}
    judgements = _judgements(pub, node.weights, node.biases, node.macs, where) if own else {}
    alternatives = data.get("alternatives", [])
    if not isinstance(alternatives, list):
        raise CalcError("alternatives must be a list of tables", where=where)
    alts = tuple(_alternative(a, pub, row, node, f"{where}, alternative {j}")
                 for j, a in enumerate(alternatives, start=1))
    together = None
    if own and "params" in pub and "ops" in pub and single_map(node):
        together = agreement(pub["params"], pub["ops"], single_map(node), where)
    return PaperRow(name, _text(data, "type", where), spec_name if own else "", tuple(checks), judgements, alts,
                    together, _text(data, "cause", where), _text(data, "unsure", where))


def paper_table(path: str | Path = DATA) -> PaperTable:
    """Read the published table and judge every value against the analysis of its spec."""
    path = Path(path)
    origin = path.name
    try:
        text = read_text(path, "published table")
    except CalcError as exc:
        if exc.what == "no such file":  # the core's fix points to the built-in specs
            raise CalcError("no such file", where=exc.where, fix="check the path") from None
        raise
    data = parse_text(text, str(path))  # TOML: a table at the top level
    for key in data:
        if key not in TOP_FIELDS:
            raise CalcError(f"unknown field '{key}'", where=origin, fix=f"known fields: {', '.join(TOP_FIELDS)}")
    try:
        analysis = analyze(data.get("spec", "googlenet"), data.get("input"))
    except CalcError as exc:  # the file's spec or input: say so (not the command's --input)
        raise exc.located(origin) from None
    items = data.get("rows")
    if not isinstance(items, list) or not items:
        raise CalcError("no rows", where=origin, fix="add [[rows]] tables, one per row of the published table")
    rows = tuple(_paper_row(item, i, analysis, origin) for i, item in enumerate(items, start=1))
    judged = [(r, j) for r in rows for j in r.judgements.values()]
    ops_sum = sum((parse_number(j.published).value for _, j in judged if j.quantity == "ops"), Fraction(0))
    params_sum = sum((parse_number(j.published).value for _, j in judged if j.quantity == "params"), Fraction(0))
    main = [r for r in analysis.rows if not r.aux]
    return PaperTable(_text(data, "title", origin), _text(data, "source", origin), analysis.spec, analysis.input, rows,
                      ops_sum, params_sum, sum(r.macs for r in main), sum(r.weights for r in main),
                      _text(data, "text_ops_total", origin))


def explained_by(row: PaperRow, quantity: str) -> Alternative | None:
    return next((a for a in row.alternatives if quantity in a.judgements and a.judgements[quantity].consistent), None)
