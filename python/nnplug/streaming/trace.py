"""Concrete tracing: a torch.fx graph of a model method, recorded while the method really runs
on an example input.

Plain symbolic tracing stops at the code people write in real models: `B, C, T = x.shape`,
`math.ceil(x.shape[-1] / stride)`, `if pad > 0:`, `torch.jit.script` helpers. Here every proxy
carries the real value its node computed, so shape reads are plain ints and Python control
flow on them just runs. What that bakes into the graph (a batch size, a length) is found by
tracing again at another batch size and length and comparing (`convert` does that): values
that change with the batch become runtime expressions, values that change with the length are
accepted only where they provably touch the signal's edge.

Every node records where it came from: the user's source line and the module path, so that a
refusal names the user's code, not torch.fx internals.
"""
from __future__ import annotations

import contextlib
import os
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Iterator, List, Optional

import torch
import torch.fx as fx
import torch.nn as nn
from nnplug.errors import NnplugError


class ConversionError(NnplugError, ValueError):
    """The model cannot be streamed as it is; the message names the user's line, the module
    and the operation, and why."""


_TORCH_DIR = os.path.dirname(torch.__file__)
_OWN_DIR = os.path.dirname(os.path.abspath(__file__))


@dataclass(frozen=True)
class Location:
    """Where a node came from in the user's code."""
    file: str
    line: int
    code: str
    module_path: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.file else "the model"
        module = f" in module '{self.module_path}'" if self.module_path else ""
        code = f": `{self.code}`" if self.code else ""
        return f"{where}{module}{code}"


def _is_user_frame(frame: traceback.FrameSummary) -> bool:
    name = frame.filename
    return not (name.startswith(_TORCH_DIR) or name.startswith(_OWN_DIR) or name.startswith("<")
                or os.sep + "contextlib.py" in name)


def user_frame(frames: List[traceback.FrameSummary]) -> Optional[traceback.FrameSummary]:
    """The innermost frame of the user's code (not torch, not this package)."""
    for frame in reversed(frames):
        if _is_user_frame(frame):
            return frame
    return None


def _frame_text(frame: Optional[traceback.FrameSummary]) -> str:
    return f"{frame.filename}:{frame.lineno}: `{(frame.line or '').strip()}`" if frame else "the model"


def _calling_line() -> str:
    """Where the user's code is running now (for errors raised while it runs)."""
    return _frame_text(user_frame(traceback.extract_stack()))


def location_of(node: fx.Node) -> Location:
    loc = node.meta.get("location")
    return loc if loc is not None else Location("", 0, "", node.meta.get("module_path", ""))


def _real(value: Any) -> Any:
    """The concrete value behind proxies, in any nesting of tuples, lists, dicts and slices."""
    if isinstance(value, ConcreteProxy):
        return value.value
    if isinstance(value, fx.Node):
        return value.meta["value"]
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_real(v) for v in value))
    if isinstance(value, (tuple, list)):
        return type(value)(_real(v) for v in value)
    if isinstance(value, dict):
        return {k: _real(v) for k, v in value.items()}
    if isinstance(value, slice):
        return slice(_real(value.start), _real(value.stop), _real(value.step))
    return value


class ConcreteProxy(fx.Proxy):
    """A proxy that knows its real value: shapes, sizes and lengths are plain numbers."""

    @property
    def value(self) -> Any:
        return self.node.meta["value"]

    def _tensor(self) -> torch.Tensor:
        v = self.value
        if not isinstance(v, torch.Tensor):
            raise ConversionError(f"{location_of(self.node)}: expected a tensor here, got {type(v).__name__}")
        return v

    @property
    def shape(self) -> torch.Size:
        return self._tensor().shape

    def size(self, dim: Optional[int] = None):
        t = self._tensor()
        return t.size() if dim is None else t.size(dim)

    def dim(self) -> int:
        return self._tensor().dim()

    @property
    def ndim(self) -> int:
        return self._tensor().dim()

    def numel(self) -> int:
        return self._tensor().numel()

    @property
    def dtype(self) -> torch.dtype:
        return self._tensor().dtype

    @property
    def device(self) -> torch.device:
        return self._tensor().device

    @property
    def is_cuda(self) -> bool:
        return self._tensor().is_cuda

    def __len__(self) -> int:
        return len(self.value)

    def __iter__(self) -> Iterator["ConcreteProxy"]:
        return iter([self[i] for i in range(len(self.value))])

    def _data_dependent(self, what: str):
        raise ConversionError(
            f"{_calling_line()}: {what} of a tensor's values decides what the model does; a streaming model "
            "must run the same operations whatever the audio is")

    def __bool__(self):
        self._data_dependent("the truth value")

    def item(self):
        self._data_dependent("item()")

    def tolist(self):
        self._data_dependent("tolist()")

    def __int__(self):
        self._data_dependent("int()")

    def __float__(self):
        self._data_dependent("float()")

    def __index__(self):
        self._data_dependent("an index taken from a tensor")


