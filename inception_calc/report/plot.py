"""Charts (PNG, SVG or PDF, by the file's suffix) of a report, a comparison and a sweep (matplotlib, the ``plot`` extra).

matplotlib is imported inside each function and drawn on its own Agg canvas (no pyplot, no global
backend or style change). Every number drawn comes from the analysis; the file is written whole or
not at all (:func:`~inception_calc.report.output.write_atomic`).

* report: per-row MACs and weights, one horizontal bar per row that has any.
* compare: the same, grouped: one bar per network for each line the comparison ranks (its leaves).
* compare by stage (the family plot): each network's total MACs against its params, and its MACs
  stage by stage, one stacked bar per network (a stage's colour is its line across the networks).
* sweep: MACs, params and activations against the input size, the smallest input marked.

A quantity whose largest value is over 100 times its smallest non-zero one is drawn on a log axis
(the axis title says so).

A chart that cannot be drawn or written is an error located at ``path``, the parameter naming its
file (the command line puts its ``--plot`` there).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any, Sequence

from inception_calc.core.errors import CalcError
from inception_calc.core.extras import require
from inception_calc.report.output import write_atomic

if TYPE_CHECKING:  # pragma: no cover
    from inception_calc.studies.compare import Comparison
    from inception_calc.core.results import Analysis, Cost
    from inception_calc.studies.sweep import Sweep

LOG_RATIO = 100
UNITS = ((10**9, "G"), (10**6, "M"), (10**3, "K"))


MAX_BARS = 500
"""The most labels a bar chart draws (its height grows with them): more is refused, not drawn."""


def compact(n: float) -> str:
    """``128049152`` as ``128M``, ``163328`` as ``163K``, ``1.58G``: 3 significant figures; from
    10^12 on, ``2.77e+37`` (a label of 30 digits and a G reads as none).

    The number is rounded to 3 significant figures first and the unit chosen for the rounded value,
    so that ``999_600_000`` (999.6M) is ``1G``, not ``1e+03M``, and ``999_999`` is ``1M``."""
    rounded = float(f"{n:.3g}")
    if abs(rounded) >= 10**12:
        return f"{rounded:.3g}"
    for scale, unit in UNITS:
        if abs(rounded) >= scale:
            return f"{rounded / scale:.3g}{unit}"
    return f"{rounded:.3g}" if n else "0"


def require_matplotlib(param: str = "path") -> None:
    """Raise the error naming the ``plot`` extra unless matplotlib can be imported (located at
    ``param``, the parameter or flag that asked for a chart)."""
    _matplotlib(param)


def _matplotlib(param: str = "path") -> tuple[Any, Any, Any]:
    """(Figure, FigureCanvasAgg, ticker), or a clear error naming the ``plot`` extra."""
    require("matplotlib", "plot", where=param)
    from matplotlib import ticker
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    return Figure, FigureCanvasAgg, ticker


PLOT_FORMATS = ("png", "svg", "pdf")
"""The files a chart is written to, by the suffix of its name: a PNG image (110 dpi), or SVG or PDF vectors."""


def plot_format(path: str) -> str | None:
    """``png``, ``svg`` or ``pdf`` from ``path``'s suffix (any case), else None."""
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    return suffix if suffix in PLOT_FORMATS else None


def _save(figure: Any, canvas_class: Any, path: str, param: str = "path") -> None:
    """Write ``figure`` to ``path`` in the format its suffix names (:data:`PLOT_FORMATS`)."""
    fmt = plot_format(path)
    if fmt is None:
        raise CalcError(f"{path!r} is not a {', '.join('.' + f for f in PLOT_FORMATS)} file", where=param,
                        fix=f"give a file name ending in {', '.join('.' + f for f in PLOT_FORMATS)}")
    canvas_class(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=110, bbox_inches="tight",
                   metadata={"Date": None} if fmt == "svg" else None)  # an SVG without its date: the same chart, the same file
    write_atomic(path, buffer.getvalue(), param)


