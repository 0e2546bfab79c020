"""Offline validation: the built plugin, rendered in real hosts, against the same TorchScript
model run in Python in streaming mode.

The reference mirrors the plugin's engine (plugin/src/Engine.cpp, ModelHost.cpp) exactly:
a fresh `torch.jit.load` of the same file, one silent buffer then `reset()` (as the plugin's
prepare does), called as the plugin calls it (`nnplug.runtime.plugin_execution`: one intra-op
thread, inference mode, TorchScript's graph optimizer off), buffers of exactly the plugin's
model buffer size N, encode -> decode when the model has both (and they fit), forward
otherwise, and a mono model on the stereo bus run per channel as a batch of two streams (or
once on the float32 downmix (L + R) / 2, by the `mono_mode` parameter).

Alignment: the plugin's output for input sample t comes out at t + latency, where latency =
buffering + model delay, and the model delay is already inside the reference's output.
A host that compensates latency (pedalboard) removes `reported` samples; DawDreamer does
not. So the expected host output is  expected[t] = reference[t + c - reported + delay],
c = reported or 0 (zeros before the reference starts). The lag actually found between the
host output and the reference (cross-correlation, confirmed sample by sample) gives the
measured latency, which must equal the reported one.

At unity settings a deterministic model must come out bit-identical (np.array_equal).
Output gain, dry/wet and input gain are checked against their analytic result from the same
reference, to float rounding.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from nnplug.hosts import UNITY, Host, open_host, staged_bundle
from nnplug.runtime import plugin_execution
from nnplug import contract
from nnplug.contract import Contract
from nnplug.errors import NnplugError

SR = 44100
DEFAULT_BLOCKS = (1, 32, 64, 100, 256, 333, 512, 1000, 2048, 4096)
# A changing host block size in one stream (pedalboard only); starts at >= 3 samples.
CHANGING = (511, 1, 64, 1000, 3, 2048, 333, 17, 4096, 100, 256, 777)
MODES = ("Synchronous", "Worker thread")
# The 10-second musical signal runs at these host block sizes only (to keep CI in minutes).
LONG_BLOCKS = (333,)
# The settings checks run at these host block sizes.
SETTINGS_BLOCKS = (333, 512)
EPS32 = float(np.finfo(np.float32).eps)
# "to float rounding": |plugin - analytic| <= SETTINGS_ULPS * eps32 * peak of the analytic output
SETTINGS_ULPS = 8


class ValidationError(NnplugError, ValueError):
    """Bad input to validate/render (printed as a user error by the CLI)."""


# ---------------------------------------------------------------------------------------------
# the reference
def reference(facts: Contract, x: np.ndarray, n: int, mono_mode: str = "Per channel",
              total: Optional[int] = None) -> np.ndarray:
    """The model run in Python the way the plugin runs it, on host channels x (H, T).
    Returns (H, total) float32 (total >= T, input zero-padded), with no buffering delay."""
    import torch
    H, T = x.shape
    total = max(T, int(total or T))
    padded = -(-total // n) * n
    xp = np.zeros((H, padded), np.float32)
    xp[:, :T] = x
    ci, co = facts.in_channels, facts.out_channels
    per_channel = ci == 1 and H > 1 and mono_mode == "Per channel"
    if per_channel:
        lanes = xp[:, None, :]                                     # (H, 1, T): batch of H streams
    elif ci == 1 and H > 1:
        s = np.zeros(padded, np.float32)
        for ch in range(H):
            s = (s + xp[ch]).astype(np.float32)
        lanes = (s / np.float32(H)).astype(np.float32)[None, None, :]
    else:
        lanes = np.stack([xp[c % H] for c in range(ci)])[None]
    batch = lanes.shape[0]

    m, _ = contract.load(facts.path)

    def run(inp):
        if facts.latent_path:
            return m.decode(m.encode(inp))
        return m.forward(inp)

    with plugin_execution():
        run(torch.zeros(batch, ci, n))          # the plugin's prepare(): one silent buffer,
        if hasattr(m, "reset"):
            m.reset()                           # then a fresh stream
        src = torch.from_numpy(np.ascontiguousarray(lanes))
        outs = []
        for i in range(0, padded, n):
            y = run(src[..., i:i + n].contiguous())
            if tuple(y.shape) != (batch, co, n):
                raise ValidationError(f"model returned shape {tuple(y.shape)}, expected {(batch, co, n)}")
            outs.append(y.contiguous().numpy().copy())
    out = np.concatenate(outs, axis=-1)             # (batch, co, padded)
    wet = np.zeros((H, padded), np.float32)
    for ch in range(H):
        if batch > 1:
            wet[ch] = out[ch, 0]
        elif co >= H and not (co > H and H == 1):
            wet[ch] = out[0, ch]
        elif co == 1:
            wet[ch] = out[0, 0]
        else:
            s = np.zeros(padded, np.float32)
            for c in range(co):
                s = (s + out[0, c]).astype(np.float32)
            wet[ch] = s / np.float32(co)
    return wet[:, :total]


def shifted(a: np.ndarray, k: int, length: int) -> np.ndarray:
    """out[:, t] = a[:, t + k] for 0 <= t + k < a.shape[1], zeros elsewhere; `length` samples."""
    out = np.zeros((a.shape[0], length), np.float32)
    lo, hi = max(0, -k), min(length, a.shape[1] - k)
    if hi > lo:
        out[:, lo:hi] = a[:, lo + k:hi + k]
    return out


def measure_shift(y: np.ndarray, ref: np.ndarray, window: int) -> Optional[int]:
    """k such that y[:, t] == ref[:, t + k] best (|k| <= window); None when y or ref is silent.

    Cross-correlates the first differences (a DC offset, common in untrained models, would
    otherwise dominate), then confirms the strongest candidates sample by sample."""
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
    for i in np.argsort(corr)[::-1][:20]:
        k = int(lags[i])
        err = float(np.mean(np.abs(y - shifted(ref, k, y.shape[1]))))
        if err < best_err:
            best, best_err = k, err
    return best


# ---------------------------------------------------------------------------------------------
# test signals
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


# ---------------------------------------------------------------------------------------------
# comparison
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
    ks = measure_shift(y, ref, window)
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
    measured = None if (ks is None or not facts.delay_known) else c + D - ks
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
        notes.append("stochastic model: bit-identity not claimable; checked finite, not silent, length, latency")
        if not finite:
            notes.append("output has NaN/Inf")
        if silent:
            notes.append("output is silent")
        if ks is None and np.any(ref):
            notes.append("latency not measurable (output uncorrelated with one reference draw)")
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


def _gain(db: float) -> np.float32:
    """juce::Decibels::decibelsToGain in float: powf(10, dB * 0.05f)."""
    return np.float32(np.power(np.float32(10.0), np.float32(db) * np.float32(0.05)))


# ---------------------------------------------------------------------------------------------
# the run
@dataclass
class Result:
    model: Dict[str, Any]
    rows: List[Row]
    settings: List[SettingRow]
    deterministic: bool
    statement: str
    elapsed: float
    plots: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows) and all(s.ok for s in self.settings)

    def to_json(self) -> Dict[str, Any]:
        return {"ok": self.ok, "model": self.model, "deterministic": self.deterministic,
                "statement": self.statement, "elapsed_seconds": round(self.elapsed, 2),
                "rows": [asdict(r) for r in self.rows], "settings": [asdict(s) for s in self.settings],
                "table": table_rows(self)}


def _parse_blocks(blocks: Sequence[Any]) -> List[Any]:
    out = []
    for b in blocks:
        if isinstance(b, str) and b.strip().lower() == "changing":
            out.append(tuple(CHANGING))
        elif isinstance(b, (list, tuple)):
            out.append(tuple(int(v) for v in b))
        else:
            v = int(b)
            if v < 1:
                raise ValidationError(f"block size must be >= 1, got {v}")
            out.append(v)
    return out


def block_label(b) -> str:
    return str(int(b)) if isinstance(b, (int, np.integer)) else "changing"


def run_validate(plugin: Union[str, Path], model: Union[str, Path], *, hosts: Sequence[str] = ("pedalboard", "dawdreamer"),
                 blocks: Sequence[Any] = (*DEFAULT_BLOCKS, "changing"), modes: Sequence[str] = MODES,
                 inputs: Sequence[Union[str, Path]] = (), sample_rate: int = SR, long_signal: bool = True,
                 settings: bool = True, reference_hook: Optional[Callable[[str, np.ndarray], np.ndarray]] = None,
                 keep_plots: bool = False, log: Callable[[str], None] = print) -> Result:
    """Render every signal through the plugin in every host, mode and block size; compare."""
    t_start = time.time()
    model = Path(model)
    if not model.is_file():
        raise ValidationError(f"model not found: {model}")
    try:
        facts = contract.read(model)
    except contract.ContractError as e:
        raise ValidationError(str(e)) from e
    blocks = _parse_blocks(blocks)
    signals = [suite(sample_rate)]
    if long_signal:
        signals.append(musical(sample_rate))
    signals += [wav_signal(p, sample_rate) for p in inputs]

    # Deterministic? The file's word, confirmed by two fresh runs.
    probe = signals[0].audio[:, : 8 * contract.buffer_size("Auto", facts.ratio)]
    n0 = contract.buffer_size("Auto", facts.ratio)
    deterministic = facts.deterministic and np.array_equal(reference(facts, probe, n0), reference(facts, probe, n0))
    if deterministic:
        statement = "deterministic model: bit-identity required (np.array_equal) at unity settings"
    elif facts.deterministic:
        statement = ("model claims to be deterministic but two fresh runs differ: bit-identity not claimable; "
                     "checked finite, not silent, length and latency")
    else:
        statement = (f"stochastic model ({facts.format}): bit-identity was not claimable; checked that the output "
                     "is finite, not silent, of the right length and latency")
    log(f"model {facts.name} ({facts.format}): ratio {facts.ratio}, delay {facts.delay}"
        f"{'' if facts.delay_known else ' (unknown, counted as 0)'}, path "
        f"{'encode>decode' if facts.latent_path else 'forward'}; {statement}")

    refs: Dict[Tuple[str, int, str], np.ndarray] = {}
    rows: List[Row] = []
    setting_rows: List[SettingRow] = []
    plots: Dict[str, Any] = {}

    def get_ref(sig: Signal, n: int, mono: str, extra: int, gain: Optional[float] = None) -> np.ndarray:
        key = (sig.name, n, mono, gain)
        if key not in refs or refs[key].shape[1] < sig.audio.shape[1] + extra:
            x = sig.audio if gain is None else (sig.audio * _gain(gain)).astype(np.float32)
            r = reference(facts, x, n, mono, total=sig.audio.shape[1] + extra)
            if reference_hook is not None and gain is None:
                r = reference_hook(sig.name, r)
            refs[key] = r
        return refs[key]

    with staged_bundle(plugin, model) as bundle:
        for hname in hosts:
            try:
                host = open_host(hname, bundle, sample_rate)
            except ImportError as e:
                raise ValidationError(f"host {hname} is not installed ({e}); pip install 'nnplug[hosts]'") from e
            host.set_params(UNITY)
            if not host.supports_block_sequence and any(not isinstance(b, int) for b in blocks):
                log(f"{hname}: no changing block-size sequence (it renders at one fixed block size)")
            for mode in modes:
                host.set_param("inference_mode", mode)
                n = contract.buffer_size(host.get_param("buffer_size"), facts.ratio)
                mono = str(host.get_param("mono_mode"))
                for b in blocks:
                    if not isinstance(b, int) and not host.supports_block_sequence:
                        continue
                    for sig in signals:
                        if sig.blocks is not None and block_label(b) not in [block_label(v) for v in sig.blocks]:
                            continue
                        host.last_seconds = None
                        t0 = time.time()
                        y = host.render(sig.audio, b)
                        # the processing alone where the host can tell (DawDreamer: not the plugin load)
                        secs = host.last_seconds if host.last_seconds is not None else time.time() - t0
                        reported = host.reported_latency()
                        ref = get_ref(sig, n, mono, reported + 2 * n)
                        row = compare(host, mode, b, sig, y, ref, facts, n, reported, secs, deterministic)
                        rows.append(row)
                        if keep_plots and sig.name == "suite" and (
                                (not row.ok and f"{hname}-fail" not in plots) or
                                (block_label(b) == "512" and mode == modes[0])):
                            c = reported if host.compensates_latency else 0
                            plots[f"{hname}-fail" if not row.ok else hname] = {
                                "title": f"{hname}, {mode}, block {block_label(b)}, suite",
                                "reference": shifted(ref, c - reported + row.model_delay, y.shape[1]),
                                "plugin": y, "sr": sample_rate}
                        if not row.ok:
                            log(f"  MISMATCH {hname} {mode} block {row.block} {sig.name}: "
                                f"max |diff| {row.max_abs_diff:.3g}, first {row.first_diff}, {'; '.join(row.notes)}")
            host.set_param("inference_mode", modes[0] if modes else "Synchronous")
            if settings and deterministic and facts.delay_known:
                setting_rows += check_settings(host, facts, signals[0], get_ref)
            host.set_params(UNITY)
    return Result(asdict(facts), rows, setting_rows, deterministic, statement, time.time() - t_start, plots)


def check_settings(host: Host, facts: Contract, sig: Signal, get_ref) -> List[SettingRow]:
    """Output gain, dry/wet and input gain against their analytic result from the reference."""
    out: List[SettingRow] = []
    x = sig.audio
    T = x.shape[1]
    cases = [("output_gain=-6 dB", {"output_gain": -6.0}),
             ("dry_wet=50 %", {"dry_wet": 50.0}),
             ("dry_wet=25 %, output_gain=+3 dB", {"dry_wet": 25.0, "output_gain": 3.0}),
             ("input_gain=+6 dB", {"input_gain": 6.0})]
    for block in SETTINGS_BLOCKS:
        for label, values in cases:
            host.set_params(UNITY)
            host.set_params(values)
            n = contract.buffer_size(host.get_param("buffer_size"), facts.ratio)
            mono = str(host.get_param("mono_mode"))
            settle(host)
            y = host.render(x, block)
            L = host.reported_latency()
            c = L if host.compensates_latency else 0
            ref = get_ref(sig, n, mono, L + 2 * n, values.get("input_gain"))
            wet = shifted(ref, c - L + facts.delay, T).astype(np.float64)
            dry = shifted(x, c - L, T).astype(np.float64)
            if "input_gain" in values:
                dry = dry * float(_gain(values["input_gain"]))
            mix = values.get("dry_wet", 100.0) / 100.0
            g = 10.0 ** (values.get("output_gain", 0.0) / 20.0)
            expected = (wet * mix + dry * (1.0 - mix)) * g
            peak = max(1e-30, float(np.max(np.abs(expected))))
            diff = float(np.max(np.abs(y.astype(np.float64) - expected))) if y.shape == expected.shape else math.inf
            tol = SETTINGS_ULPS * EPS32 * peak
            out.append(SettingRow(host.name, str(block), label, diff, tol, diff <= tol))
    host.set_params(UNITY)
    settle(host)
    return out


def settle(host: Host) -> None:
    """Let a parameter change take effect before a render: the engine ramps gain and mix over
    the first block after a change (no zipper noise), which is not part of the analytic result.
    pedalboard keeps one instance, so it renders one silent block first; DawDreamer builds a
    fresh instance per render with the values applied before the first block."""
    if host.compensates_latency and hasattr(host, "plugin"):
        host.render(np.zeros((2, 4096), np.float32), 4096)


# ---------------------------------------------------------------------------------------------
# output
def table_rows(result: Result) -> List[Dict[str, Any]]:
    groups: Dict[Tuple[str, str, str], List[Row]] = {}
    for r in result.rows:
        groups.setdefault((r.host, r.mode, r.block), []).append(r)
    out = []
    for (h, m, b), rs in groups.items():
        meas = {r.latency_measured for r in rs if r.latency_measured is not None}
        audio = sum(r.samples for r in rs)
        out.append({"host": h, "mode": m, "block": b, "signals": len(rs),
                    "max_abs_diff": max(r.max_abs_diff for r in rs),
                    "equal": None if any(r.equal is None for r in rs) else all(r.equal for r in rs),
                    "latency_reported": sorted({r.latency_reported for r in rs}),
                    "latency_measured": sorted(meas),
                    "rtf": sum(r.rtf * r.samples for r in rs) / max(1, audio), "ok": all(r.ok for r in rs)})
    return out


def format_table(result: Result) -> str:
    head = f"{'host':<11} {'mode':<13} {'block':>8} {'sig':>3} {'max|diff|':>10} {'equal':>5} {'latency rep/meas':>17} {'rtf':>6}  ok"
    lines = [head, "-" * len(head)]
    for t in table_rows(result):
        eq = "n/a" if t["equal"] is None else ("yes" if t["equal"] else "NO")
        rep = "/".join(map(str, t["latency_reported"]))
        meas = "/".join(map(str, t["latency_measured"])) or "-"
        lines.append(f"{t['host']:<11} {t['mode']:<13} {t['block']:>8} {t['signals']:>3} {t['max_abs_diff']:>10.3g} "
                     f"{eq:>5} {rep + ' / ' + meas:>17} {t['rtf']:>6.3f}  {'ok' if t['ok'] else 'FAIL'}")
    if result.settings:
        lines.append("")
        lines.append(f"{'host':<11} {'block':>6} {'setting':<34} {'max|diff|':>10} {'tolerance':>10}  ok")
        for s in result.settings:
            lines.append(f"{s.host:<11} {s.block:>6} {s.setting:<34} {s.max_abs_diff:>10.3g} {s.tolerance:>10.3g}  "
                         f"{'ok' if s.ok else 'FAIL'}")
    lines.append("")
    lines.append(result.statement)
    bad = [r for r in result.rows if not r.ok]
    for r in bad[:10]:
        lines.append(f"FAIL {r.host} {r.mode} block {r.block} {r.signal}: first differing sample {r.first_diff}; "
                     f"{'; '.join(r.notes)}")
    lines.append(f"{'PASS' if result.ok else 'FAIL'}: {len(result.rows)} renders, {len(result.settings)} settings checks, "
                 f"{result.elapsed:.0f} s")
    return "\n".join(lines)


def write_report(result: Result, directory: Union[str, Path]) -> Path:
    """report.json, and index.html with waveform and spectrogram plots (PNG files beside it)."""
    import html

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    (d / "report.json").write_text(json.dumps(result.to_json(), indent=1, default=float) + "\n")
    figs = []
    for key, p in result.plots.items():
        ref, y, sr = p["reference"], p["plugin"], p["sr"]
        m = min(ref.shape[1], y.shape[1])
        ref, y = ref[:, :m], y[:, :m]
        diff = y.astype(np.float64) - ref
        t = np.arange(m) / sr
        fig, ax = plt.subplots(3, 2, figsize=(13, 8), sharex="col")
        for i, (name, a) in enumerate([("reference (Python, aligned)", ref), ("plugin output", y),
                                       ("difference (plugin - reference)", diff)]):
            ax[i, 0].plot(t, a[0], lw=0.5)
            ax[i, 0].set_title(f"{name}, left")
            ax[i, 0].set_ylabel("amplitude")
            sig = a[0].astype(np.float64)
            if np.any(sig):
                with np.errstate(divide="ignore"):
                    ax[i, 1].specgram(sig, NFFT=1024, Fs=sr, noverlap=768, cmap="magma", vmin=-140)
            else:
                ax[i, 1].text(0.5, 0.5, "all zeros", ha="center", va="center", transform=ax[i, 1].transAxes)
            ax[i, 1].set_title(f"{name}: spectrogram")
            ax[i, 1].set_ylabel("Hz")
        ax[2, 0].set_xlabel("seconds")
        ax[2, 1].set_xlabel("seconds")
        fig.suptitle(p["title"] + f" — max |diff| {np.max(np.abs(diff)):.3g}")
        fig.tight_layout()
        name = f"plot-{key}.png"
        fig.savefig(d / name, dpi=80)
        plt.close(fig)
        figs.append((p["title"], name))
    rows_html = "".join(
        f"<tr class='{'ok' if t['ok'] else 'fail'}'><td>{t['host']}</td><td>{t['mode']}</td><td>{t['block']}</td>"
        f"<td>{t['signals']}</td><td>{t['max_abs_diff']:.3g}</td>"
        f"<td>{'n/a' if t['equal'] is None else ('yes' if t['equal'] else 'NO')}</td>"
        f"<td>{'/'.join(map(str, t['latency_reported']))}</td><td>{'/'.join(map(str, t['latency_measured'])) or '-'}</td>"
        f"<td>{t['rtf']:.3f}</td><td>{'ok' if t['ok'] else 'FAIL'}</td></tr>" for t in table_rows(result))
    set_html = "".join(
        f"<tr class='{'ok' if s.ok else 'fail'}'><td>{s.host}</td><td>{s.block}</td><td>{html.escape(s.setting)}</td>"
        f"<td>{s.max_abs_diff:.3g}</td><td>{s.tolerance:.3g}</td><td>{'ok' if s.ok else 'FAIL'}</td></tr>"
        for s in result.settings)
    fails = "".join(f"<li>{html.escape(f'{r.host} {r.mode} block {r.block} {r.signal}: {r.first_diff} {r.notes}')}</li>"
                    for r in result.rows if not r.ok)
    m = result.model
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>nnplug validate: {html.escape(m['name'])}</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}
tr.fail{{background:#fdd}} tr.ok td:last-child{{color:green}} img{{max-width:100%}}</style></head><body>
<h1>nnplug validate — {'PASS' if result.ok else 'FAIL'}</h1>
<p>Model <b>{html.escape(m['name'])}</b> ({html.escape(m['path'])}), format {m['format']}, ratio {m['ratio']},
model delay {m['delay']} samples, audio path {'encode&gt;decode' if m['latent_path'] else 'forward'}.</p>
<p>{html.escape(result.statement)}</p>
<h2>Host × block size</h2>
<p><i>max |diff|</i>: largest absolute difference between the plugin's output and the Python reference,
aligned by the latency the plugin reports (pedalboard compensates it, DawDreamer does not).
<i>equal</i>: np.array_equal over every sample. <i>latency</i>: reported by the plugin / measured
(lag between plugin output and reference, plus the model's own delay). <i>rtf</i>: render time / audio time.</p>
<table><tr><th>host</th><th>mode</th><th>block</th><th>signals</th><th>max |diff|</th><th>equal</th><th>latency reported</th>
<th>latency measured</th><th>rtf</th><th></th></tr>{rows_html}</table>
<h2>Settings (analytic result, tolerance {SETTINGS_ULPS} float32 ulps of the peak)</h2>
<table><tr><th>host</th><th>block</th><th>setting</th><th>max |diff|</th><th>tolerance</th><th></th></tr>{set_html}</table>
{'<h2>Failures</h2><ul>' + fails + '</ul>' if fails else ''}
<h2>Plots</h2>
{''.join(f'<h3>{html.escape(title)}</h3><img src="{name}" alt="{html.escape(title)}">' for title, name in figs)}
<p>Full data: <a href="report.json">report.json</a>. Elapsed {result.elapsed:.0f} s.</p>
</body></html>
"""
    (d / "index.html").write_text(page)
    return d / "index.html"
