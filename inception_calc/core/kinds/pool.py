"""Max and average pooling over a window, or adaptive pooling to a fixed output size: fields,
output size (with its rounding rule), derivation, torch module and reconciliation.

Output size (docs/conventions.md): ``floor((H + 2p - k) / s) + 1``, or with ceil rounding
``ceil((H + 2p - k) / s) + 1`` less a last window that would start in the right padding (Caffe,
PyTorch's ``ceil_mode=True``). No weights, no MACs: a compare or an add is not a multiply-accumulate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inception_calc.core import formulas as f
from inception_calc.core.formulas import pool_output_size
from inception_calc.core.fields import Place
from inception_calc.core.fields import check_known, read_name
from inception_calc.core.kinds.base import (REQUIRED, Counts, Field, LayerKind, Marker, Pair, Shape, WindowTooLarge,
                                            Window, pair_text, size_line, window)

ROUNDINGS = (f.FLOOR, f.CEIL)
WINDOW_FIELDS = ("kernel", "stride", "pad", "rounding", "count_include_pad")
THE_KERNEL = Marker("the kernel")
ADAPTIVE_ONLY = Marker("none (a window pool)")


@dataclass(frozen=True, slots=True)
class Pool:
    """Max or average pooling over a window, or adaptive pooling to a fixed ``output`` size."""

    op: str  # "max" | "avg"
    kernel: Pair = (1, 1)
    stride: Pair = (1, 1)
    pad: Pair = (0, 0)
    rounding: str = "floor"  # "floor" | "ceil"
    output: Pair | None = None  # adaptive pooling: the output size; kernel/stride unused
    count_include_pad: bool = True  # average pooling: whether the padding counts in the divisor
    name: str = ""

    @property
    def kind(self) -> str:
        return ("adaptive_" if self.output else "") + self.op + "pool"

    @property
    def summary(self) -> str:
        if self.output:
            return f"adaptive {self.op} pool to {self.output[0]}x{self.output[1]}"
        excluded = ", padding not counted" if not self.count_include_pad else ""
        return f"{self.op} pool {window(self.kernel, self.stride, self.pad)}, {self.rounding}{excluded}"

    @property
    def short(self) -> str:
        if self.output:
            return self.summary
        stride = "" if self.stride == (1, 1) else f"/{self.stride[0]}"
        return f"{self.op}pool {self.kernel[0]}x{self.kernel[1]}{stride}"


class PoolKind(LayerKind):
    name = "pool"
    layer_type = Pool
    spec_kinds = ("maxpool", "avgpool")
    needs_map = True
    fields = (
        Field("kernel", "pair", "window size, k or [kh, kw]", REQUIRED),
        Field("pad", "pair0", "padding on each side, at most kernel // 2"),
        Field("stride", "pair", "stride", THE_KERNEL),
        Field("rounding", "choice", "how the output size rounds: no default, frameworks disagree", REQUIRED,
              choices=ROUNDINGS),
        Field("output", "pair", "adaptive pooling: the output size (then no window fields)", ADAPTIVE_ONLY),
        Field("count_include_pad", "bool", "average pooling: whether the zero padding counts in each window's "
              "divisor (PyTorch's default; timm's Inception v4 and Inception-ResNet-v2 set it false)"),
    )

    def read(self, spec_kind: str, table: dict, place: Place, inherited: dict, named: bool = True) -> Pool:
        check_known(table, ("kind", "name", *self.field_names()) if named else ("kind", *self.field_names()),
                    place, f"a {spec_kind} layer")
        name = read_name(table, place, required=False) if named else ""
        op = spec_kind[:3]
        fields = {fld.name: fld for fld in self.fields}
        if "output" in table:
            for key in WINDOW_FIELDS:
                if key in table:
                    raise (place / f"field '{key}'").error(
                        "an adaptive pool (output = ...) takes no window fields", f"remove {key}")
            return Pool(op=op, output=fields["output"].read(table, place, None), name=name)
        kernel = fields["kernel"].read(table, place, None)
        pad = fields["pad"].read(table, place, self.default(fields["pad"], inherited))
        if pad[0] * 2 > kernel[0] or pad[1] * 2 > kernel[1]:
            raise (place / "field 'pad'").error(f"padding {list(pad)} exceeds half the kernel {list(kernel)}",
                                                "pooling pads at most kernel // 2 on each side")
        stride = fields["stride"].read(table, place, kernel)
        rounding = fields["rounding"].read(table, place, None)
        include = fields["count_include_pad"]
        if op == "max" and "count_include_pad" in table:
            raise (place / "field 'count_include_pad'").error(
                "applies to average pooling only (a max ignores the padding)", "remove count_include_pad")
        count_include_pad = include.read(table, place, self.default(include, inherited))
        return Pool(op=op, kernel=kernel, stride=stride, pad=pad, rounding=rounding,
                    count_include_pad=count_include_pad, name=name)

    def cost(self, layer: Pool, shape: Shape) -> Counts:
        c, h, w = shape
        if layer.output:
            return (c, *layer.output), 0, 0, 0, 0
        (kh, kw), (sh, sw), (ph, pw) = layer.kernel, layer.stride, layer.pad
        if h + 2 * ph < kh or w + 2 * pw < kw:
            raise WindowTooLarge(f"the {kh}x{kw} window does not fit its {h + 2 * ph}x{w + 2 * pw} padded input")
        rounding = layer.rounding
        return (c, pool_output_size(h, kh, sh, ph, rounding), pool_output_size(w, kw, sw, pw, rounding)), 0, 0, 0, 0

    def derive(self, layer: Pool, in_shape: Shape, out_shape: Shape, weights: int, macs: int) -> list[str]:
        if layer.output:
            return ["no weights, 0 MACs"]
        _, h, w = in_shape
        _, ho, wo = out_shape
        sizes = [(h, layer.kernel[0], layer.stride[0], layer.pad[0], ho),
                 (w, layer.kernel[1], layer.stride[1], layer.pad[1], wo)]
        return [size_line("out size", sizes, layer.rounding),
                "no weights; its compares or adds are not multiply-accumulates (0 MACs)"]

    def receptive_window(self, layer: Pool, in_shape: Shape) -> Window:
        """A window pool: its kernel, stride and padding (ceil rounding changes only the far side).

        Adaptive pooling from H to Hout (PyTorch's windows: rows floor(i H / Hout) to
        ceil((i + 1) H / Hout) - 1): to 1 x 1 each output sees the whole input; where Hout divides H
        the windows are regular (kernel = stride = H / Hout, no padding); otherwise they start at no
        fixed stride, and the field is reported as the whole input, with a note saying so."""
        if not layer.output:
            return Window(layer.kernel, layer.stride, layer.pad)
        if layer.output == (1, 1):
            return Window(whole=True)
        sizes = in_shape[1:]
        if all(n % o == 0 for n, o in zip(sizes, layer.output)):
            k = (sizes[0] // layer.output[0], sizes[1] // layer.output[1])
            return Window(k, k, (0, 0))
        return Window(whole=True, note=f"adaptive pool {sizes[0]}x{sizes[1]} -> {layer.output[0]}x{layer.output[1]} "
                                       "has windows at no fixed stride: reported as the whole input (an over-estimate)")

    def window_needs_input(self, layer: Pool) -> bool:
        """An adaptive pool to other than 1 x 1: its windows follow from the input's size."""
        return bool(layer.output) and layer.output != (1, 1)

    def rounding_alternative(self, layer: Pool, in_shape: Shape) -> tuple[str, str, Pair] | None:
        if layer.output:
            return None
        other = f.FLOOR if layer.rounding == f.CEIL else f.CEIL
        alt = tuple(f.pool_output_size(in_shape[i + 1], layer.kernel[i], layer.stride[i], layer.pad[i], other)
                    for i in (0, 1))
        return layer.rounding, other, alt  # type: ignore[return-value]

    def module(self, layer: Pool, cin: int, in_features: int, kit: Any) -> Any:
        nn = kit.nn
        if layer.output:
            return (nn.AdaptiveMaxPool2d if layer.op == "max" else nn.AdaptiveAvgPool2d)(layer.output)
        if layer.op == "max":
            return nn.MaxPool2d(layer.kernel, layer.stride, layer.pad, ceil_mode=layer.rounding == f.CEIL)
        return nn.AvgPool2d(layer.kernel, layer.stride, layer.pad, ceil_mode=layer.rounding == f.CEIL,
                            count_include_pad=layer.count_include_pad)

    def recognise(self, module: Any, kit: Any) -> Pool | None:
        nn = kit.nn

        def pair(value: Any) -> Pair:
            return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))

        if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
            op = "max" if isinstance(module, nn.MaxPool2d) else "avg"
            if op == "max" and pair(module.dilation) != (1, 1):
                return None
            include = bool(getattr(module, "count_include_pad", True))
            return Pool(op=op, kernel=pair(module.kernel_size), stride=pair(module.stride), pad=pair(module.padding),
                        rounding=f.CEIL if module.ceil_mode else f.FLOOR, count_include_pad=include)
        if isinstance(module, (nn.AdaptiveMaxPool2d, nn.AdaptiveAvgPool2d)):
            op = "max" if isinstance(module, nn.AdaptiveMaxPool2d) else "avg"
            return Pool(op=op, output=pair(module.output_size))
        return None

    def signature(self, layer: Pool) -> dict[str, str]:
        if layer.output:
            return {"layer": f"adaptive {layer.op} pool", "output": f"{layer.output[0]}x{layer.output[1]}"}
        signature = {"layer": f"{layer.op} pool", "kernel": f"{layer.kernel[0]}x{layer.kernel[1]}",
                     "stride": pair_text(layer.stride), "pad": pair_text(layer.pad), "rounding": layer.rounding}
        if layer.op == "avg" and layer.pad != (0, 0):
            signature["padding counted"] = "yes" if layer.count_include_pad else "no"
        return signature

    def fvcore_elements(self, layer: Pool, in_shape: Shape, out_shape: Shape) -> dict[str, int]:
        """fvcore counts adaptive average pooling as 1 per input element (max pooling: no handle)."""
        return {"adaptive_avg_pool2d": f.elements(*in_shape)} if layer.output and layer.op == "avg" else {}

    def operator(self, layer: Pool) -> str:
        """``max_pool2d``, ``adaptive_avg_pool2d``...: the aten operator the pool runs."""
        return f"{'adaptive_' if layer.output else ''}{layer.op}_pool2d"


KIND = PoolKind()