def _use_log(values: Sequence[float]) -> bool:
    nonzero = [v for v in values if v > 0]
    return bool(nonzero) and max(nonzero) > LOG_RATIO * min(nonzero)


def _bar_panel(ax: Any, ticker: Any, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]],
               title: str, values_shown: bool) -> None:
    """Horizontal bars, one group per label (top to bottom), one bar per series in each group."""
    series = [(name, [float(v) for v in values]) for name, values in series]  # matplotlib takes no int past 2^63
    every = [v for _, values in series for v in values]
    log = _use_log(every)
    n = len(series)
    height = 0.8 / n
    for k, (name, values) in enumerate(series):
        ys = [i - 0.4 + height * (k + 0.5) for i in range(len(labels))]
        bars = ax.barh(ys, values, height=height * 0.92, label=name)
        if values_shown:
            ax.bar_label(bars, labels=[compact(v) if v else "" for v in values], padding=2, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_ylim(len(labels) - 0.5, -0.5)  # first row at the top
    if log:
        ax.set_xscale("log")
        positive = [v for v in every if v > 0]
        ax.set_xlim(min(positive) / 2, max(positive) * (6 if values_shown else 2))
    else:
        ax.set_xlim(0, max(every or [1]) * (1.18 if values_shown else 1.05))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: compact(v)))
    ax.set_title(title + (" (log scale)" if log else ""), fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)


def _bars_figure(labels: Sequence[str], macs: Sequence[tuple[str, Sequence[int]]],
                 weights: Sequence[tuple[str, Sequence[int]]], title: str, path: str) -> None:
    if len(labels) > MAX_BARS:  # a chart of thousands of bars is megapixels tall and unreadable
        raise CalcError(f"{len(labels):,} rows or lines to draw, more than the {MAX_BARS} a chart shows legibly",
                        where="path", fix="draw fewer (compare --rows, a coarser --depth), or draw no chart")
    Figure, Canvas, ticker = _matplotlib()
    n = len(macs)
    values_shown = n <= 3
    height = 1.6 + 0.24 * len(labels) * (0.7 + 0.3 * n)
    figure = Figure(figsize=(12, height), layout="constrained")
    left, right = figure.subplots(1, 2, sharey=True)
    _bar_panel(left, ticker, labels, macs, "MACs per image", values_shown)
    _bar_panel(right, ticker, labels, weights, "weights (conv and linear kernel elements)", values_shown)
    right.tick_params(labelleft=False)
    if n > 1:
        figure.legend(*left.get_legend_handles_labels(), loc="outside lower center", ncols=min(n, 4), fontsize=9)
    figure.suptitle(title, fontsize=11)
    _save(figure, Canvas, path)


def leaves(row: "Cost", depth: str) -> list["Cost"]:
    """The finest nodes of ``row`` down to ``depth``: the row itself at ``layer``, its branches
    at ``branch`` (a row with none: the row), every layer at ``conv``; their counts add up to the row's."""
    from inception_calc.core.results import DEPTHS

    limit = DEPTHS.index(depth)
    return [n for n in row.walk(depth) if not any(DEPTHS.index(c.level) <= limit for c in n.children)]


def plot_report(analysis: "Analysis", path: str, depth: str = "layer", aux: bool = False) -> None:
    """MACs and weights of one analysis to ``path``: a bar per row (``depth`` ``layer``), per
    branch (``branch``) or per layer (``conv``), of the main rows (and with ``aux`` the auxiliary
    heads), each that has any."""
    rows = [n for r in analysis.shown_rows(aux) for n in leaves(r, depth) if n.macs or n.weights]
    if not rows:
        raise CalcError("no row has weights or MACs; nothing to plot", where="path",
                        fix="plot a network with convolutions or linear layers, or draw no chart")
    c, h, w = analysis.input
    t = analysis.totals.inference
    unit = {"layer": "rows", "branch": "rows and branches", "conv": "layers"}[depth]
    title = (f"{analysis.spec} at {c}x{h}x{w}: {compact(t.macs)} MACs, {compact(t.weights)} weights in total\n"
             f"{unit} without weights (pooling, LRN, dropout) left out")
    labels = [r.name for r in rows]
    _bars_figure(labels, [(analysis.spec, [r.macs for r in rows])], [(analysis.spec, [r.weights for r in rows])],
                 title, path)


