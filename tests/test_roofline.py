"""The roofline arithmetic and the datasheet table: table-driven, the arithmetic beside each number."""

from __future__ import annotations

import pytest

from inception_calc import analyze
from inception_calc.bench import roofline as rf

# Inception(3a) of the paper's googlenet at 3x224x224, from the seed article's worked example:
# in 28x28x192, out 28x28x256, weights 163,328 + biases 368 = params 163,696, MACs 128,049,152.
IN_3A = 192 * 28 * 28  # = 150,528
OUT_3A = 256 * 28 * 28  # = 200,704
PARAMS_3A = 163_328 + 368  # = 163,696
FLOPS_3A = 2 * 128_049_152  # = 256,098,304


@pytest.mark.parametrize("flops, seconds, expected", [
    (3_165_343_744 * 256, 0.05, 16.20655996928),  # 810,327,998,464 FLOPs / 0.05 s / 1e12
    (2e12, 1.0, 2.0),  # 2e12 / 1 / 1e12
    (1e9, 1e-3, 1.0),  # 1e9 / 1e-3 / 1e12
])
def test_achieved_tflops(flops, seconds, expected):
    assert rf.achieved_tflops(flops, seconds) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("images, seconds, expected", [
    (256, 0.05, 5120.0),  # 256 / 0.05
    (1, 0.002, 500.0),  # 1 / 0.002
])
def test_images_per_second(images, seconds, expected):
    assert rf.images_per_second(images, seconds) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("batch, element_bytes, expected", [
    (1, 4, 2_059_712),  # (1 * (150,528 + 200,704) + 163,696) * 4 = 514,928 * 4
    (256, 2, 180_158_176),  # (256 * 351,232 + 163,696) * 2 = (89,915,392 + 163,696) * 2 = 90,079,088 * 2
    (64, 4, 90_570_176),  # (64 * 351,232 + 163,696) * 4 = (22,478,848 + 163,696) * 4 = 22,642,544 * 4
])
def test_bytes_moved_of_inception3a(batch, element_bytes, expected):
    assert rf.bytes_moved(IN_3A, OUT_3A, PARAMS_3A, batch, element_bytes) == expected


def test_inception3a_numbers_are_the_analysis_own():
    node = analyze("googlenet")["inception3a"]
    c, h, w = node.in_shape
    assert (c * h * w, node.activations, node.params, node.flops) == (IN_3A, OUT_3A, PARAMS_3A, FLOPS_3A)


@pytest.mark.parametrize("flops, nbytes, expected", [
    (FLOPS_3A, 2_059_712, 124.33694808),  # 256,098,304 / 2,059,712
    (FLOPS_3A * 256, 180_158_176, 363.90891204),  # 65,561,165,824 / 180,158,176
    (0, 4_014_080, 0.0),  # a pooling row: no counted FLOPs
    (10, 0, 0.0),  # nothing moved: defined as 0, not a division by zero
])
def test_intensity(flops, nbytes, expected):
    assert rf.intensity(flops, nbytes) == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize("intensity, peak, bandwidth, expected", [
    (124.33694808, 989.5, 4.8, 596.81735078),  # H200 bf16: min(989.5, 124.337 * 4.8 = 596.82): memory-bound
    (300.0, 989.5, 4.8, 989.5),  # min(989.5, 300 * 4.8 = 1440): compute-bound
    (10.0, 67.0, 4.8, 48.0),  # H200 fp32: min(67, 10 * 4.8 = 48)
    (0.0, 67.0, 4.8, 0.0),  # min(67, 0)
])
def test_roofline_bound(intensity, peak, bandwidth, expected):
    assert rf.roofline_bound(intensity, peak, bandwidth) == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize("peak, bandwidth, expected", [
    (989.5, 4.8, 206.14583333),  # H200 bf16: 989.5 / 4.8 (H200.md: "about 206 FLOP per byte")
    (494.5, 3.35, 147.61194030),  # H100 SXM tf32: 494.5 / 3.35
    (312, 2.039, 153.01618440),  # A100 SXM 80GB bf16: 312 / 2.039
])
def test_ridge_point(peak, bandwidth, expected):
    assert rf.ridge_point(peak, bandwidth) == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize("flops, nbytes, peak, bandwidth, expected", [
    (1e12, 1e9, 1000.0, 4.0, 1e-3),  # max(1e12 / 1e15 = 1e-3, 1e9 / 4e12 = 2.5e-4)
    (1e9, 4e9, 1000.0, 4.0, 1e-3),  # max(1e9 / 1e15 = 1e-6, 4e9 / 4e12 = 1e-3)
    (0, 4e9, 989.5, 4.0, 1e-3),  # a pooling row: bytes alone, 4e9 / 4e12
])
def test_roofline_seconds(flops, nbytes, peak, bandwidth, expected):
    assert rf.roofline_seconds(flops, nbytes, peak, bandwidth) == pytest.approx(expected, rel=1e-12)


