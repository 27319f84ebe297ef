"""The analytic engine: walk a network at one input size and cost every node in closed form.

Standard library only. Each primitive layer is costed by its kind's definition
(:mod:`inception_calc.core.kinds`): it takes the layer and its input shape and returns its output
shape and counts, calling the pure functions of :mod:`inception_calc.core.formulas`. Rows, branches
and totals are sums.
"""

from __future__ import annotations

from functools import partial

from inception_calc.core import formulas as f
from inception_calc.core.errors import CalcError
from inception_calc.core.fields import MAX_SIZE
from inception_calc.core.rounding import rounding_notes
from inception_calc.core.results import Analysis, Cost, Shape, Sums, Totals, make_cost, make_cost_lazily
from inception_calc.core.kinds import Layer, WindowTooLarge
from inception_calc.core.inputs import parse_input
from inception_calc.core.network import Network
from inception_calc.core.plan import MEMO_SHAPES, PlannedBranch, PlannedRow, Step, plan, remember, row_summary  # noqa: F401
from inception_calc.core.plan import clear_memo as clear_plan_memo
from inception_calc.core.sources import load_spec
from inception_calc.core.values import hwc

elements = f.elements


def clear_memo() -> None:
    """Forget every memoized row cost and receptive field (the plans stay): for measuring the engine cold."""
    clear_plan_memo()


def _renamed(cost: Cost, cut: int, name: str) -> Cost:
    """``cost`` (a twin row's, or a node below it) with its name's first ``cut`` characters (the
    twin row's name) replaced by ``name``; its children renamed when first read."""
    if "_children" not in cost.__dict__ and not cost.__dict__["children"]:
        return make_cost(name + cost.name[cut:], cost.kind, cost.summary, cost.in_shape, cost.out_shape,
                         cost.weights, cost.biases, cost.bn, cost.macs, cost.activations, (), cost.aux, cost.level)
    return make_cost_lazily(name + cost.name[cut:], cost.kind, cost.summary, cost.in_shape, cost.out_shape,
                            cost.weights, cost.biases, cost.bn, cost.macs, cost.activations,
                            partial(_renamed_children, cost, cut, name), cost.aux, cost.level)


def _renamed_children(cost: Cost, cut: int, name: str) -> tuple[Cost, ...]:
    return tuple(_renamed(child, cut, name) for child in cost.children)


# What the walk records of a node: (step, in_shape, out_shape, weights, biases, bn, macs, branches),
# ``branches`` the records of a nested block's branches (None for a layer).
_Record = tuple
# What it records of a branch: (planned, in_shape, records, out_shape, weights, biases, bn, macs).
_BranchRecord = tuple


def _run(row: str, steps: tuple, shape: Shape, concat: bool = True) -> tuple[list[_Record], Shape, int, int, int, int]:
    """Cost a branch's nodes in order: their records, the output shape and the branch's sums."""
    records = []
    weights = biases = bn = macs = 0
    for step in steps:
        if type(step) is Step:
            try:
                out, w, b, n, m = step.cost(step.layer, shape)
            except CalcError as exc:
                raise (exc if step.name == row else exc.located(f"layer '{step.name}'")) from None
            except WindowTooLarge as exc:
                where = "" if step.name == row else f", layer '{step.name}'"
                raise WindowTooLarge(f"{where} ({step.summary}): {exc}") from None
            records.append((step, shape, out, w, b, n, m, None))
        else:
            branches, out, w, b, n, m = _combine(row, step.name, step.kind, step.branches, shape, concat)
            records.append((step, shape, out, w, b, n, m, branches))
        weights += w
        biases += b
        bn += n
        macs += m
        shape = out
    return records, shape, weights, biases, bn, macs