def plot_comparison(comparison: "Comparison", path: str) -> None:
    """Each network's MACs and weights for every line the comparison ranks (its leaves: rows, or
    branches and layers at a finer depth) that has any, grouped by line, to ``path``; a comparison
    by stage is drawn by :func:`plot_stages`."""
    if comparison.by == "stage":
        return plot_stages(comparison, path)
    lines = [ln for ln in comparison.lines if ln.leaf and any(n is not None and (n.macs or n.weights)
                                                              for n in ln.nodes)]
    if not lines:
        raise CalcError("no line of the comparison has weights or MACs; nothing to plot", where="path",
                        fix="choose rows with convolutions or linear layers")

    def series(quantity: str) -> list[tuple[str, list[int]]]:
        return [(label, [0 if ln.nodes[i] is None else getattr(ln.nodes[i], quantity) for ln in lines])
                for i, label in enumerate(comparison.labels)]

    c, h, w = comparison.analyses[0].input
    totals = ", ".join(f"{label} {compact(t.macs)}" for label, t in zip(comparison.labels, comparison.totals()))
    unit = {"layer": "row", "branch": "branch", "conv": "layer"}[comparison.depth]
    title = f"per-{unit} MACs and weights at {c}x{h}x{w}\nMACs in total: {totals}"
    _bars_figure([ln.name for ln in lines], series("macs"), series("weights"), title, path)


def plot_stages(comparison: "Comparison", path: str) -> None:
    """A comparison by stage, to ``path``: left, each network's total MACs against its params;
    right, each network's MACs stage by stage, stacked (a segment's label is the stage's grid)."""
    totals = comparison.totals()
    if not any(t.macs for t in totals):
        raise CalcError("no network of the comparison has MACs; nothing to plot", where="path",
                        fix="compare networks with convolutions or linear layers, or draw no chart")
    Figure, Canvas, ticker = _matplotlib()
    labels = list(comparison.labels)
    n = len(labels)
    figure = Figure(figsize=(13, 2.2 + 0.55 * n), layout="constrained")
    left, right = figure.subplots(1, 2, width_ratios=(1, 1.6))
    params, macs = [float(t.params) for t in totals], [float(t.macs) for t in totals]
    left.scatter(params, macs, s=30, zorder=3)
    for label, x, y in zip(labels, params, macs):
        left.annotate(label, (x, y), textcoords="offset points", xytext=(5, 4), fontsize=8)
    left.set_xlim(0, max(params) * 1.35 or 1)
    left.set_ylim(0, max(macs) * 1.15)
    for axis in (left.xaxis, left.yaxis):
        axis.set_major_formatter(ticker.FuncFormatter(lambda v, _: compact(v)))
    left.set_xlabel("params", fontsize=9)
    left.set_ylabel("MACs per image", fontsize=9)
    left.set_title("total (inference)", fontsize=10)
    left.grid(alpha=0.3)
    left.set_axisbelow(True)
    from matplotlib import colormaps

    palette = colormaps["tab10" if len(comparison.stage_lines) <= 10 else "tab20"].colors
    colours = [palette[k % len(palette)] for k in range(len(comparison.stage_lines))]
    for k, line in enumerate(comparison.stage_lines):
        starts = []
        for i in range(n):
            before = [ln.stages[i] for ln in comparison.stage_lines[:k]]
            starts.append(float(sum(st.sums.macs for st in before if st is not None)))
        widths = [0.0 if st is None else float(st.sums.macs) for st in line.stages]
        bars = right.barh(range(n), widths, left=starts, height=0.6, color=colours[k], label=line.name,
                          edgecolor="white", linewidth=0.5)
        grids = ["" if st is None or w < 0.07 * max(macs) else f"{st.grid[0]}x{st.grid[1]}"
                 for st, w in zip(line.stages, widths)]
        right.bar_label(bars, labels=grids, label_type="center", fontsize=7)
    right.set_yticks(range(n), labels, fontsize=8)
    right.set_ylim(n - 0.5, -0.5)
    right.set_xlim(0, max(macs) * 1.02)
    right.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: compact(v)))
    right.set_xlabel("MACs per image, stage by stage", fontsize=9)
    how = "by grid" if comparison.alignment == "grid" else "by output stride (the inputs differ)"
    right.set_title(f"MACs per stage, lined up {how}", fontsize=10)
    right.grid(axis="x", alpha=0.3)
    right.set_axisbelow(True)
    figure.legend(*right.get_legend_handles_labels(), loc="outside lower center", fontsize=8,
                  ncols=min(len(colours), 8), title="stage", title_fontsize=8)
    if comparison.one_input:
        c, h, w = comparison.analyses[0].input
        at = f"at {h}x{w}"
    else:
        at = "each at its own input (" + ", ".join(f"{lb} {a.input[1]}x{a.input[2]}"
                                                   for lb, a in zip(labels, comparison.analyses)) + ")"
    figure.suptitle(f"stage by stage, {at}", fontsize=11)
    _save(figure, Canvas, path)


