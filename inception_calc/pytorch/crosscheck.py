"""Cross-check a spec's analysis with a real network: the built one, or torchvision's ``googlenet``.

``check(spec, against, input, depth)`` is what ``inception-calc check`` runs: analyse the spec,
build or fetch the real network, count it (:mod:`~inception_calc.pytorch.counters`) and reconcile the two
by name (:mod:`~inception_calc.pytorch.reconcile`). An error names the parameter (``against``,
``depth``, ``input``); the command line shows its flag there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from inception_calc.core.engine import analyze
from inception_calc.core.errors import CalcError
from inception_calc.pytorch.reconcile import Reconciliation, reconcile
from inception_calc.core.network import Network

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn

AGAINST = ("built", "torchvision")
CHECK_DEPTHS = ("layer", "branch")


SHOWN_NAMES = 6


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN_NAMES])
    return shown + (f" and {len(names) - SHOWN_NAMES} more" if len(names) > SHOWN_NAMES else "")


def torchvision_counterpart(network: Network, torchvision_rows: tuple[str, ...]) -> None:
    """Raise CalcError unless ``network`` has a torchvision counterpart. The check joins rows by
    name, so the spec's Inception rows must be exactly torchvision googlenet's (inception3a ...
    inception5b: no more, no fewer), and its stem and classifier must be there (conv1, fc). googlenet,
    googlenet-torchvision and their variants keep those names; BN-Inception (an inception3c, no
    maxpool3/4) and other networks do not."""
    spec_rows = [row.name for row in network.rows if row.kind != "aux"]
    required = [name for name in torchvision_rows if name.startswith("inception") or name in ("conv1", "fc")]
    missing = [name for name in required if name not in spec_rows]
    extra = [name for row, name in zip((r for r in network.rows if r.kind != "aux"), spec_rows)
             if (row.kind == "inception" or name.startswith("inception")) and name not in torchvision_rows]
    if not missing and not extra:
        return
    parts = []
    if missing:
        parts.append(f"torchvision's googlenet row{'s' * (len(missing) != 1)} {_listed(missing)} "
                     f"{'are' if len(missing) != 1 else 'is'} not in the spec")
    if extra:
        parts.append(f"the spec's Inception row{'s' * (len(extra) != 1)} {_listed(extra)} "
                     f"{'are' if len(extra) != 1 else 'is'} not in torchvision's googlenet")
    raise CalcError(f"spec '{network.name}' has no torchvision counterpart: {' and '.join(parts)}, and "
                    f"a check against torchvision joins rows by name",
                    where="against",
                    fix="use a GoogLeNet spec (googlenet, googlenet-torchvision or a variant that keeps "
                        "their row names), or check against the built network ('built')")


def torchvision_input(input: tuple[int, int, int], model: "nn.Module") -> None:
    """Raise CalcError unless torchvision's googlenet can take ``input``: its conv1 is built for a
    fixed number of channels (3, RGB), whatever the spec's conv1 says."""
    channels = model.conv1.conv.in_channels
    if input[0] != channels:
        c, h, w = input
        raise CalcError(f"torchvision's googlenet takes {channels}-channel images (its conv1 is fixed at "
                        f"in_channels={channels}), and the input {c}x{h}x{w} has {c}",
                        where="input", fix=f"give a {channels}-channel input ({channels}x{h}x{w}, or {h}x{w}), "
                                            "or check the spec against the built network ('built')")


def check(spec: "Network | str", against: str = "built", input: "tuple[int, int, int] | str | int | None" = None,
          depth: str = "layer") -> Reconciliation:
    """Reconcile the analysis of ``spec`` at ``input`` with the real network, row by row
    (and branch by branch at ``depth`` "branch"). torch's global RNG state is the same afterwards
    (the weights are drawn inside ``torch.random.fork_rng``)."""
    if against not in AGAINST:
        raise CalcError(f"unknown network to check against: {against!r}", where="against",
                        fix=f"use one of {', '.join(AGAINST)}")
    if depth not in CHECK_DEPTHS:
        raise CalcError(f"unknown depth {depth!r}", where="depth", fix=f"use one of {', '.join(CHECK_DEPTHS)}")
    from inception_calc.pytorch.build import build, require_torch
    from inception_calc.pytorch.counters import count_module, require_fvcore, require_torchvision, torchvision_googlenet

    analysis = analyze(spec, input)
    torchvision = require_torchvision() if against == "torchvision" else None  # a missing package: before
    require_fvcore()                                                            # the slow imports of the rest
    torch = require_torch()
    with torch.random.fork_rng(devices=[]):  # building initialises weights: the caller's RNG stream is untouched
        if torchvision is not None:
            model = torchvision_googlenet()
            torchvision_counterpart(analysis.network, tuple(name for name, _ in model.named_children()))
            torchvision_input(analysis.input, model)
            source, versions = "torchvision googlenet", {"torchvision": torchvision.__version__.split("+")[0]}
        else:
            model = build(analysis.network, analysis.input)
            source, versions = f"built {analysis.spec}", {}
        try:
            counts = count_module(model, analysis.input, source, versions)
        except RuntimeError as exc:  # a spec the builder let through but torch refuses: one line, no traceback
            c, h, w = analysis.input
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            fix = ("torchvision's network is fixed whatever the spec says: try the spec's own input, or check "
                   "against the built network ('built')"
                   if torchvision is not None else "check the spec's layers")
            raise CalcError(f"the {source} network failed to run on a {c}x{h}x{w} input: {reason}",
                            where=analysis.spec, fix=f"{fix}; --debug shows the traceback") from exc

    return reconcile(analysis, counts, depth)