def _fetch(root: nn.Module, target: str) -> Any:
    """An attribute by dotted path, read without nn.Module.__getattr__ (which fx patches while
    tracing)."""
    obj = root
    for part in target.split("."):
        if isinstance(obj, nn.Module):
            for store in ("_parameters", "_buffers", "_modules"):
                table = obj.__dict__.get(store, {})
                if part in table:
                    obj = table[part]
                    break
            else:
                obj = obj.__dict__[part] if part in obj.__dict__ else object.__getattribute__(obj, part)
        else:
            obj = getattr(obj, part)
    return obj


class ConcreteTracer(fx.Tracer):
    """Traces `root` (a module whose forward takes one tensor) on `example`.

    `is_leaf(module)` decides which submodules stay single nodes; everything else is traced
    into, so a layer subclass with its own forward is seen as the operations it performs."""

    def __init__(self, example: torch.Tensor, is_leaf: Callable[[nn.Module], bool]):
        super().__init__()
        self.example = example
        self._is_leaf = is_leaf
        self._nnplug_modules: List[str] = [""]
        self._evaluating = False
        self._outer_frames = len(traceback.extract_stack())   # frames of whoever called trace()

    def getattr(self, attr, attr_val, parameter_proxy_cache):
        if self._evaluating:        # a leaf running on real values reads its real parameters
            return attr_val
        return super().getattr(attr, attr_val, parameter_proxy_cache)

    def proxy(self, node: fx.Node) -> fx.Proxy:
        return ConcreteProxy(node, self)

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return self._is_leaf(m)

    def call_module(self, m, forward, args, kwargs):
        if self._evaluating:        # a leaf's own submodules, on real values: just run them
            return forward(*args, **kwargs)
        path = self.path_of_module(m)
        self._nnplug_modules.append(path.removeprefix("model.").removeprefix("model") if path else path)
        try:
            return super().call_module(m, forward, args, kwargs)
        except Exception as e:  # noqa: BLE001 - remember the innermost module an error came from
            if not hasattr(e, "_nnplug_module_path"):
                e._nnplug_module_path = self._nnplug_modules[-1]
            raise
        finally:
            self._nnplug_modules.pop()

    def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None, proxy_factory_fn=None):
        proxy = super().create_proxy(kind, target, args, kwargs, name, type_expr, proxy_factory_fn)
        node = proxy.node
        frame = user_frame(traceback.extract_stack()[self._outer_frames:])
        node.meta["module_path"] = self._nnplug_modules[-1]
        node.meta["location"] = Location(frame.filename, frame.lineno, (frame.line or "").strip(),
                                         self._nnplug_modules[-1]) if frame else None
        node.meta["value"] = self._evaluate(kind, target, args, kwargs)
        return proxy

    def _evaluate(self, kind: str, target, args, kwargs) -> Any:
        if kind == "placeholder":
            return self.example
        if kind == "get_attr":
            return _fetch(self.root, target)
        a, kw = _real(args), _real(kwargs)
        if kind == "call_module":
            self._evaluating = True
            try:
                return _fetch(self.root, target)(*a, **kw)
            finally:
                self._evaluating = False
        if kind == "call_function":
            return target(*a, **kw)
        if kind == "call_method":
            return getattr(a[0], target)(*a[1:], **kw)
        raise AssertionError(kind)


