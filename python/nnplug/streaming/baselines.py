"""The two classic ways to run an offline model on a stream, for comparison with cached
convolutions (see `nnplug bench streaming`). Both wrap the *offline* model and re-run it
on more samples than each buffer holds; both need a model whose output rate equals its
input rate (an autoencoder's forward). Like the cached model, they are TorchScript-able,
so that all methods can be compared in the form a plugin runs."""
import math

import torch
import torch.nn as nn

from .convert import convert, trace_offline


def _round_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


def _analyse(model: nn.Module, buffer_size: int):
    # only the ratio and the receptive field are needed: no proof of the stream itself
    analysis = convert(model, prove=False)
    if analysis.in_ratio != 1 or analysis.out_ratio != 1:
        raise ValueError("this baseline needs a model whose output rate equals its input rate")
    if buffer_size % analysis.ratio:
        raise ValueError(f"buffer_size {buffer_size} is not a multiple of the model ratio {analysis.ratio}")
    return analysis


class ContextWindow(nn.Module):
    """Exact but wasteful: each buffer is processed together with the model's whole
    receptive field of past input (and delayed by its look-ahead), and the output is cropped
    to the samples whose receptive field lies entirely inside that window."""

    history: torch.Tensor

    def __init__(self, model: nn.Module, buffer_size: int):
        super().__init__()
        analysis = _analyse(model, buffer_size)
        lo, hi = analysis.receptive_field
        self.receptive_field = analysis.receptive_field
        self.model = trace_offline(model)
        self.buffer_size = int(buffer_size)
        self.delay = max(math.ceil(hi), 0)
        # the window start stays on the model's stride grid, so every layer computes what it does offline
        self.context = _round_up(max(math.ceil(-lo), 0) + self.delay, analysis.ratio)
        self.history = torch.zeros(0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.size(-1) != self.buffer_size:
            raise RuntimeError("ContextWindow: buffer of {} samples, built for {}".format(x.size(-1), self.buffer_size))
        if self.history.dim() == 1:
            self.history = torch.zeros(x.size(0), x.size(1), self.context, dtype=x.dtype, device=x.device)
        window = torch.cat([self.history, x], -1)
        self.history = window[:, :, window.size(-1) - self.context:]
        start = self.context - self.delay
        return self.model(window)[:, :, start:start + x.size(-1)]

    @torch.jit.export
    def reset(self):
        self.history = torch.zeros(0)


class OverlapAdd(nn.Module):
    """Approximate: each buffer is processed with `overlap` extra past samples, and the
    overlapping outputs of consecutive windows are crossfaded (raised-cosine, gains summing
    to 1). `overlap` is a number of samples, or a fraction of the buffer when below 1; it is
    rounded up to the model ratio. Delay: the overlap."""

    history: torch.Tensor
    previous_tail: torch.Tensor

    def __init__(self, model: nn.Module, buffer_size: int, overlap: float):
        super().__init__()
        analysis = _analyse(model, buffer_size)
        self.model = trace_offline(model)
        self.buffer_size = int(buffer_size)
        samples = int(round(overlap * buffer_size)) if overlap < 1 else int(overlap)
        self.overlap = min(_round_up(max(samples, 1), analysis.ratio), buffer_size)
        self.delay = self.overlap
        t = (torch.arange(self.overlap, dtype=torch.float64) + 0.5) / self.overlap
        self.register_buffer("fade_in", (0.5 - 0.5 * torch.cos(math.pi * t)).float())
        self.history = torch.zeros(0)
        self.previous_tail = torch.zeros(0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.size(-1) != self.buffer_size:
            raise RuntimeError("OverlapAdd: buffer of {} samples, built for {}".format(x.size(-1), self.buffer_size))
        o, n = self.overlap, x.size(-1)
        if self.history.dim() == 1:
            self.history = torch.zeros(x.size(0), x.size(1), o, dtype=x.dtype, device=x.device)
        window = torch.cat([self.history, x], -1)
        self.history = window[:, :, n:]
        y = self.model(window)
        head, body, tail = y[:, :, :o], y[:, :, o:n], y[:, :, n:]
        if self.previous_tail.dim() == 1:
            self.previous_tail = torch.zeros_like(tail)
        fade_in = self.fade_in.to(y.dtype)
        mixed = self.previous_tail * (1 - fade_in) + head * fade_in
        self.previous_tail = tail
        return torch.cat([mixed, body], -1)

    @torch.jit.export
    def reset(self):
        self.history = torch.zeros(0)
        self.previous_tail = torch.zeros(0)
