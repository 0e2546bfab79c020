"""Post-training conversion of a non-causal convolutional model into a streaming model.

`convert(model)` traces the model with torch.fx, follows every signal from the input to
the output keeping three facts about it:

* its rate relative to the input (strided convs divide it, transposed convs multiply it),
* its delay: the streaming signal equals the offline one shifted by `delay` samples *of
  its own rate*,
* its receptive field (earliest and latest input sample, relative to the sample itself,
  that it depends on), used by the `ContextWindow` baseline.

Each convolution is replaced by its cached counterpart, built for the delay of its own
input: a strided conv chooses the one cache length (within a window of `stride` lengths)
that keeps its output on the grid, so no delay is ever passed by hand. Wherever signals
meet (add, mul, cat, where, ... or the model output) the ones that arrive early get a
delay line. Anything that is not pointwise in time is refused with its name.

Finally, along chains of layers with nothing but pointwise ops between them, caches are
merged (`_merge_caches`): the upstream layer emits the few past samples the next one needs,
so a chain makes one concatenation per buffer instead of one per layer.
"""
from __future__ import annotations

import copy
import math
import operator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.fx as fx
import torch.nn as nn
import torch.nn.functional as F

from . import layers
from .cached import CachedConv1d, CachedConvTranspose1d, Delay, InputGuard


class ConversionError(ValueError):
    """The model cannot be streamed as it is; the message names the operation and why."""


class StreamingLeaf(nn.Module):
    """Base class for custom layers that are pointwise in time but keep their own state
    (for example a seeded noise source). `convert` keeps them as leaves, calls
    `streaming_copy()` and resets them with the rest of the model.

    `time_locked = False` declares an output that is not tied to the timing of its input
    (noise): it needs no alignment when it meets other signals."""

    time_locked: bool = True

    def streaming_copy(self) -> nn.Module:
        return copy.deepcopy(self)


# Layers that act on each time step independently (in eval mode).
POINTWISE_MODULES = (
    nn.Identity, nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU,
    nn.SiLU, nn.Mish, nn.Tanh, nn.Sigmoid, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid,
    nn.Softplus, nn.Softsign, nn.Tanhshrink, nn.LogSigmoid, nn.Dropout, nn.BatchNorm1d,
)

_POINTWISE_NAMES = {
    "relu", "relu_", "tanh", "sigmoid", "abs", "exp", "log", "sin", "cos", "sqrt", "rsqrt",
    "square", "neg", "sign", "clamp", "clip", "pow", "erf", "atan", "sinc", "log1p", "expm1",
    "sinh", "cosh", "reciprocal", "nan_to_num", "add", "sub", "mul", "div", "true_divide",
    "maximum", "minimum", "where", "atan2", "hypot", "leaky_relu", "gelu", "silu", "elu", "selu",
    "celu", "softplus", "softsign", "hardtanh", "mish", "hardswish", "hardsigmoid", "relu6",
    "logsigmoid", "dropout", "contiguous", "float", "double", "half", "to", "type_as", "clone",
    "detach", "tanh_", "sigmoid_", "mul_", "add_",
}
_POINTWISE_FUNCTIONS = {
    operator.add, operator.sub, operator.mul, operator.truediv, operator.neg, operator.pos,
    operator.abs, operator.pow, operator.iadd, operator.imul, operator.isub,
}
_CONCAT_FUNCTIONS = {torch.cat, torch.concat, torch.concatenate}
_SPLIT_NAMES = {"chunk", "split", "tensor_split"}   # (x, n_or_sizes, dim)
_UNTIMED_SOURCES = {torch.rand_like, torch.randn_like, torch.zeros_like, torch.ones_like, torch.full_like}
_CHANNEL_DIMS = (1, -2)
# ops that mix channels at each time step; value: their default dim
_CHANNEL_OPS = {"softmax": None, "log_softmax": None, "glu": -1}


@dataclass(frozen=True)
class Signal:
    """What the analysis knows about a tensor that depends on the model input."""
    rate: Fraction           # samples per input sample
    delay: Optional[int]     # in samples of its own rate; None: not tied to input timing
    lo: Fraction             # receptive field, in input samples, relative to the sample's time
    hi: Fraction


@dataclass(frozen=True)
class SplitSignal:
    """A tuple of channel slices of one signal (chunk/split along channels)."""
    signal: Signal


_CONST = object()  # a value that does not depend on the input (parameters, scalars)


