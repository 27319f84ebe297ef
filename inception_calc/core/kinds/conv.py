"""The 2-d convolution, optionally followed by batch norm and ReLU (one module, like torchvision's
``BasicConv2d``): its fields, cost, derivation, torch module and reconciliation.

Cost (docs/formulas.md): ``Hout = floor((H + 2p - k') / s) + 1`` with the dilated kernel
``k' = d * (k - 1) + 1`` (``k`` at dilation 1); weights ``Cin/g * Cout * kh * kw``;
MACs ``Hout * Wout * weights``; biases ``Cout`` with a bias; batch norm ``2 * Cout`` affine parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

from inception_calc.core import formulas as f
from inception_calc.core.formulas import (batch_norm_params, bias_count, conv_macs, conv_output_size, conv_weights,
                                          dilated_kernel, same_padding)
from inception_calc.core.errors import CalcError
from inception_calc.core.fields import Place
from inception_calc.core.kinds.base import (INHERITED, REQUIRED, Counts, Field, LayerKind, Pair, Shape, WindowTooLarge,
                                            Window, pair_text, size_line, window)
from inception_calc.core.values import grouped


@dataclass(frozen=True, slots=True)
class Conv:
    """A 2-d convolution, optionally followed by batch norm and ReLU (one module, like
    torchvision's ``BasicConv2d``)."""

    out: int
    kernel: Pair
    stride: Pair = (1, 1)
    pad: Pair = (0, 0)
    groups: int = 1
    dilation: Pair = (1, 1)
    bias: bool = True
    bn: bool = False
    bn_eps: float = 1e-5
    relu: bool = True
    name: str = ""

    kind = "conv"

    @property
    def summary(self) -> str:
        extras = "".join(f" +{x}" for x, on in (("bias", self.bias), ("bn", self.bn)) if on)
        groups = f", groups {self.groups}" if self.groups > 1 else ""
        dilation = f" dilation {pair_text(self.dilation)}" if self.dilation != (1, 1) else ""
        return f"conv {window(self.kernel, self.stride, self.pad)}{dilation}, {self.out}{groups}{extras}"

    @property
    def short(self) -> str:
        stride = "" if self.stride == (1, 1) else f"/{self.stride[0]}"
        return f"{self.kernel[0]}x{self.kernel[1]}{stride} {self.out}"


class ConvKind(LayerKind):
    name = "conv"
    layer_type = Conv
    spec_kinds = ("conv",)
    needs_map = True
    fields = (
        Field("kernel", "pair", "kernel size, k or [kh, kw]", REQUIRED),
        Field("pad", "pair0", "zero padding on each side, p or [ph, pw]"),
        Field("groups", "count", "groups; divides the input and output channels"),
        Field("out", "count", "output channels", REQUIRED, fix="give the number of output channels"),
        Field("stride", "pair", "stride, s or [sh, sw]"),
        Field("dilation", "pair", "dilation, d or [dh, dw]: the kernel spans d * (k - 1) + 1 inputs"),
        Field("bias", "bool", "a bias per output channel", INHERITED),
        Field("bn", "bool", "batch norm after the conv (2 affine parameters per channel)", INHERITED),
        Field("bn_eps", "number", "batch norm's eps", INHERITED, low_open=True),
        Field("relu", "bool", "ReLU after the conv (and batch norm)", INHERITED),
    )

    def make(self, spec_kind: str, values: dict, table: dict, place: Place, name: str) -> Conv:
        if values["out"] % values["groups"]:
            raise (place / "field 'groups'").error(f"{values['groups']} groups do not divide out = {values['out']}",
                                                   "choose groups that divide both channel counts")
        return Conv(**values, name=name)

    def cost(self, layer: Conv, shape: Shape) -> Counts:
        c, h, w = shape
        groups, out = layer.groups, layer.out
        if c % groups:
            raise CalcError(f"{groups} groups do not divide the {c} input channels",
                            fix="choose groups that divide both channel counts")
        (kh, kw), (sh, sw), (ph, pw) = layer.kernel, layer.stride, layer.pad
        eh, ew = (dilated_kernel(k, d) for k, d in zip(layer.kernel, layer.dilation))
        ho = conv_output_size(h, eh, sh, ph)
        wo = conv_output_size(w, ew, sw, pw)
        if ho < 1 or wo < 1:
            spans = f" (dilated to {eh}x{ew})" if (eh, ew) != (kh, kw) else ""
            raise WindowTooLarge(f"the {kh}x{kw} kernel{spans} does not fit its {h + 2 * ph}x{w + 2 * pw} "
                                 "padded input")
        weights = conv_weights(c, out, kh, kw, groups)
        return ((out, ho, wo), weights, bias_count(out, layer.bias), batch_norm_params(out) if layer.bn else 0,
                conv_macs(ho, wo, weights))

    def derive(self, layer: Conv, in_shape: Shape, out_shape: Shape, weights: int, macs: int) -> list[str]:
        c, h, w = in_shape
        co, ho, wo = out_shape
        kh, kw = layer.kernel
        eh, ew = (dilated_kernel(k, d) for k, d in zip(layer.kernel, layer.dilation))
        sizes = [(h, eh, layer.stride[0], layer.pad[0], ho), (w, ew, layer.stride[1], layer.pad[1], wo)]
        groups = f" / {layer.groups}" if layer.groups > 1 else ""
        dilated = [] if layer.dilation == (1, 1) else [
            "dilated kernel = d x (k - 1) + 1 = " + "; ".join(
                f"{d} x ({k} - 1) + 1 = {e}" for k, d, e in dict.fromkeys(zip(layer.kernel, layer.dilation,
                                                                                (eh, ew))))]
        return [*dilated, size_line("out size", sizes, "floor"),
                f"weights = Cin{'/g' if groups else ''} x Cout x kh x kw = {c}{groups} x {co} x {kh} x {kw}"
                f" = {grouped(weights)}",
                f"MACs    = Hout x Wout x weights = {ho} x {wo} x {grouped(weights)} = {grouped(macs)}"]

    def receptive_window(self, layer: Conv, in_shape: Shape) -> Window:
        """The conv's kernel (dilated: ``d * (k - 1) + 1``), stride and padding (a 1 x 1 conv at stride 1
        keeps the field)."""
        kernel = tuple(dilated_kernel(k, d) for k, d in zip(layer.kernel, layer.dilation))
        return Window(kernel, layer.stride, layer.pad, dilation=layer.dilation)

    def scaled(self, layer: Conv, scale: Callable[[int], int]) -> Conv:
        return replace(layer, out=scale(layer.out))

    def module(self, layer: Conv, cin: int, in_features: int, kit: Any) -> Any:
        return kit.ConvBlock(cin, layer)

    def recognise(self, module: Any, kit: Any) -> Conv | None:
        """``nn.Conv2d``, or a block of one (``conv``, and ``bn`` when present) as torchvision's
        ``BasicConv2d``. ReLU is a function call in both networks and not compared."""
        nn = kit.nn
        children = dict(module.named_children())
        conv, bn = children.get("conv"), children.get("bn")
        if isinstance(conv, nn.Conv2d) and set(children) <= {"conv", "bn"} and (
                bn is None or isinstance(bn, nn.BatchNorm2d)):
            return self._from_torch(conv, bn)
        if isinstance(module, nn.Conv2d):
            return self._from_torch(module, None)
        return None

    @staticmethod
    def _from_torch(conv: Any, bn: Any) -> Conv | None:
        def pair(value: Any) -> Pair:
            return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))

        if conv.padding_mode != "zeros" or len(pair(conv.kernel_size)) != 2:
            return None
        kernel, dilation = pair(conv.kernel_size), pair(conv.dilation)
        pad = same_padding(kernel, dilation) if conv.padding == "same" else (0, 0) if conv.padding == "valid" \
            else pair(conv.padding)
        if pad is None:
            return None  # 'same' with an even dilated kernel pads one side more: no symmetric pad writes it
        made = Conv(out=conv.out_channels, kernel=kernel, stride=pair(conv.stride), pad=pad, groups=conv.groups,
                    dilation=dilation, bias=conv.bias is not None, bn=bn is not None)
        # bn_eps stays the dataclass default without a batch norm (Conv.bn_eps is a slot descriptor, not 1e-5)
        return replace(made, bn_eps=float(bn.eps)) if bn is not None else made

    def signature(self, layer: Conv) -> dict[str, str]:
        return {"layer": "conv", "out": str(layer.out), "kernel": f"{layer.kernel[0]}x{layer.kernel[1]}",
                "stride": pair_text(layer.stride), "pad": pair_text(layer.pad), "groups": str(layer.groups),
                **({"dilation": pair_text(layer.dilation)} if layer.dilation != (1, 1) else {}),
                "bias": "yes" if layer.bias else "no", "batch norm": f"eps {layer.bn_eps:g}" if layer.bn else "no"}

    def fvcore_elements(self, layer: Conv, in_shape: Shape, out_shape: Shape) -> dict[str, int]:
        """fvcore counts eval-mode batch norm per output element."""
        return {"batch_norm": f.elements(*out_shape)} if layer.bn else {}


KIND = ConvKind()
