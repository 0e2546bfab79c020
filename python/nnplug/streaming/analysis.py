"""The analysis behind `convert`: every signal followed from the input to the output with its
rate, delay, time axis and receptive field; every op replaced by its streaming counterpart or
refused at the user's line (see `convert` for the whole procedure)."""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
import torch.fx as fx
import torch.nn as nn
import torch.nn.functional as F

from .cached import CachedConv1d, CachedConvTranspose1d, Delay, InputGuard
from .module import StreamingLeaf, StreamingModule
from .recurrent import RECURRENT_MODULES, cached_recurrent
from .trace import RANDOM_ADVICE, RANDOM_NAMES, ConversionError, location_of


POINTWISE_MODULES = (
    nn.Identity, nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU,
    nn.SiLU, nn.Mish, nn.Tanh, nn.Sigmoid, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid,
    nn.Softplus, nn.Softsign, nn.Tanhshrink, nn.LogSigmoid, nn.Dropout, nn.Softshrink, nn.Hardshrink,
    nn.Threshold,
)

_POINTWISE_NAMES = {
    "relu", "relu_", "tanh", "sigmoid", "abs", "exp", "exp2", "log", "log2", "log10", "sin", "cos", "tan",
    "sqrt", "rsqrt", "square", "neg", "sign", "clamp", "clip", "clamp_min", "clamp_max", "pow", "erf", "erfc",
    "atan", "asin", "acos", "sinc", "log1p", "expm1", "sinh", "cosh", "asinh", "atanh", "reciprocal",
    "nan_to_num", "add", "sub", "mul", "div", "true_divide", "floor_divide", "fmod", "remainder", "maximum",
    "minimum", "fmax", "fmin", "where", "atan2", "hypot", "lerp", "addcmul", "addcdiv", "logit", "floor",
    "ceil", "round", "trunc", "frac", "float_power", "leaky_relu", "gelu", "silu", "elu", "selu", "celu",
    "softplus", "softsign", "hardtanh", "mish", "hardswish", "hardsigmoid", "relu6", "logsigmoid",
    "tanhshrink", "softshrink", "hardshrink", "threshold", "dropout", "contiguous", "float", "double",
    "half", "to", "type_as", "clone", "detach", "tanh_", "sigmoid_", "mul_", "add_", "sub_", "div_",
    "clamp_", "abs_", "neg_", "sin_", "cos_", "exp_", "pow_", "reciprocal_", "sqrt_", "masked_fill",
    "heaviside", "xlogy", "lt", "le", "gt", "ge", "eq", "ne", "logical_and", "logical_or", "logical_not",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
}
_POINTWISE_FUNCTIONS = {
    operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv, operator.mod,
    operator.neg, operator.pos, operator.abs, operator.pow, operator.iadd, operator.imul, operator.isub,
    operator.itruediv, operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne,
    operator.and_, operator.or_, operator.xor, operator.invert,
}
_CONCAT_NAMES = {"cat", "concat", "concatenate", "stack"}
_SPLIT_NAMES = {"chunk", "split", "tensor_split", "unbind"}     # (x, n_or_sizes, dim)
_LAYOUT_NAMES = {"view", "reshape", "flatten", "unflatten", "transpose", "permute", "movedim", "moveaxis",
                 "swapaxes", "swapdims", "squeeze", "unsqueeze", "contiguous", "view_as", "reshape_as",
                 "expand", "expand_as", "t"}
_UNTIMED_SOURCES = {"zeros_like", "ones_like", "full_like", "empty_like"}
_REDUCTIONS = {"mean", "sum", "amax", "amin", "max", "min", "prod", "logsumexp", "norm", "std", "var",
               "argmax", "argmin", "all", "any", "nansum", "nanmean"}
# ops over one dim at each time step; value: their default dim
_DIM_OPS = {"softmax": None, "log_softmax": None, "glu": -1, "normalize": 1, "cumsum": None}
_CONV_FUNCTIONS = {F.conv1d: False, F.conv_transpose1d: True}


@dataclass(frozen=True)
class Signal:
    """What the analysis knows about a tensor that depends on the model input."""
    rate: Fraction           # samples per input sample
    delay: Optional[int]     # in samples of its own rate; None: not tied to input timing
    lo: Fraction             # receptive field, in input samples, relative to the sample's time
    hi: Fraction
    time_dim: int = -1       # its time axis, counted from the end (broadcasting keeps it)


@dataclass(frozen=True)
class Group:
    """A tuple or list of values (module outputs such as an LSTM's, chunks of a signal)."""
    items: tuple


@dataclass(frozen=True)
class Refused:
    """A value no streaming model can compute (an LSTM's final state, a tensor shaped by the
    signal length): an error as soon as something uses it."""
    message: str


_CONST = object()  # a value that does not depend on the input (parameters, scalars)


def _lcm(a: int, b: int) -> int:
    return a * b // math.gcd(a, b)


def _op_name(node: fx.Node) -> str:
    target = node.target
    if isinstance(target, str):
        return target
    return getattr(target, "__name__", repr(target))


def _qualified(node: fx.Node) -> str:
    target = node.target
    if isinstance(target, str):
        return f"{target}" if node.op != "call_method" else f".{target}()"
    module = getattr(target, "__module__", "") or ""
    if module.startswith("torch._C._nn"):
        module = "torch.nn.functional"
    return f"{module}.{getattr(target, '__name__', repr(target))}".lstrip(".")


def _where(node: fx.Node) -> str:
    return str(location_of(node))


def _leaves(value, path=()):
    """(path, leaf) for every leaf of nested tuples/lists/dicts/slices."""
    if isinstance(value, (tuple, list)):
        for i, v in enumerate(value):
            yield from _leaves(v, path + (i,))
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, path + (k,))
    elif isinstance(value, slice):
        for i, v in enumerate((value.start, value.stop, value.step)):
            yield from _leaves(v, path + (i,))
    else:
        yield path, value


