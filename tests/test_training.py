"""The training step: backward MACs and saved bytes, row by row, against a real step on the CPU.

Expected values come from the live run (:func:`inception_calc.pytorch.training.measure_step`:
FlopCounterMode's formulas for ``convolution_backward`` and ``mm``, credited to the module that
made each autograd node, and ``saved_tensors_hooks`` over distinct storages), never from the engine.

By hand, inception3a.branch2.1 of googlenet-torchvision (3x3 conv, 96 -> 128 channels, 28 x 28,
no bias, input needing a gradient, trainable): forward MACs 28 * 28 * 128 * 96 * 9 = 86,704,128;
input gradient the same, weight gradient the same: backward 173,408,256 MACs per image. conv1 (the
first layer) computes no input gradient: 112 * 112 * 64 * 3 * 49 = 118,013,952 MACs, weight only.
"""

from __future__ import annotations

import json

import pytest

from inception_calc.core.engine import analyze
from inception_calc.core.training import largest_batch, memory, parse_bytes, training
from tests.conftest import run_cli

pytestmark = pytest.mark.torch

CASES = [  # (spec, batch, input, dtype, frozen rows): two batches, two sizes, two dtypes per network
    ("googlenet-torchvision", 1, 224, "fp32", ()),
    ("googlenet-torchvision", 2, 128, "bf16", ()),
    ("googlenet-torchvision", 1, 128, "fp32", ("conv1", "conv2", "conv3")),
    ("googlenet-torchvision", 1, 96, "fp32", ("inception5b", "fc")),  # a frozen linear saves no input
    ("googlenet", 1, 224, "fp32", ()),
    ("googlenet", 2, 240, "fp32", ()),  # the 7x7 final pool needs 223; LRN has no bf16 CPU kernel
    # the family, each at two batches, two sizes (square and not) and two dtypes, against the built network;
    # Inception-v3 also against torchvision's own (below 299 its AuxLogits does not fit and is left out)
    ("inception-v3", 2, 139, "bf16", ()),
    ("inception-v3", 1, (3, 160, 192), "fp32", ("Conv2d_1a_3x3", "Conv2d_2a_3x3")),
    ("torchvision:inception_v3", 1, (3, 150, 170), "fp32", ()),
    ("inception-v4", 1, (3, 160, 192), "fp32", ()),
    ("inception-v4", 2, 150, "bf16", ()),
    ("inception-resnet-v2", 1, 139, "fp32", ()),
    ("inception-resnet-v2", 2, (3, 150, 170), "bf16", ("conv2d_1a",)),
    ("bn-inception", 1, 224, "fp32", ()),
    ("bn-inception", 2, (3, 200, 232), "bf16", ()),  # its conv1 is a separable 7x7: a grouped conv
    ("xception", 2, (3, 96, 128), "bf16", ()),
    ("xception", 1, 112, "fp32", ("conv1", "conv2")),
]


def _model(spec: str, input: tuple[int, int, int]):
    if spec == "googlenet-torchvision":
        from inception_calc.pytorch.counters import torchvision_googlenet

        return torchvision_googlenet()
    if spec == "torchvision:inception_v3":
        import torchvision

        return torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False)
    from inception_calc.pytorch.build import build

    return build(spec, input)  # the built linear layers take the input size's features


def _in_row(name: str, row: str) -> bool:
    return name == row or name.startswith(row + ".")


