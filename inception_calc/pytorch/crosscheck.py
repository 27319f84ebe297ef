"""Cross-check a spec's analysis with a real network: the built one, or the torchvision or timm model it reproduces.

``check(spec, against, input, depth, aux)`` is what ``inception-calc check`` runs: analyse the spec,
build or fetch the real network, count it (:mod:`~inception_calc.pytorch.counters`) and reconcile the two
by name (:mod:`~inception_calc.pytorch.reconcile`). An error names the parameter (``against``,
``depth``, ``input``); the command line shows its flag there.

The real network of ``against = "torchvision"`` or ``"timm"`` is the one the spec's ``reference``
names (``timm:inception_v4``, ``torchvision:inception_v3``), built with no weights, with the spec's
class count when it is not 1000; a spec with no reference is checked against torchvision's
``googlenet`` (GoogLeNet specs keep its row names), and a spec whose reference names another library
is an error.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from inception_calc.core.engine import analyze
from inception_calc.core.errors import CalcError
from inception_calc.pytorch.reconcile import Reconciliation, reconcile
from inception_calc.core.network import Network
from inception_calc.core.sources import load_spec

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn

AGAINST = ("built", "torchvision", "timm")
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


def reference_of(network: Network, library: str) -> str | None:
    """The model name of ``network``'s ``reference`` when it names ``library`` ("timm:inception_v4" ->
    "inception_v4"), else None."""
    lib, _, model = network.reference.partition(":")
    return model if lib == library and model else None


def classes_of(network: Network) -> int | None:
    """The output features of the spec's last main linear layer (its class count), or None."""
    from inception_calc.core.kinds import Linear

    for row in reversed(network.main_rows):
        linear = [layer for _, layer in row.named_layers() if isinstance(layer, Linear)]
        if linear:
            return linear[-1].out
    return None


def first_conv_channels(model: "nn.Module") -> int | None:
    from torch import nn

    return next((m.in_channels for m in model.modules() if isinstance(m, nn.Conv2d)), None)


def reference_input(input: tuple[int, int, int], model: "nn.Module", label: str) -> None:
    """Raise CalcError unless ``model`` (``label``: "timm inception_v4") takes ``input``'s channels."""
    channels = first_conv_channels(model)
    if channels is not None and input[0] != channels:
        c, h, w = input
        raise CalcError(f"{label} takes {channels}-channel images (its first conv has in_channels={channels}), "
                        f"and the input {c}x{h}x{w} has {c}", where="input",
                        fix=f"give a {channels}-channel input ({channels}x{h}x{w}, or {h}x{w}), "
                            "or check the spec against the built network ('built')")


def no_reference(network: Network, library: str) -> CalcError:
    have = f" (it reproduces {network.reference})" if network.reference else ""
    return CalcError(f"spec '{network.name}' names no {library} model to check against{have}", where="against",
                     fix=f'give the spec a top-level reference = "{library}:MODEL" naming the model it reproduces '
                         "name for name, or check against the built network ('built')")


def reference_model(network: Network, against: str, aux: bool) -> tuple["nn.Module", str, dict[str, str]]:
    """The real network a spec's ``reference`` names in library ``against``, with no weights (nothing
    is downloaded), its class count the spec's, its auxiliary head only when ``aux`` and the spec has
    one; its source label and the library's version. torchvision's googlenet is built by
    :func:`~inception_calc.pytorch.counters.torchvision_googlenet` (the spec's row names checked)."""
    from inception_calc.pytorch.counters import require_timm, require_torchvision, torchvision_googlenet

    classes = classes_of(network)
    extra = {"num_classes": classes} if classes and classes != 1000 else {}
    if against == "timm":
        name = reference_of(network, "timm")
        if name is None:
            raise no_reference(network, "timm")
        timm = require_timm()
        try:
            model = timm.create_model(name, pretrained=False, **extra)
        except (RuntimeError, ValueError, KeyError) as exc:  # timm: "Unknown model (NAME)"
            raise CalcError(f"timm {timm.__version__} has no model '{name}': {str(exc).strip().splitlines()[0]}",
                            where=f"{network.name}, field 'reference'", fix="name a model of timm.list_models()") from None
        return model, f"timm {name}", {"timm": timm.__version__}
    torchvision = require_torchvision()
    name = reference_of(network, "torchvision") or "googlenet"
    version = {"torchvision": torchvision.__version__.split("+")[0]}
    with_aux = aux and bool(network.aux_rows)
    if name == "googlenet":
        model = torchvision_googlenet(aux_logits=aux, **extra)
        return model, "torchvision googlenet", version
    builder = getattr(torchvision.models, name, None)
    if builder is None or not callable(builder):
        raise CalcError(f"torchvision {version['torchvision']} has no model '{name}'",
                        where=f"{network.name}, field 'reference'",
                        fix="name a model of torchvision.models.list_models()")
    options = {"init_weights": False} if name in ("inception_v3", "googlenet") else {}
    if name == "inception_v3":
        options["aux_logits"] = with_aux
    return builder(weights=None, **options, **extra), f"torchvision {name}", version