def _lcm(a: int, b: int) -> int:
    return a * b // math.gcd(a, b)


def effective_weight(module: nn.Module) -> torch.Tensor:
    """The weight a conv computes with, including old-style weight norm (whose `weight`
    attribute is only refreshed by a forward pass) and parametrizations."""
    if hasattr(module, "weight_g") and hasattr(module, "weight_v"):
        dim = 0
        for hook in module._forward_pre_hooks.values():
            dim = getattr(hook, "dim", dim)
        return torch._weight_norm(module.weight_v, module.weight_g, dim).detach()
    return module.weight.detach()


def conv_left_padding(module: nn.Conv1d) -> int:
    if isinstance(module, layers.Conv1d):
        return module.pad_left
    if module.padding == "valid":
        return 0
    if module.padding == "same":
        return (module.kernel_size[0] - 1) * module.dilation[0] // 2
    return int(module.padding[0])


class _Tracer(fx.Tracer):
    """Keeps convolutions, pointwise layers and custom streaming leaves as leaves; traces
    into everything else (containers and user modules). Other built-in torch.nn layers
    stay leaves too, so that an unsupported one is reported by name."""

    def __init__(self):
        super().__init__()
        self.record_stack_traces = True

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d, StreamingLeaf) + POINTWISE_MODULES):
            return True
        if isinstance(m, (nn.Sequential, nn.ModuleList, nn.ModuleDict, layers.Branches, layers.Residual)):
            return False
        return m.__module__.startswith("torch.nn")


class _Method(nn.Module):
    """Makes any method of a model traceable as a forward."""

    def __init__(self, model: nn.Module, method: str):
        super().__init__()
        self.model = model
        self.method = method

    def forward(self, x):
        return getattr(self.model, self.method)(x)


class StreamingModule(fx.GraphModule):
    """A converted model: call it on consecutive buffers (length a multiple of `ratio`).

    Attributes (plain ints, kept by TorchScript):
      delay      -- output delay, in samples of the output rate
      ratio      -- every buffer length must be a multiple of it
      in_ratio, out_ratio -- nn~ convention: input buffer B/in_ratio -> output B/out_ratio
    """

    @torch.jit.export
    def reset(self):
        """Forget the stream: the next buffer starts from silence, with any batch size."""
        for layer in self.stateful:
            layer.reset()


def _is_channel_slice(index) -> bool:
    """x[:, a:b], x[:, a:b, :] or x[..., a:b, :]: batch and time untouched, rank kept."""
    idx = index if isinstance(index, tuple) else (index,)
    if any(i is None or isinstance(i, (int, fx.Node)) for i in idx):
        return False
    if Ellipsis in idx:
        after = idx[idx.index(Ellipsis) + 1:]
        return len(after) in (1, 2) and (len(after) == 1 and after[0] == slice(None)
                                         or len(after) == 2 and after[1] == slice(None))
    full = slice(None)
    return 1 <= len(idx) <= 3 and idx[0] == full and (len(idx) < 3 or idx[2] == full)


def _location(node: fx.Node) -> str:
    trace = (node.stack_trace or "").strip().splitlines()
    code = f" (in: {trace[-1].strip()})" if trace else ""
    return f"node '{node.name}'{code}"


def _target_name(node: fx.Node) -> str:
    target = node.target
    if isinstance(target, str):
        return target
    module = getattr(target, "__module__", "") or ""
    return f"{module}.{getattr(target, '__name__', repr(target))}".lstrip(".")


