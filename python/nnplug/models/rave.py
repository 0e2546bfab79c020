"""A RAVE-style variational autoencoder built from `nnplug.streaming` layers.

    audio --PQMF analysis--> M bands --conv encoder (strided, residual dilated stacks)--> mean, scale
          --sample (seeded noise)--> z --decoder (transposed convs, residual stacks)-->
          three parallel heads: waveform, amplitude (sigmoid), noise gain
          bands = waveform * amplitude + noise_gain * seeded uniform noise --PQMF synthesis--> audio

Every piece is a Conv1d / ConvTranspose1d / pointwise op, so `nnplug.streaming.convert`
streams `encode`, `decode` and `forward` exactly. Randomness (latent sampling and the
noise head) comes only from `SeededNoise` layers: `set_randomness(model, enabled=False)`
makes the model deterministic and exactly equal, streamed, to its offline self.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Dict, List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from nnplug import streaming as ns

from .noise import SeededNoise
from .pqmf import PQMF


@dataclass
class RaveConfig:
    sample_rate: int = 44100
    bands: int = 8                        # PQMF bands (first stride)
    taps_per_band: int = 8                # PQMF prototype length = 2 * bands * taps_per_band
    capacity: int = 16                    # channels after the first conv
    strides: Tuple[int, ...] = (2, 2, 2)  # encoder strides after the PQMF (each 2 or a multiple of 2)
    multipliers: Tuple[int, ...] = ()     # channel multiplier per level (len(strides)+1); default 1, 2, 4, ...
    max_channels: int = 1024
    latent_size: int = 16
    dilations: Tuple[int, ...] = (1, 3, 9)
    kernel_size: int = 3
    noise: bool = True                    # the filtered-noise head
    causal: bool = False                  # causal padding everywhere: lower latency, no look-ahead
    seed: int = 0

    @property
    def ratio(self) -> int:
        return self.bands * math.prod(self.strides)

    def channels(self) -> List[int]:
        mult = self.multipliers or tuple(2 ** i for i in range(len(self.strides) + 1))
        if len(mult) != len(self.strides) + 1:
            raise ValueError("multipliers needs one entry per stride plus one")
        return [min(self.capacity * m, self.max_channels) for m in mult]

    def to_dict(self) -> Dict:
        d = asdict(self)
        d["strides"] = list(self.strides)
        d["multipliers"] = list(self.multipliers)
        d["dilations"] = list(self.dilations)
        return d

    @classmethod
    def from_dict(cls, d: Dict) -> "RaveConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown RAVE config keys: {sorted(unknown)} (known: {sorted(known)})")
        d = dict(d)
        for key in ("strides", "multipliers", "dilations"):
            if key in d:
                d[key] = tuple(int(v) for v in d[key])
        return cls(**d)


# tiny: for tests (ratio 8); small: the shipped default (ratio 64);
# v2: RAVE v2 proportions (16 bands x 4*4*4*2 = 2048, capacity 96, latent 128)
SIZES: Dict[str, Dict] = {
    "tiny": dict(bands=2, taps_per_band=4, capacity=4, strides=(2, 2), latent_size=4, dilations=(1, 3)),
    "small": dict(bands=8, taps_per_band=8, capacity=16, strides=(2, 2, 2), latent_size=16, dilations=(1, 3, 9)),
    "v2": dict(bands=16, taps_per_band=8, capacity=96, strides=(4, 4, 4, 2), multipliers=(1, 2, 4, 8, 16),
               max_channels=2048, latent_size=128, dilations=(1, 3, 9)),
}


def config_for(size: str = "small", **overrides) -> RaveConfig:
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}: choose one of {sorted(SIZES)}")
    return RaveConfig.from_dict({**SIZES[size], **overrides})


def _residual_stack(channels: int, kernel: int, dilations: Tuple[int, ...], pad: str) -> nn.Module:
    return ns.Sequential(*[
        ns.Residual(ns.Sequential(
            nn.LeakyReLU(0.2),
            ns.Conv1d(channels, channels, kernel, dilation=d, padding=pad),
            nn.LeakyReLU(0.2),
            ns.Conv1d(channels, channels, 1),
        ))
        for d in dilations
    ])


def _down(cin: int, cout: int, stride: int, pad: str) -> nn.Module:
    return ns.Conv1d(cin, cout, 2 * stride, stride=stride, padding=pad)


def _up(cin: int, cout: int, stride: int) -> nn.Module:
    if stride % 2:
        raise ValueError(f"decoder strides must be even, got {stride}")
    return ns.ConvTranspose1d(cin, cout, 2 * stride, stride=stride, padding=stride // 2)


class RaveModel(nn.Module):
    """encode: (B, 1, T) -> (B, latent, T/ratio); decode: the reverse; forward: both."""

    channels = 1

    def __init__(self, config: RaveConfig | None = None):
        super().__init__()
        self.config = c = config or RaveConfig()
        self.latent_size = c.latent_size
        self.sample_rate = c.sample_rate
        self.ratio = c.ratio
        ch = c.channels()
        k = c.kernel_size
        pad = "causal" if c.causal else "centered"
        self.pqmf = PQMF(c.bands, c.taps_per_band)

        enc: List[nn.Module] = [ns.Conv1d(c.bands, ch[0], 7, padding=pad)]
        for i, s in enumerate(c.strides):
            enc += [_residual_stack(ch[i], k, c.dilations, pad), nn.LeakyReLU(0.2), _down(ch[i], ch[i + 1], s, pad)]
        enc += [nn.LeakyReLU(0.2), ns.Conv1d(ch[-1], 2 * c.latent_size, 3, padding=pad)]
        self.encoder = ns.Sequential(*enc)

        dec: List[nn.Module] = [ns.Conv1d(c.latent_size, ch[-1], 7, padding=pad)]
        for i in reversed(range(len(c.strides))):
            dec += [nn.LeakyReLU(0.2), _up(ch[i + 1], ch[i], c.strides[i]), _residual_stack(ch[i], k, c.dilations, pad)]
        dec += [nn.LeakyReLU(0.2)]
        self.decoder = ns.Sequential(*dec)
        heads = [ns.Conv1d(ch[0], c.bands, 7, padding=pad),   # waveform
                 ns.Conv1d(ch[0], c.bands, 3, padding=pad)]   # amplitude
        if c.noise:
            heads.append(ns.Conv1d(ch[0], c.bands, 3, padding=pad))  # noise gain
        self.heads = ns.Branches(*heads)
        self.latent_noise = SeededNoise(salt=1, kind="normal", seed=c.seed)
        self.band_noise = SeededNoise(salt=2, kind="uniform", seed=c.seed)

    # -- pieces --------------------------------------------------------------------
    def posterior(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """(mean, std) of the latent distribution."""
        mean, scale = self.encoder(self.pqmf.analysis(x)).chunk(2, dim=1)
        std = F.softplus(scale) + 1e-4
        return mean, std

    def sample(self, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
        return mean + std * self.latent_noise(mean)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        mean, std = self.posterior(x)
        return self.sample(mean, std)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        h = self.decoder(z)
        outs = self.heads(h)
        bands = torch.tanh(outs[0]) * torch.sigmoid(outs[1])
        if self.config.noise:
            gain = torch.sigmoid(outs[2] - 5.0)
            bands = bands + gain * self.band_noise(gain)
        return self.pqmf.synthesis(bands)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def kl_divergence(mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, std) || N(0, 1)), summed over latent channels, averaged over the rest."""
    var = std * std
    return 0.5 * (mean * mean + var - torch.log(var) - 1).sum(1).mean()
