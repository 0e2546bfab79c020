"""The model run in Python the way the plugin runs it.

It mirrors the plugin's engine (plugin/src/Engine.cpp, ModelHost.cpp) exactly: a fresh
`torch.jit.load` of the same file, one silent buffer then `reset()` (as the plugin's prepare
does), called as the plugin calls it (`nnplug.runtime.plugin_execution`: one intra-op thread,
inference mode, TorchScript's graph optimizer off), buffers of exactly the plugin's model
buffer size N, encode -> decode when the model has both (and they fit), forward otherwise,
and a mono model on the stereo bus run per channel as a batch of two streams (or once on the
float32 downmix (L + R) / 2, by the `mono_mode` parameter).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from nnplug import contract
from nnplug.contract import Contract
from nnplug.runtime import plugin_execution

from .plan import ValidationError


def reference(facts: Contract, x: np.ndarray, n: int, mono_mode: str = "Per channel",
              total: Optional[int] = None) -> np.ndarray:
    """The model run in Python the way the plugin runs it, on host channels x (H, T).
    Returns (H, total) float32 (total >= T, input zero-padded), with no buffering delay."""
    import torch
    H, T = x.shape
    total = max(T, int(total or T))
    padded = -(-total // n) * n
    xp = np.zeros((H, padded), np.float32)
    xp[:, :T] = x
    ci, co = facts.in_channels, facts.out_channels
    per_channel = ci == 1 and H > 1 and mono_mode == "Per channel"
    if per_channel:
        lanes = xp[:, None, :]                                     # (H, 1, T): batch of H streams
    elif ci == 1 and H > 1:
        s = np.zeros(padded, np.float32)
        for ch in range(H):
            s = (s + xp[ch]).astype(np.float32)
        lanes = (s / np.float32(H)).astype(np.float32)[None, None, :]
    else:
        lanes = np.stack([xp[c % H] for c in range(ci)])[None]
    batch = lanes.shape[0]

    m, _ = contract.load(facts.path)

    def run(inp):
        if facts.latent_path:
            return m.decode(m.encode(inp))
        return m.forward(inp)

    with plugin_execution():
        run(torch.zeros(batch, ci, n))          # the plugin's prepare(): one silent buffer,
        if hasattr(m, "reset"):
            m.reset()                           # then a fresh stream
        src = torch.from_numpy(np.ascontiguousarray(lanes))
        outs = []
        for i in range(0, padded, n):
            y = run(src[..., i:i + n].contiguous())
            if tuple(y.shape) != (batch, co, n):
                raise ValidationError(f"model returned shape {tuple(y.shape)}, expected {(batch, co, n)}")
            outs.append(y.contiguous().numpy().copy())
    out = np.concatenate(outs, axis=-1)             # (batch, co, padded)
    wet = np.zeros((H, padded), np.float32)
    for ch in range(H):
        if batch > 1:
            wet[ch] = out[ch, 0]
        elif co >= H and not (co > H and H == 1):
            wet[ch] = out[0, ch]
        elif co == 1:
            wet[ch] = out[0, 0]
        else:
            s = np.zeros(padded, np.float32)
            for c in range(co):
                s = (s + out[0, c]).astype(np.float32)
            wet[ch] = s / np.float32(co)
    return wet[:, :total]



def gain(db: float) -> np.float32:
    """juce::Decibels::decibelsToGain in float: powf(10, dB * 0.05f)."""
    return np.float32(np.power(np.float32(10.0), np.float32(db) * np.float32(0.05)))

