"""The standard-library analytic core: written values, formulas, layer kinds, the network model, spec
files, variants, the engine, results and derivations (docs/architecture.md)."""
