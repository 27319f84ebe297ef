#!/usr/bin/env bash
# The prepared GPU check of `inception-calc bench` (docs/bench.md): torchvision's googlenet and the
# spec-built one, batch 1, 64 and 256, fp32 / tf32 / bf16, eager, channels_last, CUDA graphs and
# torch.compile; the per-layer roofline of each model's fastest eager config; the measured
# ceilings (--calibrate); then a short summary table, printed last.
#
#   bash benchmarks/gpu_check.sh [RESULTS_DIR [EXPORT_DIR]]
#
# RESULTS_DIR (default ./gpu_results) receives every step's JSON, CSV, PNG and log, summary.md,
# summary.json and all_results.tar.gz. EXPORT_DIR, when given, receives copies of the summary,
# the tarball and the two roofline plots only (5 files), for a place that takes few files back.
#
# Installs nothing: it needs what the README installs (torch, torchvision; matplotlib for the
# plots; never fvcore). It runs from the repository root or anywhere; it puts the checkout on PYTHONPATH
# so that it works with or without `pip install -e .`.
#
# Budget: every step runs under `timeout`, and a step starts only while the budget (BUDGET
# seconds, default 280) has at least 20 s left; it then gets at most what is left, so the whole
# script ends within about BUDGET + 15 s. On one H200 expect 3 to 5 minutes, torch.compile being
# the largest part; the steps run in order of importance, so a short budget cuts the extras.
#
# DEVICE=cpu runs the same steps on the CPU with tiny settings (a dry run of this script's logic,
# about a minute on 2 cores): batches 1,2, fp32 (and bf16, which the CPU build may refuse for
# LRN), no tf32, no CUDA graphs, no compile unless COMPILE=1 (then about 2 minutes more), one
# torch thread unless OMP_NUM_THREADS says otherwise.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
RESULTS=${1:-./gpu_results}
EXPORT=${2:-}
DEVICE=${DEVICE:-cuda}
PY=${PYTHON:-python3}
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1

if [ "$DEVICE" = cpu ]; then
    # one torch thread: on a shared machine two OpenMP threads stall at every barrier while a
    # neighbour holds a core (medians seen to swing from 40 ms to 2 s); one thread just runs slower
    export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
    BUDGET=${BUDGET:-100}
    BATCHES=1,2
    BIG=2
    MID=2
    DTYPES=fp32,bf16
    NHWC_DTYPES=fp32
    FAST=(--iters 1 --warmup 1 --repeats 3)
    COMPILE=${COMPILE:-0}
else
    BUDGET=${BUDGET:-280}
    BATCHES=1,64,256
    BIG=256
    MID=64,256
    DTYPES=fp32,tf32,bf16
    NHWC_DTYPES=tf32,bf16
    FAST=()
    COMPILE=${COMPILE:-1}
fi

mkdir -p "$RESULTS" || { echo "cannot create $RESULTS"; exit 2; }
RESULTS=$(cd "$RESULTS" && pwd)
STEPS="$RESULTS/steps.txt"
: > "$STEPS"
START=$(date +%s)

elapsed() { echo $(( $(date +%s) - START )); }
log() { echo "[$(elapsed)s] $*"; }

# run_step NAME LIMIT_S COMMAND...: COMMAND under timeout, its output in RESULTS/NAME.log; skipped
# when the budget is nearly spent, and given at most what is left of it.
run_step() {
    local name=$1 limit=$2
    shift 2
    local left=$(( BUDGET - $(elapsed) ))
    if [ "$left" -lt 20 ]; then
        log "SKIP $name: ${left}s of the ${BUDGET}s budget left"
        echo "$name skipped budget" >> "$STEPS"
        return
    fi
    [ "$limit" -gt "$left" ] && limit=$left
    log "START $name (limit ${limit}s)"
    local t0
    t0=$(date +%s)
    timeout --kill-after=10 "$limit" "$@" > "$RESULTS/$name.log" 2>&1
    local rc=$?
    local took=$(( $(date +%s) - t0 ))
    echo "$name $rc ${took}s" >> "$STEPS"
    if [ "$rc" -eq 0 ]; then
        log "END $name: ok in ${took}s"
    else
        log "END $name: exit $rc after ${took}s$( [ "$rc" -eq 124 ] && echo ' (timed out)'); last lines of its log:"
        tail -n 3 "$RESULTS/$name.log" | sed 's/^/    /'
    fi
}

