"""inception-calc bench: the CPU path at a tiny batch (no figure typed in, no time asserted beyond
"positive"), its bad inputs, and the GPU path where CUDA is present (skipped cleanly without it).

The CPU timings run with one torch thread: this test machine is shared, and with one thread a
busy neighbour slows every sample alike instead of stalling a thread pool.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from inception_calc import analyze, builtin_names  # noqa: E402
from inception_calc.bench.run import (  # noqa: E402
    TORCHVISION_MODELS, Settings, bench, calibrate, precision,
)
from inception_calc.report.bench import CSV_COLUMNS, plot_roofline, to_csv, to_json, to_table  # noqa: E402
from inception_calc.pytorch.build import build  # noqa: E402
from inception_calc.cli.main import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT  # the folder holding inception_calc/
CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not CUDA, reason="needs a CUDA device")
TINY = dict(device="cpu", batches=(1,), iters=1, warmup=1, repeats=5)


@pytest.fixture(scope="module")
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def cpu_result(one_thread):
    """googlenet at 3x224x224, batch 1, fp32 on the CPU, every row and branch timed."""
    return bench("googlenet", None, Settings(**TINY, depth="branch"))


def _flop_counter_macs(module, shape) -> int:
    """MACs of conv and linear layers as torch.utils.flop_counter counts them (2 x MACs): an
    independent count, from the real module, of what the analysis says."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        module.eval()(torch.randn(1, *shape))
    return counter.get_total_flops() // 2


def _children(module) -> list[str]:
    return [name for name, _ in module.named_children() if not name.startswith("aux")]


# ----------------------------------------------------------------------------- the CPU path


def test_times_are_positive(cpu_result):
    (run,) = cpu_result.runs
    assert run.status == "ok" and run.error == ""
    assert run.timing.median_ms > 0 and run.timing.p10_ms <= run.timing.median_ms <= run.timing.p90_ms
    assert len(run.timing.samples_ms) == 5 and all(t > 0 for t in run.timing.samples_ms)
    assert all(layer.median_ms > 0 for layer in run.layers)


def test_achieved_flops_are_two_macs_times_images_over_time(cpu_result):
    macs = _flop_counter_macs(build("googlenet"), (3, 224, 224))
    assert macs == cpu_result.macs_per_image == analyze("googlenet").totals.inference.macs
    (run,) = cpu_result.runs
    seconds = run.median_ms / 1e3
    # achieved TFLOP/s = 2 x MACs x images / time / 1e12; images/s = images / time
    assert run.achieved_tflops == pytest.approx(2 * macs * run.batch / seconds / 1e12, rel=1e-12)
    assert run.images_per_s == pytest.approx(run.batch / seconds, rel=1e-12)
    assert run.fraction_of_peak is None  # a CPU's peak is unknown without --calibrate
    for layer in run.layers:
        assert layer.achieved_tflops == pytest.approx(layer.flops / (layer.median_ms / 1e3) / 1e12, rel=1e-12)


def test_every_row_and_branch_is_timed_and_joined_by_name(cpu_result):
    module = build("googlenet")
    rows = _children(module)  # conv1, maxpool1, lrn1, conv2, ... fc: the module's own names
    expected = []
    for row in rows:
        expected.append(row)
        if row.startswith("inception"):
            expected += [f"{row}.{branch}" for branch in _children(getattr(module, row))]
    (run,) = cpu_result.runs
    assert [layer.name for layer in run.layers] == expected
    assert len(expected) == 20 + 9 * 4  # 20 main rows, 9 Inception rows of 4 branches
    levels = {layer.name: layer.level for layer in run.layers}
    assert levels["inception3a"] == "layer" and levels["inception3a.branch2"] == "branch"


