"""The two classic ways to run an offline model on a stream, for comparison with cached
convolutions (see `nnplug bench streaming`). Both wrap the *offline* model and re-run it
on more samples than each buffer holds; both need a model whose output rate equals its
input rate (an autoencoder's forward)."""
from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn as nn

from .convert import convert


def _round_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


class _Baseline(nn.Module):
    def __init__(self, model: nn.Module, buffer_size: int):
        super().__init__()
        analysis = convert(model)
        if analysis.in_ratio != 1 or analysis.out_ratio != 1:
            raise ValueError("this baseline needs a model whose output rate equals its input rate")
        if buffer_size % analysis.ratio:
            raise ValueError(f"buffer_size {buffer_size} is not a multiple of the model ratio {analysis.ratio}")
        self.model = model.eval()
        self.ratio = analysis.ratio
        self.buffer_size = buffer_size
        self.receptive_field = analysis.receptive_field
        self.history: Optional[torch.Tensor] = None

    def _check(self, x: torch.Tensor) -> None:
        if x.shape[-1] != self.buffer_size:
            raise ValueError(f"{type(self).__name__} was built for buffers of {self.buffer_size} samples, got {x.shape[-1]}")

    def reset(self) -> None:
        self.history = None


class ContextWindow(_Baseline):
    """Exact but wasteful: each buffer is processed together with the model's whole
    receptive field of past input (and delayed by its look-ahead), and the output is cropped
    to the samples whose receptive field lies entirely inside that window."""

    def __init__(self, model: nn.Module, buffer_size: int):
        super().__init__(model, buffer_size)
        lo, hi = self.receptive_field
        self.delay = max(math.ceil(hi), 0)
        # window start stays on the model's stride grid, so every layer computes what it does offline
        self.context = _round_up(max(math.ceil(-lo), 0) + self.delay, self.ratio)

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        if self.history is None:
            self.history = x.new_zeros(x.shape[0], x.shape[1], self.context)
        window = torch.cat([self.history, x], -1)
        self.history = window[..., window.shape[-1] - self.context:]
        start = self.context - self.delay
        return self.model(window)[..., start:start + x.shape[-1]]


class OverlapAdd(_Baseline):
    """Approximate: each buffer is processed with `overlap` extra past samples, and the
    overlapping outputs of consecutive windows are crossfaded (raised-cosine, gains summing
    to 1). `overlap` is a number of samples, or a fraction of the buffer when below 1; it is
    rounded up to the model ratio. Delay: the overlap."""

    def __init__(self, model: nn.Module, buffer_size: int, overlap: float):
        super().__init__(model, buffer_size)
        samples = int(round(overlap * buffer_size)) if overlap < 1 else int(overlap)
        self.overlap = min(_round_up(max(samples, 1), self.ratio), buffer_size)
        self.delay = self.overlap
        t = (torch.arange(self.overlap, dtype=torch.float64) + 0.5) / self.overlap
        self.fade_in = 0.5 - 0.5 * torch.cos(math.pi * t)
        self.previous_tail: Optional[torch.Tensor] = None

    def reset(self) -> None:
        super().reset()
        self.previous_tail = None

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        o, n = self.overlap, x.shape[-1]
        if self.history is None:
            self.history = x.new_zeros(x.shape[0], x.shape[1], o)
        window = torch.cat([self.history, x], -1)
        self.history = window[..., n:]
        y = self.model(window)
        head, body, tail = y[..., :o], y[..., o:n], y[..., n:]
        if self.previous_tail is None:
            self.previous_tail = torch.zeros_like(tail)
        fade_in = self.fade_in.to(y.dtype)
        mixed = self.previous_tail * (1 - fade_in) + head * fade_in
        self.previous_tail = tail
        return torch.cat([mixed, body], -1)