def _get_path(value, path):
    for p in path:
        value = (value.start, value.stop, value.step)[p] if isinstance(value, slice) else value[p]
    return value


def _set_path(value, path, new):
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, slice):
        parts = [value.start, value.stop, value.step]
        parts[head] = _set_path(parts[head], rest, new)
        return slice(*parts)
    if isinstance(value, dict):
        out = dict(value)
        out[head] = _set_path(value[head], rest, new)
        return out
    items = list(value)
    items[head] = _set_path(items[head], rest, new)
    return items if isinstance(value, list) else tuple(items)


@dataclass
class _Variation:
    """An int recorded in a node's arguments that differs between the traces."""
    where: str          # "args" or "kwargs"
    path: tuple
    base: int           # at batch 1, length T
    longer: int         # at batch 1, length 2T
    batched: int        # at batch 2, length T


def _varying_ints(node: fx.Node, longer: fx.Node, batched: fx.Node) -> List[_Variation]:
    """The ints in a node's arguments that differ between the three traces."""
    out = []
    for where in ("args", "kwargs"):
        base, lon, bat = (getattr(n, where) for n in (node, longer, batched))
        for path, v in _leaves(base):
            if not isinstance(v, int) or isinstance(v, bool):
                continue
            lv, bv = _get_path(lon, path), _get_path(bat, path)
            if lv != v or bv != v:
                out.append(_Variation(where, path, v, lv, bv))
    return out


def _rewrite(node: fx.Node, v: _Variation, new: Any) -> None:
    if v.where == "args":
        node.args = _set_path(node.args, v.path, new)
    else:
        node.kwargs = _set_path(node.kwargs, v.path, new)


def _accept_batch_sizes(graph: fx.Graph, node: fx.Node, batch_node: fx.Node,
                        variations: List[_Variation]) -> List[_Variation]:
    """Numbers that follow the batch size become `slope * batch + offset`, computed at run time
    from the input's batch size; the other variations are returned."""
    rest = []
    for v in variations:
        if v.longer != v.base:
            rest.append(v)
            continue
        slope = v.batched - v.base
        offset = v.base - slope
        with graph.inserting_before(node):
            out = graph.call_function(operator.mul, (batch_node, slope)) if slope != 1 else batch_node
            if offset:
                out = graph.call_function(operator.add, (out, offset))
        _rewrite(node, v, out)
    return rest


