"""The model run in Python the way the plugin runs it.

It mirrors the plugin's engine (plugin/src/Engine.cpp, ModelRunner.cpp) exactly, through
`nnplug.player` (the file loaded afresh, its buffers restored before the stream, seeded like
the plugin's when a seed is given, called as the plugin calls it: one intra-op thread, inference
mode, TorchScript's graph optimizer off, buffers of exactly the plugin's model buffer size N,
the played path of the contract) and the contract's lane mapping (plugin/src/LaneMap.h: a mono
model on the stereo bus run per channel as a batch of two streams, or once on the float32
downmix (L + R) / 2, by the `mono_mode` parameter).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from nnplug import contract
from nnplug.contract import Contract
from nnplug.player import ModelPlayer


def reference(facts: Contract, x: np.ndarray, n: int, mono_mode: str = "Per channel",
              total: Optional[int] = None, sample_rate: Optional[float] = None,
              seed: Optional[int] = None) -> np.ndarray:
    """The model run in Python the way the plugin runs it, on host channels x (H, T), from a
    fresh stream (drawing from torch's generator seeded with `seed`, if given).
    Returns (H, total) float32 (total >= T, input zero-padded), with no buffering delay."""
    import torch
    h, t = x.shape
    total = max(t, int(total or t))
    padded = -(-total // n) * n
    xp = np.zeros((h, padded), np.float32)
    xp[:, :t] = x
    player = ModelPlayer(facts.path, facts)
    player.prepare(sample_rate or facts.sample_rate or 44100.0, n)
    lanes = torch.from_numpy(contract.to_lanes(xp, facts.in_channels, facts.mono_mode(mono_mode)))
    out = player.stream(lanes, n, seed).numpy()
    return contract.to_host(out, h)[:, :total]


def gain(db: float) -> np.float32:
    """juce::Decibels::decibelsToGain in float: powf(10, dB * 0.05f)."""
    return np.float32(np.power(np.float32(10.0), np.float32(db) * np.float32(0.05)))

