"""The standard-library analytic core: written values, formulas, layer kinds, the network model, spec
files, variants, the engine, results and derivations (docs/architecture.md)."""

VERSION = "0.1.0"
"""The package's version (``inception_calc.__version__``, ``inception-calc --version``): one home, below every layer."""
