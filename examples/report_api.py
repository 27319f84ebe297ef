"""The Python API of inception_calc: analyse a network, read rows by name, export the results.

    python examples/report_api.py            # after pip install -e . (or with PYTHONPATH=src)
"""

from __future__ import annotations

import json
from pathlib import Path

from inception_calc import analyze, load_file

# 1. Analyse the built-in GoogLeNet at its default input, 3x224x224. The result is frozen.
a = analyze("googlenet")
print(f"{a.spec} at {a.input}: {a.totals.inference.weights:,} weights, {a.totals.inference.macs:,} MACs "
      f"(training, with the auxiliary heads: {a.totals.training.params:,} params)")

# 2. Index rows, branches and layers by their dotted names; shapes are (C, H, W).
row = a["inception3a"]
print(f"{row.name}: {row.in_shape} -> {row.out_shape}, {row.weights:,} weights, {row.macs:,} MACs")
for branch in row.children:
    layers = " + ".join(f"{layer.weights:,}" for layer in branch.children if layer.weights)
    print(f"  {branch.name:20} {branch.summary:22} weights {layers} = {branch.weights:,}")
print("the 3x3 of branch 2:", a["inception3a.branch2.1"].summary, a["inception3a.branch2.1"].weights)

# 3. The heaviest rows by MACs, from the rows themselves.
main_rows = [r for r in a.rows if not r.aux]
for r in sorted(main_rows, key=lambda r: r.macs, reverse=True)[:3]:
    print(f"  {r.name:12} {r.macs / a.totals.inference.macs:6.1%} of the MACs")

# 4. Any input size: an int, "HxW", "CxHxW" or a tuple.
for size in (224, "3x299x299", (3, 300, 250)):
    other = analyze("googlenet", size)
    print(f"  at {size!s:>13}: {other.totals.inference.macs / 1e9:.3f} GMACs, fc has {other['fc'].weights:,} weights")

# 5. A pandas DataFrame (pandas is imported only here), one line per node down to a depth.
df = a.to_dataframe(depth="branch")
print(df.loc[["inception3a", "inception3a.branch2"], ["out_shape", "weights", "params", "macs"]])
print("DataFrame weights of the rows add up:", df[df["level"] == "layer"]["weights"].sum() == a.totals.inference.weights)

# 6. JSON: the documented contract (docs/json.md), exact integers.
data = json.loads(a.to_json(depth="branch"))
row3a = next(r for r in data["rows"] if r["name"] == "inception3a")
print("JSON keys:", list(data), "| inception3a branches:", [b["name"] for b in row3a["branches"]])

# 7. A user's own spec file works the same way.
custom = analyze(load_file(Path(__file__).with_name("custom_spec.toml")))
print(f"{custom.spec}: {custom.totals.inference.params:,} params, {custom.totals.inference.macs:,} MACs")
