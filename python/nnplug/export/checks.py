"""Checks of a built export: its shape contract, determinism across fresh loads, and streaming
== offline shifted by the delay. `validate_file` runs them on the saved file before export
declares it good."""
from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Dict, List, Sequence

import torch
import torch.nn as nn

from nnplug.export.errors import ExportError, log
from nnplug.export.methods import MethodInfo
from nnplug.export.randomness import set_loaded_randomness, without_noise
from nnplug.streaming.check import compare_shifted, interior_margins, run_in_buffers

# float32 streaming vs offline: the same sums in another order. Rounding stays near
# 1e-6 of the signal's peak; 1e-4 leaves room for deep models while any misaligned or
# stale sample is off by the order of the signal itself.
EXACT_TOLERANCE = 1e-4

# int8 files (dynamic activation quantization): the stream may differ from the offline model
# with rounded weights by up to this many times what the same file, run on the whole test signal
# in one call, differs from its float twin (`_quantized_tolerance`).
QUANTIZED_RMS_FACTOR = 2.0
QUANTIZED_MAX_FACTOR = 4.0


@dataclass
class ValidationReport:
    max_errors: Dict[str, float] = field(default_factory=dict)
    relative_rms: Dict[str, float] = field(default_factory=dict)     # int8 files only
    deterministic: bool = True
    notes: List[str] = field(default_factory=list)


def _round_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