class _Converter:
    def __init__(self, model: nn.Module, method: str, in_channels: int):
        self.method = method
        self.in_channels = in_channels
        self.root = _Method(model, method)
        tracer = _Tracer()
        try:
            self.graph = tracer.trace(self.root)
        except Exception as e:  # noqa: BLE001 - fx raises many kinds; all mean "not traceable"
            raise ConversionError(
                f"cannot trace {type(model).__name__}.{method} with torch.fx: {e}. Streaming conversion needs "
                "a method that calls installed submodules and has no control flow on tensor values or shapes.") from e
        self.modules = dict(self.root.named_modules())
        self.stateful: List[nn.Module] = []
        self.values: Dict[fx.Node, Any] = {}
        self.ratio = 1

    # -- bookkeeping -----------------------------------------------------------------
    def _add_stateful(self, module: nn.Module, before: fx.Node, args: Tuple) -> fx.Node:
        self.stateful.append(module)
        with self.graph.inserting_before(before):
            return self.graph.call_module(f"stateful.{len(self.stateful) - 1}", args)

    def _require(self, rate: Fraction, multiple: int = 1) -> None:
        """Buffers must keep `rate`-signals integral and (for strides) on their grid."""
        self.ratio = _lcm(self.ratio, (Fraction(multiple) / rate).numerator)

    def _signals_in(self, value) -> List[Signal]:
        if isinstance(value, Signal):
            return [value]
        if isinstance(value, SplitSignal):
            return [value.signal]
        if isinstance(value, (list, tuple)):
            return [s for v in value for s in self._signals_in(v)]
        if isinstance(value, dict):
            return [s for v in value.values() for s in self._signals_in(v)]
        return []

    def _value(self, arg):
        if isinstance(arg, fx.Node):
            return self.values[arg]
        if isinstance(arg, (list, tuple)):
            return type(arg)(self._value(a) for a in arg)
        if isinstance(arg, dict):
            return {k: self._value(v) for k, v in arg.items()}
        return _CONST

    def _align(self, node: fx.Node, arg_nodes: List[fx.Node], what: str) -> Signal:
        """Delay the early signals among `arg_nodes` so that all reach `node` together."""
        sigs = {a: self.values[a] for a in arg_nodes if isinstance(self.values.get(a), Signal)}
        rates = {s.rate for s in sigs.values()}
        if len(rates) > 1:
            listed = ", ".join(f"{a.name} at rate {s.rate}" for a, s in sigs.items())
            raise ConversionError(f"{what} at {_location(node)} combines signals at different rates ({listed}); "
                                  "resample one of them (strided or transposed conv) first")
        timed = [s.delay for s in sigs.values() if s.delay is not None]
        target = max(timed) if timed else None
        for a, s in sigs.items():
            if s.delay is not None and s.delay < target:
                delayed = self._add_stateful(Delay(target - s.delay), node, (a,))
                node.replace_input_with(a, delayed)
                self.values[delayed] = Signal(s.rate, target, s.lo, s.hi)
        rate = rates.pop()
        return Signal(rate, target, min(s.lo for s in sigs.values()), max(s.hi for s in sigs.values()))

    # -- layers ----------------------------------------------------------------------
    def _conv(self, node: fx.Node, m: nn.Conv1d, x: Signal) -> Signal:
        if x.delay is None:
            raise ConversionError(f"convolution {node.target} is fed a signal that is not tied to input timing")
        (k,), (s,), (dil,) = m.kernel_size, m.stride, m.dilation
        p = conv_left_padding(m)
        span = (k - 1) * dil + 1
        # The cache length L must satisfy span - s <= L <= span - 1 (exactly T/s outputs per
        # buffer of T) and L + delay - p = 0 (mod s) (outputs land on the offline grid).
        cache_len = span - s + ((p - x.delay - (span - s)) % s)
        delay = (cache_len + x.delay - p) // s
        self._require(x.rate, s)
        cached = CachedConv1d(effective_weight(m), m.bias, s, dil, m.groups, cache_len)
        self._replace(node, cached)
        return Signal(x.rate / s, delay, x.lo - Fraction(p) / x.rate, x.hi + Fraction(span - 1 - p) / x.rate)

    def _conv_transpose(self, node: fx.Node, m: nn.ConvTranspose1d, x: Signal) -> Signal:
        if x.delay is None:
            raise ConversionError(f"transposed convolution {node.target} is fed a signal that is not tied to input timing")
        (k,), (s,), (dil,), (p,) = m.kernel_size, m.stride, m.dilation, m.padding
        self._require(x.rate)
        cached = CachedConvTranspose1d(effective_weight(m), m.bias, s, dil, m.groups)
        self._replace(node, cached)
        rate = x.rate * s
        # The exact partial sums are complete as soon as the input arrives, so the output
        # leads the padded offline output by nothing more than its left padding.
        return Signal(rate, x.delay * s + p, x.lo + Fraction(p - (k - 1) * dil) / rate, x.hi + Fraction(p) / rate)

    def _replace(self, node: fx.Node, module: nn.Module) -> None:
        self.stateful.append(module)
        node.target = f"stateful.{len(self.stateful) - 1}"

    def _call_module(self, node: fx.Node) -> Any:
        m = self.modules[node.target]
        arg_values = [self._value(a) for a in node.args]
        x = arg_values[0] if arg_values else _CONST
        if not isinstance(x, Signal):
            raise ConversionError(f"layer '{node.target}' ({type(m).__name__}) is not applied to an audio signal")
        if len(self._signals_in(arg_values)) != 1 or node.kwargs:
            raise ConversionError(f"layer '{node.target}' ({type(m).__name__}) takes more than one input")
        if isinstance(m, nn.Conv1d):
            return self._conv(node, m, x)
        if isinstance(m, nn.ConvTranspose1d):
            return self._conv_transpose(node, m, x)
        if isinstance(m, StreamingLeaf):
            self._replace(node, m.streaming_copy())
            return x if m.time_locked else Signal(x.rate, None, x.lo, x.hi)
        if isinstance(m, nn.BatchNorm1d) and (m.training or not m.track_running_stats):
            raise ConversionError(f"'{node.target}' (BatchNorm1d) normalises over time in training mode; call .eval()")
        if isinstance(m, POINTWISE_MODULES):
            return x
        raise ConversionError(
            f"unsupported layer '{node.target}' ({type(m).__name__}) at {_location(node)}: only Conv1d, "
            "ConvTranspose1d, pointwise layers and StreamingLeaf subclasses can stream")

    def _call_op(self, node: fx.Node) -> Any:
        name = node.target if node.op == "call_method" else getattr(node.target, "__name__", "")
        target = node.target
        args = [self._value(a) for a in node.args]
        kwargs = {k: self._value(v) for k, v in node.kwargs.items()}
        signals = self._signals_in([args, kwargs])
        if not signals:
            return _CONST
        if target is operator.getitem:
            return self._getitem(node, args[0], node.args[1])
        if (node.op == "call_method" and name in _SPLIT_NAMES) or target in (torch.chunk, torch.split):
            dim = node.kwargs.get("dim", node.args[2] if len(node.args) > 2 else 0)
            if dim not in _CHANNEL_DIMS:
                raise ConversionError(f"'{name}' along dim {dim} at {_location(node)}: only channel splits (dim=1) stream")
            return SplitSignal(args[0])
        if target in _CONCAT_FUNCTIONS:
            dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else 0)
            if dim not in _CHANNEL_DIMS:
                raise ConversionError(f"concatenation along dim {dim} at {_location(node)}: only channel concatenation "
                                      "(dim=1) can stream")
            inputs = node.args[0]
            return self._align(node, [a for a in inputs if isinstance(a, fx.Node)], "concatenation")
        if target in _UNTIMED_SOURCES:
            s = signals[0]
            return Signal(s.rate, None, s.lo, s.hi)
        if name in _CHANNEL_OPS:
            dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else _CHANNEL_OPS[name])
            if dim not in _CHANNEL_DIMS:
                raise ConversionError(f"'{name}' along dim {dim} at {_location(node)}: only dim=1 (channels) can stream")
        elif not (target in _POINTWISE_FUNCTIONS or name in _POINTWISE_NAMES):
            raise ConversionError(
                f"unsupported operation '{_target_name(node)}' at {_location(node)}: it is not pointwise in "
                "time, so it cannot be streamed (supported: convs, pointwise ops, channel cat/split, add/mul of branches)")
        nodes = [a for a in node.all_input_nodes if isinstance(self.values.get(a), Signal)]
        return self._align(node, nodes, f"'{name}'")

    def _getitem(self, node: fx.Node, base, index) -> Any:
        if isinstance(base, (list, tuple)):
            return base[index]
        if isinstance(base, SplitSignal):
            return base.signal
        if isinstance(base, Signal) and _is_channel_slice(index):
            return base
        if isinstance(base, Signal):
            raise ConversionError(f"indexing {index!r} at {_location(node)}: only channel slices (x[:, a:b]) can stream")
        raise ConversionError(f"indexing at {_location(node)} is not supported on this value")

    # -- driver ------------------------------------------------------------------------
    def run(self) -> "StreamingModule":
        placeholders = [n for n in self.graph.nodes if n.op == "placeholder"]
        if len(placeholders) != 1:
            raise ConversionError(f"{self.method} must take exactly one tensor (batch, channels, time)")
        guard_node = None
        for node in list(self.graph.nodes):
            if node.op == "placeholder":
                self.values[node] = Signal(Fraction(1), 0, Fraction(0), Fraction(0))
                guard_node = node
            elif node.op == "get_attr":
                self.values[node] = _CONST
            elif node.op == "call_module":
                self.values[node] = self._call_module(node)
            elif node.op in ("call_function", "call_method"):
                self.values[node] = self._call_op(node)
            elif node.op == "output":
                out = self._output(node)
        # the guard sits between the input and every user of it
        guard = InputGuard(self.ratio, self.in_channels)
        users = list(guard_node.users)
        with self.graph.inserting_after(guard_node):
            self.stateful.append(guard)
            g = self.graph.call_module(f"stateful.{len(self.stateful) - 1}", (guard_node,))
        for u in users:
            u.replace_input_with(guard_node, g)
        self._merge_caches()
        return self._build(out)

    # -- cache merging -----------------------------------------------------------------
    # A layer recomputes at most this many extra input values (frames x channels, per stream) to
    # spare the next one its cache: a concatenation costs more than that much arithmetic.
    MERGE_MAX_VALUES = 512

    def _cached_conv(self, node) -> Optional[int]:
        """The index in `stateful` of the cached conv this node calls, if it calls one."""
        if isinstance(node, fx.Node) and node.op == "call_module" and node.target.startswith("stateful."):
            i = int(node.target.split(".")[1])
            if isinstance(self.stateful[i], (CachedConv1d, CachedConvTranspose1d)):
                return i
        return None

    def _pointwise_link(self, node: fx.Node) -> Optional[fx.Node]:
        """The one signal feeding `node` when `node` is a pointwise op of that signal alone."""
        signals = [n for n in node.all_input_nodes if isinstance(self.values.get(n), Signal)]
        if len(signals) != 1:
            return None
        if node.op == "call_module":
            if node.target.startswith("stateful.") or not isinstance(self.modules.get(node.target), POINTWISE_MODULES):
                return None
        elif node.op == "call_function":
            if not (node.target in _POINTWISE_FUNCTIONS or getattr(node.target, "__name__", "") in _POINTWISE_NAMES):
                return None
        elif not (node.op == "call_method" and node.target in _POINTWISE_NAMES):
            return None
        return signals[0]

    def _merge_caches(self) -> None:
        """Where a cached conv B is fed, through single-use pointwise ops only, by another cached
        conv A used by nothing else, A emits the past samples B needs in front of its new ones
        and B keeps no cache: one concatenation (and one cache copy) per buffer fewer, for a few
        extra input values A recomputes (at most MERGE_MAX_VALUES). At a small model's buffer sizes
        every tensor op costs more than the arithmetic, so this is where the time goes. Outputs
        are unchanged except at the very start of a stream (A's first past samples are computed
        from silence instead of being silence), which the offline edge excludes anyway.
        Walking from the output back, a merged A can itself pass its longer past up a chain."""
        for node in reversed(list(self.graph.nodes)):
            b_index = self._cached_conv(node)
            if b_index is None:
                continue
            b = self.stateful[b_index]
            if not b.own_cache or b.cache_len <= 0:
                continue
            source = node.args[0]
            while isinstance(source, fx.Node) and len(source.users) == 1 and self._cached_conv(source) is None:
                source = self._pointwise_link(source)
            a_index = self._cached_conv(source)
            if a_index is None or len(source.users) != 1:
                continue
            a = self.stateful[a_index]
            if isinstance(a, CachedConv1d):
                added = b.cache_len * a.stride
                merged = CachedConv1d(a.weight, a.bias, a.stride, a.dilation, a.groups,
                                      a.cache_len - a.skip + added)
                channels = a.weight.shape[1] * a.groups
            else:
                merged = CachedConvTranspose1d(a.weight, a.bias, a.stride, a.dilation, a.groups,
                                               extra_out=a.extra_out + b.cache_len)
                added = merged.cache_len - a.cache_len
                channels = a.weight.shape[0]
            if added * channels > self.MERGE_MAX_VALUES:
                continue
            self.stateful[a_index] = merged
            b.own_cache = False

    def _output(self, node: fx.Node) -> Signal:
        value = self._value(node.args[0])
        signals = self._signals_in(value)
        if not signals:
            raise ConversionError(f"{self.method} returns nothing that depends on its input")
        out_nodes = [n for n in node.all_input_nodes if isinstance(self.values.get(n), Signal)]
        rates = {self.values[n].rate for n in out_nodes}
        if len(rates) > 1:
            raise ConversionError(f"{self.method} returns signals at different rates ({sorted(map(str, rates))})")
        out = self._align(node, out_nodes, "the output")
        if out.delay is not None and out.delay < 0:
            # over-padded convs can make the stream lead the padded offline output: delay it to 0
            for n in out_nodes:
                d = self._add_stateful(Delay(-out.delay), node, (n,))
                node.replace_input_with(n, d)
            out = Signal(out.rate, 0, out.lo, out.hi)
        self._require(out.rate)
        return out

    def _inline_pointwise(self) -> None:
        """Stateless activation modules become plain function calls in the graph (the same op,
        so the same bits). A scripted model run as the plugin runs it (graph optimizer off)
        does not inline submodule calls, and each costs the interpreter a few microseconds:
        at a small model's buffer sizes that is a sizeable part of the call."""
        for node in list(self.graph.nodes):
            if node.op != "call_module" or node.target.startswith("stateful.") or len(node.args) != 1 or node.kwargs:
                continue
            call = _as_function(self.modules[node.target])
            if call is None:
                continue
            fn, kwargs = call
            with self.graph.inserting_before(node):
                inlined = self.graph.call_function(fn, node.args, kwargs) if fn is not None else None
            node.replace_all_uses_with(inlined if inlined is not None else node.args[0])
            self.graph.erase_node(node)

    def _build(self, out: Signal) -> "StreamingModule":
        self._inline_pointwise()
        root: Dict[str, Any] = {}
        for node in self.graph.nodes:
            if node.op == "call_module" and not node.target.startswith("stateful."):
                root[node.target] = self.modules[node.target]
            elif node.op == "call_module":
                root[node.target] = self.stateful[int(node.target.split(".")[1])]
            elif node.op == "get_attr":
                root[node.target] = _fetch_attr(self.root, node.target)
        self.graph.lint()
        gm = StreamingModule(root, self.graph, class_name=f"Streaming{type(self.root.model).__name__}")
        gm.stateful = nn.ModuleList(self.stateful)
        gm.recompile()
        gm.delay = int(out.delay or 0)
        gm.ratio = int(self.ratio)
        gm.in_ratio = int(out.rate.numerator)
        gm.out_ratio = int(out.rate.denominator)
        gm.receptive_field = (out.lo, out.hi)   # Python only: used by ContextWindow
        gm.eval()
        return gm