def test_layer_costs_are_the_analysis_rows(cpu_result):
    (run,) = cpu_result.runs
    layers = {layer.name: layer for layer in run.layers}
    a3 = layers["inception3a"]
    assert a3.flops == 256_098_304  # 2 x 128,049,152 MACs (the seed article's Inception(3a)) x batch 1
    assert a3.bytes == 2_059_712  # (1 x (28*28*192 + 28*28*256) + 163,696 params) x 4 bytes
    assert a3.intensity == pytest.approx(256_098_304 / 2_059_712, rel=1e-12)
    assert layers["maxpool1"].flops == 0 and layers["maxpool1"].achieved_tflops == 0
    assert a3.bound_tflops is None and a3.fraction_of_bound is None  # no ceilings on the CPU
    rows = [layer for layer in run.layers if layer.level == "layer"]
    assert sum(layer.share for layer in rows) == pytest.approx(1.0, rel=1e-12)
    assert run.layer_sum_ms == pytest.approx(sum(layer.median_ms for layer in rows), rel=1e-12)


# Whether the rows' times add up to the whole forward within SUM_TOLERANCE is a timing: a benchmark
# figure (python benchmarks/bench_rows_sum.py), not an assertion. What a test can fix is the arithmetic:
# layer_sum_ms is the rows' medians added up (test_layer_costs_are_the_analysis_rows).


def test_json_holds_the_contract_keys(cpu_result):
    data = json.loads(to_json(cpu_result))
    assert {"spec", "input", "device", "peak", "runs"} <= set(data)
    assert data["spec"] == "googlenet" and data["input"] == [3, 224, 224] and data["device"]["type"] == "cpu"
    assert data["peak"]["source"].startswith("unknown")
    (run,) = data["runs"]
    assert {"batch", "dtype", "median_ms", "images_per_s", "achieved_tflops", "p10_ms", "p90_ms", "channels_last",
            "compiled", "cuda_graphs", "fraction_of_peak", "layers"} <= set(run)
    assert (run["batch"], run["dtype"], run["channels_last"], run["compiled"], run["cuda_graphs"]) == \
        (1, "fp32", False, False, False)
    for layer in run["layers"]:
        assert {"name", "median_ms", "share", "achieved_tflops", "intensity", "bound_tflops",
                "fraction_of_bound"} <= set(layer)


def test_csv_has_a_line_per_run_and_per_layer(cpu_result):
    lines = to_csv(cpu_result).splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS)
    (run,) = cpu_result.runs
    assert len(lines) == 1 + 1 + len(run.layers)
    forward = dict(zip(CSV_COLUMNS, lines[1].split(",")))
    assert forward["name"] == "forward" and float(forward["median_ms"]) == run.median_ms


def test_table_states_the_method(cpu_result):
    text = to_table(cpu_result)
    assert "fp32 = IEEE fp32: TF32 off for matmul and cuDNN convolutions" in text
    assert "rows add up to" in text and "inception3a.branch2" in text
    assert "perf_counter" in text