def test_signal(info: MethodInfo, ratio: int, length_audio: int, batch: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    n = length_audio // info.in_ratio
    if info.in_ratio == 1:   # audio: a random signal at a sane level
        return 0.5 * torch.randn(batch, info.in_channels, n, generator=g)
    return torch.randn(batch, info.in_channels, n, generator=g)


test_signal.__test__ = False   # not a pytest test, whatever its name


def compare_length(info: MethodInfo, ratio: int) -> int:
    """Audio samples of test signal: room for the delay and both margins, plus 8 ratios."""
    lo, hi = info.receptive_field
    span_in = math.ceil(float(hi) - float(lo)) + 2          # input samples
    delay_in = math.ceil(info.delay * info.out_ratio / info.in_ratio) + 1
    need = (2 * span_in + delay_in) * info.in_ratio + 32 * ratio
    return _round_up(need, ratio)


def rounding_error(original: nn.Module, rounded: nn.Module, infos: Dict[str, MethodInfo], ratio: int) -> float:
    """RMS of (rounded - original) / RMS of original, on the first method's offline output for a
    test signal, randomness off: what rounding the weights did to the model."""
    name, info = next(iter(infos.items()))
    x = test_signal(info, ratio, max(compare_length(info, ratio), 16 * ratio), 1, seed=3)
    outputs = []
    for model in (original, rounded):
        with torch.no_grad():
            outputs.append(getattr(without_noise(model), name)(x))
    a, b = outputs
    return float((b - a).pow(2).mean().sqrt() / a.pow(2).mean().sqrt().clamp_min(1e-12))


def run_stream(module, method: str, x: torch.Tensor, sizes: Sequence[int]) -> torch.Tensor:
    fn = getattr(module, method)
    module.reset()
    with torch.no_grad():
        return run_in_buffers(fn, x, sizes)


def deterministic_as_built(scripted: torch.jit.ScriptModule, channels: int, ratio: int) -> bool:
    """Do two fresh loads of an in-memory copy stream the same bits through forward?"""
    buf = io.BytesIO()
    torch.jit.save(scripted, buf)
    loads = []
    for _ in range(2):
        buf.seek(0)
        loads.append(torch.jit.load(buf))
    x = 0.5 * torch.randn(1, channels, 8 * ratio, generator=torch.Generator().manual_seed(0))
    return torch.equal(run_stream(loads[0], "forward", x, [ratio]), run_stream(loads[1], "forward", x, [ratio]))


def check_shapes(loaded, infos: Dict[str, MethodInfo], ratio: int) -> None:
    for name, info in infos.items():
        params = getattr(loaded, f"{name}_params").tolist()
        if params != info.params():
            raise ExportError(f"saved {name}_params {params} differ from the method's contract {info.params()}")
        for batch in (1, 2):
            loaded.reset()
            for k in (1, 2, 3, 8):
                b = k * ratio
                x = torch.zeros(batch, info.in_channels, b // info.in_ratio)
                try:
                    with torch.no_grad():
                        y = getattr(loaded, name)(x)
                except Exception as e:  # noqa: BLE001
                    raise ExportError(f"the saved method '{name}' fails on input {tuple(x.shape)} "
                                      f"(batch {batch}, buffer {b} samples): {str(e).strip().splitlines()[-1]}") from e
                want = (batch, info.out_channels, b // info.out_ratio)
                if tuple(y.shape) != want:
                    raise ExportError(f"the saved method '{name}' returned {tuple(y.shape)} for input {tuple(x.shape)}; "
                                      f"its params {info.params()} promise {want}. Fix the model so that a buffer of "
                                      f"B samples gives B/{info.out_ratio} output frames")
    loaded.reset()


def _check_determinism(loaded, path: str, infos: Dict[str, MethodInfo], ratio: int, expect_deterministic: bool,
                       report: ValidationReport, verbose: bool) -> None:
    again = torch.jit.load(path)
    for name, info in infos.items():
        x = test_signal(info, ratio, 8 * ratio, 1, seed=1)
        a = run_stream(loaded, name, x, [ratio // info.in_ratio])
        b = run_stream(again, name, x, [ratio // info.in_ratio])
        if not torch.equal(a, b):
            report.deterministic = False
            if expect_deterministic:
                diff = float((a - b).abs().max())
                raise ExportError(f"method '{name}' gave different outputs (max diff {diff:.3g}) on two fresh loads "
                                  "with randomness off: remove unseeded randomness (torch.rand*, dropout in train "
                                  "mode) or use nnplug.models.SeededNoise")
    log("deterministic: two fresh loads give bit-identical outputs" if report.deterministic
        else "NOT deterministic: outputs differ between fresh loads (randomness on)", verbose)


def _quantized_tolerance(loaded, name: str, info: MethodInfo, x: torch.Tensor) -> tuple:
    """(relative RMS, max abs) tolerances for a stream of a file whose layers quantize their
    input per call (int8), against the offline model with the same rounded weights.

    What the activation quantization alone does is measured without any offline model or delay:
    the file run on the whole signal in one call against its float twin (the same streaming
    graph computing with the dequantized weights in float32) run the same way. In that one call
    every int8 layer quantizes with the range of the whole signal, the coarsest step any call can
    have; a stream's calls see parts of it, so their steps are no coarser and their error is of
    the same size or smaller. The tolerance is that error times QUANTIZED_RMS_FACTOR (RMS) and
    QUANTIZED_MAX_FACTOR (the largest error, a noisier statistic), plus float32 rounding. A wrong
    delay, a stale or misaligned sample is off by the order of the signal, far above it."""
    from nnplug.export.quality import relative_rms
    from nnplug.export.randomness import noise_layers
    from nnplug.streaming.int8 import float_twin
    whole = run_stream(loaded, name, x, [x.size(-1)])
    twin = float_twin(info.stream)
    for layer in noise_layers(twin):      # as in the loaded file during this check
        layer.enabled = False
    with torch.no_grad():
        exact = twin(x)
    peak = float(exact.abs().max())
    return (QUANTIZED_RMS_FACTOR * relative_rms(whole, exact) + EXACT_TOLERANCE,
            QUANTIZED_MAX_FACTOR * float((whole - exact).abs().max()) + EXACT_TOLERANCE * max(peak, 1.0))


def _check_streaming_equals_offline(loaded, reference: nn.Module, infos: Dict[str, MethodInfo], ratio: int,
                                    report: ValidationReport, verbose: bool, quantized: bool = False) -> None:
    for name, info in infos.items():
        x = test_signal(info, ratio, compare_length(info, ratio), 2, seed=2)
        step = ratio // info.in_ratio
        streamed = run_stream(loaded, name, x, [step, 3 * step, 2 * step, 5 * step])
        with torch.no_grad():
            ref = getattr(reference, name)(x)
        if tuple(ref.shape) != tuple(streamed.shape):
            raise ExportError(f"method '{name}': offline output {tuple(ref.shape)} but streamed {tuple(streamed.shape)} "
                              f"for input {tuple(x.shape)}")
        if quantized:
            _check_quantized_stream(loaded, name, info, x, ref, streamed, report, verbose)
            continue
        left, right = interior_margins(info.receptive_field, info.in_ratio / info.out_ratio)
        try:
            cmp = compare_shifted(ref, streamed, info.delay, left, right)
        except ValueError as e:
            raise ExportError(f"method '{name}': {e}") from e
        report.max_errors[name] = cmp.max_abs_error
        tol = EXACT_TOLERANCE * max(cmp.max_abs_reference, 1.0)
        log(f"{name}: streaming == offline shifted by {info.delay} samples, max error {cmp.max_abs_error:.3g} "
            f"(peak {cmp.max_abs_reference:.3g}, {cmp.compared} samples/channel, tolerance {tol:.3g})", verbose)
        if not cmp.max_abs_error <= tol:
            raise ExportError(f"method '{name}': the streamed output differs from the offline one (shifted by "
                              f"{info.delay}) by up to {cmp.max_abs_error:.3g} (tolerance {tol:.3g}) on input "
                              f"{tuple(x.shape)}: the model has an operation that does not stream; check it with "
                              "nnplug.streaming.convert and compare")


def _check_quantized_stream(loaded, name: str, info: MethodInfo, x: torch.Tensor, ref: torch.Tensor,
                            streamed: torch.Tensor, report: ValidationReport, verbose: bool) -> None:
    from nnplug.export.quality import aligned, relative_rms
    rms_tol, max_tol = _quantized_tolerance(loaded, name, info, x)
    ref_cut, got = aligned(ref, streamed, info)
    rms, worst = relative_rms(got, ref_cut), float((got - ref_cut).abs().max())
    report.max_errors[name] = worst
    report.relative_rms[name] = rms
    log(f"{name}: streaming == offline (int8 weights) shifted by {info.delay} samples within the activation "
        f"quantization: relative RMS {rms:.3g} (tolerance {rms_tol:.3g}), max error {worst:.3g} (tolerance "
        f"{max_tol:.3g}), {got.size(-1)} samples/channel", verbose)
    if not (rms <= rms_tol and worst <= max_tol):
        raise ExportError(f"method '{name}': the streamed output differs from the offline one (shifted by "
                          f"{info.delay}) by {rms:.3g} relative RMS, {worst:.3g} at most, beyond what quantizing "
                          f"the activations explains (tolerances {rms_tol:.3g}, {max_tol:.3g}, from the same file "
                          "run on the whole signal in one call against its float twin): the model has an operation "
                          "that does not stream")


def validate_file(path: str, offline: nn.Module, infos: Dict[str, MethodInfo], ratio: int,
                  expect_deterministic: bool, verbose: bool = True, quantized: bool = False) -> ValidationReport:
    """Reload `path` and check it against the offline model. Raises ExportError. `quantized`:
    the file quantizes activations per call (int8 weights): streaming == offline within the
    activation quantization (`_quantized_tolerance`) instead of float32 rounding."""
    report = ValidationReport()
    try:
        loaded = torch.jit.load(path)
    except Exception as e:  # noqa: BLE001
        raise ExportError(f"the saved file does not load back: {e}") from e
    if list(loaded.get_methods()) != list(infos):
        raise ExportError(f"get_methods() returns {list(loaded.get_methods())}, expected {list(infos)}")
    check_shapes(loaded, infos, ratio)
    log(f"shape contract ok for {', '.join(infos)} at batch 1 and 2, buffers of 1, 2, 3, 8 x {ratio} samples",
        verbose)
    _check_determinism(loaded, path, infos, ratio, expect_deterministic, report, verbose)

    # streaming == offline, shifted by the delay (randomness off on both sides)
    noisy = set_loaded_randomness(loaded, False)
    if not report.deterministic and not noisy:
        report.notes.append("streaming == offline not checked: the model has randomness nnplug cannot switch off")
        log(report.notes[-1], verbose)
        return report
    _check_streaming_equals_offline(loaded, without_noise(offline), infos, ratio, report, verbose, quantized)
    set_loaded_randomness(loaded, True)
    return report