def plot_sweep(result: "Sweep", path: str) -> None:
    """MACs, params and activations against the input size N (C x N x N), to ``path``; the sizes
    below the smallest accepted input are shaded, so the whole requested range shows."""
    points = [p for p in result.points if p.totals is not None]
    if not points:
        raise CalcError("no size of the range fits the network; nothing to plot", where="path",
                        fix=f"start the range at {result.smallest} or above" if result.smallest
                        else "no square input the search found fits this network; draw no chart")
    Figure, Canvas, ticker = _matplotlib()
    rf = getattr(result, "rf", "")
    figure = Figure(figsize=(8, 10 if rf else 8), layout="constrained")
    axes = figure.subplots(4 if rf else 3, 1, sharex=True)
    sizes = [float(p.size) for p in points]  # floats: matplotlib takes no int past 2^63
    first, last = result.points[0].size, result.points[-1].size
    # half a size and 2% of the range each side; at sizes near 2^63 a float's step is 2048, so at least 10^-6 of N
    margin = max((last - first) * 0.02 + 0.5, last * 1e-6)
    small = [p.size for p in result.points if p.skipped == "too small"]
    other = [p.size for p in result.points if p.skipped and p.skipped != "too small"]
    panels = (("MACs per image", "macs"), ("params", "params"), ("activations per image", "activations"))
    if rf:  # the receptive field's height (pixels) of the row --rf names: its own panel
        panels += ((f"receptive field of {rf} (H, pixels)", "rf"),)
    for ax, (title, quantity) in zip(axes, panels):
        values = [float(p.field.size[0] if p.field else "nan") if quantity == "rf" else
                  float(getattr(p.totals, quantity)) for p in points]
        ax.plot(sizes, values, marker="o", markersize=3)
        ax.set_title(title, fontsize=10, loc="left")
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: compact(v)))
        ax.grid(alpha=0.3)
        ax.set_xlim(float(first) - margin, float(last) + margin)
        if small and result.smallest:
            ax.axvspan(first - (last - first), result.smallest, color="grey", alpha=0.15, lw=0)
        for size in other:
            ax.axvline(size, color="red", alpha=0.4, lw=1)
    axes[0].set_ylim(bottom=0)
    notes = [f"input size N ({result.channels} x N x N)"]
    if small:
        notes.append(f"shaded: too small (the smallest input accepted is {result.smallest})")
    if other:
        notes.append(f"red: {len(other)} sizes whose branches cannot be concatenated")
    axes[-1].set_xlabel("; ".join(notes), fontsize=9)
    title = f"{result.spec}: inference totals by input size"
    if len({p.totals.weights for p in points if p.totals}) > 1:
        title += "\nweights grow with N: a fixed-window pool hands the linear layer a larger map"
    figure.suptitle(title, fontsize=11)
    _save(figure, Canvas, path)