# Random draws: a streaming model must compute the same thing for the same audio (and a
# traced one would bake one draw into the graph as a constant).
_RANDOM_FUNCTIONS = ("rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like",
                     "normal", "bernoulli", "multinomial", "poisson")
_RANDOM_METHODS = ("uniform_", "normal_", "bernoulli_", "random_", "exponential_", "cauchy_",
                   "log_normal_", "geometric_")
RANDOM_NAMES = frozenset(_RANDOM_FUNCTIONS + _RANDOM_METHODS + ("bernoulli", "multinomial", "normal"))
RANDOM_ADVICE = ("draw noise with nnplug.models.noise.SeededNoise (a counter-based generator that streams "
                 "and resets), or turn the noise off before converting")


def _refuse_random(name: str) -> Callable:
    def refuse(*args, **kwargs):
        raise ConversionError(f"{_calling_line()}: random op torch.{name}: a streaming model must give the same output "
                              f"for the same audio; {RANDOM_ADVICE}")
    return refuse


def _forward_globals(root: nn.Module) -> List[dict]:
    """The global namespaces the model's forward code reads: those of every module's class
    and of the plain functions those namespaces hold (helpers such as a pad function)."""
    seen, spaces = set(), []

    def add(space: dict):
        if id(space) not in seen:
            seen.add(id(space))
            spaces.append(space)

    for m in root.modules():
        for cls in type(m).__mro__:
            fn = cls.__dict__.get("forward")
            if fn is not None and hasattr(fn, "__globals__") and not cls.__module__.startswith("torch."):
                add(fn.__globals__)
    for space in list(spaces):
        for value in list(space.values()):
            g = getattr(value, "__globals__", None)
            if isinstance(g, dict) and callable(value) and not getattr(value, "__module__", "").startswith("torch"):
                add(g)
    return spaces


@contextlib.contextmanager
def tracing_patches(root: nn.Module):
    """While tracing: `torch.jit.script` functions the model calls are replaced by the Python
    functions they were compiled from (fx cannot pass proxies through compiled code), and
    random draws raise a ConversionError at the user's line."""
    restore: List[tuple] = []
    try:
        for space in _forward_globals(root):
            for key, value in list(space.items()):
                if isinstance(value, torch.jit.ScriptFunction):
                    original = getattr(value, "_torchdynamo_inline", None)
                    if original is None:
                        raise ConversionError(f"the model calls the TorchScript function {key}, whose Python "
                                              "source is not available to trace")
                    restore.append((space, key, value))
                    space[key] = original
        for name in _RANDOM_FUNCTIONS:
            if hasattr(torch, name):
                restore.append((torch, name, getattr(torch, name)))
                setattr(torch, name, _refuse_random(name))
        for name in _RANDOM_METHODS:
            restore.append((torch.Tensor, name, getattr(torch.Tensor, name)))
            setattr(torch.Tensor, name, _refuse_random(name))
        yield
    finally:
        for owner, key, value in reversed(restore):
            if isinstance(owner, dict):
                owner[key] = value
            else:
                setattr(owner, key, value)


def _raised_at(error: BaseException) -> str:
    module = getattr(error, "_nnplug_module_path", "")
    return _frame_text(user_frame(traceback.extract_tb(error.__traceback__))) + (f" (module '{module}')" if module else "")


def trace(root: nn.Module, example: torch.Tensor, is_leaf: Callable[[nn.Module], bool]) -> fx.Graph:
    """The graph of `root.forward(example)`, every node holding its value (`meta['value']`),
    its user source line and module path (`meta['location']`)."""
    tracer = ConcreteTracer(example, is_leaf)
    with torch.no_grad(), tracing_patches(root):
        try:
            graph = tracer.trace(root)
        except ConversionError:
            raise
        except Exception as e:  # noqa: BLE001 - any failure while running the user's code
            raise TraceFailure(f"{_raised_at(e)}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from e
    graph._nnplug_root = tracer.root  # type: ignore[attr-defined]
    return graph


class TraceFailure(ConversionError):
    """The model's own code failed on the example input (wrong channel count, too short...)."""
