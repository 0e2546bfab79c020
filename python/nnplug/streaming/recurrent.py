"""Recurrent layers in a stream: an LSTM, GRU or RNN run on consecutive buffers gives what it
gives on the whole signal when it starts each buffer from the state the previous one ended in.

The layer's input may arrive `delay` samples late (the non-causal layers before it look
ahead). Those first samples of a stream come before the offline signal starts, so the layer
skips them (its state stays at zero, the offline initial state, and they come out as zeros),
and from then on it sees exactly what offline processing sees. The outputs keep the module's
own structure, (output, state), so the traced graph around it is unchanged.
"""

import copy
from typing import Final, Tuple

import torch
import torch.nn as nn

RECURRENT_MODULES = (nn.LSTM, nn.GRU, nn.RNN)


def _empty() -> torch.Tensor:
    return torch.zeros(0)


class _Skip(nn.Module):
    """The part both layer kinds share: which time axis, how many samples to skip, and how
    big an output step is."""

    skip: Final[int]
    time_dim: Final[int]
    out_size: Final[int]

    def __init__(self, rnn: nn.Module, skip: int):
        super().__init__()
        self.rnn = copy.deepcopy(rnn)
        self.skip = int(skip)
        self.time_dim = 1 if rnn.batch_first else 0
        self.out_size = int(getattr(rnn, "proj_size", 0) or rnn.hidden_size)
        self.to_skip = int(skip)

    def _split(self, x: torch.Tensor) -> Tuple[int, torch.Tensor]:
        n = min(self.to_skip, x.size(self.time_dim))
        self.to_skip -= n
        return n, x.narrow(self.time_dim, n, x.size(self.time_dim) - n)

    def _with_zeros(self, n: int, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if n == 0:
            return y
        shape = [x.size(0), x.size(1), self.out_size]
        shape[self.time_dim] = n
        return torch.cat([torch.zeros(shape, dtype=x.dtype, device=x.device), y], self.time_dim)

    def _zeros_out(self, x: torch.Tensor) -> torch.Tensor:
        shape = [x.size(0), x.size(1), self.out_size]
        shape[self.time_dim] = 0
        return torch.zeros(shape, dtype=x.dtype, device=x.device)


class CachedLSTM(_Skip):
    """nn.LSTM carrying (h, c) from buffer to buffer."""

    def __init__(self, rnn: nn.LSTM, skip: int):
        super().__init__(rnn, skip)
        self.h = _empty()
        self.c = _empty()

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        n, rest = self._split(x)
        if rest.size(self.time_dim) == 0:
            y = self._zeros_out(x)
        elif self.h.dim() == 1:
            y, (h, c) = self.rnn(rest)
            self.h, self.c = h, c
        else:
            y, (h, c) = self.rnn(rest, (self.h, self.c))
            self.h, self.c = h, c
        return self._with_zeros(n, x, y), (self.h, self.c)

    @torch.jit.export
    def reset(self):
        self.h = _empty()
        self.c = _empty()
        self.to_skip = self.skip


class CachedGRU(_Skip):
    """nn.GRU (or nn.RNN) carrying h from buffer to buffer."""

    def __init__(self, rnn: nn.Module, skip: int):
        super().__init__(rnn, skip)
        self.h = _empty()

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        n, rest = self._split(x)
        if rest.size(self.time_dim) == 0:
            y = self._zeros_out(x)
        elif self.h.dim() == 1:
            y, h = self.rnn(rest)
            self.h = h
        else:
            y, h = self.rnn(rest, self.h)
            self.h = h
        return self._with_zeros(n, x, y), self.h

    @torch.jit.export
    def reset(self):
        self.h = _empty()
        self.to_skip = self.skip


def cached_recurrent(rnn: nn.Module, skip: int) -> nn.Module:
    """The streaming counterpart of `rnn`, skipping the first `skip` samples of a stream."""
    return CachedLSTM(rnn, skip) if isinstance(rnn, nn.LSTM) else CachedGRU(rnn, skip)
