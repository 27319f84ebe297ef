"""Roofline arithmetic and the devices' datasheet ceilings: standard library only.

Units: time in seconds (``_s``) or milliseconds (``_ms``), rates in TFLOP/s (1e12 floating-point
operations a second), bandwidth in TB/s (1e12 bytes a second), sizes in bytes. A FLOP is one
multiply or one add: FLOPs = 2 x MACs (the analysis's convention), so a matrix product of
n x n by n x n does 2 n^3 FLOPs.

The roofline (Williams, Waterman and Patterson, CACM 2009): a kernel of arithmetic intensity
I = FLOPs / bytes moved cannot run faster than min(peak, I x bandwidth). Below the ridge point
I* = peak / bandwidth it is bound by memory, above it by arithmetic.

The datasheet table gives each known GPU's dense peak per data type and its memory bandwidth, from
NVIDIA's datasheets (the ``source`` of each entry). NVIDIA quotes tensor-core rates "with
sparsity" (2:4 structured sparsity, twice the dense rate; the datasheets' asterisk): the table
holds the dense rate, half the quoted figure where only that one is printed. ``fp32`` is the plain (non-tensor-core) FP32 rate,
``tf32`` the TF32 tensor-core rate, ``bf16``/``fp16`` the 16-bit tensor-core rates (FP32
accumulate). ``None`` where the GPU has no such unit.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterable, Mapping

DTYPES = ("fp32", "tf32", "bf16", "fp16")

DTYPE_BYTES: Mapping[str, int] = {"fp32": 4, "tf32": 4, "bf16": 2, "fp16": 2}
"""Bytes per element as stored: TF32 is a tensor-core mode over fp32 tensors, so 4 bytes."""


# ----------------------------------------------------------------------------- rates and times


def achieved_tflops(flops: float, seconds: float) -> float:
    """achieved TFLOP/s = FLOPs / seconds / 1e12 (for a batch: 2 x MACs per image x images)."""
    return flops / seconds / 1e12


def images_per_second(images: int, seconds: float) -> float:
    """throughput = images / seconds."""
    return images / seconds


def bytes_moved(in_elements: int, out_elements: int, params: int, batch: int, element_bytes: int) -> int:
    """The fewest bytes a layer must move through device memory, treating it as one black box:
    bytes = (batch x (input elements + output elements) + parameters) x bytes per element.

    Each input element is read once, each output element written once, each parameter read once
    per batch; intermediates inside the layer (an Inception branch's 1x1 reduction) are not
    counted, so this is a lower bound on traffic and the intensity an upper bound.
    """
    return (batch * (in_elements + out_elements) + params) * element_bytes


def intensity(flops: float, nbytes: float) -> float:
    """arithmetic intensity I = FLOPs / bytes (FLOP per byte); 0 for a layer that moves nothing."""
    return flops / nbytes if nbytes else 0.0


def roofline_bound(intensity_flop_per_byte: float, peak_tflops: float, bandwidth_tbs: float) -> float:
    """attainable TFLOP/s = min(peak, I x bandwidth): FLOP/byte x TB/s = TFLOP/s."""
    return min(peak_tflops, intensity_flop_per_byte * bandwidth_tbs)


def ridge_point(peak_tflops: float, bandwidth_tbs: float) -> float:
    """I* = peak / bandwidth, the intensity (FLOP/byte) where the two roofs meet."""
    return peak_tflops / bandwidth_tbs


def roofline_seconds(flops: float, nbytes: float, peak_tflops: float, bandwidth_tbs: float) -> float:
    """The least time a layer can take: max(FLOPs / peak, bytes / bandwidth).

    For FLOPs > 0 this is FLOPs / roofline_bound(I, peak, bandwidth); it stays meaningful for a
    layer with no counted FLOPs (pooling, LRN), which is bound by its bytes alone.
    """
    return max(flops / (peak_tflops * 1e12), nbytes / (bandwidth_tbs * 1e12))


def fraction(part: float, whole: float | None) -> float | None:
    """part / whole, or None when the whole is unknown or zero."""
    return part / whole if whole else None


def matmul_tflops(n: int, seconds: float) -> float:
    """rate of an n x n by n x n matrix product: 2 n^3 FLOPs / seconds / 1e12."""
    return 2 * n**3 / seconds / 1e12


def copy_bandwidth_tbs(nbytes: int, seconds: float) -> float:
    """bandwidth of a device-to-device copy of nbytes: it reads nbytes and writes nbytes, so
    2 x nbytes / seconds / 1e12 TB/s."""
    return 2 * nbytes / seconds / 1e12


# ----------------------------------------------------------------------------- statistics


def percentile(values: Iterable[float], q: float) -> float:
    """The q-th percentile (0 <= q <= 100) with linear interpolation between closest ranks,
    numpy's default: position p = (n - 1) x q / 100 in the sorted values, interpolated between
    the values at floor(p) and ceil(p)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of no values")
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Iterable[float]) -> float:
    """The 50th percentile: the middle value, or the mean of the two middle values."""
    return percentile(values, 50)


