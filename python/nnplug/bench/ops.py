"""`nnplug bench ops`: what one model call costs the TorchScript interpreter, run as the plugin
runs it (`nnplug.runtime.plugin_execution`: one thread, graph optimizer off).

For each file: the seconds `torch.jit.load` takes (it compiles the file's code), the tensor ops
one call dispatches from the interpreter (aten and quantized ops at the top of torch.profiler's
tree; the ops those call inside are not counted), the method and function frames it opens, and
the CPU seconds per second of audio at the model buffer N on batch 1, timed without the profiler. At a small model's buffer sizes every op costs more than its
arithmetic; at a large model's, the weight-reading products dominate and the rest is overhead.
The files' timing rounds are interleaved and the median kept, so the ratios between files
measured in one run hold on a noisy machine.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Sequence

OP_PREFIXES = ("aten::", "quantized::")


@dataclass
class OpsRow:
    name: str
    buffer: int
    load_seconds: float             # torch.jit.load of the file
    ops: float                      # top-level tensor ops per call
    frames: float                   # method/function frames per call
    top: Dict[str, float]           # the most frequent ops, per call
    cpu: List[float] = field(default_factory=list)   # CPU s per s of audio, one per round

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)


def _is_op(event) -> bool:
    return event.name.startswith(OP_PREFIXES)


class _Model:
    def __init__(self, path: Path, buffer: int):
        import torch

        from nnplug import contract
        facts = contract.read(path)
        self.path, self.sample_rate = path, float(facts.sample_rate or 44100)
        start = time.perf_counter()
        self.module = torch.jit.load(str(path), map_location="cpu").eval()
        self.load_seconds = time.perf_counter() - start
        self.n = contract.buffer_size(str(buffer) if buffer else "Auto", facts.ratio)
        self.x = 0.1 * torch.randn(1, max(facts.in_channels, 1), self.n, generator=torch.Generator().manual_seed(0))
        self.forward = self.module.forward

    def calls_per_round(self, seconds: float) -> int:
        return max(8, int(seconds * self.sample_rate / self.n))


def _profile(model: _Model, calls: int = 3) -> tuple:
    from collections import Counter

    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(calls):
            model.forward(model.x)
    events = list(prof.events())
    top = [e for e in events if _is_op(e) and (e.cpu_parent is None or not _is_op(e.cpu_parent))]
    frames = [e for e in events if not _is_op(e)]
    counts = Counter(e.name for e in top)
    return len(top) / calls, len(frames) / calls, {k: v / calls for k, v in counts.most_common(8)}


def bench_ops(paths: Sequence[Path], buffers: Sequence[int] = (0,), seconds: float = 5.0, rounds: int = 3,
              progress: Callable[[str], None] = lambda s: None) -> List[OpsRow]:
    """A row per file and model buffer N (0: the plugin's Auto)."""
    from nnplug.runtime import plugin_execution
    rows: List[OpsRow] = []
    with plugin_execution():
        models = [_Model(Path(p), n) for p in paths for n in buffers]
        for m in models:
            progress(f"profiling {m.path.name} at N = {m.n}")
            if hasattr(m.module, "reset"):
                m.module.reset()
            for _ in range(5):                      # first calls: packing, allocator warm-up
                m.forward(m.x)
            ops, frames, top = _profile(m)
            rows.append(OpsRow(m.path.stem, m.n, m.load_seconds, ops, frames, top))
        for r in range(rounds):
            for m, row in zip(models, rows):
                progress(f"round {r + 1}/{rounds}: {m.path.name}")
                calls = m.calls_per_round(seconds)
                c0 = time.process_time()
                for _ in range(calls):
                    m.forward(m.x)
                row.cpu.append((time.process_time() - c0) / (calls * m.n / m.sample_rate))
    return rows


def table(rows: Sequence[OpsRow]) -> str:
    first = rows[0]
    lines = ["| model | load s | N | ops per call | frames per call | CPU s per s (median, rounds) | CPU vs first |",
             "|---|---:|---:|---:|---:|---|---:|"]
    for r in rows:
        spread = " ".join(f"{c:.4f}" for c in r.cpu)
        lines.append(f"| {r.name} | {r.load_seconds:.2f} | {r.buffer} | {r.ops:.0f} | {r.frames:.0f} | "
                     f"{r.cpu_median:.4f} ({spread}) | {r.cpu_median / first.cpu_median:.2f}x |")
    return "\n".join(lines)


def details(rows: Sequence[OpsRow]) -> str:
    return "\n".join(f"{r.name}: " + ", ".join(f"{k} {v:.0f}" for k, v in r.top.items()) for r in rows)
