"""The proof `convert` runs before it returns: never a silently wrong stream.

Both the offline model and the stream run in float64 on the same random stereo signal (a
batch of 2, which also exercises every batch-size expression), the stream in random buffer
sizes. Away from the signal's edges (the receptive field, where offline processing pads) the
stream must equal the offline output shifted by the stream's delay, to PROOF_TOLERANCE of
the output's peak. Where it does not, every intermediate signal is compared the same way and
the first that diverges is named with the user's source line.

Why 1e-9: float64 has 16 digits; the stream sums the same products as offline processing in
another order and blocking, which costs a few ulps per layer (observed ~1e-15 relative), while
any conversion mistake (a wrong delay, a misplaced crop) is of the order of the signal itself.

Noise layers that are not time-locked (StreamingLeaf with `time_locked = False`) are silenced
in both: their output has no offline counterpart to equal; the time-locked rest is proved.
A recurrent layer remembers the whole past, so the offline edge never fully leaves its state:
the comparison starts halfway through the signal, where that memory has faded.
"""
from __future__ import annotations

import copy
import math
import random
from collections import defaultdict
from fractions import Fraction
from typing import Dict, List

import torch
import torch.fx as fx
import torch.nn as nn

from .check import interior_margins
from .module import StreamingLeaf, _Method, is_leaf
from .trace import ConversionError, location_of, trace

PROOF_TOLERANCE = 1e-9


class _Silence(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)

    def reset(self):
        pass


def _silence_noise(model: nn.Module) -> None:
    for name, module in list(model.named_modules()):
        if isinstance(module, StreamingLeaf) and not module.time_locked and name:
            parent, _, child = name.rpartition(".")
            setattr(model.get_submodule(parent) if parent else model, child, _Silence())


def _outputs(value) -> List[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    return [t for v in value for t in _outputs(v)]


def _signal_length(stream, channels: int) -> int:
    lo, hi = stream.receptive_field
    span = math.ceil(max(-float(lo), 0)) + math.ceil(max(float(hi), 0))
    ratio = stream.ratio
    samples = max(4 * span + 64, 32 * ratio)
    if stream.recurrent:
        # the comparison starts halfway: leave a recurrent layer a few hundred steps at the
        # model's coarsest rate for the offline edge to fade from its state
        samples = max(2 * samples, 1024 * ratio)
    return ratio * -(-samples // ratio)


def _buffers(ratio: int, length: int, seed: int) -> List[int]:
    rng = random.Random(seed)
    sizes, total = [], 0
    while total < length:
        n = min(ratio * rng.randint(1, 8), length - total)
        sizes.append(n)
        total += n
    return sizes


class _Recorder(fx.Interpreter):
    def __init__(self, module: fx.GraphModule, record: Dict[str, List[torch.Tensor]]):
        super().__init__(module)
        self.record = record

    def run_node(self, n: fx.Node):
        out = super().run_node(n)
        if isinstance(out, torch.Tensor):
            self.record[n.name].append(out)
        return out


def prove(plain: nn.Module, stream, method: str, channels: int) -> None:
    """Raise ConversionError unless `stream` equals `plain.<method>` shifted by its delay."""
    offline = copy.deepcopy(plain).double().eval()
    streamed = copy.deepcopy(stream).double()
    _silence_noise(offline)
    for i, layer in enumerate(streamed.stateful):
        if isinstance(layer, StreamingLeaf) and not layer.time_locked:
            streamed.stateful[i] = _Silence()
    streamed.reset()
    length = _signal_length(stream, channels)
    x = torch.randn(2, channels, length, generator=torch.Generator().manual_seed(length), dtype=torch.float64)
    sizes = _buffers(stream.ratio, length, seed=length)
    with torch.no_grad():
        reference = _outputs(getattr(offline, method)(x))
        pieces = [_outputs(streamed(x[..., pos:pos + n])) for pos, n in zip(_starts(sizes), sizes)]
    got = [torch.cat([p[i] for p in pieces], -1) for i in range(len(reference))]
    rate = Fraction(stream.in_ratio, stream.out_ratio)
    error, peak = _compare(reference, got, stream.delay, stream.receptive_field, rate, stream.recurrent)
    if error <= PROOF_TOLERANCE * max(peak, 1e-30) or peak == 0:
        return
    where = _first_divergence(offline, stream, method, x, sizes)
    raise ConversionError(
        f"the streaming model does not equal the offline one (max error {error:.3g} for a peak of {peak:.3g}); "
        f"the first signal that differs: {where}. This is an operation nnplug misjudged: please report it "
        "with the model's code")


def _starts(sizes: List[int]) -> List[int]:
    out, pos = [], 0
    for n in sizes:
        out.append(pos)
        pos += n
    return out


def _compare(reference: List[torch.Tensor], got: List[torch.Tensor], delay: int, receptive_field, rate,
             recurrent: bool, time_dim: int = -1):
    left, right = interior_margins(receptive_field, float(rate))
    error, peak = 0.0, 0.0
    for ref, out in zip(reference, got):
        ref, out = ref.movedim(time_dim, -1), out.movedim(time_dim, -1)
        n = min(ref.shape[-1], out.shape[-1] - delay)
        start = max(left, n // 2) if recurrent else left
        stop = n - right
        if stop <= start:
            continue
        a = ref[..., start:stop]
        b = out[..., start + delay:stop + delay]
        if a.shape != b.shape:
            continue
        error = max(error, float((a - b).abs().max()))
        peak = max(peak, float(a.abs().max()))
    return error, peak


def _first_divergence(offline: nn.Module, stream, method: str, x: torch.Tensor, sizes: List[int]) -> str:
    """The first intermediate signal (in the stream's graph order) whose stream values differ
    from the offline ones."""
    graph = trace(_Method(offline, method), x, is_leaf)
    offline_values = {n.name: n.meta.get("value") for n in graph.nodes}
    streamed = copy.deepcopy(stream).double()
    streamed.reset()
    record: Dict[str, List[torch.Tensor]] = defaultdict(list)
    with torch.no_grad():
        for pos, n in zip(_starts(sizes), sizes):
            _Recorder(streamed, record).run(x[..., pos:pos + n])
    for node in streamed.graph.nodes:
        sig = stream.signals.get(node.name)
        ref = offline_values.get(node.name)
        if sig is None or sig.delay is None or not isinstance(ref, torch.Tensor) or node.name not in record:
            continue
        parts = record[node.name]
        expected = [n * sig.rate for n in sizes]
        if any(p.shape[sig.time_dim] != e for p, e in zip(parts, expected)):
            continue           # a merged layer also emits its successor's past: not comparable
        got = torch.cat(parts, sig.time_dim)
        error, peak = _compare([ref], [got], sig.delay, (sig.lo, sig.hi), sig.rate, stream.recurrent, sig.time_dim)
        if error > PROOF_TOLERANCE * max(peak, 1e-30) and peak > 0:
            return f"{location_of(node)} (max error {error:.3g} for a peak of {peak:.3g})"
    return "only the output"
