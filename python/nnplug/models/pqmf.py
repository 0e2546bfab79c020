"""Pseudo-QMF filter bank: M cosine-modulated bands, critically sampled.

Analysis is a strided Conv1d (1 -> M channels, stride M) and synthesis a strided
ConvTranspose1d (M -> 1), both with fixed weights, so that `nnplug.streaming.convert`
streams them like any other conv. The prototype low-pass is a Kaiser-windowed sinc whose
cut-off is tuned so that the bank nearly reconstructs its input (aliasing and amplitude
distortion below about -50 dB for the default lengths), with zero offline delay.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn

from nnplug import streaming as ns


def prototype_filter(bands: int, taps: int, beta: float = 9.0) -> np.ndarray:
    """Kaiser-window low-pass of `taps` taps, cut-off tuned for near-perfect reconstruction:
    the filter's autocorrelation should vanish at every non-zero multiple of 2*bands."""
    n = np.arange(taps) - (taps - 1) / 2
    window = np.kaiser(taps, beta)
    centre = taps - 1
    lags = [centre + 2 * bands * k for k in range(-(taps // (2 * bands)), taps // (2 * bands) + 1) if k != 0]
    lags = [lag for lag in lags if 0 <= lag < 2 * taps - 1]

    def design(cutoff: float) -> np.ndarray:
        h = cutoff / math.pi * np.sinc(cutoff / math.pi * n) * window
        return h

    def cost(cutoff: float) -> float:
        h = design(cutoff)
        phi = np.convolve(h, h[::-1])
        return float(np.max(np.abs(phi[lags])) / phi[centre]) if lags else 0.0

    lo, hi = 0.5 * math.pi / (2 * bands), 1.5 * math.pi / (2 * bands)
    grid = np.linspace(lo, hi, 200)
    best = grid[int(np.argmin([cost(c) for c in grid]))]
    step = grid[1] - grid[0]
    a, b = best - step, best + step  # golden-section refinement around the best grid point
    g = (math.sqrt(5) - 1) / 2
    while b - a > 1e-12:
        c, d = b - g * (b - a), a + g * (b - a)
        if cost(c) < cost(d):
            b = d
        else:
            a = c
    best = (a + b) / 2
    h = design(best)
    return h / math.sqrt(np.sum(h ** 2) * 2 * bands)  # unit-gain bank


def filter_bank(bands: int, taps: int) -> tuple[np.ndarray, np.ndarray]:
    """(analysis, synthesis) impulse responses, each (bands, taps)."""
    h = prototype_filter(bands, taps)
    n = np.arange(taps) - (taps - 1) / 2
    k = np.arange(bands)[:, None]
    phase = (-1.0) ** k * math.pi / 4
    arg = (2 * k + 1) * math.pi / (2 * bands) * n[None, :]
    analysis = 2 * h[None, :] * np.cos(arg + phase)
    synthesis = 2 * h[None, :] * np.cos(arg - phase)
    return analysis, synthesis


class PQMF(nn.Module):
    """`analysis(x)`: (B, 1, T) -> (B, M, T/M); `synthesis(z)`: (B, M, T/M) -> (B, 1, T).

    taps = 2 * M * taps_per_band. The analysis conv is offset and the synthesis kernel is
    front-padded with M + 2 zeros so that synthesis(analysis(x)) ~= x with no shift.
    """

    def __init__(self, bands: int, taps_per_band: int = 8):
        super().__init__()
        if bands < 2 or bands & (bands - 1):
            raise ValueError("PQMF needs a power-of-two number of bands >= 2")
        self.bands = m = bands
        k = taps_per_band
        n = 2 * m * k
        analysis, synthesis = filter_bank(m, n)
        left = m * k - m - 1
        right = n - m - left
        self.analysis_conv = ns.Conv1d(1, m, n, stride=m, padding=(left, right), bias=False)
        self.analysis_conv.weight.data.copy_(torch.from_numpy(analysis[:, None, ::-1].copy()))
        extra = m + 2
        self.synthesis_conv = ns.ConvTranspose1d(m, 1, n + extra, stride=m, padding=(n + extra - m) // 2, bias=False)
        weight = np.concatenate([np.zeros((m, extra)), synthesis * m], axis=1)
        self.synthesis_conv.weight.data.copy_(torch.from_numpy(weight[:, None, :]))
        for p in self.parameters():
            p.requires_grad_(False)

    def analysis(self, x: torch.Tensor) -> torch.Tensor:
        return self.analysis_conv(x)

    def synthesis(self, z: torch.Tensor) -> torch.Tensor:
        return self.synthesis_conv(z)