def test_roofline_plot_is_a_png(cpu_result, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "roofline.png"
    plot_roofline(cpu_result, str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_roofline_plot_leaves_the_callers_matplotlib_backend_alone(cpu_result, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    own = matplotlib.get_backend()
    matplotlib.use("svg")  # a caller's backend, not the Agg the plot draws on
    try:
        plot_roofline(cpu_result, str(tmp_path / "roofline.png"))
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(own)


def test_bench_leaves_torchs_random_state_alone(one_thread):
    torch.manual_seed(1234)
    before = torch.get_rng_state()
    result = bench("googlenet", None, Settings(**{**TINY, "repeats": 1}, layers=False, calibrate=True))
    assert result.runs[0].status == "ok"
    assert torch.equal(torch.get_rng_state(), before)  # randn inputs, weights, calibration matrices: a fork


def test_calibrate_on_the_cpu_gives_measured_ceilings(one_thread):
    ceilings = calibrate("cpu", ("fp32",), Settings(device="cpu", warmup=1, repeats=3))
    assert ceilings.source.startswith("calibrated: 1024x1024x1024")
    assert ceilings.peak("fp32") > 0 and ceilings.bandwidth_tbs > 0 and ceilings.peak("bf16") is None


def test_a_failing_run_is_reported_and_the_sweep_goes_on(one_thread):
    # The paper's googlenet has LRN layers; PyTorch's CPU kernels have had no bfloat16 LRN
    # (avg_pool3d) so far: that run fails, is reported, and the fp32 run after it still runs.
    result = bench("googlenet", None, Settings(**{**TINY, "repeats": 1}, dtypes=("bf16", "fp32"), layers=False))
    bf16, fp32 = result.runs
    if bf16.status == "ok":
        pytest.skip("this torch build runs bfloat16 LRN on the CPU: no failing run to observe")
    assert bf16.status == "failed" and "BFloat16" in bf16.error and bf16.timing is None
    assert fp32.status == "ok" and fp32.median_ms > 0


NEW_PRECISION_API = hasattr(torch.backends.cuda.matmul, "fp32_precision") and hasattr(
    getattr(torch.backends.cudnn, "conv", None), "fp32_precision")


def _tf32_state() -> tuple:
    """What precision() sets, read through the API it uses (reading the legacy flags after the
    new API was used would itself mix the two)."""
    if NEW_PRECISION_API:
        return torch.backends.cuda.matmul.fp32_precision, torch.backends.cudnn.conv.fp32_precision
    return torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32


def test_precision_sets_and_restores_the_tf32_flags():
    before = (*_tf32_state(), torch.backends.cudnn.benchmark)
    off, on = (("ieee", "ieee"), ("tf32", "tf32")) if NEW_PRECISION_API else ((False, False), (True, True))
    with precision("fp32"):
        assert _tf32_state() == off and torch.backends.cudnn.benchmark is True
    with precision("tf32"):
        assert _tf32_state() == on
    assert (*_tf32_state(), torch.backends.cudnn.benchmark) == before


PRECISION_STATE = """
import json, torch
from inception_calc.bench.timing import precision
def state():
    b = torch.backends
    try:
        matmul = torch.get_float32_matmul_precision()
    except RuntimeError as exc:
        matmul = "RuntimeError: " + str(exc)[:60]
    return [b.cuda.matmul.fp32_precision, b.cudnn.conv.fp32_precision, b.mkldnn.matmul.fp32_precision, matmul,
            b.cudnn.benchmark]
{setup}
before = state()
for dtype in ("fp32", "tf32", "bf16"):
    with precision(dtype):
        pass
print(json.dumps([before, state()]))
"""


@pytest.mark.skipif(not NEW_PRECISION_API, reason="this torch has only the legacy allow_tf32 flags")
@pytest.mark.parametrize("setup", [
    "",  # torch's defaults: matmul 'none' must stay 'none' (not become 'ieee')
    "torch.set_float32_matmul_precision('medium')",  # get_float32_matmul_precision() must not raise after
    "torch.backends.cuda.matmul.fp32_precision = 'tf32'",  # the new API: mixing in allow_tf32 raised RuntimeError
    "torch.backends.cudnn.conv.fp32_precision = 'ieee'; torch.backends.cudnn.benchmark = False",
])
def test_precision_puts_torchs_precision_state_back_exactly(setup):
    done = _python(PRECISION_STATE.format(setup=setup))
    assert done.returncode == 0, done.stderr
    before, after = json.loads(done.stdout)
    assert after == before


@pytest.mark.skipif("googlenet-torchvision" not in builtin_names(), reason="the googlenet-torchvision spec is not built in yet")
def test_torchvision_module_is_timed_against_its_spec(one_thread):
    tv = TORCHVISION_MODELS["googlenet-torchvision"]()
    result = bench("googlenet-torchvision", None, Settings(**{**TINY, "repeats": 1}, depth="branch"))
    assert result.module == "torchvision.models.googlenet"
    assert result.macs_per_image == _flop_counter_macs(tv, (3, 224, 224))
    expected = []
    for row in _children(tv):
        expected.append(row)
        if row.startswith("inception"):
            expected += [f"{row}.{branch}" for branch in _children(getattr(tv, row))]
    (run,) = result.runs
    assert run.status == "ok" and [layer.name for layer in run.layers] == expected


def test_torchvision_module_names_its_rows_as_torchvision_does():
    tv = TORCHVISION_MODELS["googlenet-torchvision"]()
    assert _children(tv)[:6] == ["conv1", "maxpool1", "conv2", "conv3", "maxpool2", "inception3a"]
    assert _children(tv.inception3a) == ["branch1", "branch2", "branch3", "branch4"]
    assert tv.aux1 is None and tv.transform_input is False  # aux_logits=False, weights=None


# ----------------------------------------------------------------------------- the command line


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["bench", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("args, message", [
    (["--device", "cpu", "--dtype", "fp64"], "--dtype: unknown data type 'fp64'; use one or more of fp32, tf32, bf16, fp16"),
    (["--device", "tpu"], "--device: unknown device 'tpu'; use 'cuda' or 'cpu'"),
    (["--device", "cpu", "--batch", "0"], "--batch: batch size 0 must be at least 1"),
    (["--device", "cpu", "--batch", "1,-4"], "--batch: batch size -4 must be at least 1"),
    (["--device", "cpu", "--batch", "x"], "--batch: cannot read batch size 'x'"),
    (["--device", "cpu", "--batch", "1,,2"], "--batch: cannot read batch size ''"),
    (["--device", "cpu", "--cuda-graphs"], "--cuda-graphs: CUDA graphs need a CUDA device"),
    (["--device", "cpu", "--dtype", "tf32"], "--dtype: tf32 is a CUDA tensor-core mode"),
    (["--device", "cpu", "--iters", "0"], "--iters: 0 must be an integer of at least 1"),
    (["--device", "cpu", "--repeats", "0"], "--repeats: 0 must be an integer of at least 1"),
    (["--device", "cpu", "--compile", "--cuda-graphs"], "--cuda-graphs: CUDA graphs need a CUDA device"),
    (["--device", "cpu", "--plot", "/no/such/folder/r.png"], "--plot /no/such/folder/r.png: the folder does not exist"),
    (["--device", "cpu", "--save-json", "/no/such/folder/r.json"], "--save-json /no/such/folder/r.json: the folder"),
    (["--device", "cpu", "--plot", "r.png", "--no-layers"], "--plot: the roofline plot needs per-layer times"),
    (["--device", "cpu", "--plot", "r.txt"], "--plot: 'r.txt' is not a .png, .svg or .pdf file; give a file name ending in .png"),
    (["no-such-spec", "--device", "cpu"], "unknown spec 'no-such-spec'"),
])
def test_bad_input_is_one_clear_line(capsys, args, message):
    code, out, err = _cli(capsys, *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("inception-calc bench: error: ") and message in err


@pytest.mark.skipif(CUDA, reason="CUDA is available here")
def test_no_cuda_names_the_cpu_path(capsys):
    code, out, err = _cli(capsys, "--device", "cuda")
    assert code == 2 and err.count("\n") == 1
    assert "--device: CUDA is not available here" in err and "time on the CPU ('cpu')" in err


@pytest.mark.parametrize("fields, where, what", [
    (dict(device="tpu"), "settings.device", "unknown device 'tpu'"),
    (dict(batches=()), "settings.batches", "no batch size given"),
    (dict(batches=(1, 0)), "settings.batches", "batch size 0 must be a positive integer"),
    (dict(dtypes=("fp64",)), "settings.dtypes", "unknown data type 'fp64'"),
    (dict(device="cpu", dtypes=("tf32",)), "settings.dtypes", "tf32 is a CUDA tensor-core mode"),
    (dict(device="cpu", cuda_graphs=True), "settings.cuda_graphs", "CUDA graphs need a CUDA device"),
    (dict(compile=True, cuda_graphs=True), "settings.cuda_graphs", "torch.compile and CUDA graphs cannot be combined"),
    (dict(iters=0), "settings.iters", "0 must be an integer of at least 1"),
    (dict(warmup=-1), "settings.warmup", "-1 must be an integer of at least 0"),
    (dict(repeats=0), "settings.repeats", "0 must be an integer of at least 1"),
    (dict(depth="conv"), "settings.depth", "unknown depth 'conv'"),
])
def test_library_errors_name_the_settings_field_not_a_flag(fields, where, what):
    from inception_calc.core.errors import CalcError

    with pytest.raises(CalcError) as caught:
        bench("googlenet", None, Settings(**fields))
    assert caught.value.where == where and caught.value.what.startswith(what)
    assert "--" not in caught.value.line()  # a Python caller is told of no flag


def test_parse_batches_and_dtypes_name_their_parameter():
    from inception_calc.bench.run import parse_batches, parse_dtypes
    from inception_calc.core.errors import CalcError

    with pytest.raises(CalcError, match=r"^batches: cannot read batch size 'x'"):
        parse_batches("1,x")
    with pytest.raises(CalcError, match=r"^dtypes: unknown data type 'fp64'"):
        parse_dtypes("fp32,fp64")
    assert parse_batches("1, 32,256") == (1, 32, 256) and parse_dtypes("FP32,bf16") == ("fp32", "bf16")


@pytest.mark.parametrize("flag", ["--save-json", "--save-csv", "--output"])
def test_a_file_that_cannot_be_written_after_the_timing_names_its_flag(capsys, tmp_path, flag, one_thread):
    # a folder where the file should go passes the check before the timing (its parent exists), and fails
    # when the results are written: the error names the flag that gave the file, not --output
    folder = tmp_path / "results"
    folder.mkdir()
    code, out, err = _cli(capsys, "--device", "cpu", "--no-layers", "--iters", "1", "--warmup", "0", "--repeats", "1",
                          flag, str(folder))
    assert code == 2 and err == f"inception-calc bench: error: {flag} {folder}: is a folder, not a file; give a file name in it\n"


def _python(code: str, env: dict | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment,
                          timeout=timeout, cwd=ROOT)


def test_compile_unavailable_is_one_clear_line():
    # Inductor compiles CPU kernels with the C++ compiler that CXX names: with none there,
    # torch.compile cannot run, and bench says so before timing anything.
    done = _python("import sys; from inception_calc.cli.main import main; "
                   "sys.exit(main(['bench', '--device', 'cpu', '--compile']))",
                   env={"CXX": "/no/such/c++"})
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "inception-calc bench: error: --compile: torch.compile on the CPU needs a C++ compiler, and none of "
        "/no/such/c++ was found; time without compiling, or install what it names")


def test_torchvision_missing_is_one_clear_line_before_any_timing():
    # a real interpreter in which importing torchvision fails, as it does where it is not installed;
    # --calibrate would time a matrix product first if the check came late
    done = _python("import sys; sys.modules['torchvision'] = None; from inception_calc.cli.main import main; "
                   "sys.exit(main(['bench', 'googlenet-torchvision', '--device', 'cpu', '--calibrate', "
                   "'--progress', '--no-layers', '--iters', '1', '--warmup', '0', '--repeats', '1']))")
    assert done.returncode == 2, done.stderr
    assert done.stderr == ("inception-calc bench: error: torchvision is not installed, and bench googlenet-torchvision "
                           "needs it; install the torch extra: pip install 'inception_calc[torch]'\n")


def test_plot_without_matplotlib_is_refused_before_any_timing():
    # a real interpreter in which importing matplotlib fails: one line, exit 2, and no run started
    done = _python("import sys; sys.modules['matplotlib'] = None; from inception_calc.cli.main import main; "
                   "sys.exit(main(['bench', '--device', 'cpu', '--progress', '--plot', 'r.png', '--iters', '1', "
                   "'--warmup', '0', '--repeats', '1']))")
    assert done.returncode == 2, done.stderr
    assert done.stderr == ("inception-calc bench: error: --plot: matplotlib is not installed; install the plot "
                           "extra: pip install 'inception_calc[plot]'\n")


def test_command_runs_end_to_end_without_fvcore_or_pandas():
    done = _python("import json, sys; from inception_calc.cli.main import main; "
                   "code = main(['bench', '--device', 'cpu', '--no-layers', '--iters', '1', '--warmup', '0', "
                   "'--repeats', '1', '--format', 'json']); "
                   "print(json.dumps(sorted(m for m in ('fvcore', 'pandas') if m in sys.modules)), file=sys.stderr); "
                   "sys.exit(code)")
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "[]"
    data = json.loads(done.stdout)
    assert data["runs"][0]["status"] == "ok" and data["runs"][0]["layers"] == []


# ----------------------------------------------------------------------------- benchmarks/


def test_gpu_summary_reads_bench_json(cpu_result, tmp_path):
    # a sweep step's file (whole forward only) and the per-layer step's file, as gpu_check.sh writes them
    sweep = bench("googlenet", None, Settings(**{**TINY, "repeats": 1}, layers=False))
    (tmp_path / "spec-eager-nchw.json").write_text(to_json(sweep), encoding="utf-8")
    (tmp_path / "spec-layers.json").write_text(to_json(cpu_result), encoding="utf-8")
    script = str(ROOT / "benchmarks" / "gpu_summary.py")
    best = subprocess.run([sys.executable, script, "best", str(tmp_path), "spec"], capture_output=True, text=True)
    assert best.returncode == 0 and best.stdout == "--batch 1 --dtype fp32\n"
    done = subprocess.run([sys.executable, script, "summary", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    (run,) = sweep.runs
    assert f"| spec | 1 | {run.images_per_s:,.0f} |" in done.stdout
    assert "per layer, spec batch 1 fp32 NCHW eager (spec-layers)" in done.stdout
    best = json.loads((tmp_path / "summary.json").read_text())["best"]["spec"]
    assert best["step"] == "spec-eager-nchw"
    # the per-layer run is at the best run's batch, dtype and layout, so its bound is the best run's; on the
    # CPU without --calibrate there are no ceilings, so no bound and no fraction
    assert best["bound_step"] == "spec-layers" and best["bound_ms"] is None and best["fraction_of_bound"] is None
    assert (tmp_path / "summary.md").read_text() == done.stdout


H200 = ROOT / "docs" / "gpu-h200"


def test_gpu_summary_regenerates_the_recorded_h200_summary(tmp_path):
    # the bench JSON files of the H200 run, summarised again: summary.md/json in docs/ are the script's output
    for path in (H200 / "json").glob("*.json"):
        shutil.copy(path, tmp_path / path.name)
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_summary.py"), "summary", str(tmp_path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "summary.md").read_text() == (H200 / "summary.md").read_text()
    assert (tmp_path / "summary.json").read_text() == (H200 / "summary.json").read_text()
    best = json.loads((tmp_path / "summary.json").read_text())["best"]

    def run(step: str) -> dict:
        (only,) = json.loads((H200 / "json" / f"{step}.json").read_text())["runs"]
        return only

    for kind, prefix in (("torchvision", "tv"), ("spec", "spec")):
        layers, compiled = run(f"{prefix}-layers"), run(f"{prefix}-compiled-256")
        assert best[kind]["step"] == f"{prefix}-compiled-256" and best[kind]["bound_step"] == f"{prefix}-layers"
        # the compiled run's own fraction: torchvision 1.483 / 7.599 ms = 19.5%, spec 1.689 / 6.863 ms = 24.6%
        assert best[kind]["fraction_of_bound"] == layers["bound_ms"] / compiled["median_ms"]
        # beside it, the eager per-layer run's: 1.483 / 12.366 ms = 12.0%, 1.689 / 20.716 ms = 8.2%
        assert best[kind]["eager_layers_fraction_of_bound"] == layers["fraction_of_bound"]
        assert best[kind]["bound_ceilings"] == json.loads((H200 / "json" / f"{prefix}-layers.json").read_text())["peak"]


def test_gpu_check_script_parses():
    assert subprocess.run(["bash", "-n", str(ROOT / "benchmarks" / "gpu_check.sh")]).returncode == 0


# ----------------------------------------------------------------------------- on a GPU (skipped without CUDA)


@needs_cuda
def test_cuda_sweep_runs_every_dtype_and_layout():
    settings = Settings(device="cuda", batches=(2,), dtypes=("fp32", "tf32", "bf16"), channels_last=True,
                        warmup=2, repeats=3)
    result = bench("googlenet", None, settings)
    assert [run.status for run in result.runs] == ["ok"] * 3, [run.error for run in result.runs]
    for run in result.runs:
        assert run.median_ms > 0 and all(layer.median_ms > 0 for layer in run.layers)
    assert result.device["type"] == "cuda" and result.device["name"]


@needs_cuda
def test_cuda_graphs_time_the_whole_and_the_rows():
    result = bench("googlenet", None, Settings(device="cuda", batches=(1,), dtypes=("bf16",), cuda_graphs=True,
                                               warmup=2, repeats=3))
    (run,) = result.runs
    assert run.status == "ok", run.error
    assert run.cuda_graphs and run.median_ms > 0 and all(layer.median_ms > 0 for layer in run.layers)


@needs_cuda
def test_out_of_memory_at_one_batch_is_reported_and_the_sweep_goes_on():
    # 1,000,000 x 3 x 224 x 224 fp32 inputs are 602 GB: more than any GPU holds
    result = bench("googlenet", None, Settings(device="cuda", batches=(1_000_000, 1), warmup=1, repeats=2,
                                               layers=False))
    big, small = result.runs
    assert big.status == "out of memory" and "OutOfMemoryError" in big.error
    assert small.status == "ok" and small.median_ms > 0


@needs_cuda
def test_calibrate_on_cuda():
    ceilings = calibrate("cuda", ("fp32", "bf16"))
    assert ceilings.peak("fp32") > 0 and ceilings.peak("bf16") > 0 and ceilings.bandwidth_tbs > 0


RESIDUAL = {  # an add row: an identity (no module), and a residual branch that is no module either, holding a
    # module branch `b1`; then a concat row whose branch `pair` is a module
    "name": "res", "input": [4, 9, 9], "defaults": {"bias": False},
    "rows": [
        {"name": "stem", "kind": "conv", "out": 8, "kernel": 3, "pad": 1},
        {"name": "block", "kind": "add", "activation": "relu", "branches": [
            {"name": "identity", "module": False},
            {"name": "residual", "module": False, "scale": 0.5, "layers": [
                {"kind": "conv", "name": "c1", "out": 8, "kernel": 1},
                {"kind": "conv", "name": "c2", "out": 8, "kernel": 3, "pad": 1}]}]},
        {"name": "mix", "kind": "concat", "branches": [
            {"name": "pair", "layers": [{"kind": "conv", "out": 4, "kernel": 1}, {"kind": "conv", "out": 4, "kernel": 3, "pad": 1}]},
            {"name": "single", "module": False, "layers": [{"kind": "conv", "out": 4, "kernel": 1}]}]},
    ],
}


def test_bench_at_branch_depth_times_only_the_branches_that_are_modules():
    from inception_calc.core.sources import network_from_dict

    result = bench(network_from_dict(RESIDUAL, "res"), None, Settings(**TINY, depth="branch"))
    names = [layer.name for layer in result.runs[0].layers]
    # block.identity and block.residual group nothing a module holds: not timed; mix.pair is a module and
    # mix.single is its one layer (named after the branch): both timed
    assert names == ["stem", "block", "mix", "mix.pair", "mix.single"]
    assert all(layer.timing.median_ms > 0 for layer in result.runs[0].layers)