def _as_function(module: nn.Module) -> Optional[tuple]:
    """(function, kwargs) computing exactly what the stateless activation `module` computes
    (function None: the identity), or None to keep the module call."""
    exact = type(module)
    if exact is nn.Identity or (exact is nn.Dropout and not module.training):
        return None, {}
    if exact is nn.ReLU and not module.inplace:
        return torch.relu, {}
    if exact is nn.LeakyReLU and not module.inplace:
        return F.leaky_relu, {"negative_slope": float(module.negative_slope)}
    if exact is nn.Tanh:
        return torch.tanh, {}
    if exact is nn.Sigmoid:
        return torch.sigmoid, {}
    if exact is nn.SiLU and not module.inplace:
        return F.silu, {}
    if exact is nn.GELU:
        return F.gelu, {"approximate": module.approximate}
    if exact is nn.ELU and not module.inplace:
        return F.elu, {"alpha": float(module.alpha)}
    return None


def _fetch_attr(root: nn.Module, target: str):
    obj = root
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


def trace_offline(model: nn.Module, method: str = "forward") -> fx.GraphModule:
    """The offline model as an fx graph (no caching): TorchScript-able even when the
    Python model is not (Python attributes are resolved at trace time). The baselines run
    it so that all methods are compared in TorchScript."""
    root = _Method(copy.deepcopy(model).eval(), method)
    return fx.GraphModule(root, _Tracer().trace(root)).eval()


def convert(model: nn.Module, method: str = "forward", in_channels: int = 0) -> StreamingModule:
    """A streaming copy of `model.<method>` with the same weights.

    The returned module processes consecutive buffers whose lengths are multiples of
    `.ratio`; its output equals the offline output delayed by `.delay` samples (away from
    the signal's edges, where offline zero-pads every layer). `in_channels` > 0 adds a check
    of the input's channel count. The original model is not modified.
    """
    if isinstance(model, (StreamingModule, torch.jit.ScriptModule)):
        raise ConversionError("this model is already a streaming/scripted module; convert the original nn.Module")
    model = copy.deepcopy(model).eval()
    return _Converter(model, method, in_channels).run()
