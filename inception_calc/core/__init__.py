"""The standard-library analytic core: written values, formulas, the network model, spec files, variants, the engine, results and derivations."""
