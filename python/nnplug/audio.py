"""WAV in and out (scipy.io.wavfile): float32 arrays shaped (channels, samples)."""
from __future__ import annotations

from pathlib import Path
from typing import Tuple, Union

import numpy as np


def read_wav(path: Union[str, Path]) -> Tuple[np.ndarray, int]:
    """(audio as float32 (channels, samples) in [-1, 1], sample rate). 8/16/24/32-bit PCM or float."""
    from scipy.io import wavfile
    try:
        sr, data = wavfile.read(str(path))
    except FileNotFoundError:
        raise
    except Exception as e:  # noqa: BLE001 - scipy raises ValueError and others for bad files
        raise ValueError(f"{path}: not a readable WAV file ({e})") from e
    data = np.asarray(data)
    if data.dtype == np.uint8:
        x = (data.astype(np.float32) - 128.0) / 128.0
    elif data.dtype == np.int16:
        x = data.astype(np.float32) / 32768.0
    elif data.dtype == np.int32:
        x = (data.astype(np.float64) / 2147483648.0).astype(np.float32)
    elif data.dtype.kind == "f":
        x = data.astype(np.float32)
    else:
        raise ValueError(f"{path}: unsupported WAV sample type {data.dtype}")
    x = x.reshape(len(x), -1).T if x.ndim == 1 else x.T
    return np.ascontiguousarray(x), int(sr)


def write_wav(path: Union[str, Path], x: np.ndarray, sample_rate: int) -> None:
    """32-bit float WAV: keeps every bit the plugin produced."""
    from scipy.io import wavfile
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[None]
    wavfile.write(str(path), int(sample_rate), np.ascontiguousarray(x.T))


def to_stereo(x: np.ndarray, what: str = "input") -> np.ndarray:
    """The plugin's main bus is stereo: mono is duplicated, more than two channels refused."""
    if x.shape[0] == 1:
        return np.ascontiguousarray(np.repeat(x, 2, axis=0))
    if x.shape[0] != 2:
        raise ValueError(f"{what} has {x.shape[0]} channels; the plugin takes mono or stereo")
    return x


def resample(x: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    if sr_from == sr_to:
        return x
    from math import gcd

    from scipy.signal import resample_poly
    g = gcd(int(sr_from), int(sr_to))
    return resample_poly(x, sr_to // g, sr_from // g, axis=-1).astype(np.float32)