def _combine(row: str, name: str, combine: str, planned: tuple[PlannedBranch, ...], shape: Shape,
             concat: bool = True) -> tuple[list[_BranchRecord], Shape, int, int, int, int]:
    """Run each branch on ``shape`` and combine them: concatenated (equal H x W) or added (equal
    C x H x W). ``name`` is the block's (the row's for its own branches); errors name it and the branches."""
    branches = []
    weights = biases = bn = macs = channels = 0
    for branch in planned:
        try:
            records, out, w, b, n, m = _run(row, branch.steps, shape, concat)
        except CalcError as exc:  # inside a nested block: name the block and the branch
            if name == row:
                raise
            raise exc.located(f"block '{name}', branch '{branch.name.rsplit('.', 1)[-1]}'") from None
        branches.append((branch, shape, records, out, w, b, n, m))
        weights += w
        biases += b
        bn += n
        macs += m
        channels += out[0]
    first = branches[0][3]
    where = None if name == row else f"block '{name}'"
    if combine == "add":
        if concat and any(record[3] != first for record in branches):
            shapes = ", ".join(f"{p.name} {out[0]}x{out[1]}x{out[2]}" for p, _, _, out, *_ in branches)
            error = CalcError(f"branches give different shapes (C x H x W: {shapes}), which cannot be added",
                              fix="give every branch of an addition the same channels and map size: give the "
                                  "shortcut the main path's stride and output channels")
            raise error.located(where) if where else error
        return branches, first, weights, biases, bn, macs
    spatial = first[1:]
    if concat and any(record[3][1:] != spatial for record in branches):
        sizes = ", ".join(f"{p.name} {out[1]}x{out[2]}" for p, _, _, out, *_ in branches)
        error = CalcError(f"branches give maps of different sizes ({sizes}), which cannot be concatenated",
                          fix="give every branch the same stride, 'same' padding and the same rounding")
        raise error.located(where) if where else error
    return branches, (channels, *spatial), weights, biases, bn, macs


def _node_costs(records: list[_Record], aux: bool) -> tuple[Cost, ...]:
    costs = []
    for step, shape, out, w, b, n, m, branches in records:
        if branches is None:
            costs.append(make_cost(step.name, step.kind, step.summary, shape, out, w, b, n, m, elements(*out), (),
                                   aux, step.level))
        else:
            costs.append(make_cost_lazily(step.name, step.kind, step.summary, shape, out, w, b, n, m, elements(*out),
                                          partial(_branch_costs, branches, aux), aux, step.level))
    return tuple(costs)


def _branch_costs(branches: list[_BranchRecord], aux: bool) -> tuple[Cost, ...]:
    costs = []
    for planned, shape, records, out, w, b, n, m in branches:
        if len(planned.steps) == 1 and planned.steps[0].level == "branch":
            costs.append(_node_costs(records, aux)[0])
        else:
            costs.append(make_cost_lazily(planned.name, "branch", planned.summary, shape, out, w, b, n, m,
                                          elements(*out), partial(_node_costs, records, aux), aux, "branch"))
    return tuple(costs)


def _row_cost(planned: PlannedRow, shape: Shape, concat: bool = True) -> Cost:
    """A row's cost, its sums computed now; its branches' and layers' Cost nodes are made when
    first asked for (:func:`~inception_calc.core.results.make_cost_lazily`): the numbers are the
    same, and an analysis that reads only the rows makes only the rows."""
    row, aux = planned.row, planned.aux
    if planned.layout == "single":
        step = planned.branches[0].steps[0]
        (_, _, out, w, b, n, m, _), = _run(row.name, planned.branches[0].steps, shape)[0]
        return make_cost(step.name, step.kind, step.summary, shape, out, w, b, n, m, elements(*out), (), aux,
                         "layer")
    if planned.layout == "sequence":
        records, out, w, b, n, m = _run(row.name, planned.branches[0].steps, shape, concat)
        return make_cost_lazily(row.name, row.kind, planned.summary, shape, out, w, b, n, m, elements(*out),
                                partial(_node_costs, records, aux), aux, "layer")
    branches, out, w, b, n, m = _combine(row.name, row.name, row.combine, planned.branches, shape, concat)
    return make_cost_lazily(row.name, row.kind, planned.summary, shape, out, w, b, n, m,
                            elements(*out), partial(_branch_costs, branches, aux), aux, "layer")


