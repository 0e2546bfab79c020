"""Post-training conversion of a non-causal convolutional model into a streaming model.

`convert(model)` works in four steps:

1. **A plain copy** (`reparam.plain_copy`): weight norm, spectral norm and parametrizations
   folded into plain weights; the user's model is not touched.
2. **Concrete traces** (`trace.trace`): the method runs on example inputs while torch.fx
   records it, so shape reads, `math.ceil` on lengths and `if pad > 0:` run as Python. Three
   traces (length T, length 2T, batch 2) tell which recorded numbers depend on the length or
   the batch: batch-dependent ones become runtime expressions; length-dependent ones are
   accepted only where they touch nothing but the signal's edge (a crop of the end, the right
   padding), anything else is refused at the user's line.
3. **The analysis** follows every signal from the input to the output keeping its rate
   (relative to the input), its delay (the streaming signal equals the offline one shifted by
   `delay` samples of its own rate), its time axis (channels-last blocks move it) and its
   receptive field. Each convolution (module or functional, any padding done in any way)
   becomes its cached counterpart built for the delay of its own input; padding and crops of
   the time axis become shifts of the delay; recurrent layers carry their state; wherever
   signals meet, the early ones get a delay line. Anything else is refused naming the user's
   source line, the module and the op.
4. **The proof** (`prove.prove`): the stream is run on random buffers of a random signal in
   float64 and compared with the offline model; the first layer that diverges is named.

Along chains of layers with nothing but pointwise ops between them, caches are then merged
(`_merge_caches`): the upstream layer emits the few past samples the next one needs.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import torch
import torch.fx as fx
import torch.nn as nn

from .analysis import (_CONV_FUNCTIONS, _Converter, _accept_batch_sizes, _qualified, _varying_ints, _where)
from .module import StreamingLeaf, StreamingModule, _Method, is_leaf
from .reparam import plain_copy
from .trace import ConversionError, TraceFailure, trace

__all__ = ["ConversionError", "StreamingLeaf", "StreamingModule", "convert", "trace_offline"]


def _three_traces(root: nn.Module, in_channels: int, example_length: Optional[int]):
    """(channels, length, base, longer, batched): the method traced at batch 1 and length T, at
    batch 1 and length 2T, and at batch 2 and length T."""
    channels, length, graph = _example(root, in_channels, example_length)
    dtype = next(iter(graph.nodes)).meta["value"].dtype
    try:
        longer = trace(root, torch.randn(1, channels, 2 * length, generator=torch.Generator().manual_seed(1),
                                         dtype=dtype), is_leaf)
        batched = trace(root, torch.randn(2, channels, length, generator=torch.Generator().manual_seed(2),
                                          dtype=dtype), is_leaf)
    except TraceFailure as e:
        raise ConversionError(f"{e}: the model runs on a signal of {length} samples but not on one of {2 * length} "
                              "(or on a batch of 2); a streaming model must take any length and batch (a layer "
                              "sized for one length, such as a Linear over time?)") from e
    return channels, length, graph, longer, batched


def trace_offline(model: nn.Module, method: str = "forward") -> fx.GraphModule:
    """The offline model as an fx graph (no caching) that runs at any length and batch:
    TorchScript-able even when the Python model is not (Python attributes and shape reads are
    resolved at trace time). The baselines run it so that all methods are compared in
    TorchScript. Refused when the model's code computes numbers from the signal length."""
    root = _Method(plain_copy(model), method)
    _, length, graph, longer, batched = _three_traces(root, 0, None)
    placeholder = next(n for n in graph.nodes if n.op == "placeholder")
    with graph.inserting_after(placeholder):
        batch_node = graph.call_method("size", (placeholder, 0))
    for node, lon, bat in zip([n for n in graph.nodes if n is not batch_node], longer.nodes, batched.nodes):
        for v in _accept_batch_sizes(graph, node, batch_node, _varying_ints(node, lon, bat)):
            raise ConversionError(f"{_where(node)}: '{_qualified(node)}' is given {v.base} for a signal of {length} "
                                  f"samples and {v.longer} for {2 * length}: an offline graph traced once cannot "
                                  "follow it")
    for node in graph.nodes:
        node.meta.pop("value", None)
    if not batch_node.users:
        graph.erase_node(batch_node)
    return fx.GraphModule(root, graph).eval()


