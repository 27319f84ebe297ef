"""Studies over analyses: compare, sweep, claims and the paper's Table 1 (standard library only)."""