def _walk(network: Network, shape: Shape, concat: bool = True, heads: bool = True,
          left_out: list[str] | None = None) -> tuple[Cost, ...]:
    """Every row's cost; with ``concat`` False, branches whose maps differ are let through (the
    first branch's size goes on), to ask whether the windows fit whatever the branches give.

    An auxiliary head whose window does not fit (Inception-v3's AuxLogits below 299: it runs only
    in training) is left out when ``left_out`` is a list, its reason appended there; with ``heads``
    False the heads are not walked at all (whether the network runs for inference)."""
    outputs: dict[str, Shape] = {}
    rows = []
    for planned in plan(network).rows:
        if planned.aux and (not heads or planned.row.after not in outputs):
            continue
        in_shape = outputs[planned.row.after] if planned.aux else shape
        cost = planned.costs.get(in_shape) if concat else None
        if cost is None:
            twin = planned.twins.get(in_shape) if concat else None
            if twin is not None:
                cost = _renamed(twin, len(twin.name), planned.row.name)
            else:
                try:
                    cost = _row_cost(planned, in_shape, concat)
                except CalcError as exc:
                    raise exc.located(f"row '{planned.row.name}'") from None
                except WindowTooLarge as exc:
                    if planned.aux and left_out is not None:
                        left_out.append(f"row '{planned.row.name}'{exc}")
                        continue
                    raise WindowTooLarge(f"row '{planned.row.name}'{exc}") from None
                if concat:
                    remember(planned.twins, in_shape, cost)
            if concat:
                remember(planned.costs, in_shape, cost)
        rows.append(cost)
        outputs[planned.row.name] = cost.out_shape
        if not planned.aux:
            shape = cost.out_shape
    return tuple(rows)


def fits(network: Network, shape: Shape, heads: bool = False) -> bool:
    """Whether every window of the network fits at this input size (whether or not its branches
    can be concatenated there): this only improves as the input grows. ``heads``: the auxiliary
    heads' windows too (they run only in training)."""
    try:
        _walk(network, shape, concat=False, heads=heads)
    except WindowTooLarge:
        return False
    return True


def _runs(network: Network, shape: Shape, heads: bool = False) -> bool:
    """Whether the network runs at this input size: every window fits, and every row's branches give
    maps of one size (strided branches can disagree on some map sizes)."""
    try:
        _walk(network, shape, heads=heads)
    except (WindowTooLarge, CalcError):
        return False
    return True


def smallest_input(network: Network, channels: int = 3, scan: int = 1024, heads: bool = False) -> int | None:
    """The least N for which the network runs on a channels x N x N input, or None; ``heads``: its
    auxiliary heads too (which run only in training).

    Whether every window fits only improves with N (output sizes never shrink as the input grows),
    so the least such N is found by exponential search then bisection, up to 2^63 - 1, the largest
    size (a closed-form walk costs the same at any N). Whether the branches of a row can be
    concatenated need not improve (a stride-3 conv beside a stride-3 pool agree only on some
    sizes), so from there the sizes are tried one by one, ``scan`` of them at most: None then
    means none of those (see :func:`no_input_fix` for the words).
    """
    first = f.smallest_valid_size(lambda n: fits(network, (channels, n, n), heads), 1, MAX_SIZE)
    if first is None:
        return None
    return next((n for n in range(first, min(first + scan, MAX_SIZE + 1)) if _runs(network, (channels, n, n), heads)),
                None)


def no_input_fix(network: Network, channels: int = 3, scan: int = 1024, heads: bool = False) -> str:
    """What to say when :func:`smallest_input` finds none: that no window fits at any size, or
    that from the least size at which all fit, ``scan`` sizes were tried and none concatenates."""
    first = f.smallest_valid_size(lambda n: fits(network, (channels, n, n), heads), 1, MAX_SIZE)
    if first is None:
        return "no square input of any size runs; check the row's kernel, stride and padding"
    return (f"every window fits from {channels}x{first}x{first} up, but no square input from {first} to "
            f"{first + scan - 1} gives its branches maps of one size; check the strided branches")


def rounding_warnings(network: Network, rows: tuple[Cost, ...]) -> tuple[str, ...]:
    """The layers whose output size depends on their rounding rule at this input: what
    ``Analysis.warnings`` gives (:mod:`inception_calc.core.rounding`)."""
    return rounding_notes(network, rows)