# Example lengths tried, shortest first: the first on which the model runs with every
# convolution seeing at least MIN_CONV_INPUT samples is used (a decoder's latent input needs
# a few frames, an encoder's audio input a few of its hops).
# Lengths with many small factors come first among similar sizes: a model may need a multiple
# of its total stride (a product of 2s, 3s, 5s, 7s) to run offline at all.
EXAMPLE_LENGTHS = (16, 24, 48, 64, 120, 240, 256, 720, 1024, 1680, 4096, 5040, 10080, 16384, 40320, 65536, 80640)
MIN_CONV_INPUT = 32


def _channel_candidates(model: nn.Module) -> List[int]:
    seen: List[int] = []
    for m in model.modules():
        c = getattr(m, "in_channels", None) or getattr(m, "input_size", None)
        if isinstance(c, int) and c > 0 and c not in seen:
            seen.append(c)
    return seen + [c for c in (1, 2) if c not in seen]


def _short_conv_input(graph: fx.Graph, modules: Dict[str, nn.Module]) -> bool:
    for node in graph.nodes:
        conv = node.op == "call_function" and node.target in _CONV_FUNCTIONS or \
            node.op == "call_module" and isinstance(modules.get(node.target), (nn.Conv1d, nn.ConvTranspose1d))
        if conv and isinstance(node.args[0], fx.Node):
            x = node.args[0].meta.get("value")
            if isinstance(x, torch.Tensor) and x.shape[-1] < MIN_CONV_INPUT:
                return True
    return False


def _example(root: nn.Module, in_channels: int, length: Optional[int]) -> Tuple[int, int, fx.Graph]:
    """(channels, length, graph) of the first example input the method runs on."""
    dtype = next((p.dtype for p in root.parameters() if p.is_floating_point()), torch.float32)
    channels = [in_channels] if in_channels > 0 else _channel_candidates(root)
    lengths = [length] if length else EXAMPLE_LENGTHS
    modules = dict(root.named_modules())
    failure: Optional[TraceFailure] = None
    for c in channels:
        ran = None
        for n in lengths:
            x = torch.randn(1, c, n, generator=torch.Generator().manual_seed(n), dtype=dtype)
            try:
                graph = trace(root, x, is_leaf)
            except TraceFailure as e:
                failure = failure or e
                continue
            if length or not _short_conv_input(graph, modules):
                return c, n, graph
            ran = (c, n, graph)
        if ran is not None:         # it runs, but some conv never sees many samples: take the longest
            return ran
    raise ConversionError(f"cannot run {type(root.model).__name__}.{root.method} on an example input "
                          f"(tried {channels} channels, lengths {list(lengths)}); the first failure: {failure}")


def convert(model: nn.Module, method: str = "forward", in_channels: int = 0, example_length: Optional[int] = None,
            prove: bool = True) -> StreamingModule:
    """A streaming copy of `model.<method>` with the same weights.

    The returned module processes consecutive buffers whose lengths are multiples of
    `.ratio`; its output equals the offline output delayed by `.delay` samples (away from
    the signal's edges, where offline pads every layer). `in_channels` > 0 names the input's
    channel count (and adds a check of it; found by trial otherwise); `example_length` the
    length of the example input the method is traced on (found by trial otherwise).
    With `prove` (the default) the result is checked against the offline model in float64 before
    it is returned (`nnplug.streaming.prove`). The original model is not modified.
    """
    if isinstance(model, (StreamingModule, torch.jit.ScriptModule)):
        raise ConversionError("this model is already a streaming/scripted module; convert the original nn.Module")
    if not hasattr(model, method):
        raise ConversionError(f"{type(model).__name__} has no method '{method}'")
    plain = plain_copy(model)
    root = _Method(plain, method)
    channels, length, graph, longer, batched = _three_traces(root, in_channels, example_length)
    stream = _Converter(root, [graph, longer, batched], (length, 2 * length), in_channels).run()
    stream.in_channels = channels
    if prove:
        from .prove import prove as run_proof
        run_proof(plain, stream, method, channels)
    return stream
