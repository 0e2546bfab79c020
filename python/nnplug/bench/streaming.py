"""Cached convolutions against the two classic ways of streaming an offline model.

For every buffer size, each method processes the same audio buffer by buffer on one
thread; the methods take turns on ~50 ms slices of it (rotating order), in rounds whose median
is kept, so the ratios printed are measured under the same machine load. Each method's output is also
compared with the offline output (shifted by the method's own delay, edges excluded).

A method's ratio to cached is taken in each round (both timed on the same slices), and the table
gives the median with the lowest and highest round: the spread is the noise the run itself shows.
`verdict` fails a run only where that spread settles the question (an alternative faster than
cached in every round); a spread that straddles 1 is a tie within noise, reported by `ties`.
"""
from __future__ import annotations

import copy
import statistics
import time
from dataclasses import asdict, dataclass
from typing import Callable, Dict, List, Sequence

import torch
import torch.nn as nn

from nnplug.runtime import plugin_execution
from nnplug.streaming import ContextWindow, OverlapAdd, convert
from nnplug.streaming.check import compare_shifted, interior_margins, run_in_buffers

SAMPLE_RATE = 44100


@dataclass
class Row:
    model: str
    buffer: int
    method: str
    seconds_per_audio_second: float
    ratio_to_cached: float           # median over rounds of the per-round ratio
    ratio_low: float                 # lowest and highest per-round ratio
    ratio_high: float
    max_abs_error: float
    relative_error: float
    delay: int


def _methods(model: nn.Module, stream: nn.Module, buffer: int) -> Dict[str, torch.jit.ScriptModule]:
    """Every method in TorchScript, run as the plugin runs models (`nnplug.runtime`), so that
    the comparison is not about Python overhead. Delays and receptive fields are read before
    scripting. `stream` is the model converted (and proved) once for all buffer sizes."""
    methods = {
        "cached": copy.deepcopy(stream),
        "context-window": ContextWindow(model, buffer),
        "overlap-add 25%": OverlapAdd(model, buffer, 0.25),
        "overlap-add 50%": OverlapAdd(model, buffer, 0.5),
    }
    return {label: (torch.jit.script(m), m.delay) for label, m in methods.items()}


def bench_model(name: str, model: nn.Module, buffers: Sequence[int], seconds: float, rounds: int,
                progress: Callable[[str], None] = lambda s: None) -> List[Row]:
    model = model.eval()
    analysis = convert(model)
    lo, hi = analysis.receptive_field
    torch.manual_seed(0)
    # long enough for samples whose receptive field lies inside the signal (the error column)
    samples = max(int(seconds * SAMPLE_RATE), 3 * int(hi - lo))
    rows: List[Row] = []
    for buffer in buffers:
        if buffer % analysis.ratio:
            continue
        n = -(-samples // buffer) * buffer
        x = 0.5 * torch.randn(1, 1, n)
        with torch.inference_mode():
            offline = model(x)
        with plugin_execution(torch.get_num_threads()):    # as the plugin calls a model (optimizer off)
            methods = _methods(model, analysis, buffer)
            times: Dict[str, List[float]] = {k: [] for k in methods}
            outputs: Dict[str, torch.Tensor] = {}
            # Each round streams the whole signal through every method, but in slices of ~50 ms
            # taken in turn (the order rotating), so that all methods see the same machine: this
            # machine's speed drifts by tens of percent over seconds to minutes.
            labels = list(methods)
            step = buffer * max(1, int(0.05 * SAMPLE_RATE) // buffer)
            for r in range(rounds):
                progress(f"{name} buffer {buffer}: round {r + 1}/{rounds}")
                spent = {k: 0.0 for k in labels}
                pieces: Dict[str, List[torch.Tensor]] = {k: [] for k in labels}
                for label in labels:
                    methods[label][0].reset()
                for j, start in enumerate(range(0, n, step)):
                    piece = x[..., start:start + step]
                    for label in labels[j % len(labels):] + labels[:j % len(labels)]:
                        t0 = time.perf_counter()
                        pieces[label].append(run_in_buffers(methods[label][0], piece, [buffer]))
                        spent[label] += time.perf_counter() - t0
                for label in labels:
                    times[label].append(spent[label])
                    outputs[label] = torch.cat(pieces[label], -1)
        margins = interior_margins(analysis.receptive_field)
        for label, (_, delay) in methods.items():
            t = statistics.median(times[label])
            ratios = [a / c for a, c in zip(times[label], times["cached"])]
            cmp = compare_shifted(offline, outputs[label], delay, *margins)
            rows.append(Row(name, buffer, label, t / (n / SAMPLE_RATE), statistics.median(ratios), min(ratios),
                            max(ratios), cmp.max_abs_error, cmp.relative_error, delay))
    return rows


def markdown(rows: List[Row]) -> str:
    lines = [
        "| model | buffer | method | s per s of audio | × cached | rounds' range | max abs error | delay |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        spread = "" if r.method == "cached" else f"{r.ratio_low:.2f}–{r.ratio_high:.2f}"
        lines.append(f"| {r.model} | {r.buffer} | {r.method} | {r.seconds_per_audio_second:.4f} | "
                     f"{r.ratio_to_cached:.2f} | {spread} | {r.max_abs_error:.1e} | {r.delay} |")
    return "\n".join(lines)


def verdict(rows: List[Row], exact_tolerance: float = 1e-5) -> List[str]:
    """The claims the benchmark checks: cached is exact (to float32 rounding, relative to the
    signal's peak), and no alternative is faster than cached beyond the run's own noise: a
    failure needs the alternative faster in every round (see `ties` for the rest)."""
    problems = []
    for r in rows:
        if r.method == "cached" and r.relative_error > exact_tolerance:
            problems.append(f"{r.model} buffer {r.buffer}: cached relative error {r.relative_error:.2e} > {exact_tolerance}")
        if r.method != "cached" and r.ratio_high < 1.0:
            problems.append(f"{r.model} buffer {r.buffer}: {r.method} is faster than cached in every round "
                            f"({r.ratio_low:.2f}–{r.ratio_high:.2f}×, median {r.ratio_to_cached:.2f}×)")
    return problems


def ties(rows: List[Row]) -> List[str]:
    """Alternatives whose rounds fall on both sides of cached: neither faster nor slower within
    this run's noise."""
    return [f"{r.model} buffer {r.buffer}: {r.method} ties with cached within noise ({r.ratio_low:.2f}–"
            f"{r.ratio_high:.2f}×, median {r.ratio_to_cached:.2f}×)"
            for r in rows if r.method != "cached" and r.ratio_low <= 1.0 <= r.ratio_high]


def as_dicts(rows: List[Row]) -> List[dict]:
    return [asdict(r) for r in rows]