# step NAME LIMIT_S ARGS...: one `inception-calc bench ARGS` step, its table, JSON and CSV saved as
# RESULTS/NAME.txt, .json, .csv (progress and errors in NAME.log).
step() {
    local name=$1 limit=$2
    shift 2
    run_step "$name" "$limit" "$PY" -m inception_calc bench "$@" --device "$DEVICE" --progress \
        --save-json "$RESULTS/$name.json" --save-csv "$RESULTS/$name.csv" --output "$RESULTS/$name.txt"
}

log "gpu_check: DEVICE=$DEVICE, results in $RESULTS, budget ${BUDGET}s"
"$PY" - <<'EOF' 2>&1 | tee "$RESULTS/environment.txt"
import platform, torch, torchvision
print(f"python {platform.python_version()}, torch {torch.__version__}, torchvision {torchvision.__version__}, "
      f"CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}")
if torch.cuda.is_available():
    print(f"device: {torch.cuda.get_device_name(0)}, capability {torch.cuda.get_device_capability(0)}")
for name in ("fvcore", "matplotlib", "triton"):
    try:
        __import__(name)
        print(f"{name}: installed")
    except ImportError:
        print(f"{name}: not installed")
EOF
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,clocks.sm,clocks.mem,temperature.gpu,power.draw \
    --format=csv,noheader 2>&1 | sed 's/^/nvidia-smi: /' | tee -a "$RESULTS/environment.txt"

TV=googlenet-torchvision
if "$PY" -c "import sys; from inception_calc.core.sources import builtin_names; sys.exit('$TV' not in builtin_names())"; then
    MODELS=(tv spec)
else
    log "NOTE: the built-in spec $TV is not in this tree (not merged yet): torchvision steps skipped"
    echo "tv-* skipped no-spec" >> "$STEPS"
    MODELS=(spec)
fi
spec_of() { [ "$1" = tv ] && echo "$TV" || echo googlenet; }

# Steps in order of what the check must show, so that the budget cuts the extras last:
# ceilings, eager sweeps, per-layer rooflines, compiled at the large batch, then CUDA graphs and
# compiled at batch 64. One process per step: a step that times out loses only itself.

# 1. measured ceilings (matrix product per dtype, device copy), with one batch-1 run per dtype
step calibrate 60 googlenet --calibrate --dtype "$DTYPES" --batch 1 --no-layers ${FAST[@]+"${FAST[@]}"}

# 2. eager sweeps: NCHW every batch x dtype; channels_last (NHWC) the tensor-core dtypes
for m in "${MODELS[@]}"; do
    step "$m-eager-nchw" 75 "$(spec_of "$m")" --batch "$BATCHES" --dtype "$DTYPES" --no-layers ${FAST[@]+"${FAST[@]}"}
    step "$m-eager-nhwc" 60 "$(spec_of "$m")" --batch "$MID" --dtype "$NHWC_DTYPES" --channels-last --no-layers \
        ${FAST[@]+"${FAST[@]}"}
done