def analyze(spec: "Network | str", input: "Shape | str | int | None" = None) -> Analysis:
    """Cost every row, branch and layer of ``spec`` (a Network, a built-in name or a file path) at
    ``input`` ([C, H, W], ``224``, ``"3x299x299"``; default the spec's own, 3x224x224; N and HxW
    keep the spec's input channels).

    Raises CalcError when the spec is bad or a window does not fit at this input; the message then
    names the row and the smallest square input the network accepts.
    """
    network = load_spec(spec, input)  # an nn.Module is traced at the input
    shape = network.input if input is None else parse_input(input, channels=network.input[0])
    left_out: list[str] = []
    try:
        rows = _walk(network, shape, left_out=left_out)
    except CalcError as exc:
        raise exc.located(network.name) from None
    except WindowTooLarge as exc:
        smallest = smallest_input(network, shape[0])
        fix = (f"the smallest square input this network accepts is {shape[0]}x{smallest}x{smallest}"
               if smallest else no_input_fix(network, shape[0]))
        raise CalcError(f"input {shape[0]}x{shape[1]}x{shape[2]} is too small: {exc}",
                        where=network.name, fix=fix) from None
    main = [r for r in rows if not r.aux]
    totals = Totals(inference=Sums.of(main), training=Sums.of(rows))
    notes = ()
    if left_out:
        smallest = smallest_input(network, shape[0], heads=True)
        takes = f"; the heads take {shape[0]}x{smallest}x{smallest} and larger" if smallest else ""
        notes = tuple(f"auxiliary head left out (it runs only in training, and not at input "
                      f"{shape[0]}x{shape[1]}x{shape[2]}): {why}; the training totals are without it{takes}"
                      for why in left_out)
    return Analysis(network.name, shape, rows, totals, network, notes, input_sized_weights(network, shape, rows))


def input_sized_weights(network: Network, shape: Shape, rows: "list[Cost] | tuple[Cost, ...]") -> tuple[str, ...]:
    """A note for each layer whose weights at ``shape`` differ from those at the spec's own H x W
    (with ``shape``'s channels, so that only the size counts): a linear layer after a map that is
    flattened, not pooled to 1x1, has ``C * H * W`` in_features, which grow with the input
    (GoogLeNet's fc at 299: a 3x3x1024 map, 9,216,000 weights where 224 gives 1,024,000).

    Rows are compared first (a layer's weights only grow with its input, so equal rows hold equal
    layers) and only a row that differs is walked to its layers; none at the spec's own size."""
    own = (shape[0], *network.input[1:])
    if tuple(shape) == own:
        return ()
    try:
        reference = {r.name: r for r in _walk(network, own, left_out=[])}
    except (CalcError, WindowTooLarge):  # the spec's own size does not fit (a file's input): nothing to compare
        return ()
    notes = []
    for row in rows:
        there = reference.get(row.name)
        if there is None or there.weights == row.weights:
            continue
        theirs = {n.name: n for n in there.walk("conv") if not n.children}
        for node in row.walk("conv"):
            was = theirs.get(node.name)
            if node.children or was is None or was.weights == node.weights:
                continue
            notes.append(f"{node.name}'s weights follow the input size: {node.weights:,} at input "
                         f"{shape[0]}x{shape[1]}x{shape[2]}, {was.weights:,} at the spec's own "
                         f"{own[0]}x{own[1]}x{own[2]} (its input, {hwc(node.in_shape)}, is flattened; it is "
                         f"{hwc(was.in_shape)} there)")
    return tuple(notes)


def left_out_head(analysis: Analysis, name: str, where: str) -> CalcError | None:
    """The error for a ``name`` in an auxiliary head that this input leaves out (a head runs only in
    training, and at an input too small for it the analysis stands without it), else None."""
    shown = {r.name for r in analysis.rows}
    head = next((r for r in analysis.network.aux_rows if r.name not in shown
                 and (name == r.name or name.startswith(r.name + "."))), None)
    if head is None:
        return None
    c, h, w = analysis.input
    smallest = smallest_input(analysis.network, c, heads=True)
    fix = (f"give an input of {c}x{smallest}x{smallest} or larger" if smallest
           else "no square input fits the heads; check the head's layers")
    what = (f"the auxiliary head {head.name!r}" if name == head.name
            else f"{name!r}, in the auxiliary head {head.name},")
    return CalcError(f"{what} is left out at input {c}x{h}x{w}: a head runs only in training, and does not fit "
                     "there", where=where, fix=fix)


def named_layers(network: Network) -> dict[str, Layer]:
    """Every primitive layer of the network by its dotted name (``inception3a.branch2.1``)."""
    return {name: layer for row in network.rows for name, layer in row.named_layers()}
