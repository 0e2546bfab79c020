"""The seed's autoencoder: three strided convs down, three transposed convs up (ratio 8)."""
from __future__ import annotations

import torch
import torch.nn as nn

from nnplug import streaming as ns


class SeedAutoencoder(nn.Module):
    """1 channel audio -> 16-channel latent at 1/8 of the sample rate -> 1 channel audio."""

    latent_size = 16
    channels = 1

    def __init__(self):
        super().__init__()
        self.encoder = ns.Sequential(
            ns.Conv1d(1, 16, 3, stride=2, padding=1),
            nn.ReLU(),
            ns.Conv1d(16, 16, 3, stride=2, padding=1),
            nn.ReLU(),
            ns.Conv1d(16, 16, 3, stride=2, padding=1),
        )
        self.decoder = ns.Sequential(
            ns.ConvTranspose1d(16, 16, 4, stride=2, padding=1),
            nn.ReLU(),
            ns.ConvTranspose1d(16, 16, 4, stride=2, padding=1),
            nn.ReLU(),
            ns.ConvTranspose1d(16, 1, 4, stride=2, padding=1),
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))
