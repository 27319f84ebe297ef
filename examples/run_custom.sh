#!/usr/bin/env bash
# Report a user's own spec (examples/custom_spec.toml) in each form the CLI offers.
# Runs from an install (pip install -e .) or straight from a checkout: src/ is put on PYTHONPATH.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PYTHONPATH="$root/src${PYTHONPATH:+:$PYTHONPATH}"
spec="$root/examples/custom_spec.toml"
calc() { python -m inception_calc "$@"; }

echo "== the per-layer table, with each Inception row's branches"
calc report "$spec" --depth branch

echo; echo "== the same network at 96x96 (every size and count follows the input), as CSV"
calc report "$spec" --input 96 --format csv

echo; echo "== one branch derived step by step"
calc explain inception_b.branch3 --spec "$spec"

echo; echo "== the totals from the JSON form (exact integers)"
calc report "$spec" --format json | python -c 'import json, sys; print(json.load(sys.stdin)["totals"]["inference"])'
