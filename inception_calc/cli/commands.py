"""The CLI's subcommands, one module each, in the order ``--help`` lists them.

Each module has ``HELP`` (its line of :data:`COMMANDS`), ``add_arguments(parser)`` and ``run(args) -> int``, and
imports nothing heavy at module level (torch, pandas and fvcore are imported inside ``run``), so
that ``inception-calc report`` starts fast. A module may have ``FLAGS``, ``{parameter: flag}``: the
library errors located at a parameter of the command's call are shown at the flag that gave it
(``common.flag_errors``; ``common.FLAGS`` holds those every command shares).
"""

COMMANDS = {
    "report": "per-layer (and per-branch) output sizes, weights, params and MACs of a network",
    "explain": "derive a row's (or branch's, or layer's) size, weights and MACs step by step",
    "check": "count the real PyTorch network (built, torchvision's or timm's: fvcore, FlopCounterMode, numel) and reconcile it with the analysis",
    "bench": "time forward passes on a GPU (or the CPU) and set them beside the analytic FLOPs, per layer and roofline",
    "compare": "compare networks (or variants: googlenet googlenet:naive) row by row against the first",
    "sweep": "totals (weights, params, MACs, activations) for each square input size in a range",
    "verify": "check hand-computed claims (shapes, weights, params, MACs, FLOPs) and show each derivation",
    "conventions": "every counter's total for a network (fvcore, FlopCounterMode, ptflops, thop, torchinfo...) and the terms that make it up",
    "paper-table": "Table 1 of the GoogLeNet paper beside the computed sizes, params and ops, each figure judged",
    "export-spec": "write the spec file (TOML, commented) of a spec, variant or file; it loads back to the same analysis",
    "specs": "list the built-in specs with a one-line description and their source",
}
"""Each command and its one-line help, in the order ``--help`` lists them. The help lives here, not in
the command's module, so that the parser imports only the module of the command being run."""