# ----------------------------------------------------------------------------- datasheet ceilings


@dataclass(frozen=True)
class Ceilings:
    """A device's peak rate per data type (TFLOP/s, None when unknown) and its memory bandwidth
    (TB/s, None when unknown), and where the figures come from."""

    name: str
    tflops: Mapping[str, float | None]
    bandwidth_tbs: float | None
    source: str

    def peak(self, dtype: str) -> float | None:
        return self.tflops.get(dtype)


@dataclass(frozen=True)
class DatasheetEntry:
    """One GPU of the datasheet table: the pattern its ``torch.cuda.get_device_name()`` matches
    (a regular expression, searched case-insensitively) and its ceilings."""

    pattern: str
    ceilings: Ceilings


def _entry(pattern: str, name: str, fp32: float, tf32: float | None, bf16: float | None, fp16: float | None,
           bandwidth_tbs: float, source: str) -> DatasheetEntry:
    tflops = {"fp32": fp32, "tf32": tf32, "bf16": bf16, "fp16": fp16}
    return DatasheetEntry(pattern, Ceilings(name, tflops, bandwidth_tbs, f"datasheet: {source}"))


_H200 = "NVIDIA H200 Tensor Core GPU datasheet (nvidia.com/en-us/data-center/h200)"
_H100 = "NVIDIA H100 Tensor Core GPU datasheet (nvidia.com/en-us/data-center/h100)"
_A100 = "NVIDIA A100 Tensor Core GPU datasheet (nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf)"
_L40S = "NVIDIA L40S GPU datasheet (nvidia.com/en-us/data-center/l40s)"
_L4 = "NVIDIA L4 Tensor Core GPU datasheet (nvidia.com/en-us/data-center/l4)"
_A10 = "NVIDIA A10 Tensor Core GPU datasheet (nvidia.com/en-us/data-center/products/a10-gpu)"
_T4 = "NVIDIA T4 Tensor Core GPU datasheet (nvidia.com/en-us/data-center/tesla-t4)"
_V100 = "NVIDIA V100 Tensor Core GPU datasheet (nvidia.com/en-us/data-center/v100)"