def test_roofline_seconds_is_flops_over_bound():
    # for FLOPs > 0: least time = FLOPs / (min(peak, I * bandwidth) * 1e12)
    flops, nbytes, peak, bandwidth = FLOPS_3A * 64, 90_570_176, 989.5, 4.8
    bound = rf.roofline_bound(rf.intensity(flops, nbytes), peak, bandwidth)
    assert rf.roofline_seconds(flops, nbytes, peak, bandwidth) == pytest.approx(flops / (bound * 1e12), rel=1e-12)


@pytest.mark.parametrize("n, seconds, expected", [
    (8192, 0.0014, 785.36544841),  # 2 * 8192^3 = 1,099,511,627,776 FLOPs / 0.0014 s / 1e12
    (1024, 0.02, 0.1073741824),  # 2 * 1024^3 = 2,147,483,648 / 0.02 / 1e12
])
def test_matmul_tflops(n, seconds, expected):
    assert rf.matmul_tflops(n, seconds) == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize("nbytes, seconds, expected", [
    (1 << 30, 0.0005, 4.294967296),  # 2 * 1,073,741,824 B (read + write) / 0.0005 s / 1e12
    (1 << 26, 0.004, 0.033554432),  # 2 * 67,108,864 / 0.004 / 1e12
])
def test_copy_bandwidth(nbytes, seconds, expected):
    assert rf.copy_bandwidth_tbs(nbytes, seconds) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("values, q, expected", [
    (range(1, 11), 10, 1.9),  # position (10 - 1) * 0.1 = 0.9: 1 + 0.9 * (2 - 1)
    (range(1, 11), 90, 9.1),  # position 8.1: 9 + 0.1 * (10 - 9)
    (range(1, 11), 50, 5.5),  # position 4.5: 5 + 0.5 * (6 - 5)
    ([3, 1, 2], 50, 2.0),  # sorted 1, 2, 3: position 1
    ([7.0], 10, 7.0),  # one value is every percentile
    ([4, 8], 25, 5.0),  # position 0.25: 4 + 0.25 * 4
])
def test_percentile(values, q, expected):
    assert rf.percentile(values, q) == pytest.approx(expected, rel=1e-12)


def test_median_and_empty():
    assert rf.median([5, 1, 3, 2]) == 2.5  # sorted 1, 2, 3, 5: (2 + 3) / 2
    with pytest.raises(ValueError):
        rf.percentile([], 50)


@pytest.mark.parametrize("part, whole, expected", [(1, 4, 0.25), (5, None, None), (5, 0, None)])
def test_fraction(part, whole, expected):
    assert rf.fraction(part, whole) == expected


