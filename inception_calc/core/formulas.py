"""Closed-form arithmetic: one small pure function per quantity and layer kind.

These functions are the single source of truth for every number inception_calc prints. They see
integers (sizes, channels, kernels) and return integers; Python's integers never overflow, so the
results are exact at any input size. The engine only walks the network and calls them.

Notation: ``H`` input height (the same formulas hold for the width), ``k`` kernel, ``s`` stride,
``p`` padding on each side, ``Cin``/``Cout`` channels, ``g`` groups.
"""

from __future__ import annotations

from fractions import Fraction

FLOOR = "floor"
CEIL = "ceil"


def conv_output_size(size: int, kernel: int, stride: int = 1, pad: int = 0) -> int:
    """Hout = floor((H + 2p - k) / s) + 1  (convolutions always round down).

    Returns 0 or less when the kernel does not fit in the padded input; callers report that.
    """
    return (size + 2 * pad - kernel) // stride + 1


def dilated_kernel(kernel: int, dilation: int = 1) -> int:
    """k' = d * (k - 1) + 1: the inputs a kernel of k taps spans at dilation d (k at d = 1).

    A dilated conv's output size and receptive field use k'; its weights and MACs use k.
    """
    return dilation * (kernel - 1) + 1


def same_padding(kernel: tuple[int, int], dilation: tuple[int, int] = (1, 1)) -> tuple[int, int] | None:
    """PyTorch's ``padding='same'`` at stride 1 as a symmetric pad: p = (d * (k - 1)) / 2 per side.

    None when d * (k - 1) is odd (an even kernel at odd dilation): PyTorch then pads one more on the
    right and bottom, which no symmetric pad writes.
    """
    totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
    if any(t % 2 for t in totals):
        return None
    return (totals[0] // 2, totals[1] // 2)


def pool_output_size(size: int, kernel: int, stride: int, pad: int = 0, rounding: str = FLOOR) -> int:
    """Hout of a pooling window, with the row's rounding.

    floor: Hout = floor((H + 2p - k) / s) + 1
    ceil:  Hout = ceil((H + 2p - k) / s) + 1, less one when the last window would start at or
           beyond H + p, i.e. entirely in the right padding: (Hout - 1) * s >= H + p.
           This is PyTorch's ``ceil_mode=True`` and Caffe's pooling rule.
    """
    span = size + 2 * pad - kernel
    if rounding == FLOOR:
        return span // stride + 1
    out = -(-span // stride) + 1
    if span >= 0 and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def ceil_drops_last_window(size: int, kernel: int, stride: int, pad: int = 0) -> bool:
    """Whether ceil rounding's last window would start in the right padding and is dropped:
    ceil((H + 2p - k) / s) * s >= H + p  (then Hout = ceil((H + 2p - k) / s), not one more).
    """
    span = size + 2 * pad - kernel
    return span >= 0 and -(-span // stride) * stride >= size + pad


def conv_weights(cin: int, cout: int, kh: int, kw: int, groups: int = 1) -> int:
    """weights = Cin / g * Cout * kh * kw."""
    return cin // groups * cout * kh * kw


def bias_count(channels: int, bias: bool) -> int:
    """biases = Cout when the layer has a bias, else 0."""
    return channels if bias else 0


def batch_norm_params(channels: int) -> int:
    """bn = 2 * C: the affine scale and shift (running mean and variance are buffers)."""
    return 2 * channels


def conv_macs(hout: int, wout: int, weights: int) -> int:
    """MACs = Hout * Wout * weights: each output pixel applies every kernel element once."""
    return hout * wout * weights


def separable_conv_weights(cin: int, cout: int, kh: int, kw: int, depth_multiplier: int) -> tuple[int, int]:
    """A depthwise separable conv: a kh x kw depthwise conv giving m maps per input channel, then a
    1x1 pointwise conv to Cout.

    depthwise = Cin * m * kh * kw;  pointwise = Cin * m * Cout.  Returns (depthwise, pointwise).
    """
    return cin * depth_multiplier * kh * kw, cin * depth_multiplier * cout


def separable_conv_macs(hout: int, wout: int, cin: int, cout: int, kh: int, kw: int, depth_multiplier: int) -> int:
    """MACs = Hout * Wout * (depthwise + pointwise weights): both parts run at the output size
    (the depthwise conv carries the stride, the pointwise conv follows at stride 1)."""
    depthwise, pointwise = separable_conv_weights(cin, cout, kh, kw, depth_multiplier)
    return hout * wout * (depthwise + pointwise)


def linear_weights(in_features: int, out_features: int) -> int:
    """weights = in * out."""
    return in_features * out_features


def linear_macs(weights: int) -> int:
    """MACs = in * out = weights, once per image."""
    return weights


def elements(channels: int, height: int, width: int) -> int:
    """activations = C * H * W output elements."""
    return channels * height * width


def scaled_channels(channels: int, factor: Fraction) -> int:
    """C' = max(1, floor(C * F + 1/2)) for C > 0, and 0 for C = 0.

    Round half up, in exact rational arithmetic (F is a Fraction, so 0.1 means exactly 1/10):
    5 x 0.5 = 2.5 gives 3 (Python's round() rounds half to even and would give 2).
    """
    if channels == 0:
        return 0
    return max(1, int(channels * factor + Fraction(1, 2)))  # int() floors a non-negative Fraction


def smallest_valid_size(fits, start: int, limit: int = 1 << 16) -> int | None:
    """The least size >= start for which ``fits(size)`` holds, assuming ``fits`` is monotone.

    Used to tell a user the smallest input a network accepts. Exponential then binary search,
    so it asks ``fits`` O(log n) times.
    """
    if fits(start):
        return start
    low, high = start, start + 1
    while not fits(high):
        if high >= limit:
            return None
        low, high = high, min(high * 2, limit)
    while high - low > 1:
        mid = (low + high) // 2
        if fits(mid):
            high = mid
        else:
            low = mid
    return high


# ----------------------------------------------------------------------------- other counters' conventions
# What another counter adds to (or takes from) the MACs above, so that reconciling with it is exact.


def fvcore_batch_norm_flops(elements: int, training: bool = False, affine: bool = True) -> int:
    """fvcore 0.1.5's count for one ``aten::batch_norm`` over ``elements`` = N * C * H * W
    (``fvcore/nn/jit_handles.py``, ``batchnorm_flop_jit``):

    eval (running statistics):  elements * (2 if affine else 1)
    training (batch statistics): elements * (5 if affine else 4)   (its ``norm_flop_counter``)
    """
    if training:
        return elements * (5 if affine else 4)
    return elements * (2 if affine else 1)


def fvcore_adaptive_avg_pool_flops(in_elements: int) -> int:
    """fvcore 0.1.5's count for ``aten::adaptive_avg_pool2d``: ``elementwise_flop_counter(1, 0)``,
    1 x the input's elements N * C * H * W (whatever the output size)."""
    return in_elements


def flop_counter_mode_flops(macs: int) -> int:
    """``torch.utils.flop_counter.FlopCounterMode``: 2 FLOPs (a multiply and an add) per conv or
    linear multiply-accumulate; batch norm, pooling, LRN and ReLU count 0."""
    return 2 * macs


# ptflops 0.7.5, thop 0.1.1.post2209072238, torchinfo 1.8.0: the terms each adds to conv/linear MACs
# (core/conventions.py puts them together per counter; docs/conventions.md tabulates them).


def bias_adds(out_elements: int) -> int:
    """One add per output element of a layer with a bias: Cout * Hout * Wout for a conv, out for a
    linear layer. ptflops 0.7.5 ``pytorch_ops.py`` ``conv_flops_counter_hook`` (``bias_flops =
    N * prod(output.shape[1:])``) and ``linear_flops_counter_hook`` (``+ bias_flops``); its aten
    backend ``aten_ops.py`` ``conv_flop_count(bias=True)`` and ``addmm_flop``; torchinfo 1.8.0
    ``layer_info.py`` ``LayerInfo.calculate_macs`` (a conv's bias parameters times N * Hout * Wout, a
    linear layer's times N)."""
    return out_elements


def ptflops_batch_norm_flops(in_elements: int, affine: bool = True) -> int:
    """ptflops 0.7.5 ``pytorch_ops.py`` ``bn_flops_counter_hook``: ``prod(input.shape)``, times 2
    when affine: E * (2 if affine else 1), E = N * C * H * W."""
    return in_elements * (2 if affine else 1)


def ptflops_elements_flops(in_elements: int) -> int:
    """ptflops 0.7.5, one count per input element of one call: ``pytorch_ops.py``
    ``pool_flops_counter_hook`` (every pooling module, ``prod(input.shape)``),
    ``relu_flops_counter_hook`` (a ReLU module, ``output.numel()``, equal to its input's) and
    ``_numel_functional_flops_hook`` (``F.relu``, ``F.max_pool2d``, ``F.avg_pool2d``,
    ``F.adaptive_avg_pool2d``, ``F.softmax``...: ``input.numel()``). ptflops patches those
    functions and also hooks the modules, so a pooling or ReLU module, whose ``forward`` calls its
    function, counts twice."""
    return in_elements


def ptflops_lrn_flops(channels: int, height: int, width: int, size: int) -> int:
    """ptflops 0.7.5 on ``nn.LocalResponseNorm`` (no module hook): the patched ops that torch's
    ``F.local_response_norm`` calls (``torch/nn/functional.py``), each counted by
    ``pytorch_ops.py`` ``_elementwise_tensor_flops_hook`` or ``_numel_functional_flops_hook``:
    ``input.mul(input)`` E, ``avg_pool3d`` over the channel-padded square (C + size//2 +
    (size-1)//2) * H * W, ``div.mul(alpha)`` E, ``.add(k)`` E:

        3 * C * H * W + (C + size // 2 + (size - 1) // 2) * H * W
    """
    return 3 * channels * height * width + (channels + size // 2 + (size - 1) // 2) * height * width


def thop_batch_norm_flops(in_elements: int, affine: bool = True) -> int:
    """thop 0.1.1.post2209072238 ``vision/basic_hooks.py`` ``count_normalization``:
    ``calculate_norm(x.numel())`` = 2 * E (``vision/calc_func.py``), times 2 when affine: 4 E."""
    return 2 * in_elements * (2 if affine else 1)


def thop_avg_pool_flops(out_elements: int) -> int:
    """thop 0.1.1.post2209072238 ``vision/basic_hooks.py`` ``count_avgpool``:
    ``calculate_avgpool(y.numel())``, one per output element."""
    return out_elements


def thop_adaptive_avg_pool_flops(in_hw: tuple[int, int], out_hw: tuple[int, int], out_elements: int) -> int:
    """thop 0.1.1.post2209072238 ``vision/basic_hooks.py`` ``count_adap_avgpool``: the kernel
    (H / Hout) * (W / Wout) in float64, plus one division, per output element, truncated:

        int(((H / Hout) * (W / Wout) + 1) * N * C * Hout * Wout)

    (``calculate_adaptive_avg``; 7x7 to 1x1 over 1024 channels: (49 + 1) * 1024 = 51,200).
    Python's floats are IEEE float64 like thop's DoubleTensors, so the truncation is the same."""
    kernel = 1.0 * (in_hw[0] / out_hw[0]) * (in_hw[1] / out_hw[1])
    return int((kernel + 1) * out_elements)


def thop_softmax_flops(features: int, elements: int) -> int:
    """thop 0.1.1.post2209072238 ``vision/basic_hooks.py`` ``count_softmax`` over dim 1 (the
    features): ``calculate_softmax(batch, n)`` = batch * (n exps + (n - 1) adds + n divisions),
    batch = elements / n:  (elements / n) * (3n - 1)."""
    return elements // features * (3 * features - 1)