class _Converter:
    def __init__(self, root: nn.Module, graphs: Sequence[fx.Graph], lengths: Tuple[int, int], in_channels: int):
        self.root = root
        self.graph = graphs[0]
        self.lengths = lengths
        self.in_channels = in_channels
        self.method = root.method
        others = [list(g.nodes) for g in graphs[1:]]
        base = list(self.graph.nodes)
        for other, what in zip(others, ("a longer signal", "a batch of 2")):
            if len(other) != len(base) or any(a.op != b.op or a.target != b.target for a, b in zip(base, other)):
                first = next((a for a, b in zip(base, other) if a.op != b.op or a.target != b.target),
                             base[min(len(base), len(other)) - 1])
                raise ConversionError(
                    f"{_where(first)}: the model runs different operations for {what} (Python control flow on "
                    f"the signal length or the batch size); a streaming model must run the same ones for every buffer")
        self.longer = {a: b for a, b in zip(base, others[0])}
        self.batched = {a: b for a, b in zip(base, others[1])}
        self.modules = dict(root.named_modules())
        self.stateful: List[nn.Module] = []
        self.values: Dict[fx.Node, Any] = {}
        self.identity: Dict[fx.Node, fx.Node] = {}     # nodes that stream as their input
        self.ratio = 1
        self.recurrent = False
        self.batch_node: Optional[fx.Node] = None

    # -- what the traces say ---------------------------------------------------------
    def _varying(self, node: fx.Node) -> List[_Variation]:
        return _varying_ints(node, self.longer[node], self.batched[node])

    def _shapes(self, node: fx.Node):
        a = node.meta.get("value")
        b = self.longer[node].meta.get("value")
        c = self.batched[node].meta.get("value")
        if all(isinstance(t, torch.Tensor) for t in (a, b, c)):
            return a.shape, b.shape, c.shape
        return None

    def _time_dim(self, node: fx.Node) -> int:
        """The time axis of a node's tensor, counted from the end: the one axis whose size
        changes with the signal length."""
        shapes = self._shapes(node)
        if shapes is None or len({len(s) for s in shapes}) != 1:
            raise ConversionError(f"{_where(node)}: '{_qualified(node)}' changes the rank of its output with "
                                  "the signal length")
        a, b, _ = shapes
        dims = [d - len(a) for d in range(len(a)) if a[d] != b[d]]
        if len(dims) != 1:
            raise ConversionError(
                f"{_where(node)}: '{_qualified(node)}' gives a tensor of shape {tuple(a)} where "
                f"{'no axis' if not dims else 'several axes'} follow the signal length; a streaming signal keeps "
                "time on one axis of its own")
        return dims[0]

    def _length(self, node: fx.Node, which: str = "base") -> int:
        sig = self.values[node]
        n = node if which == "base" else self.longer[node]
        return n.meta["value"].shape[sig.time_dim]

    # -- bookkeeping -----------------------------------------------------------------
    def _add_stateful(self, module: nn.Module, before: fx.Node, args: Tuple) -> fx.Node:
        self.stateful.append(module)
        with self.graph.inserting_before(before):
            return self.graph.call_module(f"stateful.{len(self.stateful) - 1}", args)

    def _replace(self, node: fx.Node, module: nn.Module, args: Tuple) -> None:
        self.stateful.append(module)
        node.op = "call_module"
        node.target = f"stateful.{len(self.stateful) - 1}"
        node.args = args
        node.kwargs = {}

    def _require(self, rate: Fraction, multiple: int = 1) -> None:
        """Buffers must keep `rate`-signals integral and (for strides) on their grid."""
        self.ratio = _lcm(self.ratio, (Fraction(multiple) / rate).numerator)

    def _signals(self, value) -> List[Signal]:
        if isinstance(value, Signal):
            return [value]
        if isinstance(value, Group):
            return [s for v in value.items for s in self._signals(v)]
        if isinstance(value, (list, tuple)):
            return [s for v in value for s in self._signals(v)]
        if isinstance(value, dict):
            return [s for v in value.values() for s in self._signals(v)]
        return []

    def _refusals(self, value) -> List[Refused]:
        if isinstance(value, Refused):
            return [value]
        if isinstance(value, Group):
            return [r for v in value.items for r in self._refusals(v)]
        if isinstance(value, (list, tuple)):
            return [r for v in value for r in self._refusals(v)]
        if isinstance(value, dict):
            return [r for v in value.values() for r in self._refusals(v)]
        return []

    def _value(self, arg):
        if isinstance(arg, fx.Node):
            return self.values[arg]
        if isinstance(arg, (list, tuple)):
            return type(arg)(self._value(a) for a in arg) if not hasattr(arg, "_fields") else \
                tuple(self._value(a) for a in arg)
        if isinstance(arg, dict):
            return {k: self._value(v) for k, v in arg.items()}
        return _CONST

    def _signal_nodes(self, node: fx.Node) -> List[fx.Node]:
        return [a for a in node.all_input_nodes if isinstance(self.values.get(a), Signal)]

    def _align(self, node: fx.Node, arg_nodes: List[fx.Node], what: str) -> Signal:
        """Delay the early signals among `arg_nodes` so that all reach `node` together."""
        sigs = {a: self.values[a] for a in arg_nodes if isinstance(self.values.get(a), Signal)}
        rates = {s.rate for s in sigs.values()}
        if len(rates) > 1:
            listed = ", ".join(f"{a.name} at rate {s.rate}" for a, s in sigs.items())
            raise ConversionError(f"{_where(node)}: {what} combines signals at different rates ({listed}); "
                                  "resample one of them (strided or transposed conv) first")
        if len({s.time_dim for s in sigs.values()}) > 1:
            raise ConversionError(f"{_where(node)}: {what} combines signals whose time axes differ")
        timed = [s.delay for s in sigs.values() if s.delay is not None]
        target = max(timed) if timed else None
        for a, s in sigs.items():
            if s.delay is not None and s.delay < target:
                if s.time_dim != -1:
                    raise ConversionError(f"{_where(node)}: {what} needs a delay line on a signal whose last axis "
                                          "is not time (a channels-last layout); align the branches before the "
                                          "transpose")
                delayed = self._add_stateful(Delay(target - s.delay), node, (a,))
                node.replace_input_with(a, delayed)
                self.values[delayed] = replace(s, delay=target)
        first = next(iter(sigs.values()))
        return Signal(first.rate, target, min(s.lo for s in sigs.values()), max(s.hi for s in sigs.values()),
                      first.time_dim)

    def _rewrite(self, node: fx.Node, v: _Variation, new: Any) -> None:
        _rewrite(node, v, new)

    def _accept_batch_sizes(self, node: fx.Node, variations: List[_Variation]) -> List[_Variation]:
        """Numbers that follow the batch size become runtime expressions; the rest is returned."""
        return _accept_batch_sizes(self.graph, node, self.batch_node, variations)

    def _refuse_length(self, node: fx.Node, v: _Variation) -> None:
        raise ConversionError(
            f"{_where(node)}: '{_qualified(node)}' is given {v.base} for a signal of {self.lengths[0]} samples "
            f"and {v.longer} for {self.lengths[1]}: a number computed from the signal length, which a stream "
            "does not have; only crops of the end and padding at the end may depend on it")

    # -- layers ----------------------------------------------------------------------
    def _check_conv_input(self, node: fx.Node, x: Signal, what: str) -> None:
        if x.delay is None:
            raise ConversionError(f"{_where(node)}: {what} is fed a signal that is not tied to input timing")
        if x.time_dim != -1:
            raise ConversionError(f"{_where(node)}: {what} is applied to a tensor whose last axis is not time")

    def _conv(self, node: fx.Node, x: Signal, weight: torch.Tensor, bias, stride: int, padding, dilation: int,
              groups: int, what: str) -> Signal:
        self._check_conv_input(node, x, what)
        k = weight.shape[-1]
        s, dil = int(stride), int(dilation)
        span = (k - 1) * dil + 1
        if padding == "valid":
            p = 0
        elif padding == "same":
            p = (span - 1) // 2
        else:
            p = int(padding[0] if isinstance(padding, (tuple, list)) else padding)
        # The cache length L must satisfy span - s <= L <= span - 1 (exactly T/s outputs per
        # buffer of T) and L + delay - p = 0 (mod s) (outputs land on the offline grid).
        cache_len = span - s + ((p - x.delay - (span - s)) % s)
        delay = (cache_len + x.delay - p) // s
        self._require(x.rate, s)
        self._replace(node, CachedConv1d(weight, bias, s, dil, int(groups), cache_len), (node.args[0],))
        return Signal(x.rate / s, delay, x.lo - Fraction(p) / x.rate, x.hi + Fraction(span - 1 - p) / x.rate)

    def _conv_transpose(self, node: fx.Node, x: Signal, weight: torch.Tensor, bias, stride: int, padding: int,
                        dilation: int, groups: int, what: str) -> Signal:
        self._check_conv_input(node, x, what)
        k, s, dil, p = weight.shape[-1], int(stride), int(dilation), int(padding)
        self._require(x.rate)
        self._replace(node, CachedConvTranspose1d(weight, bias, s, dil, int(groups)), (node.args[0],))
        rate = x.rate * s
        # The exact partial sums are complete as soon as the input arrives, so the output
        # leads the padded offline output by nothing more than its left padding.
        return Signal(rate, x.delay * s + p, x.lo + Fraction(p - (k - 1) * dil) / rate, x.hi + Fraction(p) / rate)

    def _recurrent(self, node: fx.Node, m: nn.Module, x: Signal) -> Any:
        if m.bidirectional:
            raise ConversionError(f"{_where(node)}: '{node.meta.get('module_path')}' ({type(m).__name__}) is bidirectional: it reads "
                                  "the whole signal backwards, which a stream never has")
        if x.delay is None:
            raise ConversionError(f"{_where(node)}: '{node.target}' is fed a signal that is not tied to input timing")
        expected = -2 if m.batch_first else -3
        if x.time_dim != expected:
            raise ConversionError(f"{_where(node)}: '{node.target}' ({type(m).__name__}, batch_first="
                                  f"{m.batch_first}) is not given time on its time axis")
        source = node.args[0]
        if x.delay < 0:
            # the layer must see the signal from its first sample: delay it to 0
            raise ConversionError(f"{_where(node)}: '{node.target}' would need to see the signal before it starts "
                                  "(its input leads the offline signal); pad less before it")
            x = replace(x, delay=0)
        self._replace(node, cached_recurrent(m, x.delay), (source,))
        self.recurrent = True
        state = Refused(f"{_where(node)}: the final state of '{node.target}' ({type(m).__name__}) depends on the "
                        "whole signal; a stream has no final state")
        return Group((x, state))

    def _call_module(self, node: fx.Node) -> Any:
        m = self.modules[node.target]
        arg_values = [self._value(a) for a in node.args]
        x = arg_values[0] if arg_values else _CONST
        name = f"layer '{node.meta.get('module_path') or node.target}' ({type(m).__name__})"
        if not isinstance(x, Signal):
            if not self._signals([arg_values, self._value(node.kwargs)]):
                return _CONST
            raise ConversionError(f"{_where(node)}: {name} is not applied to an audio signal")
        if len(self._signals([arg_values, self._value(node.kwargs)])) != 1 or node.kwargs or len(node.args) != 1:
            raise ConversionError(f"{_where(node)}: {name} takes more than one input (an initial state?); only "
                                  "the signal can stream")
        if isinstance(m, nn.Conv1d):
            return self._conv(node, x, m.weight.detach(), m.bias, m.stride[0], m.padding, m.dilation[0],
                              m.groups, name)
        if isinstance(m, nn.ConvTranspose1d):
            return self._conv_transpose(node, x, m.weight.detach(), m.bias, m.stride[0], m.padding[0],
                                        m.dilation[0], m.groups, name)
        if isinstance(m, RECURRENT_MODULES):
            return self._recurrent(node, m, x)
        if isinstance(m, StreamingLeaf):
            self._replace(node, m.streaming_copy(), node.args)
            return x if m.time_locked else replace(x, delay=None)
        if isinstance(m, (nn.BatchNorm1d, nn.InstanceNorm1d)) and (m.training or not m.track_running_stats):
            raise ConversionError(f"{_where(node)}: {name} normalises over time (training mode or no running "
                                  "statistics); call .eval() on a model with running statistics")
        if isinstance(m, (nn.BatchNorm1d, nn.InstanceNorm1d)):
            return self._over_dims(node, x, [1], name)
        if isinstance(m, nn.LayerNorm):
            return self._over_dims(node, x, list(range(-len(m.normalized_shape), 0)), name)
        if isinstance(m, nn.Linear):
            return self._over_dims(node, x, [-1], name)
        if isinstance(m, (nn.Softmax, nn.LogSoftmax)) and m.dim is not None:
            return self._over_dims(node, x, [m.dim], name)
        if isinstance(m, POINTWISE_MODULES):
            return x
        raise ConversionError(
            f"{_where(node)}: unsupported {name}: only convolutions, recurrent layers, pointwise layers, "
            "layers over channels and StreamingLeaf subclasses can stream")

    def _over_dims(self, node: fx.Node, x: Signal, dims: List[int], what: str) -> Signal:
        """An op that mixes values along `dims` at each time step: pointwise in time unless one
        of them is the time axis."""
        rank = node.args[0].meta["value"].dim()
        for d in dims:
            if (d % rank) - rank == x.time_dim:
                raise ConversionError(f"{_where(node)}: {what} works along the time axis (dim {d}); only "
                                      "operations at each time step can stream")
        out_dim = self._time_dim(node)
        return replace(x, time_dim=out_dim)

    # -- functions and methods -------------------------------------------------------
    def _call_op(self, node: fx.Node) -> Any:
        name = _op_name(node)
        target = node.target
        args = [self._value(a) for a in node.args]
        kwargs = {k: self._value(v) for k, v in node.kwargs.items()}
        if target is operator.getitem and isinstance(args[0], (Group, list, tuple)):
            return self._getitem(node, args[0], [])       # picking one item uses only that item
        refused = self._refusals([args, kwargs])
        if refused:
            raise ConversionError(refused[0].message)
        signals = self._signals([args, kwargs])
        if not signals:
            return self._constant(node)
        if name in RANDOM_NAMES:
            raise ConversionError(f"{_where(node)}: random op '{_qualified(node)}': a streaming model must give "
                                  f"the same output for the same audio; {RANDOM_ADVICE}")
        variations = self._varying(node)
        if target is operator.getitem:
            return self._getitem(node, args[0], variations)
        variations = self._accept_batch_sizes(node, variations)
        if target in _CONV_FUNCTIONS:
            return self._functional_conv(node, args, variations)
        if name == "pad":
            return self._pad(node, args[0], variations)
        if name == "narrow":
            return self._narrow(node, args[0], variations)
        for v in variations:
            if name in ("view", "reshape") and self._is_time_size(node, v):
                self._rewrite(node, v, -1)
            else:
                self._refuse_length(node, v)
        if name in _SPLIT_NAMES:
            default_dim = 0
            dim = int(self._arg(node, "dim", 1 if name == "unbind" else 2, default_dim))
            x = signals[0]
            self._not_time(node, x, dim, name)
            rank = node.args[0].meta["value"].dim()
            time_dim = x.time_dim
            if name == "unbind" and dim % rank > rank + time_dim:
                time_dim += 1          # an axis after time is removed
            return Group(tuple(replace(x, time_dim=time_dim) for _ in node.meta["value"]))
        if name in _CONCAT_NAMES:
            dim = self._arg(node, "dim", 1, 0)
            inputs = [a for a in node.args[0] if isinstance(a, fx.Node)]
            sig = self._align(node, inputs, "concatenation")
            self._not_time(node, sig, dim, name, rank=inputs[0].meta["value"].dim())
            return replace(sig, time_dim=self._time_dim(node))
        if name in _UNTIMED_SOURCES:
            return replace(signals[0], delay=None)
        if name in _LAYOUT_NAMES:
            return self._layout(node, signals[0])
        if name in _REDUCTIONS or name in _DIM_OPS:
            default = _DIM_OPS.get(name)
            dim = self._arg(node, "dim", 1, default)
            if dim is None:
                raise ConversionError(f"{_where(node)}: '{_qualified(node)}' without a dim works over the whole "
                                      "tensor, time included; give it the dim to work along")
            dims = list(dim) if isinstance(dim, (tuple, list)) else [dim]
            return self._over_dims(node, signals[0], dims, f"'{_qualified(node)}'")
        if name == "layer_norm":
            shape = self._arg(node, "normalized_shape", 1, None)
            return self._over_dims(node, signals[0], list(range(-len(shape), 0)), f"'{_qualified(node)}'")
        if name in ("linear", "matmul"):
            weight = self.values.get(node.args[1]) if len(node.args) > 1 and isinstance(node.args[1], fx.Node) else _CONST
            if not isinstance(self.values.get(node.args[0]), Signal) or isinstance(weight, Signal):
                raise ConversionError(f"{_where(node)}: '{_qualified(node)}' of two signals is not supported")
            return self._over_dims(node, signals[0], [-1], f"'{_qualified(node)}'")
        if not (target in _POINTWISE_FUNCTIONS or name in _POINTWISE_NAMES):
            raise ConversionError(
                f"{_where(node)}: unsupported operation '{_qualified(node)}': it is not pointwise in time, so it "
                "cannot be streamed (supported: convolutions, padding and crops of the time axis, pointwise ops, "
                "ops over channels, channel cat/split, channels-last layouts, add/mul of branches)")
        sig = self._align(node, self._signal_nodes(node), f"'{name}'")
        return replace(sig, time_dim=self._time_dim(node))

    def _constant(self, node: fx.Node) -> Any:
        """A value computed from parameters and numbers only; refused when its shape follows
        the signal (a tensor made from the signal length)."""
        shapes = self._shapes(node)
        if shapes is not None and len(set(shapes)) > 1:
            return Refused(f"{_where(node)}: '{_qualified(node)}' makes a tensor whose shape depends on the signal "
                           "length or the batch size; a streaming model cannot")
        return _CONST

    def _arg(self, node: fx.Node, name: str, position: int, default):
        if name in node.kwargs:
            return node.kwargs[name]
        if len(node.args) > position:
            return node.args[position]
        return default

    def _not_time(self, node: fx.Node, sig: Signal, dim: int, name: str, rank: Optional[int] = None) -> bool:
        rank = rank if rank is not None else node.args[0].meta["value"].dim()
        if (int(dim) % rank) - rank == sig.time_dim:
            raise ConversionError(f"{_where(node)}: '{name}' along dim {dim} works along the time axis; only "
                                  "channel (non-time) axes can be split or concatenated in a stream")
        return True

    def _is_time_size(self, node: fx.Node, v: _Variation) -> bool:
        """The number is the time length of the reshaped tensor itself (so -1 can stand for it)."""
        x = node.args[0]
        sig = self.values.get(x)
        if not isinstance(sig, Signal) or v.batched != v.base:
            return False
        return v.base == self._length(x) and v.longer == self._length(x, "longer")

    def _layout(self, node: fx.Node, x: Signal) -> Signal:
        """view / reshape / transpose / permute ...: pointwise in time when time stays one axis
        of the same length and no other axis is mixed into it."""
        out_dim = self._time_dim(node)
        for which in ("base", "longer"):
            src = (node if which == "base" else self.longer[node]).args[0]
            src_value = src.meta["value"] if isinstance(src, fx.Node) else None
            out_value = (node if which == "base" else self.longer[node]).meta["value"]
            if src_value is None or out_value.shape[out_dim] != src_value.shape[x.time_dim]:
                raise ConversionError(f"{_where(node)}: '{_qualified(node)}' splits or merges the time axis")
            if not _name_reorders(node):
                before_in = math.prod(src_value.shape[:src_value.dim() + x.time_dim])
                before_out = math.prod(out_value.shape[:out_value.dim() + out_dim])
                if before_in != before_out:
                    raise ConversionError(f"{_where(node)}: '{_qualified(node)}' mixes other axes into the time "
                                          "axis")
        if _op_name(node) in ("squeeze",) and len(node.args) < 2 and "dim" not in node.kwargs:
            raise ConversionError(f"{_where(node)}: squeeze() without a dim would drop the time axis of a one-sample "
                                  "buffer; give it the dim to drop")
        return replace(x, time_dim=out_dim)

    def _functional_conv(self, node: fx.Node, args: list, variations: List[_Variation]) -> Signal:
        for v in variations:
            self._refuse_length(node, v)
        transposed = _CONV_FUNCTIONS[node.target]
        x = args[0]
        if not isinstance(x, Signal) or len(self._signals(args[1:])) or \
                any(isinstance(self._value(v), Signal) for v in node.kwargs.values()):
            raise ConversionError(f"{_where(node)}: '{_qualified(node)}' with weights computed from the signal "
                                  "cannot stream; only the input may be a signal")
        real = [a.meta["value"] if isinstance(a, fx.Node) else a for a in node.args]
        kw = {k: (v.meta["value"] if isinstance(v, fx.Node) else v) for k, v in node.kwargs.items()}
        names = ["input", "weight", "bias", "stride", "padding"] + (
            ["output_padding", "groups", "dilation"] if transposed else ["dilation", "groups"])
        given = dict(zip(names, real))
        given.update(kw)
        weight = given["weight"].detach()
        bias = given.get("bias")
        first = lambda v, d: int(v[0]) if isinstance(v, (tuple, list)) else (int(v) if v is not None else d)  # noqa: E731
        stride, dilation, groups = first(given.get("stride"), 1), first(given.get("dilation"), 1), int(given.get("groups", 1) or 1)
        padding = given.get("padding", 0)
        what = f"'{_qualified(node)}'"
        if transposed:
            return self._conv_transpose(node, x, weight, bias, stride, first(padding, 0), dilation, groups, what)
        return self._conv(node, x, weight, bias, stride, padding if isinstance(padding, str) else first(padding, 0),
                          dilation, groups, what)

    def _pad(self, node: fx.Node, x: Signal, variations: List[_Variation]) -> Signal:
        """F.pad of the time axis: left padding is a shift of the delay, right padding only
        touches the end of the signal; both vanish from the stream (any mode: the mode only
        decides the values at the edges)."""
        pads = list(self._arg(node, "pad", 1, ()))
        rank = node.args[0].meta["value"].dim()
        time_pair = -x.time_dim - 1        # pads list the last axis first
        for v in variations:
            if not (v.where == "args" and v.path[:1] == (1,) and v.path[1] == 2 * time_pair + 1):
                self._refuse_length(node, v)
        for i, amount in enumerate(pads):
            if i // 2 != time_pair and amount:
                raise ConversionError(f"{_where(node)}: padding of a non-time axis (dim {rank - 1 - i // 2}) is not "
                                      "supported in a stream")
        left = int(pads[2 * time_pair]) if len(pads) > 2 * time_pair else 0
        self.identity[node] = node.args[0]
        return replace(x, delay=None if x.delay is None else x.delay - left,
                       lo=x.lo - Fraction(left) / x.rate, hi=x.hi - Fraction(left) / x.rate)

    def _crop(self, node: fx.Node, x: Signal, start: int) -> Signal:
        if start < 0:
            raise ConversionError(f"{_where(node)}: a time crop counted from the end (start {start}) reads the "
                                  "end of the signal, which a stream never reaches")
        self.identity[node] = node.args[0]
        return replace(x, delay=None if x.delay is None else x.delay + start,
                       lo=x.lo + Fraction(start) / x.rate, hi=x.hi + Fraction(start) / x.rate)

    def _end_is_edge(self, node: fx.Node, stop, v: Optional[_Variation]) -> bool:
        """A crop's end bound only touches the end of the signal: none, negative, or the
        length minus a constant in every trace."""
        if stop is None:
            return True
        if v is None:
            return isinstance(stop, int) and stop < 0
        source = node.args[0]
        return v.batched == v.base and self._length(source) - v.base == self._length(source, "longer") - v.longer >= 0

    def _narrow(self, node: fx.Node, x: Signal, variations: List[_Variation]) -> Any:
        dim = int(self._arg(node, "dim", 1, 0))
        rank = node.args[0].meta["value"].dim()
        if (dim % rank) - rank != x.time_dim:
            for v in variations:
                self._refuse_length(node, v)
            return replace(x, time_dim=self._time_dim(node))
        start = int(self._arg(node, "start", 2, 0))
        lengths = [v for v in variations if v.where == "args" and v.path == (3,)]
        for v in variations:
            if v not in lengths:
                self._refuse_length(node, v)
        if not lengths:
            raise ConversionError(f"{_where(node)}: narrow() to a fixed number of samples keeps a fixed part of the "
                                  "signal, which has no meaning for a stream")
        v, source = lengths[0], node.args[0]
        cut = self._length(source) - start - v.base
        if v.batched != v.base or cut < 0 or cut != self._length(source, "longer") - start - v.longer:
            self._refuse_length(node, v)
        return self._crop(node, x, start)

    def _getitem(self, node: fx.Node, base, variations: List[_Variation]) -> Any:
        if isinstance(base, Group):
            index = node.args[1]
            if isinstance(index, slice):
                return Group(base.items[index])
            return base.items[index]
        if isinstance(base, (list, tuple)):
            return base[node.args[1]]
        if not isinstance(base, Signal):
            raise ConversionError(f"{_where(node)}: indexing is not supported on this value")
        variations = self._accept_batch_sizes(node, [v for v in variations if v.longer == v.base]) + \
            [v for v in variations if v.longer != v.base]
        index = node.args[1] if isinstance(node.args[1], tuple) else (node.args[1],)
        value = node.args[0].meta["value"]
        rank = value.dim()
        dims = _index_dims(index, rank)
        if dims is None:
            raise ConversionError(f"{_where(node)}: indexing {index!r}: only integers, slices, None and ... can "
                                  "stream")
        time_axis = rank + base.time_dim
        time_entries = [i for i, d in enumerate(dims) if d == time_axis]
        is_tuple = isinstance(node.args[1], tuple)
        for v in variations:
            entry, part = (v.path[1], v.path[2:3]) if is_tuple else (0, v.path[1:2])
            if not (v.where == "args" and time_entries and entry == time_entries[0] and part == (1,)):
                self._refuse_length(node, v)
        if not time_entries:
            return replace(base, time_dim=self._time_dim(node))
        entry = index[time_entries[0]]
        if not isinstance(entry, slice) or entry.step not in (None, 1):
            raise ConversionError(f"{_where(node)}: indexing {entry!r} on the time axis: only crops (start:stop) "
                                  "can stream")
        stop_var = variations[0] if variations else None
        if not self._end_is_edge(node, entry.stop, stop_var):
            raise ConversionError(f"{_where(node)}: the time crop {entry.start}:{entry.stop} keeps a fixed number "
                                  "of samples, which has no meaning for a stream")
        start = entry.start or 0
        new_index = list(index)
        new_index[time_entries[0]] = slice(None)
        if all(e == slice(None) or e is Ellipsis for e in new_index):
            return replace(self._crop(node, base, int(start)), time_dim=self._time_dim(node))
        # other axes are indexed too: keep those, drop only the time crop
        node.args = (node.args[0], tuple(new_index) if isinstance(node.args[1], tuple) else new_index[0])
        sig = self._crop(node, base, int(start))
        del self.identity[node]
        return replace(sig, time_dim=self._time_dim(node))

    # -- driver ------------------------------------------------------------------------
    def run(self) -> "StreamingModule":
        placeholders = [n for n in self.graph.nodes if n.op == "placeholder"]
        if len(placeholders) != 1:
            raise ConversionError(f"{self.method} must take exactly one tensor (batch, channels, time)")
        placeholder = placeholders[0]
        # the guard sits between the input and every user of it
        users = list(placeholder.users)
        guard = InputGuard(1, self.in_channels)
        with self.graph.inserting_after(placeholder):
            guard_node = self.graph.call_module("guard", (placeholder,))   # takes its place in stateful last
        for u in users:
            u.replace_input_with(placeholder, guard_node)
        with self.graph.inserting_after(guard_node):
            self.batch_node = self.graph.call_method("size", (guard_node, 0))
        out = None
        for node in list(self.graph.nodes):
            if node is guard_node or node is self.batch_node or node.op == "placeholder":
                if node.op == "placeholder":
                    self.values[node] = Signal(Fraction(1), 0, Fraction(0), Fraction(0), -1)
                elif node is guard_node:
                    self.values[node] = self.values[placeholder]
                    self.longer[node], self.batched[node] = self.longer[placeholder], self.batched[placeholder]
                    node.meta["value"] = placeholder.meta["value"]
                else:
                    self.values[node] = _CONST
                continue
            if node not in self.longer:          # inserted by the analysis (delays, batch expressions)
                continue
            if node.op == "get_attr":
                self.values[node] = self._constant(node)
            elif node.op == "call_module":
                self.values[node] = self._call_module(node)
            elif node.op in ("call_function", "call_method"):
                self.values[node] = self._call_op(node)
            elif node.op == "output":
                out = self._output(node)
        guard.ratio = int(self.ratio)
        self.stateful.append(guard)
        guard_node.target = f"stateful.{len(self.stateful) - 1}"
        for node, source in self.identity.items():
            while source in self.identity:      # a crop of a padding: both stream as their input
                source = self.identity[source]
            node.replace_all_uses_with(source)
        for node in reversed(list(self.graph.nodes)):
            if node in self.identity:
                self.graph.erase_node(node)
        for node in reversed(list(self.graph.nodes)):      # what the stream no longer uses
            if node.op not in ("placeholder", "output") and not node.users:
                self.graph.erase_node(node)
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
        if len(signals) != 1 or self.values[signals[0]].time_dim != -1:
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
        refused = self._refusals(value)
        if refused:
            raise ConversionError(refused[0].message)
        signals = self._signals(value)
        if not signals:
            raise ConversionError(f"{self.method} returns nothing that depends on its input")
        out_nodes = self._signal_nodes(node)
        rates = {self.values[n].rate for n in out_nodes}
        if len(rates) > 1:
            raise ConversionError(f"{self.method} returns signals at different rates ({sorted(map(str, rates))})")
        if any(self.values[n].time_dim != -1 for n in out_nodes):
            raise ConversionError(f"{self.method} returns a tensor whose last axis is not time")
        out = self._align(node, out_nodes, "the output")
        if out.delay is not None and out.delay < 0:
            # over-padded convs can make the stream lead the padded offline output: delay it to 0
            for n in out_nodes:
                d = self._add_stateful(Delay(-out.delay), node, (n,))
                node.replace_input_with(n, d)
            out = replace(out, delay=0)
        self._require(out.rate)
        return out

    def _inline_pointwise(self) -> None:
        """Stateless activation modules, and functional activations with a Python wrapper, become
        direct calls of their builtin op (the same op, so the same bits). A scripted model run as
        the plugin runs it (graph optimizer off) opens an interpreter frame for every submodule
        or wrapper call. (Export inlines the calls inside each layer: `inline_calls` in
        `nnplug.export.pipeline`.)"""
        for node in list(self.graph.nodes):
            call = _as_builtin_call(node)
            if call is not None:
                node.target, node.args, node.kwargs = call
                continue
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

    def _fold_constants(self) -> Tuple[Dict[str, torch.Tensor], fx.Graph]:
        """Tensors computed from parameters alone (Snake's 1 / (alpha + 1e-9), a filter built in
        forward) are computed once here instead of on every call: where such a value meets the
        signal, it becomes a stored tensor. Returns the new attributes and the graph computing
        them from the parameters (a dtype change recomputes them: `StreamingModule._apply`)."""
        folded: Dict[str, torch.Tensor] = {}
        recipe, copied, results = fx.Graph(), {}, []

        def copy_into_recipe(n: fx.Node) -> fx.Node:
            if n not in copied:
                for a in n.all_input_nodes:
                    copy_into_recipe(a)
                copied[n] = recipe.node_copy(n, lambda a: copied[a])
            return copied[n]

        for node in list(self.graph.nodes):
            if node.op not in ("call_function", "call_method") or self.values.get(node) is not _CONST:
                continue
            value = node.meta.get("value")
            if not isinstance(value, torch.Tensor) or not value.is_floating_point():
                continue
            if any(a not in self.longer or self.values.get(a) is not _CONST for a in node.all_input_nodes):
                continue            # built from a runtime batch size
            if all(self.values.get(u) is _CONST for u in node.users):
                continue            # only its last constant step is stored
            name = f"folded_{len(folded)}"
            folded[name] = value.detach().clone()
            results.append(copy_into_recipe(node))
            with self.graph.inserting_before(node):
                stored = self.graph.get_attr(name)
            self.values[stored] = _CONST
            node.replace_all_uses_with(stored)
        for node in reversed(list(self.graph.nodes)):
            if node.op not in ("placeholder", "output") and not node.users:
                self.graph.erase_node(node)
        recipe.output(tuple(results))
        return folded, recipe

    def _build(self, out: Signal) -> "StreamingModule":
        self._inline_pointwise()
        folded, recipe = self._fold_constants()
        root: Dict[str, Any] = dict(folded)
        for node in self.graph.nodes:
            node.meta.pop("value", None)         # the traced tensors: not needed past the analysis
            if node.op == "call_module" and not node.target.startswith("stateful."):
                root[node.target] = self.modules[node.target]
            elif node.op == "call_module":
                root[node.target] = self.stateful[int(node.target.split(".")[1])]
            elif node.op == "get_attr" and node.target not in folded:
                root[node.target] = _fetch_attr(self.root, node.target)
        self.graph.lint()
        gm = StreamingModule(root, self.graph, class_name=f"Streaming{type(self.root.model).__name__}")
        gm.stateful = nn.ModuleList(self.stateful)
        if folded:
            # sharing the stream's parameter objects, so a dtype change reaches both
            params = {n.target: _fetch_attr(gm, n.target) for n in recipe.nodes if n.op == "get_attr"}
            gm.__dict__["_fold_recipe"] = (fx.GraphModule(params, recipe), list(folded))
        gm.recompile()
        gm.delay = int(out.delay or 0)
        gm.ratio = int(self.ratio)
        gm.in_ratio = int(out.rate.numerator)
        gm.out_ratio = int(out.rate.denominator)
        # Python only: the receptive field (ContextWindow, comparison margins) and whether a
        # recurrent layer carries state from the whole past (then the field is unbounded to the left)
        gm.receptive_field = (out.lo, out.hi)
        gm.recurrent = self.recurrent
        gm.signals = {n.name: s for n, s in self.values.items() if isinstance(s, Signal)}
        gm.eval()
        gm.reset()
        return gm