# Dense TFLOP/s: fp32 (plain FP32), tf32, bf16, fp16 (tensor cores), then memory bandwidth in TB/s.
# Where a datasheet prints only the "with sparsity" figure, the comment shows it halved.
# Order matters: the first pattern that matches wins, so the specific names come first.
DATASHEET: tuple[DatasheetEntry, ...] = (
    # H200 NVL: TF32 835* / 2 = 417.5; BF16 = FP16 1,671* / 2 = 835.5; 4.8 TB/s
    _entry(r"\bH200 NVL\b", "NVIDIA H200 NVL", 60, 417.5, 835.5, 835.5, 4.8, _H200),
    # H200 SXM (torch names it "NVIDIA H200"): TF32 989* / 2 = 494.5; BF16 = FP16 1,979* / 2 = 989.5
    _entry(r"\bH200\b", "NVIDIA H200 SXM", 67, 494.5, 989.5, 989.5, 4.8, _H200),
    # H100 NVL: TF32 835* / 2 = 417.5; BF16 = FP16 1,671* / 2 = 835.5; 3.9 TB/s
    _entry(r"\bH100 NVL\b", "NVIDIA H100 NVL", 60, 417.5, 835.5, 835.5, 3.9, _H100),
    # H100 PCIe: TF32 756* / 2 = 378; BF16 = FP16 1,513* / 2 = 756.5; 2.0 TB/s
    _entry(r"\bH100 PCIe\b", "NVIDIA H100 PCIe", 51, 378, 756.5, 756.5, 2.0, _H100),
    # H100 SXM (torch: "NVIDIA H100 80GB HBM3"): TF32 989* / 2 = 494.5; BF16 = FP16 1,979* / 2 = 989.5
    _entry(r"\bH100\b", "NVIDIA H100 SXM", 67, 494.5, 989.5, 989.5, 3.35, _H100),
    # A100 (SXM and PCIe alike): FP32 19.5, TF32 156, BF16 = FP16 312 dense; bandwidth by model:
    # 80GB SXM 2,039 GB/s, 80GB PCIe 1,935 GB/s, 40GB 1,555 GB/s
    _entry(r"\bA100\b.*\bSXM.*80GB", "NVIDIA A100 SXM 80GB", 19.5, 156, 312, 312, 2.039, _A100),
    _entry(r"\bA100\b.*80GB", "NVIDIA A100 PCIe 80GB", 19.5, 156, 312, 312, 1.935, _A100),
    _entry(r"\bA100\b", "NVIDIA A100 40GB", 19.5, 156, 312, 312, 1.555, _A100),
    # L40S: FP32 91.6, TF32 183, BF16 = FP16 362.05 dense; 864 GB/s
    _entry(r"\bL40S\b", "NVIDIA L40S", 91.6, 183, 362.05, 362.05, 0.864, _L40S),
    # L4: TF32 120* / 2 = 60; BF16 = FP16 242* / 2 = 121; 300 GB/s
    _entry(r"\bL4\b", "NVIDIA L4", 30.3, 60, 121, 121, 0.300, _L4),
    # A10: FP32 31.2, TF32 62.5, BF16 = FP16 125 dense; 600 GB/s
    _entry(r"\bA10\b", "NVIDIA A10", 31.2, 62.5, 125, 125, 0.600, _A10),
    # T4: FP32 8.1, mixed precision (FP16 in, FP32 accumulate) 65; no TF32 or BF16 units; 320 GB/s
    _entry(r"\bT4\b", "NVIDIA T4", 8.1, None, None, 65, 0.320, _T4),
    # V100 by form factor (torch: "Tesla V100-PCIE-16GB", "Tesla V100-SXM2-32GB"); no TF32 or BF16 units;
    # 900 GB/s both. PCIe: FP32 14, tensor (FP16) 112; SXM2: FP32 15.7, tensor 125. A V100 named without
    # its form factor (or the V100S, FHHL) is not guessed: its clocks, and so its peaks, differ.
    _entry(r"\bV100\b.*\bPCIE\b", "NVIDIA V100 PCIe", 14, None, None, 112, 0.900, _V100),
    _entry(r"\bV100\b.*\bSXM2\b", "NVIDIA V100 SXM2", 15.7, None, None, 125, 0.900, _V100),
)


def datasheet_ceilings(device_name: str) -> Ceilings | None:
    """The datasheet ceilings of the GPU ``torch.cuda.get_device_name()`` calls ``device_name``,
    or None when it is not in the table."""
    for entry in DATASHEET:
        if re.search(entry.pattern, device_name, re.IGNORECASE):
            return entry.ceilings
    return None


def unknown_ceilings(device_name: str, why: str) -> Ceilings:
    """Ceilings of a device whose peak is not known: achieved figures only, no fractions."""
    return Ceilings(device_name, {d: None for d in DTYPES}, None, f"unknown: {why}")
