"""Cross-check a spec's analysis with a real network: the built one, or torchvision's ``googlenet``.

``check(spec, against, input, depth)`` is what ``inception-calc check`` runs: analyse the spec,
build or fetch the real network, count it (:mod:`~inception_calc.counters`) and reconcile the two
by name (:mod:`~inception_calc.reconcile`).
"""

from __future__ import annotations

from .engine import analyze
from .errors import CalcError
from .reconcile import Reconciliation, reconcile
from .spec import Network

AGAINST = ("built", "torchvision")
CHECK_DEPTHS = ("layer", "branch")


def torchvision_counterpart(network: Network, torchvision_rows: tuple[str, ...]) -> None:
    """Raise CalcError unless ``network`` has a torchvision counterpart: the check joins rows by
    name, so at least half of torchvision googlenet's rows must be rows of the spec (googlenet,
    googlenet-torchvision and variants of them keep those names)."""
    spec_rows = {row.name for row in network.rows}
    shared = [name for name in torchvision_rows if name in spec_rows]
    if 2 * len(shared) < len(torchvision_rows):
        found = f" ({', '.join(shared)})" if shared else ""
        raise CalcError(f"spec '{network.name}' has no torchvision counterpart: only {len(shared)} of the "
                        f"{len(torchvision_rows)} rows of torchvision's googlenet{found} are rows of the spec, "
                        f"and --against torchvision joins rows by name",
                        where="--against torchvision",
                        fix="use a GoogLeNet spec (googlenet, googlenet-torchvision or a variant that keeps "
                            "their row names), or --against built")


def check(spec: "Network | str", against: str = "built", input: "tuple[int, int, int] | str | int | None" = None,
          depth: str = "layer") -> Reconciliation:
    """Reconcile the analysis of ``spec`` at ``input`` with the real network, row by row
    (and branch by branch at ``depth`` "branch"). torch's global RNG state is the same afterwards
    (the weights are drawn inside ``torch.random.fork_rng``)."""
    if against not in AGAINST:
        raise CalcError(f"unknown network to check against: {against!r}", where="--against",
                        fix=f"use one of {', '.join(AGAINST)}")
    if depth not in CHECK_DEPTHS:
        raise CalcError(f"unknown depth {depth!r}", where="--depth", fix=f"use one of {', '.join(CHECK_DEPTHS)}")
    from .build import build, require_torch
    from .counters import count_module, require_fvcore, require_torchvision, torchvision_googlenet

    analysis = analyze(spec, input)
    torchvision = require_torchvision() if against == "torchvision" else None  # a missing package: before
    require_fvcore()                                                            # the slow imports of the rest
    torch = require_torch()
    with torch.random.fork_rng(devices=[]):  # building initialises weights: the caller's RNG stream is untouched
        if torchvision is not None:
            model = torchvision_googlenet()
            torchvision_counterpart(analysis.network, tuple(name for name, _ in model.named_children()))
            source, versions = "torchvision googlenet", {"torchvision": torchvision.__version__.split("+")[0]}
        else:
            model = build(analysis.network, analysis.input)
            source, versions = f"built {analysis.spec}", {}
        try:
            counts = count_module(model, analysis.input, source, versions)
        except RuntimeError as exc:  # a spec the builder let through but torch refuses: one line, no traceback
            c, h, w = analysis.input
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CalcError(f"the {source} network failed to run on a {c}x{h}x{w} input: {reason}",
                            where=analysis.spec, fix="check the spec's layers; --debug shows the traceback") from exc

    return reconcile(analysis, counts, depth)