def _name_reorders(node: fx.Node) -> bool:
    """Layout ops that only reorder axes (the time axis cannot pick up other axes)."""
    return _op_name(node) in ("transpose", "permute", "movedim", "moveaxis", "swapaxes", "swapdims", "t",
                              "contiguous", "unsqueeze", "squeeze", "expand", "expand_as")


def _index_dims(index: tuple, rank: int) -> Optional[List[Optional[int]]]:
    """For each entry of an index, the input axis it applies to (None for a new axis)."""
    used = sum(1 for e in index if e is not None and e is not Ellipsis)
    dims: List[Optional[int]] = []
    axis = 0
    for e in index:
        if e is Ellipsis:
            dims.append(None)
            axis += rank - used
        elif e is None:
            dims.append(None)
        elif isinstance(e, (int, slice)) and not isinstance(e, bool):
            dims.append(axis)
            axis += 1
        else:
            return None
    return dims


def _as_function(module: nn.Module) -> Optional[tuple]:
    """(function, kwargs) computing exactly what the stateless activation `module` computes
    (function None: the identity), or None to keep the module call."""
    exact = type(module)
    if exact is nn.Identity or (exact is nn.Dropout and not module.training):
        return None, {}
    if exact is nn.ReLU and not module.inplace:
        return torch.relu, {}
    if exact is nn.LeakyReLU and not module.inplace:
        return torch._C._nn.leaky_relu, {"negative_slope": float(module.negative_slope)}
    if exact is nn.Tanh:
        return torch.tanh, {}
    if exact is nn.Sigmoid:
        return torch.sigmoid, {}
    if exact is nn.SiLU and not module.inplace:
        return torch._C._nn.silu, {}
    if exact is nn.GELU:
        return F.gelu, {"approximate": module.approximate}
    if exact is nn.ELU and not module.inplace:
        return torch._C._nn.elu, {"alpha": float(module.alpha)}
    return None


# Functional activations that TorchScript compiles as calls of their Python wrappers (an
# interpreter frame each, with the graph optimizer off): the builtin op each wrapper calls when
# not in place (the same op, so the same bits), and the position of the wrapper's `inplace`.
_WRAPPED_BUILTINS = {F.leaky_relu: (torch._C._nn.leaky_relu, 2), F.silu: (torch._C._nn.silu, 1),
                     F.elu: (torch._C._nn.elu, 2)}


def _as_builtin_call(node: fx.Node) -> Optional[tuple]:
    """(builtin, args, kwargs) calling the same op as the functional activation `node` without its
    Python wrapper, or None (another op, in place, or arguments the builtin names otherwise)."""
    if node.op != "call_function" or node.target not in _WRAPPED_BUILTINS:
        return None
    builtin, inplace_at = _WRAPPED_BUILTINS[node.target]
    kwargs = dict(node.kwargs)
    inplace = kwargs.pop("inplace", node.args[inplace_at] if len(node.args) > inplace_at else False)
    if inplace is not False or "input" in kwargs:
        return None
    return builtin, tuple(node.args[:inplace_at]), kwargs


def _fetch_attr(root: nn.Module, target: str):
    obj = root
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj
