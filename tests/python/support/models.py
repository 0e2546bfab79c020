"""Small models for the host tests: a wide one that `export(weights="float16")` stores as
float16, and stochastic ones (unseeded noise, alone or dressed as a RAVE export)."""
from __future__ import annotations

import torch
from torch import nn

from support.paths import SR


def wide_model() -> nn.Module:
    """A small model with two wide layers (a conv of 196 k weights, a transposed conv of 131 k) at
    1/16 of the sample rate: what `export(weights="float16")` stores as float16."""
    from nnplug import streaming as ns
    torch.manual_seed(0)
    return nn.Sequential(
        ns.Conv1d(1, 256, 16, stride=16, padding="centered"), nn.LeakyReLU(0.2),
        ns.Conv1d(256, 256, 3, padding="centered"), nn.LeakyReLU(0.2),
        ns.ConvTranspose1d(256, 128, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        ns.Conv1d(128, 16, 3, stride=2, padding="centered"), nn.LeakyReLU(0.2),
        ns.ConvTranspose1d(16, 1, 16, stride=16)).eval()


class NoisyGain(nn.Module):
    """y = 0.5 x + 0.01 * randn: a stochastic model (unseeded, like RAVE's sampling)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("forward_params", torch.tensor([1, 1, 1, 1]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * x + 0.01 * torch.randn_like(x)

    @torch.jit.export
    def reset(self):
        pass

    @torch.jit.export
    def get_methods(self):
        return ["forward"]


class RaveLike(NoisyGain):
    """The same, dressed as a RAVE v2 export: `sr`, `latent_size`, no nnplug metadata (so no
    stated delay and no determinism claim)."""

    def __init__(self):
        super().__init__()
        self.sr = SR
        self.latent_size = 4
        self.full_latent_size = 4