def check(spec: "Network | str", against: str = "built", input: "tuple[int, int, int] | str | int | None" = None,
          depth: str = "layer", aux: bool = True, counters: "str | tuple[str, ...]" = ()) -> Reconciliation:
    """Reconcile the analysis of ``spec`` at ``input`` with the real network, row by row
    (and branch by branch at ``depth`` "branch"): the built one, or the torchvision or timm model its
    ``reference`` names (a spec with no torchvision reference is checked against torchvision's googlenet,
    whose row names it must have). ``aux`` False leaves the auxiliary heads out on both sides, as
    does an input at which a head does not fit (it runs only in training, where torch refuses that input).
    torch's global RNG state is the same afterwards (the weights are drawn inside ``torch.random.fork_rng``).

    ``counters`` ("fvcore,thop" or a tuple of names of :data:`~inception_calc.pytorch.tool_counts.COUNTERS`):
    run those tools too on the same real network, in eval mode, and reconcile each one with its
    convention (:mod:`~inception_calc.pytorch.counter_check`), in ``Reconciliation.counters``."""
    if against not in AGAINST:
        raise CalcError(f"unknown network to check against: {against!r}", where="against",
                        fix=f"use one of {', '.join(AGAINST)}")
    if depth not in CHECK_DEPTHS:
        raise CalcError(f"unknown depth {depth!r}", where="depth", fix=f"use one of {', '.join(CHECK_DEPTHS)}")
    from inception_calc.pytorch.build import build, require_buildable, require_torch
    from inception_calc.pytorch.counters import count_module, require_fvcore, require_timm, require_torchvision
    from inception_calc.pytorch.tool_counts import count_tools, counter_names, require_counter

    tools = counter_names(counters) if counters else ()
    network = load_spec(spec)
    if not aux and network.aux_rows:
        network = replace(network, rows=network.main_rows)
    analysis = analyze(network, input)
    if aux and analysis.left_out:  # a head that does not fit at this input runs in no forward here (torchvision's
        aux = False                # training forward fails): both sides without the heads, as with aux False
        network = replace(network, rows=network.main_rows)
        analysis = analyze(network, input)
    require_buildable(analysis)  # before torch is imported
    if against == "timm" and reference_of(network, "timm") is None:
        raise no_reference(network, "timm")
    if against == "torchvision" and network.reference and reference_of(network, "torchvision") is None:
        raise no_reference(network, "torchvision")  # a spec of another library's model (no reference: googlenet)
    if against == "torchvision":  # a missing package: before the slow imports of the rest
        require_torchvision()
    elif against == "timm":
        require_timm()
    require_fvcore()
    for name in tools:
        require_counter(name)
    if against == "built":
        from inception_calc.pytorch.memory import require_memory

        require_memory(analysis, where=analysis.spec)  # before torch allocates the weights
    torch = require_torch()
    googlenet = against == "torchvision" and reference_of(network, "torchvision") in (None, "googlenet")
    with torch.random.fork_rng(devices=[]):  # building initialises weights: the caller's RNG stream is untouched
        if against == "built":
            model = build(analysis.network, analysis.input)
            source, versions = f"built {analysis.spec}", {}
        else:
            model, source, versions = reference_model(analysis.network, against, aux)
            if googlenet:
                torchvision_counterpart(analysis.network, tuple(name for name, _ in model.named_children()))
                torchvision_input(analysis.input, model)
            else:
                reference_input(analysis.input, model, source)
        try:
            counts = count_module(model, analysis.input, source, versions)
            tool_counts = count_tools(model, analysis.input, tools) if tools else ()
        except RuntimeError as exc:  # a spec the builder let through but torch refuses: one line, no traceback
            c, h, w = analysis.input
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            fix = (f"{source}'s network is fixed whatever the spec says: try the spec's own input, or check "
                   "against the built network ('built')"
                   if against != "built" else "check the spec's layers")
            if googlenet:
                fix = ("torchvision's network is fixed whatever the spec says: try the spec's own input, or check "
                       "against the built network ('built')")
            if isinstance(exc, RecursionError):  # torch's forward and its hooks nest a Python call per module
                reason = "its blocks nest deeper than Python's recursion limit lets torch call them"
                fix = "nest fewer blocks inside one another (the analysis itself, report and explain, still runs)"
            raise CalcError(f"the {source} network failed to run on a {c}x{h}x{w} input: {reason}",
                            where=analysis.spec, fix=f"{fix}; --debug shows the traceback") from exc

    result = reconcile(analysis, counts, depth)
    if tools:
        from inception_calc.pytorch.counter_check import check_counters

        result = replace(result, counters=check_counters(analysis, tool_counts, depth))
    return result
