"""The test signals: made in code (a suite of short ones, ten seconds of music) or read from WAV."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np

from .plan import LONG_BLOCKS, SR, ValidationError


@dataclass
class Signal:
    name: str
    audio: np.ndarray                                   # (2, T) float32
    segments: List[Tuple[str, int, int]]                # (name, start, end) for reports
    blocks: Optional[Sequence[Any]] = None              # None: every block size


def suite(sr: int = SR) -> Signal:
    """Short signals made in code, one after another with silence between them (about 2 s):
    impulses, an exponential sine sweep, noise bursts, silence, a full-scale square wave.
    The right channel differs from the left so that the two streams are told apart."""
    rng = np.random.default_rng(1234)
    parts: List[Tuple[str, np.ndarray]] = []

    def seconds(s):
        return int(round(s * sr))

    parts.append(("silence (lead)", np.zeros((2, seconds(0.05)))))
    imp = np.zeros((2, seconds(0.3)))
    for i, (pos, amp) in enumerate([(0.01, 1.0), (0.083, -0.5), (0.151, 0.25), (0.2003, 1.0)]):
        imp[0, seconds(pos)] = amp
        imp[1, seconds(pos) + 37 * (i + 1)] = -amp
    parts.append(("impulses", imp))
    t = np.arange(seconds(0.6)) / sr
    f0, f1, dur = 20.0, min(20000.0, 0.45 * sr), 0.6
    phase = 2 * np.pi * f0 * dur / math.log(f1 / f0) * (np.exp(t / dur * math.log(f1 / f0)) - 1)
    parts.append(("sine sweep", 0.5 * np.stack([np.sin(phase), np.cos(phase)])))
    bursts = np.zeros((2, seconds(0.3)))
    for k in range(3):
        s0 = seconds(0.1 * k)
        bursts[:, s0:s0 + seconds(0.05)] = 0.3 * rng.standard_normal((2, seconds(0.05)))
    parts.append(("noise bursts", bursts))
    parts.append(("silence", np.zeros((2, seconds(0.25)))))
    t = np.arange(seconds(0.3)) / sr
    sq = np.where(np.sin(2 * np.pi * 110 * t) >= 0, 1.0, -1.0)
    parts.append(("full-scale square", np.stack([sq, -sq])))
    parts.append(("silence (tail)", np.zeros((2, seconds(0.2)))))
    segs, pos = [], 0
    for name, a in parts:
        segs.append((name, pos, pos + a.shape[1]))
        pos += a.shape[1]
    audio = np.concatenate([a for _, a in parts], axis=1).astype(np.float32)
    return Signal("suite", audio, segs)


def musical(sr: int = SR, seconds: float = 10.0) -> Signal:
    """Ten seconds of music made in code: a chord progression of harmonic tones with
    envelopes, a bass line and noise hi-hats, panned across the two channels."""
    rng = np.random.default_rng(7)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    out = np.zeros((2, n))
    chords = [(57, 60, 64), (53, 57, 60), (48, 52, 55), (55, 59, 62)]
    beat = 0.5
    for i in range(int(seconds / beat)):
        s0, s1 = int(i * beat * sr), int(min(n, (i + 1) * beat * sr))
        tt = t[s0:s1] - t[s0]
        env = np.minimum(1.0, tt / 0.01) * np.exp(-3.0 * tt)
        for j, note in enumerate(chords[(i // 4) % 4]):
            f = 440.0 * 2 ** ((note - 69) / 12)
            tone = sum(np.sin(2 * np.pi * f * h * tt) / h ** 1.5 for h in range(1, 6))
            pan = 0.3 + 0.2 * j
            out[0, s0:s1] += 0.12 * (1 - pan) * env * tone
            out[1, s0:s1] += 0.12 * pan * env * tone
        bass = 440.0 * 2 ** ((chords[(i // 4) % 4][0] - 12 - 69) / 12)
        out[:, s0:s1] += 0.15 * env * np.sin(2 * np.pi * bass * tt)
        hh = rng.standard_normal(s1 - s0) * np.exp(-60.0 * tt) * 0.08
        out[0, s0:s1] += hh
        out[1, s0:s1] += 0.7 * hh
    audio = np.clip(out, -1.0, 1.0).astype(np.float32)
    return Signal("music10s", audio, [("music", 0, n)], blocks=LONG_BLOCKS)


def wav_signal(path: Union[str, Path], sr: int) -> Signal:
    from nnplug.audio import read_wav, to_stereo
    try:
        x, rate = read_wav(path)
    except (FileNotFoundError, ValueError) as e:
        raise ValidationError(str(e)) from e
    if rate != sr:
        raise ValidationError(f"{path}: sample rate {rate} Hz; validate runs at {sr} Hz (--sample-rate)")
    try:
        x = to_stereo(x, str(path))
    except ValueError as e:
        raise ValidationError(str(e)) from e
    return Signal(Path(path).name, x, [(Path(path).name, 0, x.shape[1])])

