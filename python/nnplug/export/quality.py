"""How far a file with rounded weights plays from the float32 model: relative RMS, largest
error and a multi-resolution STFT distance, on export's own test signal. Recorded in the
metadata (`precision_error`) and shown by `nnplug inspect`."""
from __future__ import annotations

import io
from typing import Dict, Sequence

import torch
import torch.nn as nn

from nnplug.export.methods import MethodInfo
from nnplug.export.randomness import without_noise
from nnplug.streaming.check import interior_margins

STFT_SIZES = (2048, 1024, 512)


def relative_rms(got: torch.Tensor, ref: torch.Tensor) -> float:
    return float((got - ref).pow(2).mean().sqrt() / ref.pow(2).mean().sqrt().clamp_min(1e-12))


def stft_distance(got: torch.Tensor, ref: torch.Tensor, sizes: Sequence[int] = STFT_SIZES) -> float:
    """Multi-resolution STFT distance (Yamamoto et al. 2020, as in Parallel WaveGAN and auraloss):
    mean over FFT sizes (Hann window, hop size/4) of the spectral convergence
    ||S_ref| - |S||_F / ||S_ref||_F plus the mean |log |S_ref| - log |S||, magnitudes floored at
    1e-7. 0 for equal signals; a float32 model against itself rounds to ~1e-6."""
    a, b = ref.reshape(-1, ref.size(-1)).double(), got.reshape(-1, got.size(-1)).double()
    total = 0.0
    for n in sizes:
        window = torch.hann_window(n, dtype=torch.float64)
        sa, sb = (torch.stft(s, n, n // 4, window=window, return_complex=True).abs() for s in (a, b))
        convergence = (sa - sb).norm() / sa.norm().clamp_min(1e-30)
        log_mag = (sa.clamp_min(1e-7).log() - sb.clamp_min(1e-7).log()).abs().mean()
        total += float(convergence + log_mag)
    return total / len(sizes)


def aligned(offline: torch.Tensor, streamed: torch.Tensor, info: MethodInfo) -> tuple:
    """(offline, streamed) cut to the interior samples that must agree, the stream shifted by the delay."""
    left, right = interior_margins(info.receptive_field, info.in_ratio / info.out_ratio)
    length = min(offline.size(-1), streamed.size(-1) - info.delay)
    return (offline[..., left:length - right],
            streamed[..., left + info.delay:length - right + info.delay])


def precision_error(original: nn.Module, rounded: nn.Module, scripted: torch.jit.ScriptModule,
                    name: str, info: MethodInfo, x: torch.Tensor, buffer: int,
                    compare_buffer: int = 0) -> Dict:
    """The error of the file against the float32 model on method `name`: the file streamed in
    buffers of `buffer` audio samples (randomness off) against the float32 offline output shifted
    by the delay. Runs an in-memory copy of `scripted`, so that the module to be saved never
    packs its weights. `compare_buffer` > 0 (int8): also the relative RMS between the streams at
    `buffer` and at `compare_buffer`, what the per-call activation scales make of the buffer size."""
    from nnplug.export.checks import run_stream
    from nnplug.export.randomness import set_loaded_randomness

    saved = io.BytesIO()
    torch.jit.save(scripted, saved)
    saved.seek(0)
    copy = torch.jit.load(saved)
    set_loaded_randomness(copy, False)
    step = max(buffer // info.in_ratio, 1)
    streamed = run_stream(copy, name, x, [step])
    with torch.no_grad():
        ref = getattr(without_noise(original), name)(x)
        weights_only = getattr(without_noise(rounded), name)(x)
    ref_cut, got = aligned(ref, streamed, info)
    result = {"method": name, "buffer": int(buffer), "relative_rms": relative_rms(got, ref_cut),
              "max_abs": float((got - ref_cut).abs().max()), "peak": float(ref_cut.abs().max()),
              "stft_distance": stft_distance(got, ref_cut),
              "weights_only_relative_rms": relative_rms(weights_only, ref)}
    if compare_buffer:
        other = run_stream(copy, name, x, [max(compare_buffer // info.in_ratio, 1)])
        _, other_cut = aligned(ref, other, info)
        result["buffer_dependence"] = {"buffers": [int(buffer), int(compare_buffer)],
                                       "relative_rms": relative_rms(other_cut, got)}
    return result
