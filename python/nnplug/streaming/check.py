"""Compare a streaming model with its offline original: the one definition of "exact"
used by the tests, the exporter and the benchmarks."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, List

import torch


def run_in_buffers(stream, x: torch.Tensor, sizes: Iterable[int]) -> torch.Tensor:
    """Feed `x` to `stream` in consecutive buffers of the given sizes (cycled until `x` is
    used up; the last buffer is whatever remains) and concatenate the outputs."""
    sizes = list(sizes)
    out: List[torch.Tensor] = []
    pos, i = 0, 0
    while pos < x.shape[-1]:
        n = min(sizes[i % len(sizes)], x.shape[-1] - pos)
        out.append(stream(x[..., pos:pos + n]))
        pos, i = pos + n, i + 1
    return torch.cat(out, -1)


@dataclass
class Comparison:
    max_abs_error: float
    max_abs_reference: float
    compared: int           # samples per channel compared (the interior)
    start: int              # first compared offline index

    @property
    def relative_error(self) -> float:
        return self.max_abs_error / max(self.max_abs_reference, 1e-30)


def compare_shifted(offline: torch.Tensor, streamed: torch.Tensor, delay: int,
                    margin_left: int, margin_right: int) -> Comparison:
    """Compare streamed[n] with offline[n - delay] on the offline indices whose receptive
    field lies inside the signal: [margin_left, len - margin_right). Works for delay == 0."""
    length = min(offline.shape[-1], streamed.shape[-1] - delay)
    start, stop = margin_left, length - margin_right
    if stop <= start:
        raise ValueError(f"signal too short to compare: {length} samples, margins {margin_left}+{margin_right}")
    ref = offline[..., start:stop]
    got = streamed[..., start + delay:stop + delay]
    diff = (got - ref).detach().abs().max()
    return Comparison(float(diff), float(ref.detach().abs().max()), stop - start, start)


def interior_margins(receptive_field, rate_out: float = 1.0) -> tuple:
    """Offline output samples (at `rate_out` per input sample) that may differ from the
    stream because offline zero-pads at the signal's edges."""
    lo, hi = receptive_field
    return math.ceil(max(-float(lo), 0) * rate_out) + 1, math.ceil(max(float(hi), 0) * rate_out) + 1