@pytest.mark.parametrize("device_name, table_name, fp32, tf32, bf16, bandwidth", [
    # H200 SXM: TF32 989* / 2 = 494.5, BF16 1,979* / 2 = 989.5 (datasheet figures "with sparsity")
    ("NVIDIA H200", "NVIDIA H200 SXM", 67, 494.5, 989.5, 4.8),
    ("NVIDIA H200 NVL", "NVIDIA H200 NVL", 60, 417.5, 835.5, 4.8),  # 835* / 2, 1,671* / 2
    ("NVIDIA H100 80GB HBM3", "NVIDIA H100 SXM", 67, 494.5, 989.5, 3.35),
    ("NVIDIA H100 PCIe", "NVIDIA H100 PCIe", 51, 378, 756.5, 2.0),  # 756* / 2, 1,513* / 2
    ("NVIDIA A100-SXM4-80GB", "NVIDIA A100 SXM 80GB", 19.5, 156, 312, 2.039),
    ("NVIDIA A100-SXM4-40GB", "NVIDIA A100 40GB", 19.5, 156, 312, 1.555),
    ("NVIDIA A100 80GB PCIe", "NVIDIA A100 PCIe 80GB", 19.5, 156, 312, 1.935),
    ("NVIDIA L4", "NVIDIA L4", 30.3, 60, 121, 0.3),  # 120* / 2, 242* / 2
    ("NVIDIA L40S", "NVIDIA L40S", 91.6, 183, 362.05, 0.864),
    ("NVIDIA A10", "NVIDIA A10", 31.2, 62.5, 125, 0.6),
    ("Tesla T4", "NVIDIA T4", 8.1, None, None, 0.32),
])
def test_datasheet_lookup(device_name, table_name, fp32, tf32, bf16, bandwidth):
    ceilings = rf.datasheet_ceilings(device_name)
    assert ceilings is not None and ceilings.name == table_name
    assert (ceilings.peak("fp32"), ceilings.peak("tf32"), ceilings.peak("bf16")) == (fp32, tf32, bf16)
    assert ceilings.bandwidth_tbs == bandwidth
    assert ceilings.source.startswith("datasheet: NVIDIA")


@pytest.mark.parametrize("device_name, table_name, fp32, fp16", [
    ("Tesla V100-PCIE-16GB", "NVIDIA V100 PCIe", 14, 112),  # V100 PCIe: 14 TFLOP/s FP32, 112 tensor (FP16)
    ("Tesla V100-PCIE-32GB", "NVIDIA V100 PCIe", 14, 112),
    ("NVIDIA V100 PCIe", "NVIDIA V100 PCIe", 14, 112),  # a name with 'V100' and 'PCIe' is not the SXM2
    ("Tesla V100-SXM2-16GB", "NVIDIA V100 SXM2", 15.7, 125),  # V100 SXM2: 15.7 FP32, 125 tensor (FP16)
    ("Tesla V100-SXM2-32GB", "NVIDIA V100 SXM2", 15.7, 125),
])
def test_v100_form_factors_get_their_own_figures(device_name, table_name, fp32, fp16):
    ceilings = rf.datasheet_ceilings(device_name)
    assert ceilings is not None and ceilings.name == table_name
    assert (ceilings.peak("fp32"), ceilings.peak("tf32"), ceilings.peak("bf16"), ceilings.peak("fp16")) == (
        fp32, None, None, fp16)  # Volta has no TF32 or BF16 units
    assert ceilings.bandwidth_tbs == 0.9  # 900 GB/s, both form factors


@pytest.mark.parametrize("device_name", ["NVIDIA GH200 480GB", "NVIDIA GeForce RTX 4090", "NVIDIA A10G", "AMD EPYC",
                                         "Tesla V100S-PCIE-32GB", "Tesla V100-FHHL-16GB"])
def test_unknown_devices_are_not_guessed(device_name):
    assert rf.datasheet_ceilings(device_name) is None
    unknown = rf.unknown_ceilings(device_name, "not in the table")
    assert unknown.source == "unknown: not in the table"
    assert all(unknown.peak(d) is None for d in rf.DTYPES) and unknown.bandwidth_tbs is None


def test_datasheet_entries_are_consistent():
    for entry in rf.DATASHEET:
        c = entry.ceilings
        tensor = [c.peak(d) for d in ("tf32", "bf16", "fp16") if c.peak(d) is not None]
        assert all(rate > c.peak("fp32") for rate in tensor), c.name  # tensor cores beat plain FP32
        if c.peak("bf16") is not None:
            assert c.peak("bf16") == c.peak("fp16") and c.peak("bf16") > c.peak("tf32"), c.name
        assert 0.1 < c.bandwidth_tbs < 10, c.name


def test_dtype_bytes():
    assert dict(rf.DTYPE_BYTES) == {"fp32": 4, "tf32": 4, "bf16": 2, "fp16": 2}