# 2b. the training step (bench --train: forward + backward + SGD momentum, aux losses x 0.3) of
#     torchvision's googlenet, bf16 channels_last at the largest batch, eager then compiled: step time,
#     images/s, TFLOP/s from the analytic forward + backward MACs, measured CUDA peak memory beside the
#     estimate (error %). Saved as RESULTS/NAME.txt and NAME.train-json (not *.json: gpu_summary.py
#     reads those as forward sweeps).
TDTYPE=bf16
[ "$DEVICE" = cpu ] && TDTYPE=fp32
train_step() {
    local name=$1 limit=$2
    shift 2
    run_step "$name" "$limit" "$PY" -m inception_calc bench "$(spec_of "${MODELS[0]}")" --train --device "$DEVICE" \
        --batch "$BIG" --dtype "$TDTYPE" --channels-last "$@" --format json --output "$RESULTS/$name.train-json"
}
train_step train-eager 60 ${FAST[@]+"${FAST[@]}"}
[ "$COMPILE" = 1 ] && train_step train-compiled 150 --compile ${FAST[@]+"${FAST[@]}"}

# 3. per-layer breakdown (every Inception branch) and roofline plot of each model's fastest eager
#    config, against ceilings measured in the same process (--calibrate: one matrix product, one copy)
for m in "${MODELS[@]}"; do
    best=$("$PY" "$HERE/gpu_summary.py" best "$RESULTS" "$([ "$m" = tv ] && echo torchvision || echo spec)")
    if [ -z "$best" ]; then
        log "SKIP $m-layers: no finished eager run to pick the best config from"
        continue
    fi
    # shellcheck disable=SC2086  # $best is a list of flags
    step "$m-layers" 60 "$(spec_of "$m")" $best --depth branch --calibrate --plot "$RESULTS/$m-roofline.png" \
        ${FAST[@]+"${FAST[@]}"}
done

# 4. torch.compile, bf16 channels_last at the largest batch (compile time reported apart)
CDTYPE=bf16
[ "$DEVICE" = cpu ] && CDTYPE=fp32
if [ "$COMPILE" = 1 ]; then
    for m in "${MODELS[@]}"; do
        step "$m-compiled-$BIG" 120 "$(spec_of "$m")" --batch "$BIG" --dtype "$CDTYPE" --channels-last --compile \
            --no-layers ${FAST[@]+"${FAST[@]}"}
    done
else
    log "SKIP compile steps (COMPILE=$COMPILE)"
fi

# 5. extras while the budget lasts: CUDA graphs (launch gaps out of the figures) at batch 1 and
#    64; the test suite's CUDA tests (out of memory at one batch, graphs, calibration; they assert
#    no time); torchvision's compiled forward at batch 64
if [ "$DEVICE" = cuda ]; then
    for m in "${MODELS[@]}"; do
        step "$m-graphs" 40 "$(spec_of "$m")" --batch 1,64 --dtype bf16 --channels-last --cuda-graphs --no-layers
    done
    run_step cuda-tests 60 "$PY" -m pytest -q -p no:cacheprovider "$REPO/tests/test_bench.py" -k "cuda or out_of_memory"
    [ "$COMPILE" = 1 ] && [ "${MODELS[0]}" = tv ] && step tv-compiled-64 90 "$TV" --batch 64 --dtype bf16 \
        --channels-last --compile --no-layers
fi

# 6. summary (printed last) and one tarball of everything
"$PY" "$HERE/gpu_summary.py" summary "$RESULTS" > "$RESULTS/summary.stdout" 2>&1
rc=$?
( cd "$RESULTS" && tar czf all_results.tar.gz --exclude=all_results.tar.gz ./*.json ./*.train-json ./*.csv ./*.txt ./*.log \
    ./*.md ./*.png ./summary.stdout 2>/dev/null )
if [ -n "$EXPORT" ]; then
    mkdir -p "$EXPORT" && cp -f "$RESULTS/summary.md" "$RESULTS/summary.json" "$RESULTS/all_results.tar.gz" \
        "$RESULTS"/*-roofline.png "$EXPORT"/ 2>/dev/null
    log "copied the summary, the tarball and the plots to $EXPORT"
fi
log "steps (name exit time): $(tr '\n' ';' < "$STEPS")"
log "done in $(elapsed)s; results in $RESULTS"
echo
cat "$RESULTS/summary.stdout"
exit "$rc"
