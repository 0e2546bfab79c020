"""One render against the reference: alignment, bit identity, latency; a settings render
against its analytic result; what the plugin's status says it played against the contract.

Alignment: the plugin's output for input sample t comes out at t + latency, where latency =
buffering + model delay, and the model delay is already inside the reference's output.
A host that compensates latency (pedalboard) removes `reported` samples; DawDreamer does
not. So the expected host output is  expected[t] = reference[t + c - reported + delay],
c = reported or 0 (zeros before the reference starts). The lag actually found between the
host output and the reference (cross-correlation, confirmed sample by sample) gives the
measured latency, which must equal the reported one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import numpy as np

from nnplug.contract import Contract
from nnplug.hosts import Host

from .plan import EPS32, SETTINGS_ULPS
from .reference import gain
from .signals import Signal


def shifted(a: np.ndarray, k: int, length: int) -> np.ndarray:
    """out[:, t] = a[:, t + k] for 0 <= t + k < a.shape[1], zeros elsewhere; `length` samples."""
    out = np.zeros((a.shape[0], length), np.float32)
    lo, hi = max(0, -k), min(length, a.shape[1] - k)
    if hi > lo:
        out[:, lo:hi] = a[:, lo + k:hi + k]
    return out


def measure_shift(y: np.ndarray, ref: np.ndarray, window: int, period: int = 0) -> Optional[int]:
    """k such that y[:, t] == ref[:, t + k] best (|k| <= window); None when y or ref is silent.

    Cross-correlates the first differences (a DC offset, common in untrained models, would
    otherwise dominate), then confirms the strongest candidates sample by sample. `period` > 0
    (the model buffer N): also confirm each candidate moved by multiples of it, since an output
    with a component at the call rate (int8 files quantize each call's input with its own scale)
    correlates as well at those lags."""
    from scipy.signal import correlate, correlation_lags
    a, b = np.diff(ref.astype(np.float64).sum(0)), np.diff(y.astype(np.float64).sum(0))
    if not np.any(a) or not np.any(b):
        return None
    corr = correlate(a, b, mode="full", method="fft")
    lags = correlation_lags(len(a), len(b), mode="full")
    keep = np.abs(lags) <= window
    corr, lags = np.abs(corr[keep]), lags[keep]
    if corr.size == 0 or corr.max() == 0:
        return None
    best, best_err = None, math.inf
    top = [int(lags[i]) for i in np.argsort(corr)[::-1][:20]]
    if period > 0:
        top = sorted({k + j * period for k in top for j in range(-(window // period) - 1, window // period + 2)
                      if abs(k + j * period) <= window})
    for k in top:
        err = float(np.mean(np.abs(y - shifted(ref, k, y.shape[1]))))
        if err < best_err:
            best, best_err = k, err
    return best



@dataclass
class Row:
    host: str
    mode: str
    block: str                       # "512" or "changing"
    signal: str
    samples: int
    model_buffer: int
    equal: Optional[bool]            # None when bit-identity is not claimable (stochastic model)
    max_abs_diff: float
    first_diff: Optional[Dict[str, Any]]
    latency_reported: int
    latency_measured: Optional[int]
    length_ok: bool
    rtf: float                       # render wall time / audio duration
    ok: bool
    notes: List[str] = field(default_factory=list)
    model_delay: int = 0             # the model delay the alignment used


def first_difference(y: np.ndarray, e: np.ndarray, segments=()) -> Optional[Dict[str, Any]]:
    n = min(y.shape[1], e.shape[1])
    bad = np.nonzero(~((y[:, :n] == e[:, :n]) | (np.isnan(y[:, :n]) & np.isnan(e[:, :n]))))
    if bad[0].size == 0:
        if y.shape != e.shape:
            return {"sample": n, "channel": 0, "what": f"length {y.shape[1]} != expected {e.shape[1]}"}
        return None
    i = int(np.argmin(bad[1]))
    ch, s = int(bad[0][i]), int(bad[1][i])
    seg = next((name for name, a, b in segments if a <= s < b), None)
    return {"sample": s, "channel": ch, "plugin": float(y[ch, s]), "expected": float(e[ch, s]),
            "segment": seg}


def compare(host: Host, mode: str, block, signal: Signal, y: np.ndarray, ref: np.ndarray, facts: Contract,
            n: int, reported: int, seconds: float, deterministic: bool) -> Row:
    T = signal.audio.shape[1]
    changing = not isinstance(block, (int, np.integer))
    c = reported if host.compensates_latency else 0
    want_len = T
    window = reported + 2 * n + 64
    ks = measure_shift(y, ref, window, period=n)
    notes: List[str] = []
    if facts.delay_known:
        D = facts.delay
    else:
        # The file states no delay (RAVE exports): the plugin measures one at load. Take the one
        # its output shows; the latency can then only be checked for plausibility.
        D = max(0, ks - c + reported) if ks is not None else 0
        notes.append(f"model delay unknown to the file: {D} as the plugin's output shows it; latency "
                     "checked for plausibility only")
    k = c - reported + D
    expected = shifted(ref, k, max(0, want_len))
    length_ok = y.shape[1] == want_len and y.shape[0] == ref.shape[0]
    m = min(y.shape[1], expected.shape[1])
    diff = np.abs(y[:, :m].astype(np.float64) - expected[:, :m])
    max_diff = float(np.nanmax(diff)) if diff.size else 0.0
    if not np.all(np.isfinite(y)):
        max_diff = math.inf
    # An unseeded stochastic output correlates with one reference draw too weakly to place it:
    # the latency is then the status's (its model delay checked against the contract's).
    measured = None if (ks is None or not facts.delay_known or not deterministic) else c + D - ks
    if deterministic:
        equal = bool(length_ok and np.array_equal(y, expected))
        fd = None if equal else first_difference(y, expected, signal.segments)
        lat_ok = measured is None or measured == reported
        if ks is None:
            notes.append("latency not measurable on this signal (silent)")
        ok = equal and lat_ok
    else:
        equal, fd = None, None
        finite = bool(np.all(np.isfinite(y)))
        silent = not np.any(y) and np.any(ref)
        lat_ok = measured is None or measured == reported
        ok = finite and not silent and length_ok and lat_ok
        notes.append("stochastic model: bit-identity not claimable without a seed; checked finite, not silent, "
                     "length, and the latency the plugin's status gives")
        if not finite:
            notes.append("output has NaN/Inf")
        if silent:
            notes.append("output is silent")
    # The plugin really runs this model: its buffering (reported - model delay) lies between
    # N - gcd(N, B) (synchronous, fixed block) and 2N - 1 (worker thread, any block). A plugin
    # that failed to load the model reports 0 and passes the dry signal through.
    buffering = reported - D
    lo = n - math.gcd(n, int(block)) if not changing else n - 1
    if not (lo <= buffering <= 2 * n - 1):
        ok = False
        notes.append(f"reported latency {reported} = model delay {D} + buffering {buffering}, outside "
                     f"[{lo}, {2 * n - 1}] for N = {n}: did the plugin load the model?")
    if not length_ok:
        notes.append(f"length {y.shape[1]}, expected {want_len}")
    if measured is not None and measured != reported:
        notes.append(f"measured latency {measured} != reported {reported}")
    return Row(host.name, mode, "changing" if changing else str(int(block)), signal.name, T, n, equal, max_diff,
               fd, reported, measured, length_ok, seconds / (T / host.sample_rate), ok, notes, D)


@dataclass
class SettingRow:
    host: str
    block: str
    setting: str
    max_abs_diff: float
    tolerance: float
    ok: bool


def played_problems(status, facts: Contract, choice, reported: int) -> List[str]:
    """What the plugin's status (hosts.status.PluginStatus) says it played, against the
    contract: the model loaded and playing, its buffer N the contract's for the buffer-size
    choice, the latency the host read, and (when the status carries them) the audio path and
    the model delay. An empty list: all agree."""
    from nnplug import contract
    if not status.ok:
        return [f"the plugin is not playing the model (status: {status.message or 'not loaded'})"]
    out = []
    want_n = contract.buffer_size(choice, facts.ratio)
    if status.buffer_size != want_n:
        out.append(f"the plugin plays buffers of N = {status.buffer_size}; the contract gives {want_n} for "
                   f"buffer size {choice!r} at ratio {facts.ratio}")
    if status.latency != reported:
        out.append(f"the plugin's status says latency {status.latency}, the host reads {reported}")
    path = "encode>decode" if facts.latent_path else "forward"
    if status.method and status.method != path:
        out.append(f"the plugin plays {status.method}; the contract's path is {path}")
    if status.model_delay is not None and facts.delay_known and status.model_delay != facts.delay:
        out.append(f"the plugin counts a model delay of {status.model_delay}; the file states {facts.delay}")
    return out


def analytic(ref: np.ndarray, x: np.ndarray, values: dict, shift: int, delay: int) -> np.ndarray:
    """The output gain, dry/wet and input gain in `values` applied to the reference (wet) and
    the input (dry), both aligned as the host delivers them (`shift` = c - reported)."""
    T = x.shape[1]
    wet = shifted(ref, shift + delay, T).astype(np.float64)
    dry = shifted(x, shift, T).astype(np.float64)
    if "input_gain" in values:
        dry = dry * float(gain(values["input_gain"]))
    mix = values.get("dry_wet", 100.0) / 100.0
    g = 10.0 ** (values.get("output_gain", 0.0) / 20.0)
    return (wet * mix + dry * (1.0 - mix)) * g


def compare_settings(y: np.ndarray, expected: np.ndarray, host: str, block: int, label: str) -> "SettingRow":
    """Equal to float rounding: within SETTINGS_ULPS float32 ulps of the expected peak."""
    peak = max(1e-30, float(np.max(np.abs(expected))))
    diff = float(np.max(np.abs(y.astype(np.float64) - expected))) if y.shape == expected.shape else math.inf
    tol = SETTINGS_ULPS * EPS32 * peak
    return SettingRow(host, str(block), label, diff, tol, diff <= tol)
