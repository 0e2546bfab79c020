"""Seeded noise layers (nnplug.models.SeededNoise): switched off to compare streaming with
offline bit for bit, on (seeded) in the exported file when asked."""
from __future__ import annotations

import copy

import torch
import torch.nn as nn


def noise_layers(module: nn.Module) -> list:
    from nnplug.models.noise import SeededNoise
    return [m for m in module.modules() if isinstance(m, SeededNoise)]


def without_noise(model: nn.Module) -> nn.Module:
    """A copy of `model` in eval mode with its noise layers off (the model itself is untouched)."""
    quiet = copy.deepcopy(model).eval()
    for m in noise_layers(quiet):
        m.enabled = False
    return quiet


def set_loaded_randomness(loaded: torch.jit.ScriptModule, enabled: bool) -> int:
    """Switch the seeded noise layers of a *loaded* file on or off (validation only)."""
    count = 0
    for _, m in loaded.named_modules():
        if getattr(m, "original_name", "") == "SeededNoise":
            setattr(m, "enabled", bool(enabled))
            count += 1
    return count
