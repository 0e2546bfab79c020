"""Reproducible noise inside the model: a counter-based hash PRNG written with integer
tensor ops, so that TorchScript run from Python or from C++ (the plugin) produces the
same bits for the same stream.

Every output element is a hash of (seed, salt, batch index, channel, absolute sample
position); the position counter advances with the stream and `reset()` rewinds it to 0.
So a stream restarted with `reset()` repeats itself exactly, and two fresh loads of an
exported model agree bit for bit. All intermediate values stay below 2**60, so no int64
multiplication ever overflows (no platform-dependent wrap-around).
"""
from __future__ import annotations

import copy

import torch
import torch.nn as nn

from nnplug import streaming as ns

_MASK = 0xFFFFFFFF  # TorchScript code below spells these constants out: it cannot read globals
# multiplier 0x045D9F3B < 2**27, so x (< 2**32) * multiplier < 2**59


def _mix(x: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer avalanche hash on int64 tensors holding values in [0, 2**32)."""
    x = ((x >> 16) ^ x) * 0x045D9F3B & 0xFFFFFFFF
    x = ((x >> 16) ^ x) * 0x045D9F3B & 0xFFFFFFFF
    return (x >> 16) ^ x


class SeededNoise(ns.StreamingLeaf):
    """Returns noise shaped like its input (the input's values are ignored).

    kind = "uniform": uniform in (-1, 1); kind = "normal": standard normal (Box-Muller).
    `enabled = False` returns zeros: the model becomes noise-free and time-locked.
    """

    time_locked = False

    def __init__(self, salt: int, kind: str = "uniform", seed: int = 0):
        super().__init__()
        if kind not in ("uniform", "normal"):
            raise ValueError(f"unknown noise kind {kind!r}")
        self.salt = int(salt) & _MASK
        self.seed = int(seed) & _MASK
        self.normal = kind == "normal"
        self.enabled = True
        self.position = 0
        self.keys = torch.zeros(0, dtype=torch.int64)       # made on a stream's first call

    def _keys(self, b: int, c: int, device: torch.device) -> torch.Tensor:
        """(2, b, c, 1): the key of every (stream, batch, channel). They depend on the shape alone,
        so they are made on a stream's first call and kept: some 40 integer ops fewer per call."""
        keys = self.keys
        if keys.dim() != 4 or keys.size(1) != b or keys.size(2) != c or keys.device != device:
            stream = torch.arange(2, dtype=torch.int64, device=device).view(2, 1, 1, 1)
            chan = torch.arange(c, dtype=torch.int64, device=device).view(c, 1)
            bat = torch.arange(b, dtype=torch.int64, device=device).view(b, 1, 1)
            # distinct (channel, stream) -> distinct keys: _mix is a bijection on 32-bit values
            keys = _mix(_mix(_mix(chan * 2 + stream) ^ self.seed) ^ self.salt)
            keys = _mix((keys + bat * 0x9E3779B) & 0xFFFFFFFF)    # (2, b, c, 1)
            self.keys = keys
        return keys

    def _bits(self, x: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        pos = (torch.arange(x.size(2), dtype=torch.int64, device=x.device) + self.position) & 0xFFFFFFFF
        return _mix(_mix(pos ^ key) ^ self.salt)                 # (b, c, t)

    def _unit(self, bits: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        # 24 high bits -> (0, 1), never exactly 0 or 1
        return ((bits >> 8).to(dtype) + 0.5) * (1.0 / 16777216.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.enabled:
            return torch.zeros_like(x)
        keys = self._keys(x.size(0), x.size(1), x.device)
        u1 = self._unit(self._bits(x, keys[0]), x.dtype)
        if self.normal:
            u2 = self._unit(self._bits(x, keys[1]), x.dtype)
            out = torch.sqrt(-2.0 * torch.log(u1)) * torch.cos(6.283185307179586 * u2)
        else:
            out = 2.0 * u1 - 1.0
        self.position = (self.position + x.size(2)) & 0xFFFFFFFF
        return out

    @torch.jit.export
    def reset(self):
        self.position = 0
        self.keys = torch.zeros(0, dtype=torch.int64)

    def streaming_copy(self) -> nn.Module:
        copied = copy.deepcopy(self)
        copied.reset()
        return copied

    def extra_repr(self) -> str:
        return f"salt={self.salt}, seed={self.seed}, normal={self.normal}, enabled={self.enabled}"


def set_randomness(model: nn.Module, enabled: bool | None = None, seed: int | None = None) -> int:
    """Switch every SeededNoise in `model` on/off and/or reseed it; returns how many there are."""
    count = 0
    for m in model.modules():
        if isinstance(m, SeededNoise):
            count += 1
            if enabled is not None:
                m.enabled = bool(enabled)
            if seed is not None:
                m.seed = int(seed) & _MASK
            m.reset()
    return count
