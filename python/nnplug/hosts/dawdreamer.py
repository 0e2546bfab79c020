"""DawDreamer: renders a graph at the engine's fixed block size; does not compensate latency.

Every render builds a fresh RenderEngine(sample_rate, block) with a fresh plugin instance,
then applies the preset (if any) and the parameters set so far, in that order. DawDreamer's
own load_state needs an editor (it crashes headless), so state travels as a .vstpreset.
A changing block-size sequence is not possible in DawDreamer.
"""
from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Dict, List, Optional, Union

import numpy as np

from . import BlockSpec, Host, param

_counter = itertools.count()


class DawDreamerHost(Host):
    name = "dawdreamer"
    compensates_latency = False
    supports_block_sequence = False

    def __init__(self, bundle: Union[str, Path], sample_rate: float = 44100.0):
        super().__init__(bundle, sample_rate)
        import dawdreamer  # noqa: F401  (fail early when missing)
        self.values: Dict[str, Union[float, str]] = {}
        self.preset: Optional[Path] = None
        self._latency: Optional[int] = None
        self._names: Optional[List[str]] = None
        self._engine = self._fx = None

    def _make(self, block: int, x: np.ndarray):
        import dawdreamer as daw
        engine = daw.RenderEngine(int(self.sample_rate), int(block))
        k = next(_counter)
        playback = engine.make_playback_processor(f"in{k}", x)
        fx = engine.make_plugin_processor(f"fx{k}", str(self.bundle))
        names = [fx.get_parameter_name(i) for i in range(fx.get_plugin_parameter_size())]
        self._names = names
        if self.preset is not None:
            if not fx.load_vst3_preset(str(self.preset)):
                raise RuntimeError(f"DawDreamer could not load the preset {self.preset}")
        for pid, value in self.values.items():
            p = param(pid)
            if p.name not in names:
                raise KeyError(f"DawDreamer lists no parameter named {p.name!r} (ID {pid})")
            fx.set_parameter(names.index(p.name), p.normalized(value))
        engine.load_graph([(playback, []), (fx, [f"in{k}"])])
        return engine, fx

    def set_param(self, pid: str, value) -> None:
        self.values[pid] = param(pid).check(value)

    def get_param(self, pid: str):
        if pid in self.values:
            return self.values[pid]
        if self.preset is not None:
            # read it from an instance with the preset applied
            _, fx = self._make(512, np.zeros((2, 1), np.float32))
            names = [fx.get_parameter_name(i) for i in range(fx.get_plugin_parameter_size())]
            p = param(pid)
            text = fx.get_parameter_text(names.index(p.name))
            return p.check(text.split()[0]) if p.is_choice else float(text.split()[0])
        return param(pid).default

    def parameter_names(self) -> List[str]:
        if self._names is None:
            self._make(512, np.zeros((2, 1), np.float32))
        return list(self._names or [])

    def load_preset(self, path: Union[str, Path]) -> None:
        self.preset = Path(path)
        self.values.clear()

    def render(self, x: np.ndarray, block: BlockSpec, progress=None) -> np.ndarray:
        if not isinstance(block, (int, np.integer)):
            raise ValueError("DawDreamer renders at one fixed block size (no block-size sequence)")
        x = np.ascontiguousarray(x, dtype=np.float32)
        total = x.shape[1]
        engine, fx = self._make(int(block), x)
        t0 = time.perf_counter()
        engine.render(total / self.sample_rate)
        self.last_seconds = time.perf_counter() - t0
        self._latency = int(fx.get_latency_samples())
        y = np.asarray(engine.get_audio(), dtype=np.float32)
        if progress is not None:
            progress(total)
        if y.shape[1] < total:
            raise RuntimeError(f"DawDreamer rendered {y.shape[1]} samples, expected {total}")
        return np.ascontiguousarray(y[:, :total])

    def reported_latency(self) -> int:
        if self._latency is None:
            engine, fx = self._make(512, np.zeros((2, 512), np.float32))
            engine.render(512 / self.sample_rate)
            self._latency = int(fx.get_latency_samples())
        return self._latency