def _grouped_weight_gradient_excess(model, input, batch: int, freeze) -> dict[str, int]:
    """FlopCounterMode sizes a grouped conv's weight gradient as if the conv were ungrouped: for each
    trainable grouped conv, ``groups - 1`` times its real weight-gradient FLOPs,
    2 x batch x (output elements) x (Cin / groups) x kh x kw, output shapes from a forward hook."""
    import torch

    shapes, hooks = {}, []
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Conv2d) and module.groups > 1 and not any(_in_row(name, r) for r in freeze):
            hooks.append(module.register_forward_hook(lambda m, i, o, name=name: shapes.__setitem__(name, (m, o.shape))))
    with torch.no_grad():
        model.eval()(torch.zeros(1, *input))
    for h in hooks:
        h.remove()
    excess = {}
    for name, (m, shape) in shapes.items():
        kh, kw = m.kernel_size
        excess[name] = (m.groups - 1) * 2 * batch * shape[1] * shape[2] * shape[3] * (m.in_channels // m.groups) * kh * kw
    return excess


@pytest.mark.parametrize("spec, batch, size, dtype, freeze", CASES)
def test_backward_macs_and_saved_bytes_match_a_real_step_row_by_row(spec, batch, size, dtype, freeze):
    from inception_calc.pytorch.training import measure_step

    analysis = analyze(spec.replace("torchvision:inception_v3", "inception-v3"), size)
    measured = measure_step(_model(spec, analysis.input), analysis.input, batch, dtype, freeze)
    step = training(analysis, batch, dtype, freeze)
    rows = {r.name for r in analysis.rows}
    flops, saved = measured.by_row(rows, "backward_flops"), measured.by_row(rows, "saved_bytes")
    assert set(flops) <= rows and set(saved) <= rows
    excess = _grouped_weight_gradient_excess(_model(spec, analysis.input), analysis.input, batch, freeze)
    for row in analysis.rows:
        sums = step.node(row.name)
        measured_row = flops.get(row.name, 0) - sum(e for name, e in excess.items() if _in_row(name, row.name))
        assert (row.name, 2 * sums.backward_macs) == (row.name, measured_row)
        assert (row.name, sums.saved_bytes) == (row.name, saved.get(row.name, 0))
    # the per-row credits add up to FlopCounterMode's own totals over the whole step
    total = step.total()
    assert 2 * total.backward_macs == (measured.total_flops["convolution_backward"] + measured.total_flops["mm"]
                                       - sum(excess.values()))
    assert 2 * step.forward_macs == measured.total_flops["convolution"] + measured.total_flops["addmm"]


def test_the_issue_figures_reproduce_in_report_json():
    run = run_cli("report", "googlenet-torchvision", "--train", "--format", "json")
    assert run.code == 0, run.err
    totals = json.loads(run.out)["totals"]["training"]
    # issue 13, measured with FlopCounterMode and saved_tensors_hooks on torchvision's googlenet
    assert 2 * (totals["macs"] + totals["backward_macs"]) == 8_804_462_592
    assert totals["saved_bytes"] == 48_355_072


def test_one_row_by_hand():
    step = training(analyze("googlenet-torchvision"))
    assert step.node("inception3a.branch2.1").backward_macs == 2 * 28 * 28 * 128 * 96 * 9
    assert step.node("conv1").grad_input_macs == 0
    assert step.node("conv1").grad_weight_macs == 112 * 112 * 64 * 3 * 49


def test_family_rows_by_hand():
    """Inception-v3 at 299, Mixed_5b.branch1x1: 1x1 conv 192 -> 64 at 35 x 35, so forward MACs
    35 * 35 * 64 * 192 = 15,052,800 and, input and weight gradients each the same, 30,105,600 backward.
    Inception-ResNet-v2 at 299, repeat.0.conv2d: 1x1 conv 128 -> 320 at 35 x 35 with a bias, forward
    35 * 35 * 320 * 128 = 50,176,000, backward twice that at batch 2 times 2 images: 200,704,000."""
    v3 = training(analyze("inception-v3"))
    assert v3.node("Mixed_5b.branch1x1").backward_macs == 30_105_600
    irv2 = training(analyze("inception-resnet-v2"), 2)
    assert irv2.node("repeat.0.conv2d").backward_macs == 200_704_000


def test_fit_gives_the_largest_batch_that_fits():
    analysis = analyze("googlenet-torchvision")
    budget = parse_bytes("8GiB")
    batch, mem = largest_batch(analysis, budget, "bf16")
    assert mem.peak_bytes <= budget
    assert memory(training(analysis, batch + 1, "bf16")).peak_bytes > budget


@pytest.mark.parametrize("args, where", [
    (("--fit", "lots"), "--fit"),
    (("--fit", "1MiB"), "--fit"),
    (("--freeze", "conv1,nosuchrow"), "--freeze"),
])
def test_bad_training_flags_are_one_line(args, where):
    run = run_cli("report", "googlenet-torchvision", "--train", *args)
    assert run.code == 2 and run.out == ""
    assert len(run.err.strip().splitlines()) == 1 and where in run.err, run.err


def test_train_on_a_network_with_nothing_to_train(tmp_path):
    path = tmp_path / "pools.toml"
    path.write_text('name = "pools"\ninput = [3, 32, 32]\n[[rows]]\nname = "pool"\nkind = "maxpool"\nkernel = 2\n'
                    'stride = 2\nrounding = "floor"\n')
    _refused_in_one_line(run_cli("report", str(path), "--train"), "nothing to train")


def test_a_dtype_the_device_lacks_is_one_line():
    """torch's CPU LRN (avg_pool3d) has no bf16 kernel: the caffe googlenet does not train in bf16 there."""
    from inception_calc.core.errors import CalcError
    from inception_calc.pytorch.build import build
    from inception_calc.pytorch.training import measure_step

    with pytest.raises(CalcError) as caught:
        measure_step(build("googlenet"), (3, 224, 224), 1, "bf16")
    assert caught.value.where == "dtype" and "\n" not in caught.value.line()


def test_check_train_names_the_grouped_conv_term_on_xception():
    """Xception's depthwise convs: FlopCounterMode sizes each weight gradient groups times the
    arithmetic; check --train names that term, and the saved bytes agree exactly on every row."""
    run = run_cli("check", "xception", "--train", "--input", "96", "--format", "json")
    assert run.code == 0, run.err
    rows = json.loads(run.out)["rows"]
    assert {r["verdict"] for r in rows} == {"exact", "explained"}
    assert all(r["saved_bytes"] == r["measured_bytes"] for r in rows)
    for r in rows:
        assert r["backward_flops"] + sum(t["flops"] for t in r["terms"]) == r["measured_flops"]


def test_bench_train_runs_on_the_cpu():
    run = run_cli("bench", "googlenet-torchvision", "--train", "--device", "cpu", "--batch", "2", "--input", "128",
                  "--warmup", "1", "--repeats", "2", "--iters", "1", "--format", "json")
    assert run.code == 0, run.err
    (r,) = json.loads(run.out)["runs"]
    step = training(analyze("googlenet-torchvision", 128), 2)
    assert r["step_flops"] == 2 * (step.forward_macs + step.total().backward_macs)
    assert r["tflops"] == pytest.approx(r["step_flops"] / (r["step_ms"] / 1000) / 1e12)
    assert r["peak_bytes"] is None and r["estimate_bytes"] == memory(training(analyze("googlenet-torchvision", 128),
                                                                               2, device="cpu")).peak_bytes


def test_bench_train_on_a_device_this_machine_lacks_is_one_line():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    run = run_cli("bench", "googlenet-torchvision", "--train", "--device", "cuda")
    assert run.code == 2 and len(run.err.strip().splitlines()) == 1 and "CUDA" in run.err, run.err


def test_verify_judges_training_claims():
    run = run_cli("verify", "googlenet-torchvision", "--no-derivation", "--format", "json",
                  "--claim", "total.saved_bytes = 48,355,072",  # issue 13's saved_tensors_hooks figure
                  "--claim", "conv1.grad_input_macs = 0",  # the first layer's input needs no gradient
                  "--claim", "inception3a.branch2.1.backward_macs = 173,408,256",  # 2 x 28*28*128*96*9, by hand
                  "--claim", "total.backward_macs = 1")
    assert run.code == 1, run.err
    assert "total.backward_macs" in run.out and run.out.count('"holds": true') == 3, run.out


def test_explain_train_derives_the_backward():
    run = run_cli("explain", "googlenet-torchvision", "conv1", "--train", "--batch", "2")
    assert run.code == 0, run.err
    assert "grad input MACs 0 (its input needs no gradient" in run.out
    assert f"= 2 x 118,013,952 = {2 * 118_013_952:,}" in run.out


def test_inference_peak_by_hand(tmp_path):
    """A 2-branch row on 3x8x8: branch a = 1x1 conv to 4 channels, branch b = 1x1 conv to 2 then 1x1 to 6.
    Alive at the concat: input 3*64 + a 4*64 + b 6*64 + output 10*64 = 23*64 elements x 4 B = 5,888 B; inside
    branch b's second conv: input 3*64 + a 4*64 + its input 2*64 + its output 6*64 = 15*64 x 4 = 3,840 B."""
    from inception_calc.core.training import inference_peak

    path = tmp_path / "two.toml"
    path.write_text('name = "two"\ninput = [3, 8, 8]\n[defaults]\nbias = true\nbn = false\nrelu = true\n'
                    '[[rows]]\nname = "mix"\nkind = "concat"\n'
                    '[[rows.branches]]\nname = "a"\nlayers = [{ kind = "conv", out = 4, kernel = 1 }]\n'
                    '[[rows.branches]]\nname = "b"\nlayers = [{ kind = "conv", out = 2, kernel = 1 }, '
                    '{ kind = "conv", out = 6, kernel = 1 }]\n')
    peak = inference_peak(analyze(str(path)))
    assert (peak.bytes, peak.where) == (23 * 64 * 4, "mix")


def _tiny(tmp_path, p: float) -> str:
    path = tmp_path / f"drop{p}.toml"
    path.write_text('name = "drop"\ninput = [3, 8, 8]\n'
                    '[[rows]]\nname = "conv"\nkind = "conv"\nout = 4\nkernel = 3\nbn = true\n'
                    '[[rows]]\nname = "pool"\nkind = "avgpool"\noutput = 1\n'
                    f'[[rows]]\nname = "drop"\nkind = "dropout"\np = {p}\n'
                    '[[rows]]\nname = "fc"\nkind = "linear"\nout = 3\n')
    return str(path)


@pytest.mark.parametrize("p", [0.0, 0.5])
def test_dropout_saves_its_mask_only_when_it_drops(tmp_path, p):
    """Inception-ResNet-v2's head_drop is nn.Dropout(0.0): torch returns its input and saves no mask
    (found by check --train on inception-resnet-v2 at 139, where the row once said 6,144 bytes against 0)."""
    run = run_cli("check", _tiny(tmp_path, p), "--train", "--batch", "2", "--format", "json")
    assert run.code == 0, run.out + run.err
    drop = {r["name"]: r for r in json.loads(run.out)["rows"]}["drop"]
    assert drop["verdict"] == "exact" and drop["saved_bytes"] == drop["measured_bytes"]
    # by hand: the mask is the dropped map, 2 images x 4 channels x 1 x 1, fp32 on the CPU: 32 bytes
    assert drop["measured_bytes"] == (0 if p == 0 else 2 * 4 * 4), drop


def test_batch_norm_over_one_value_per_channel_is_one_line(tmp_path):
    """batch 1 at a 1x1 map: torch refuses batch norm in training mode; that is a usage error, not exit 70."""
    path = tmp_path / "bn1.toml"
    path.write_text('name = "bn1"\ninput = [3, 1, 1]\n[[rows]]\nname = "conv"\nkind = "conv"\nout = 4\n'
                    'kernel = 1\nbn = true\n')
    _refused_in_one_line(run_cli("check", str(path), "--train"), "--batch")


def _refused_in_one_line(run, word: str) -> None:
    assert run.code == 2 and len(run.err.strip().splitlines()) == 1 and word in run.err, run.err
