"""Import a torch module as a spec: trace its forward with torch.fx and map the graph to the graph model.

``network_from_module(module)`` traces ``module`` twice (training and eval mode), maps every node of
the graph to a layer kind of :mod:`inception_calc.core.kinds` (each module is recognised by its
kind's own ``recognise``, as the counters recognise the real network's units) and rebuilds the
graph's shape, which for the networks of this family is series-parallel:

* a value read by several nodes is a **fork**; the paths from it meet again at one ``torch.cat``
  (a concat block) or one addition (an add block: ``x + f(x)``, ``x + 0.17 * f(x)``, each path
  times its scale; a path with no nodes is the identity); a ReLU right after the join is the
  block's ReLU. Forks nest (InceptionE's 1x3 beside 3x1);
* module qualified names become the names: a row is a top-level module (or a child of a
  Sequential), a block or branch whose nodes all sit in one module is that module, a layer is its
  module (a conv block of ``conv`` + ``bn`` children, torchvision's ``BasicConv2d``, is one conv
  layer, as a spec writes it); a function call is named by the module that calls it
  (``Mixed_6a.max_pool2d``);
* what runs only in training mode (torchvision's auxiliary heads) becomes aux rows (``after`` the
  row whose output they read): the nodes of the training-mode graph that do not lead to the output
  the eval-mode graph returns.

Refused, with one line naming the node, its op and the module it sits in: any op outside the
supported set (docs/import.md), a graph that is not series-parallel, a forward that fx cannot trace.

torch is imported inside the functions only; the core never imports it.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inception_calc.core.engine import analyze
from inception_calc.core.errors import CalcError, quote
from inception_calc.core.inputs import parse_input
from inception_calc.core.kinds import KINDS, Conv, Dropout, Layer, Linear, Pool, ReLU, Softmax
from inception_calc.core.kinds.base import pair_text
from inception_calc.core.network import Block, Branch, Network, Row, named_nodes

if TYPE_CHECKING:  # pragma: no cover
    from torch import fx, nn

DEFAULT_SIZE = 224
USUAL_SIZES = {"inception_v3": 299}
"""The input a torchvision model is usually run at, where it is not 224 (torchvision's ``transforms``)."""
TORCHVISION_OPTIONS = {"googlenet": {"aux_logits": True, "init_weights": False},
                       "inception_v3": {"aux_logits": True, "init_weights": False}}
"""Keyword arguments ``from_torchvision`` gives a model: its auxiliary heads built (they become aux
rows), no weight initialisation (the counts do not depend on the values)."""


# ----------------------------------------------------------------------------- the parse tree


@dataclass
class _Layer:
    qualname: str
    layer: Layer
    node: str
    hidden_relu: bool = False  # a conv block whose forward applies its ReLU itself (BasicConv2d)


@dataclass
class _Relu:
    qualname: str
    node: str


@dataclass
class _Scale:
    value: float
    node: str
    module: str


@dataclass
class _Branch:
    items: list
    scale: float = 1.0


@dataclass
class _Block:
    owner: str
    combine: str
    branches: list
    join: str  # the fx node of the cat or the addition
    base: str  # "cat" or "add": the block's name when it is no module
    relu: bool = False


@dataclass
class _Top:
    """A top-level item and the fx node whose value it gives."""

    item: Any
    value: Any


def _owner_path(item: Any) -> str:
    if isinstance(item, (_Layer, _Relu)):
        return item.qualname
    return item.owner


def _paths(item: Any) -> list[str]:
    """The qualified names an item's nodes sit in (a block: its join's module and every node's)."""
    if isinstance(item, (_Layer, _Relu)):
        return [item.qualname]
    if isinstance(item, _Scale):
        return [item.module]
    out = [item.owner]
    for b in item.branches:
        for sub in b.items:
            out += _paths(sub)
    return out


def _common(paths: list[str]) -> str:
    """The longest dotted prefix every path shares ("" for none)."""
    split = [p.split(".") if p else [] for p in paths]
    common: list[str] = []
    for parts in zip(*split):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return ".".join(common)


def _under(path: str, prefix: str) -> bool:
    return not prefix or path == prefix or path.startswith(prefix + ".")


def _relative(path: str, prefix: str) -> str:
    return path[len(prefix) + 1:] if prefix else path


# ----------------------------------------------------------------------------- tracing


def _tracer_class(torch: Any) -> type:
    """An fx tracer whose leaves are the modules a layer kind recognises (a conv block as one conv)."""
    from torch import fx

    from inception_calc.pytorch.counters import layer_of_module

    class KindTracer(fx.Tracer):
        def is_leaf_module(self, m: "nn.Module", qualname: str) -> bool:
            if isinstance(m, (torch.nn.Sequential, torch.nn.ModuleList, torch.nn.ModuleDict)):
                return False
            return super().is_leaf_module(m, qualname) or layer_of_module(m) is not None

    return KindTracer


def _trace(module: "nn.Module", training: bool, label: str) -> "fx.GraphModule":
    """The fx graph of ``module``'s forward in training or eval mode (the modes are restored)."""
    import torch
    from torch import fx

    modes = {m: m.training for m in module.modules()}
    module.train(training)
    try:
        tracer = _tracer_class(torch)()
        graph = tracer.trace(module)
    except CalcError:
        raise
    except Exception as exc:  # fx raises TraceError, TypeError, AttributeError... from the user's forward
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise CalcError(f"torch.fx cannot trace the forward of {label} in {'training' if training else 'eval'} "
                        f"mode: {reason[:300]}", where="module",
                        fix="make the forward traceable (no Python control flow on tensor values, no data-dependent "
                            "shapes), or write the network as a spec file (docs/spec-format.md)") from None
    finally:
        for m, mode in modes.items():
            m.training = mode
    return fx.GraphModule(tracer.root, graph, type(module).__name__)


# ----------------------------------------------------------------------------- mapping nodes to layers


def _first(values: Any) -> Any:
    return values[0] if isinstance(values, (tuple, list)) else values


class _Mapper:
    """Maps the nodes of one traced graph to parse-tree items, and walks the graph's forks and joins."""

    def __init__(self, gm: "fx.GraphModule", label: str) -> None:
        import operator

        import torch
        import torch.nn.functional as F

        self.torch, self.F, self.operator = torch, F, operator
        self.gm = gm
        self.label = label
        self.modules = dict(gm.named_modules())
        self.notes: list[str] = []
        self.flat: dict[Any, bool] = {}  # node -> whether its value is [N, features] rather than a map
        nodes = list(gm.graph.nodes)
        self.index = {n: i for i, n in enumerate(nodes)}
        self.constant = {n for n in nodes if n.op == "get_attr"}
        self.shape_only = set()  # nodes whose value is a size, not a tensor (x.size(0), x.shape)
        for n in nodes:
            if self._is_shape_query(n):
                self.shape_only.add(n)
        self.users: dict[Any, list] = {n: [] for n in nodes}
        for n in nodes:
            for a in self.data_inputs(n):
                if n not in self.users[a]:
                    self.users[a].append(n)
        self.skip: set = set()  # nodes of the other part (aux heads while walking the main path, and back)

    # ------------------------------------------------------------------ node facts

    def _is_shape_query(self, n: "fx.Node") -> bool:
        """A size or shape read (x.size(0)), or a namedtuple of outputs: nodes that carry no tensor."""
        if n.op == "call_function" and isinstance(n.target, type) and issubclass(n.target, tuple):
            return True
        if n.op == "call_method" and n.target in ("size", "dim"):
            return True
        if n.op == "call_function" and n.target is getattr and len(n.args) > 1 and n.args[1] in ("shape", "ndim"):
            return True
        if n.op == "call_function" and n.target is self.operator.getitem:
            src = n.args[0]
            return hasattr(src, "op") and src in self.shape_only
        o = self.operator
        if n.op == "call_function" and n.target in (o.floordiv, o.mul, o.add, o.sub, o.truediv, o.mod):
            nodes = _nodes_in((n.args, n.kwargs))  # arithmetic on sizes (shufflenet's channels // groups)
            return bool(nodes) and all(a in self.shape_only for a in nodes)
        return False

    def data_inputs(self, n: "fx.Node") -> list:
        """The tensor operands of ``n``, in order (sizes and shapes are no data)."""
        if n.op in ("placeholder", "get_attr") or n in self.shape_only:
            return []
        return [a for a in _nodes_in((n.args, n.kwargs)) if a not in self.shape_only]

    def module_of(self, n: "fx.Node") -> str:
        """The qualified name of the module whose forward runs ``n`` ("" for the network's own)."""
        if n.op == "call_module":
            return str(n.target)
        stack = n.meta.get("nn_module_stack") or {}
        if not stack:
            return ""
        path = list(stack.values())[-1][0]
        return str(path)

    def op_text(self, n: "fx.Node") -> str:
        if n.op == "call_module":
            return type(self.modules[n.target]).__name__
        if n.op == "call_method":
            return f"Tensor.{n.target}"
        target = n.target
        name = getattr(target, "__name__", str(target))
        mod = getattr(target, "__module__", "") or ""
        return f"{mod}.{name}" if mod and not mod.startswith("_") else name

    def refuse(self, n: "fx.Node", why: str, fix: str = "") -> CalcError:
        module = self.module_of(n)
        where = f"{self.label}, node '{n.name}' ({self.op_text(n)}) in module '{module or '(the network)'}'"
        return CalcError(why, where=where, fix=fix or "write the network as a spec file (docs/spec-format.md), "
                                                      "or replace the op by one of docs/import.md")

    def functional_name(self, n: "fx.Node", base: str) -> str:
        owner = self.module_of(n)
        return f"{owner}.{base}" if owner else base

    # ------------------------------------------------------------------ one node

    def is_join(self, n: "fx.Node") -> str | None:
        """"concat" or "add" for a node that combines several tensors, else None."""
        t, op = n.target, n.op
        if op == "call_function" and t in (self.torch.cat, self.torch.concat):
            return "concat"
        if (op == "call_function" and t in (self.operator.add, self.operator.iadd, self.torch.add)) or (
                op == "call_method" and t in ("add", "add_")):
            if len(self.data_inputs(n)) >= 2:
                return "add"
        return None

    def flat_of(self, value: Any) -> bool:
        return self.flat.get(value, False)

    def map_node(self, n: "fx.Node", value: Any) -> Any:
        """The parse-tree item of unary node ``n`` reading ``value``: a _Layer, _Relu, _Scale or None
        (a node that changes nothing the analysis counts: a flatten, an identity). Sets ``self.flat[n]``."""
        inputs = self.data_inputs(n)
        if inputs != [value]:
            extra = [a for a in inputs if a is not value]
            what = "a parameter or buffer" if any(a in self.constant for a in extra) else "another tensor"
            raise self.refuse(n, f"reads {what} beside its input ({', '.join(a.name for a in extra)}), "
                                 "which no layer kind of the spec format does")
        flat = self.flat_of(value)
        self.flat[n] = flat
        if n.op == "call_module":
            return self._module_item(n, flat)
        if n.op in ("call_function", "call_method"):
            return self._function_item(n, flat)
        raise self.refuse(n, f"is a {n.op} node, outside the supported set")

    def _module_item(self, n: "fx.Node", flat: bool) -> Any:
        from inception_calc.pytorch.counters import layer_of_module

        nn = self.torch.nn
        module = self.modules[n.target]
        name = str(n.target)
        if isinstance(module, (nn.ReLU, nn.ReLU6)):
            if isinstance(module, nn.ReLU6):
                self._note_relu6()
            return _Relu(name, n.name)
        if isinstance(module, nn.Identity):
            return None
        if isinstance(module, nn.Flatten):
            if module.start_dim != 1 or module.end_dim != -1:
                raise self.refuse(n, f"flattens dims {module.start_dim} to {module.end_dim}; only a flatten "
                                     "from dim 1 (to [N, features]) is supported")
            self.flat[n] = True
            return None
        layer = layer_of_module(module)
        if layer is None:
            return self._unrecognised_module(n, module)
        if isinstance(layer, Linear):
            self.flat[n] = True
        elif flat and KINDS.of(layer).needs_map:
            raise self.refuse(n, f"is a {layer.kind} layer on a flattened [N, features] tensor")
        if isinstance(layer, Conv):
            self._probe_conv(n, module, layer)
        hidden = isinstance(layer, Conv) and not isinstance(module, nn.Conv2d)
        if isinstance(layer, Conv) and not hidden:
            layer = replace(layer, relu=False)
        return _Layer(name, layer, n.name, hidden_relu=hidden)

    def _probe_conv(self, n: "fx.Node", module: Any, layer: Conv) -> None:
        """A conv whose class has its own forward (timm's ``Conv2dSame`` pads in it, TF's 'SAME': one
        more on the right and bottom at stride 2) is run on two small inputs (no data: the meta device,
        or the module's own) and refused where its output size is not the one its fields give."""
        nn = self.torch.nn
        conv = module if isinstance(module, nn.Conv2d) else dict(module.named_children()).get("conv")
        if conv is None or type(conv).forward is nn.Conv2d.forward:
            return
        from inception_calc.core.formulas import conv_output_size, dilated_kernel

        param = next(conv.parameters(), None)
        device = param.device if param is not None else "meta"
        k = [dilated_kernel(a, d) for a, d in zip(layer.kernel, layer.dilation)]
        for size in (max(k) + 7, max(k) + 8):
            with self.torch.no_grad():
                try:
                    out = tuple(conv(self.torch.zeros(1, conv.in_channels, size, size, device=device)).shape[2:])
                except Exception:  # noqa: BLE001 - the module's own code: no probe, no claim
                    return
            want = tuple(conv_output_size(size, kk, s, p) for kk, s, p in zip(k, layer.stride, layer.pad))
            if out != want:
                raise self.refuse(n, f"pads in its own forward ({type(conv).__name__}: at {size}x{size} it gives "
                                     f"{out[0]}x{out[1]} where its padding {pair_text(layer.pad)} gives "
                                     f"{want[0]}x{want[1]}; TF-style 'SAME' padding, one more on the right and "
                                     "bottom), which no symmetric pad writes",
                                  "build the model with symmetric padding (timm: a model without the tf_ prefix), "
                                  "or write the network as a spec file")

    def _unrecognised_module(self, n: "fx.Node", module: Any) -> Any:
        nn = self.torch.nn
        if isinstance(module, nn.Conv2d):
            details = []
            if module.padding_mode != "zeros":
                details.append(f"padding_mode={module.padding_mode!r}")
            if module.padding == "same":
                details.append(f"padding='same' with the even dilated kernel {tuple(module.kernel_size)} at "
                               f"dilation {tuple(module.dilation)} (torch pads one more on the right and bottom)")
            raise self.refuse(n, f"is a conv with {', '.join(details) or 'options'} the spec format cannot write",
                              "give the conv zero padding, the same on both sides, or write the network as a spec "
                              "file")
        if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
            raise self.refuse(n, "is a pool with options the spec format cannot write (dilation)")
        raise self.refuse(n, f"is a {type(module).__name__} module, outside the supported set")

    def _note_relu6(self) -> None:
        note = "ReLU6 is written as ReLU: the same cost (no weights, 0 MACs); the clamp at 6 is not shown"
        if note not in self.notes:
            self.notes.append(note)

    def _kwargs(self, n: "fx.Node") -> dict:
        from torch.fx.operator_schemas import normalize_function

        try:
            pair = normalize_function(n.target, n.args, n.kwargs, normalize_to_only_use_kwargs=True)
        except Exception:  # noqa: BLE001 - a signature fx cannot bind: fall back to the raw arguments
            pair = None
        if pair is None:
            try:
                bound = inspect.signature(n.target).bind(*n.args, **n.kwargs)
                return dict(bound.arguments)
            except (TypeError, ValueError):
                raise self.refuse(n, "has arguments that cannot be read") from None
        return dict(pair.kwargs)

    def _constant_args(self, n: "fx.Node", args: dict, names: tuple[str, ...]) -> None:
        from torch import fx

        for key in names:
            value = args.get(key)
            values = value if isinstance(value, (list, tuple)) else [value]
            if any(isinstance(v, fx.Node) for v in values):
                raise self.refuse(n, f"takes its {key} from the tensor's size, which the spec format cannot write",
                                  "give a fixed size, or an adaptive pool (nn.AdaptiveAvgPool2d(1))")

    def _function_item(self, n: "fx.Node", flat: bool) -> Any:
        torch, F, t = self.torch, self.F, n.target
        nn = torch.nn
        method = n.op == "call_method"

        def is_fn(*fns: Any, methods: tuple[str, ...] = ()) -> bool:
            return (method and t in methods) or (not method and any(t is f for f in fns))

        if is_fn(F.relu, torch.relu, torch.relu_, F.relu_, methods=("relu", "relu_")):
            return _Relu(self.functional_name(n, "relu"), n.name)
        if is_fn(F.relu6):
            self._note_relu6()
            return _Relu(self.functional_name(n, "relu6"), n.name)
        if is_fn(torch.flatten, methods=("flatten",)):
            args = self._kwargs(n) if not method else dict(zip(("self", "start_dim", "end_dim"), n.args),
                                                            **n.kwargs)
            start, end = args.get("start_dim", 0), args.get("end_dim", -1)
            if flat and start == 1 and end == -1:
                return None
            if start != 1 or end != -1:
                raise self.refuse(n, f"flattens dims {start} to {end}; only a flatten from dim 1 is supported")
            self.flat[n] = True
            return None
        if is_fn(methods=("view", "reshape")) or is_fn(torch.reshape):
            return self._reshape(n, flat)
        if is_fn(methods=("contiguous",)):
            return None
        if is_fn(F.max_pool2d, F.avg_pool2d, F.adaptive_avg_pool2d, F.adaptive_max_pool2d,
                 torch.max_pool2d):
            return self._pool(n, flat)
        if is_fn(torch.mean, methods=("mean",)):
            return self._mean(n, flat)
        if is_fn(F.dropout, torch.dropout):
            args = self._kwargs(n)
            return _Layer(self.functional_name(n, "dropout"), Dropout(p=float(args.get("p", 0.5))), n.name)
        if is_fn(F.softmax, torch.softmax, methods=("softmax",)):
            args = self._kwargs(n) if not method else dict(zip(("self", "dim"), n.args), **n.kwargs)
            dim = args.get("dim")
            if not flat or dim not in (1, -1):
                raise self.refuse(n, f"is a softmax over dim {dim} of a {'map' if not flat else 'tensor'}; "
                                     "only a softmax over the classes of [N, classes] is supported")
            return _Layer(self.functional_name(n, "softmax"), Softmax(), n.name)
        if is_fn(F.local_response_norm):
            args = self._kwargs(n)
            from inception_calc.pytorch.counters import layer_of_module

            module = nn.LocalResponseNorm(args["size"], alpha=args.get("alpha", 1e-4), beta=args.get("beta", 0.75),
                                          k=args.get("k", 1.0))
            return _Layer(self.functional_name(n, "local_response_norm"), layer_of_module(module), n.name)
        if is_fn(self.operator.mul, torch.mul, methods=("mul", "mul_")):
            scalars = [a for a in (*n.args, *n.kwargs.values()) if isinstance(a, (int, float)) and
                       not isinstance(a, bool)]
            if len(scalars) == 1:
                return _Scale(float(scalars[0]), n.name, self.module_of(n))
            raise self.refuse(n, "multiplies tensors element by element (a gate, an attention), "
                                 "outside the supported set")
        raise self.refuse(n, "is outside the supported set")

    def _reshape(self, n: "fx.Node", flat: bool) -> None:
        """``x.view(x.size(0), -1)``, ``x.reshape(N, -1)``, ``torch.reshape(x, (N, -1))``: a flatten."""
        from torch import fx

        args = list(n.args[1:])
        if "shape" in n.kwargs:
            args = [n.kwargs["shape"]]
        if len(args) == 1 and isinstance(args[0], (list, tuple)):
            args = list(args[0])

        def batch(a: Any) -> bool:
            if isinstance(a, fx.Node) and a in self.shape_only:
                if a.op == "call_method" and a.target == "size" and len(a.args) > 1:
                    return a.args[1] == 0
                if a.op == "call_function" and a.target is self.operator.getitem:
                    return a.args[1] == 0
            return isinstance(a, int) and not isinstance(a, bool) and a > 0

        if len(args) == 2 and batch(args[0]) and args[1] == -1:
            self.flat[n] = True
            return None
        if len(args) == 2 and args[0] == -1 and isinstance(args[1], int) and args[1] > 0:
            self.flat[n] = True  # x.view(-1, C * H * W): a flatten at the size it is written for
            return None
        shuffle = " (a channel shuffle: view to [N, groups, C / groups, H, W], transpose, view back)" \
            if len(args) == 5 else ""
        raise self.refuse(n, f"reshapes to {quote(tuple(a.name if isinstance(a, fx.Node) else a for a in args))}"
                             f"{shuffle}; only a flatten to [N, features] (view(x.size(0), -1)) is supported")

    def _pool(self, n: "fx.Node", flat: bool) -> _Layer:
        from inception_calc.pytorch.counters import layer_of_module

        if flat:
            raise self.refuse(n, "pools a flattened [N, features] tensor")
        nn, F, torch, t = self.torch.nn, self.F, self.torch, n.target
        args = self._kwargs(n)
        name = getattr(t, "__name__", "pool")
        if t in (F.adaptive_avg_pool2d, F.adaptive_max_pool2d):
            self._constant_args(n, args, ("output_size",))
            size = args["output_size"]
            if size is None or (isinstance(size, (list, tuple)) and None in size):
                raise self.refuse(n, "keeps a side of its input (output_size None), which the spec format cannot write")
            cls = nn.AdaptiveMaxPool2d if t is F.adaptive_max_pool2d else nn.AdaptiveAvgPool2d
            if t is F.adaptive_max_pool2d and args.get("return_indices"):
                raise self.refuse(n, "returns indices")
            module = cls(size)
        else:
            self._constant_args(n, args, ("kernel_size", "stride", "padding"))
            stride = args.get("stride") or args["kernel_size"]  # None or [] is the kernel
            common = {"kernel_size": args["kernel_size"], "stride": stride, "padding": args.get("padding", 0),
                      "ceil_mode": bool(args.get("ceil_mode", False))}
            if t in (F.max_pool2d, torch.max_pool2d):
                if args.get("return_indices"):
                    raise self.refuse(n, "returns indices")
                module = nn.MaxPool2d(dilation=args.get("dilation", 1), **common)
            else:
                if args.get("divisor_override") is not None:
                    raise self.refuse(n, "overrides the divisor, which the spec format cannot write")
                module = nn.AvgPool2d(count_include_pad=bool(args.get("count_include_pad", True)), **common)
        layer = layer_of_module(module)
        if layer is None:
            raise self.refuse(n, "is a pool with options the spec format cannot write (dilation)")
        return _Layer(self.functional_name(n, name), layer, n.name)

    def _mean(self, n: "fx.Node", flat: bool) -> _Layer:
        """``x.mean((2, 3))`` (keepdim or not): a global average pool, adaptive to 1x1."""
        args = dict(zip(("self", "dim", "keepdim"), n.args), **n.kwargs)
        dims = args.get("dim")
        dims = tuple(dims) if isinstance(dims, (list, tuple)) else (dims,)
        if flat or sorted(d % 4 if isinstance(d, int) else d for d in dims) != [2, 3]:
            raise self.refuse(n, f"is a mean over dims {quote(dims)}; only the global mean over H and W "
                                 "(x.mean((2, 3))) is supported")
        self.flat[n] = not args.get("keepdim", False)
        return _Layer(self.functional_name(n, "mean"), Pool(op="avg", output=(1, 1)), n.name)

    # ------------------------------------------------------------------ the walk

    def live_users(self, value: Any) -> list:
        return [u for u in self.users[value] if u not in self.skip]

    def chain(self, value: Any, items: list, ends: set) -> tuple[Any, Any]:
        """Follow the data from ``value``, appending items, until it meets a join (returned with the
        last value before it), a node of ``ends`` (an output) or no reader (join None)."""
        while True:
            if value in ends:
                return value, None
            users = self.live_users(value)
            if not users:
                return value, None
            if len(users) == 1:
                (u,) = users
                if self.is_join(u):
                    return value, u
                item = self.map_node(u, value)
                if item is not None:
                    items.append(item)
                value = u
                continue
            block, value = self.fork(value, users, ends)
            items.append(block)

    def fork(self, value: Any, users: list, ends: set) -> tuple[_Block, Any]:
        """The block that starts at ``value`` (read by ``users``) and ends at the one join all its paths meet."""
        paths = []
        for u in users:
            if self.is_join(u):
                paths.append((u, value, []))
                continue
            items: list = []
            item = self.map_node(u, value)
            if item is not None:
                items.append(item)
            last, join = self.chain(u, items, ends)
            paths.append((join, last, items))
        while True:
            joins = {id(j): j for j, _, _ in paths}
            if len(joins) == 1 and None not in joins.values() and len(paths) > 1:
                break
            # some paths meet first at an inner join (Inception-ResNet: cat of the branches, a conv, then the
            # addition with the identity): that join and what follows it are one path of the outer block
            lasts = {id(last) for _, last, _ in paths}
            inner = sorted((j for j in joins.values() if j is not None
                            and all(id(a) in lasts for a in self.data_inputs(j))), key=self.index.get)
            if not inner or len(paths) < 2:
                raise self.refuse(users[0], f"starts one of {len(users)} paths from '{value.name}' that do not meet "
                                            "again at one torch.cat or addition (the graph is not series-parallel)",
                                  "write the network as a spec file (docs/spec-format.md)")
            j = inner[0]
            group = [p for p in paths if p[0] is j]
            block = self._combined(value, j, group)
            items = [block]
            last, after = self.chain(j, items, ends)
            paths = [p for p in paths if p[0] is not j] + [(after, last, items)]
        join = next(iter(joins.values()))
        return self._combined(value, join, paths), join

    def _combined(self, value: Any, join: Any, paths: list) -> _Block:
        """The block of ``paths`` (join, last value, items) from ``value`` that ``join`` combines."""
        combine = self.is_join(join)
        inputs = self.data_inputs(join)
        ends_at = [last for _, last, _ in paths]
        if sorted(self.index[x] for x in inputs) != sorted(self.index[x] for x in ends_at) or len(inputs) != len(paths):
            raise self.refuse(join, f"combines tensors that are not exactly the {len(paths)} paths from "
                                    f"'{value.name}' (the graph is not series-parallel)",
                              "write the network as a spec file (docs/spec-format.md)")
        if combine == "concat":
            dim = join.kwargs.get("dim", join.args[1] if len(join.args) > 1 else 0)
            flat = self.flat_of(inputs[0])
            if dim not in ((1, -1) if flat else (1, -3)):
                raise self.refuse(join, f"concatenates along dim {dim}; only the channels (dim 1) are supported")
        if combine == "add" and (join.op == "call_function" and "alpha" in join.kwargs and join.kwargs["alpha"] != 1):
            raise self.refuse(join, "adds with alpha, which the spec format cannot write")
        order = {x: i for i, x in enumerate(inputs)}
        branches = []
        for _, last, items in sorted(paths, key=lambda p: order[p[1]]):
            scale = 1.0
            if items and isinstance(items[-1], _Scale):
                if combine != "add":
                    raise self.refuse(join, "concatenates a path scaled by a constant")
                scale = items.pop().value
            for item in items:
                if isinstance(item, _Scale):
                    raise self.refuse(self._node(item.node), "scales a tensor by a constant other than the "
                                      "last step of a path into an addition (x + 0.17 * f(x))")
            branches.append(_Branch(items, scale))
        flats = {self.flat_of(x) for x in inputs}
        if len(flats) > 1:
            raise self.refuse(join, "combines a flattened [N, features] tensor with a map")
        self.flat[join] = flats.pop()
        owner = _common([self.module_of(join)] + [p for b in branches for it in b.items for p in _paths(it)])
        base = "cat" if combine == "concat" else "add"
        return _Block(owner, combine, branches, join.name, base)

    def _node(self, name: str) -> "fx.Node":
        for n in self.gm.graph.nodes:
            if n.name == name:
                return n
        raise KeyError(name)


# ----------------------------------------------------------------------------- outputs and aux heads


def _nodes_in(value: Any, open_tuples: bool = False) -> list:
    """The fx nodes inside ``value`` (nested lists, tuples and dicts), in order; with
    ``open_tuples``, a tuple built by a call in the forward is opened too (torchvision's
    GoogLeNetOutputs namedtuple)."""
    from torch import fx

    found: list = []

    def visit(a: Any) -> None:
        if isinstance(a, fx.Node):
            if open_tuples and a.op == "call_function" and isinstance(a.target, type) and issubclass(a.target, tuple):
                visit((a.args, a.kwargs))
            else:
                found.append(a)
        elif isinstance(a, (list, tuple)):
            for x in a:
                visit(x)
        elif isinstance(a, dict):
            for x in a.values():
                visit(x)

    visit(value)
    return found


def _output_values(gm: "fx.GraphModule") -> list:
    """The tensors the forward returns, in order (a tuple, a list, a dict or a namedtuple of them)."""
    (out,) = [n for n in gm.graph.nodes if n.op == "output"]
    return _nodes_in(out.args, open_tuples=True)


def _signature(mapper: _Mapper, n: "fx.Node") -> tuple:
    return (n.op, str(n.target), mapper.module_of(n))


def _ancestors(mapper: _Mapper, node: Any) -> set:
    seen = {node}
    todo = [node]
    while todo:
        n = todo.pop()
        for a in mapper.data_inputs(n):
            if a not in seen:
                seen.add(a)
                todo.append(a)
    return seen


# ----------------------------------------------------------------------------- rows


_CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")


class _Namer:
    """Turns the parse tree into rows, branches, blocks and layers, naming each by its module.

    A row is a top-level module, or a child of a Sequential (descending while the module is a
    container), so that ``features.3`` and ``layer1.0`` are rows; consecutive items of one module
    make one row. Names are unique across the network: a name given twice (a module called twice,
    a function called twice in one module) gets ``_1``, ``_2``.
    """

    def __init__(self, modules: dict) -> None:
        self.modules = modules
        self.taken: set[str] = set()
        self.real_of: dict[str, str] = {}  # a made-up prefix (a row 'cat' of the network's own forward) -> its module

    def within(self, path: str, prefix: str) -> bool:
        """Whether ``path`` (a module's qualified name) sits below ``prefix`` (a node name)."""
        return _under(path, self.real_of.get(prefix, prefix))

    def full(self, path: str, prefix: str) -> str:
        """The node name of the module ``path`` below ``prefix``: the path itself, or below a made-up
        prefix the path relative to the module that prefix stands for (``branch2.0`` in the row ``cat``
        of the network's own forward is ``cat.branch2.0``)."""
        real = self.real_of.get(prefix)
        if real is None or not _under(path, real):
            return path
        rest = _relative(path, real) if path != real else ""
        return f"{prefix}.{rest}" if rest else prefix

    def unique(self, full: str) -> str:
        if full not in self.taken:
            self.taken.add(full)
            return full
        k = 1
        while f"{full}_{k}" in self.taken:
            k += 1
        self.taken.add(f"{full}_{k}")
        return f"{full}_{k}"

    def is_module(self, path: str) -> bool:
        return path in self.modules and path != ""

    def row_key(self, item: Any) -> str:
        path = _owner_path(item)
        if not path:
            return ""
        parts = path.split(".")
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            module = self.modules.get(prefix)
            if module is None or type(module).__name__ not in _CONTAINERS:
                return prefix
        return path

    # ------------------------------------------------------------------ nodes

    def layer(self, item: Any, prefix: str) -> Layer:
        """The layer of a _Layer or _Relu item named relative to ``prefix`` (its name made unique)."""
        own = self.full(item.qualname, prefix)
        full = self.unique(own if self.within(item.qualname, prefix) and own != prefix
                           else f"{prefix}.{item.qualname.rsplit('.', 1)[-1]}" if prefix else item.qualname)
        layer = ReLU() if isinstance(item, _Relu) else item.layer
        return replace(layer, name=_relative(full, prefix))

    def sequence(self, items: list, prefix: str) -> tuple:
        """The nodes of a branch (or of a sequence row) whose names sit below ``prefix``; a ReLU right
        after a conv or a linear layer is that layer's, right after a block the block's."""
        nodes: list = []
        folded = _fold_relus(items)
        for item, relu in folded:
            if isinstance(item, _Block):
                nodes.append(self.block(item, prefix, folded, relu))
            else:
                node = self.layer(item, prefix)
                if relu:
                    node = replace(node, relu=True)
                nodes.append(node)
        return tuple(nodes)

    def block(self, item: _Block, prefix: str, siblings: list, relu: bool) -> Block:
        shared = sum(1 for other, _ in siblings if any(_under(p, item.owner) for p in _paths(other)))
        if item.owner and self.full(item.owner, prefix) != prefix and self.within(item.owner, prefix) \
                and self.is_module(item.owner) and shared == 1:
            full = self.unique(self.full(item.owner, prefix))
            if full != item.owner:
                self.real_of[full] = item.owner
            return Block(self.branches(item, full), combine=item.combine, relu=item.relu or relu,
                         name=_relative(full, prefix), module=True)
        full = self.unique(f"{prefix}.{item.base}" if prefix else item.base)
        return Block(self.branches(item, prefix), combine=item.combine, relu=item.relu or relu,
                     name=_relative(full, prefix), module=False)

    def branches(self, block: _Block, prefix: str) -> tuple[Branch, ...]:
        out = []
        owners = [_common(sum((_paths(it) for it in b.items), [])) if b.items else "" for b in block.branches]
        forms = [self._branch_form(b, owner, owners, prefix) for b, owner in zip(block.branches, owners)]
        for i, (b, owner, form) in enumerate(zip(block.branches, owners, forms)):
            if form == "layer":
                # one layer: the branch is that layer (named by it, as torchvision's inception3a.branch1)
                (node,) = self.sequence(b.items, prefix)
                full = f"{prefix}.{node.name}" if prefix else node.name
                out.append(Branch(_relative(full, prefix), (replace(node, name=""),), scale=b.scale, module=False))
            elif form == "module":
                full = self.unique(self.full(owner, prefix))
                if full != owner:
                    self.real_of[full] = owner
                out.append(Branch(_relative(full, prefix), self.sequence(b.items, full), scale=b.scale, module=True))
            else:
                local = _path_name(block, i, forms)
                name = self.unique(f"{prefix}.{local}" if prefix else local)
                out.append(Branch(_relative(name, prefix), self.sequence(b.items, prefix), scale=b.scale,
                                  module=False))
        return tuple(out)

    def _branch_form(self, b: _Branch, owner: str, owners: list[str], prefix: str) -> str:
        """How a path is named: ``layer`` (its one layer's name), ``module`` (the one module its nodes
        sit in, shared with no other path) or ``path`` (a made-up name, :func:`_path_name`)."""
        if len(b.items) == 1 and isinstance(b.items[0], (_Layer, _Relu)) and self.within(b.items[0].qualname, prefix) \
                and self.full(b.items[0].qualname, prefix) != prefix:
            return "layer"
        alone = sum(1 for o in owners if o and _under(o, owner)) == 1
        if owner and self.full(owner, prefix) != prefix and self.within(owner, prefix) and self.is_module(owner) \
                and alone and not (
                len(b.items) == 1 and _owner_path(b.items[0]) == owner):
            return "module"
        return "path"

    # ------------------------------------------------------------------ rows

    def rows(self, tops: list[_Top]) -> tuple[list[Row], dict]:
        """The main rows, and the row whose output each top-level value is (for aux heads' ``after``)."""
        groups: list[tuple[str, list[_Top]]] = []
        for top in tops:
            key = self.row_key(top.item) or (top.item.base if isinstance(top.item, _Block) else "")
            if groups and groups[-1][0] == key and key:
                groups[-1][1].append(top)
            else:
                groups.append((key, [top]))
        rows = []
        row_of: dict = {}
        for key, members in groups:
            row = self.row(key or "layers", [m.item for m in members])
            rows.append(row)
            row_of[members[-1].value] = row.name
            for m in members[:-1]:
                row_of.setdefault(m.value, None)
        return rows, row_of

    def row(self, key: str, items: list, after: str | None = None) -> Row:
        name = self.unique(key)
        if not self.is_module(name):
            self.real_of[name] = ""  # a row of the network's own forward: its modules' names go below it
        if after is None and len(items) == 1 and isinstance(items[0], (_Layer, _Relu)) and items[0].qualname == key:
            self.taken.discard(name)
            (layer,) = self.sequence(items, "")
            name = layer.name
            spec_kind = _spec_kind(layer)
            return Row(name, spec_kind, (Branch("", (replace(layer, name=""),)),))
        if after is None and len(items) == 1 and isinstance(items[0], _Block) and items[0].owner == key:
            block = items[0]
            return Row(name, block.combine, self.branches(block, name), combine=block.combine, relu=block.relu)
        nodes = self.sequence(items, name)
        if len(nodes) == 1 and isinstance(nodes[0], Block) and after is None and not nodes[0].module:
            block = nodes[0]  # one block that is no module of its own: the row is that block
            self.taken.discard(f"{name}.{block.name}")
            return Row(name, block.combine, block.branches, combine=block.combine, relu=block.relu)
        return Row(name, "aux" if after else "stack", (Branch("", nodes),), after=after)


def _path_name(block: _Block, i: int, forms: list[str]) -> str:
    """The made-up name of a block's ``i``-th path: in an addition of two paths, a path with no nodes
    is ``identity``, and a path of several nodes beside it or beside a named one (ResNet's
    ``downsample``) is ``residual`` (``x + f(x)``); else ``pathN``, N counted from 0 in the order the
    join reads the paths."""
    if block.combine == "add" and len(block.branches) == 2:
        other = block.branches[1 - i]
        if not block.branches[i].items:
            return "identity" if other.items else f"path{i}"
        if not other.items or forms[1 - i] != "path":
            return "residual"
    return f"path{i}"


def _spec_kind(layer: Layer) -> str:
    if isinstance(layer, Pool):
        return f"{layer.op}pool"
    return layer.kind


def _fold_relus(items: list) -> list[tuple[Any, bool]]:
    """(item, relu) pairs: a ReLU after a conv or linear layer, or after a block, folds into it."""
    out: list[list] = []
    for item in items:
        if isinstance(item, _Relu) and out and not out[-1][1]:
            prev = out[-1][0]
            if (isinstance(prev, _Layer) and isinstance(prev.layer, (Conv, Linear))) or isinstance(prev, _Block):
                if isinstance(prev, _Layer) and prev.hidden_relu:
                    out.append([item, False])  # a conv block applies its own ReLU: this one is another
                    continue
                out[-1][1] = True
                continue
        out.append([item, False])
    return [(item, relu) for item, relu in out]


# ----------------------------------------------------------------------------- the network


def _input_channels(module: "nn.Module") -> int:
    from torch import nn

    return next((m.in_channels for m in module.modules() if isinstance(m, nn.Conv2d)), 3)


def _default_input(module: "nn.Module") -> int | tuple:
    cfg = getattr(module, "pretrained_cfg", None) or getattr(module, "default_cfg", None) or {}
    size = cfg.get("input_size") if isinstance(cfg, dict) else None
    if size and len(size) == 3:
        return tuple(int(s) for s in size)
    return DEFAULT_SIZE


def network_from_module(module: Any, input: "tuple[int, int, int] | str | int | None" = None,
                        name: str | None = None, source: str | None = None) -> Network:
    """The :class:`Network` of a torch module's forward, for analysis like any spec.

    ``module``: an ``nn.Module`` whose forward fx can trace (module-level ReLU, conv blocks, pools,
    torch.cat, additions...: docs/import.md); ``input``: the size checked at import (default: the
    model's own, 224 otherwise): the network analyses at any size the model itself runs at;
    ``name`` and ``source``: the network's, by default the module's class and its Python path. What runs
    only in training mode becomes aux rows. An op outside the supported set is a CalcError naming the
    node, its op and the module it sits in.
    """
    from inception_calc.pytorch.build import require_torch

    torch = require_torch()
    if not isinstance(module, torch.nn.Module):
        raise CalcError(f"expected a torch.nn.Module, got {type(module).__name__} {quote(module)}", where="module",
                        fix="pass an nn.Module instance (call the class or factory first)")
    cls = type(module)
    label = name or cls.__name__
    train = _trace(module, True, label)
    evaluated = _trace(module, False, label)
    mapper = _Mapper(train, label)
    mapper.modules = dict(module.named_modules())  # the originals: the GraphModule's containers are plain Modules
    outputs = _output_values(train)
    if not outputs:
        raise CalcError(f"the forward of {label} returns no tensor", where="module", fix="return the logits")
    eval_mapper = _Mapper(evaluated, label)
    eval_out = _output_values(evaluated)
    wanted = _signature(eval_mapper, eval_out[0]) if eval_out else None
    main = next((o for o in outputs if _signature(mapper, o) == wanted), outputs[0])
    main_part = _ancestors(mapper, main)
    placeholders = [n for n in train.graph.nodes if n.op == "placeholder"]
    x = placeholders[0] if placeholders else None
    if x is None or x not in main_part:
        raise CalcError(f"the output of {label} does not depend on its first input", where="module",
                        fix="pass a module whose forward takes the image first")
    aux_nodes = {n for n in train.graph.nodes if n not in main_part and n.op in ("call_module", "call_function",
                                                                                   "call_method")
                 and n not in mapper.shape_only and _ancestors_reach(mapper, n, x)}
    mapper.skip = aux_nodes
    tops = _top_items(mapper, x, {main})
    namer = _Namer(mapper.modules)
    rows, row_of = namer.rows(tops)
    aux_rows = _aux_rows(mapper, namer, aux_nodes, row_of, set(outputs) - {main}, label)
    for after, row in aux_rows:
        index = max(i for i, r in enumerate(rows) if r.name == after or r.after == after)
        rows.insert(index + 1, row)
    channels = _input_channels(module)
    size = parse_input(_default_input(module) if input is None else input, "input", channels=channels)
    network = Network(name=label, rows=tuple(rows),
                      description=f"imported from the torch module {cls.__module__}.{cls.__qualname__} by torch.fx",
                      source=source or f"{cls.__module__}.{cls.__qualname__}", input=size,
                      notes=tuple(mapper.notes))
    _check_unique(network)
    analyze(network, size)  # every layer fits at the input it was imported at, or a CalcError says where
    return network


def _ancestors_reach(mapper: _Mapper, n: Any, x: Any) -> bool:
    return x in _ancestors(mapper, n)


def _top_items(mapper: _Mapper, x: Any, ends: set) -> list[_Top]:
    """The top-level items from the input ``x`` to the main output, each with the value it gives."""
    tops: list[_Top] = []
    value = x
    while True:
        if value in ends:
            return tops
        users = mapper.live_users(value)
        if not users:
            return tops
        if len(users) == 1:
            (u,) = users
            if mapper.is_join(u):
                raise mapper.refuse(u, "combines tensors that do not come from one fork (the graph is not "
                                       "series-parallel)")
            item = mapper.map_node(u, value)
            if isinstance(item, _Relu) and tops and isinstance(tops[-1].item, _Block) and not tops[-1].item.relu:
                tops[-1].item.relu = True  # a ReLU right after a block is the block's
                tops[-1].value = u
            elif item is not None:
                tops.append(_Top(item, u))
            elif tops:
                tops[-1].value = u
            value = u
            continue
        block, value = mapper.fork(value, users, ends)
        tops.append(_Top(block, value))


def _aux_rows(mapper: _Mapper, namer: _Namer, aux: set, row_of: dict, aux_outputs: set,
              label: str) -> list[tuple[str, Row]]:
    """The auxiliary heads: each chain of training-only nodes from a main row's output to an output."""
    if not aux:
        return []
    main = set(mapper.users) - aux
    heads = []
    for n in sorted(aux, key=mapper.index.get):
        sources = [a for a in mapper.data_inputs(n) if a in main]
        if not sources:
            continue
        (value,) = sources[:1]
        after = row_of.get(value)
        if after is None:
            raise mapper.refuse(n, "starts a training-only head on a value inside a row, not a row's output",
                                "tap the auxiliary head on a module's output")
        mapper.skip = main
        items: list = []
        item = mapper.map_node(n, value)
        if item is not None:
            items.append(item)
        mapper.chain(n, items, aux_outputs)
        mapper.skip = aux
        key = _common([p for it in items for p in _paths(it)]) or "aux"
        key = namer.row_key(_Layer(key, Dropout(), "")) if key != "aux" else key
        heads.append((after, namer.row(key, items, after=after)))
    return heads


def _check_unique(network: Network) -> None:
    seen: set[str] = set()
    for row in network.rows:
        for name in [row.name, *named_nodes(row)]:
            if name in seen:
                raise CalcError(f"the name '{name}' would be given twice", where=network.name,
                                fix="report this: the importer names every node by its module")
            seen.add(name)


# ----------------------------------------------------------------------------- sources


def _on_meta(torch: Any, build: Any) -> "nn.Module":
    """``build()`` on the meta device (no memory, no initialisation); on the CPU where the constructor
    itself computes with tensors (torchvision's regnet rounds its widths with torch ops, which meta
    tensors cannot give back)."""
    try:
        with torch.device("meta"):
            return build()
    except NotImplementedError as exc:
        if "meta" not in str(exc):
            raise
    return build()


@lru_cache(maxsize=32)
def from_torchvision(name: str) -> Network:
    """torchvision's model ``name`` (``torchvision.models.get_model``) imported, with no weights (built
    on the meta device: nothing is downloaded or initialised), its auxiliary heads as aux rows;
    ``reference`` is ``torchvision:NAME`` so that ``check --against torchvision`` compares the two."""
    from inception_calc.pytorch.build import require_torch
    from inception_calc.pytorch.counters import require_torchvision

    torch = require_torch()
    torchvision = require_torchvision("importing a torchvision model")
    known = torchvision.models.list_models()
    if name not in known:
        raise CalcError(f"torchvision {torchvision.__version__.split('+')[0]} has no model {quote(name)}",
                        where="source", fix="name a model of torchvision.models.list_models() (resnet50, googlenet)")
    model = _on_meta(torch, lambda: torchvision.models.get_model(name, weights=None,
                                                                  **TORCHVISION_OPTIONS.get(name, {})))
    network = network_from_module(model, USUAL_SIZES.get(name, DEFAULT_SIZE), name=name,
                                  source=f"torchvision.models.{name} (torchvision "
                                         f"{torchvision.__version__.split('+')[0]})")
    return replace(network, reference=f"torchvision:{name}", path=f"torchvision:{name}",
                   description=f"torchvision's {name}, imported by torch.fx")


@lru_cache(maxsize=32)
def from_timm(name: str) -> Network:
    """timm's model ``name`` (``timm.create_model(name, pretrained=False)``) imported, built on the
    meta device; ``reference`` is ``timm:NAME``."""
    from inception_calc.pytorch.build import require_torch
    from inception_calc.pytorch.counters import require_timm

    torch = require_torch()
    timm = require_timm("importing a timm model")
    try:
        model = _on_meta(torch, lambda: timm.create_model(name, pretrained=False))
    except (RuntimeError, ValueError, KeyError) as exc:
        raise CalcError(f"timm {timm.__version__} has no model {quote(name)}: "
                        f"{str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}",
                        where="source", fix="name a model of timm.list_models()") from None
    network = network_from_module(model, None, name=name, source=f"timm {name} (timm {timm.__version__})")
    return replace(network, reference=f"timm:{name}", path=f"timm:{name}",
                   description=f"timm's {name}, imported by torch.fx")


def from_python(path: str, attr: str) -> Network:
    """The network of ``ATTR`` in the user's file ``path``: a module class or a factory, called with no
    arguments (this runs the file's code, as ``python path`` would), then imported like any module."""
    file = Path(path)
    where = f"{path}:{attr}"
    if not file.is_file():
        raise CalcError(f"no such file {quote(str(path))}", where="source", fix="give the path of a .py file")
    from inception_calc.pytorch.build import require_torch

    torch = require_torch()
    module_name = f"inception_calc_user_{abs(hash(str(file.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise CalcError(f"cannot import {quote(str(path))} as Python", where="source", fix="give a .py file")
    user = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = user
    try:
        spec.loader.exec_module(user)
    except Exception as exc:  # the user's code: any error, as one line
        del sys.modules[module_name]
        raise CalcError(f"running {path} failed: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}",
                        where="source", fix="fix the file so that `python FILE` runs") from None
    if not hasattr(user, attr):
        names = sorted(k for k, v in vars(user).items() if not k.startswith("_") and (
            (isinstance(v, type) and issubclass(v, torch.nn.Module)) or inspect.isfunction(v)))
        raise CalcError(f"{path} has no attribute {quote(attr)}", where="source",
                        fix=f"name one of {', '.join(names)}" if names else "name a module class or a factory in it")
    target = getattr(user, attr)
    if isinstance(target, torch.nn.Module):
        model = target
    elif callable(target):
        try:
            inspect.signature(target).bind()
        except TypeError:
            needed = [p.name for p in inspect.signature(target).parameters.values()
                      if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
            raise CalcError(f"{attr} needs arguments ({', '.join(needed)}) and is called with none", where=where,
                            fix="give them defaults, or add a factory with no arguments that returns the module") from None
        except ValueError:
            pass
        try:
            model = target()
        except Exception as exc:  # the user's code
            raise CalcError(f"calling {attr}() failed: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}",
                            where=where, fix="make it callable with no arguments") from None
    else:
        model = target
    if not isinstance(model, torch.nn.Module):
        raise CalcError(f"{attr} is not a torch.nn.Module, nor a class or factory that returns one "
                        f"(got {type(model).__name__})", where=where, fix="name an nn.Module class or a factory")
    network = network_from_module(model, None, name=attr, source=f"{path}:{attr}")
    return replace(network, path=f"{path}:{attr}")


__all__ = ["from_python", "from_timm", "from_torchvision", "network_from_module"]
