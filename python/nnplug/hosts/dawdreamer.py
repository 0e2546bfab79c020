"""DawDreamer: renders a graph at the engine's fixed block size; does not compensate latency.

Every render builds a fresh RenderEngine(sample_rate, block) with a fresh plugin instance,
then applies the preset (if any), the parameters set so far and their automation, in that
order. DawDreamer's own load_state needs an editor (it crashes headless), so state travels
as a .vstpreset; the state can be read (save_state) after a render.
A changing block-size sequence is not possible in DawDreamer.

`Session` is one engine with its instances (a chain, for memory measurements), kept for as
long as its caller keeps it: renders on it play the same instances again.
"""
from __future__ import annotations

import itertools
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import numpy as np

from . import BlockSpec, Host, Timing, param, seed_torch

_counter = itertools.count()


class Session:
    """A RenderEngine playing `x` through `instances` plugin instances in a chain."""

    def __init__(self, bundle: Union[str, Path], sample_rate: float, block: int, x: np.ndarray, instances: int = 1):
        import dawdreamer as daw
        self.bundle, self.sample_rate = str(bundle), float(sample_rate)
        self.engine = daw.RenderEngine(int(sample_rate), int(block))
        self._tag = next(_counter)
        self.playback = self.engine.make_playback_processor(f"in{self._tag}", np.ascontiguousarray(x, dtype=np.float32))
        self.chain: list = []
        self.names: List[str] = []
        self._loaded = False
        for _ in range(instances):
            self.add_instance()

    def add_instance(self) -> None:
        """One more instance at the end of the chain (before the first render)."""
        fx = self.engine.make_plugin_processor(f"fx{self._tag}_{len(self.chain)}", self.bundle)
        self.chain.append(fx)
        if len(self.chain) == 1:
            self.names = [fx.get_parameter_name(i) for i in range(fx.get_plugin_parameter_size())]

    @property
    def fx(self):
        """The first instance: the one parameters, presets and state address."""
        return self.chain[0]

    def index(self, name: str) -> int:
        if name not in self.names:
            raise KeyError(f"DawDreamer lists no parameter named {name!r}")
        return self.names.index(name)

    def load_preset(self, path: Union[str, Path]) -> None:
        if not self.fx.load_vst3_preset(str(path)):
            raise RuntimeError(f"DawDreamer could not load the preset {path}")

    def set_param(self, pid: str, value) -> None:
        """By ID in its units (normalized exactly here, as DawDreamer takes 0..1)."""
        p = param(pid)
        if p.name not in self.names:
            raise KeyError(f"DawDreamer lists no parameter named {p.name!r} (ID {pid})")
        self.fx.set_parameter(self.names.index(p.name), p.normalized(value))

    def set_normalized(self, name: str, value: float) -> None:
        """A parameter by its shown name, normalized (for ones outside the ID table: Program)."""
        self.fx.set_parameter(self.index(name), float(value))

    def set_automation(self, pid: str, curve: np.ndarray) -> None:
        """Per-sample normalized values of a parameter, played with the render."""
        self.fx.set_automation(self.index(param(pid).name), np.asarray(curve, np.float32))

    def text(self, name: str) -> str:
        """The parameter's value as the plugin shows it."""
        return self.fx.get_parameter_text(self.index(name))

    def connect(self) -> None:
        """Loads the graph (once; the first render does it when not done before)."""
        if not self._loaded:
            graph = [(self.playback, [])]
            for i, fx in enumerate(self.chain):
                graph.append((fx, [self.playback.get_name() if i == 0 else self.chain[i - 1].get_name()]))
            self.engine.load_graph(graph)
            self._loaded = True

    def render(self, samples: int, seed: Optional[int] = None) -> Tuple[np.ndarray, Timing]:
        """Renders `samples` samples; returns all the audio DawDreamer made and the timing of
        the rendering alone. `seed`: torch's generator seeded once the plugin is loaded and
        prepared, just before the stream starts."""
        self.connect()
        seed_torch(seed)
        c0, t0 = time.process_time(), time.perf_counter()
        self.engine.render(samples / self.sample_rate)
        timing = Timing(time.perf_counter() - t0, time.process_time() - c0)
        return np.asarray(self.engine.get_audio(), dtype=np.float32), timing

    def latency(self) -> int:
        return int(self.fx.get_latency_samples())

    def state(self) -> bytes:
        """The first instance's state (juce getStateInformation through DawDreamer's save_state)."""
        with tempfile.NamedTemporaryFile(suffix=".state") as f:
            self.fx.save_state(f.name)
            return Path(f.name).read_bytes()


class DawDreamerHost(Host):
    name = "dawdreamer"
    compensates_latency = False
    supports_block_sequence = False

    def __init__(self, bundle: Union[str, Path], sample_rate: float = 44100.0):
        super().__init__(bundle, sample_rate)
        import dawdreamer  # noqa: F401  (fail early when missing)
        self.values: Dict[str, Union[float, str]] = {}
        self.automation: Dict[str, np.ndarray] = {}
        self.preset: Optional[Path] = None
        self._latency: Optional[int] = None
        self._names: Optional[List[str]] = None
        self._last: Optional[Session] = None
        self._timed: Dict[int, Session] = {}

    def session(self, block: int, x: np.ndarray, instances: int = 1) -> Session:
        """A fresh engine and instance(s) with the preset, parameters and automation applied."""
        s = Session(self.bundle, self.sample_rate, block, x, instances)
        self._names = s.names
        if self.preset is not None:
            s.load_preset(self.preset)
        for pid, value in self.values.items():
            s.set_param(pid, value)
        for pid, curve in self.automation.items():
            s.set_automation(pid, curve)
        return s

    def _changed(self) -> None:
        self._timed.clear()

    def set_param(self, pid: str, value) -> None:
        self.values[pid] = param(pid).check(value)
        self._changed()

    def set_automation(self, pid: str, curve: np.ndarray) -> None:
        """Normalized per-sample values of `pid` for the renders that follow."""
        param(pid)
        self.automation[pid] = np.asarray(curve, np.float32)
        self._changed()

    def get_param(self, pid: str):
        if pid in self.values:
            return self.values[pid]
        if self.preset is not None:
            # read it from an instance with the preset applied
            p = param(pid)
            text = self.session(512, np.zeros((2, 1), np.float32)).text(p.name)
            return p.check(text.split()[0]) if p.is_choice else float(text.split()[0])
        return param(pid).default

    def parameter_names(self) -> List[str]:
        if self._names is None:
            self.session(512, np.zeros((2, 1), np.float32))
        return list(self._names or [])

    def load_preset(self, path: Union[str, Path]) -> None:
        self.preset = Path(path)
        self.values.clear()
        self._changed()

    def render(self, x: np.ndarray, block: BlockSpec, progress=None, seed: Optional[int] = None) -> np.ndarray:
        if not isinstance(block, (int, np.integer)):
            raise ValueError("DawDreamer renders at one fixed block size (no block-size sequence)")
        x = np.ascontiguousarray(x, dtype=np.float32)
        total = x.shape[1]
        # The last render's instance goes first: its worker thread may still be finishing a model
        # call, whose draws from torch's generator must not overlap the new instance's load.
        self._last = None
        s = self._last = self.session(int(block), x)
        y, timing = s.render(total, seed)
        self.last_seconds = timing.wall
        self._latency = s.latency()
        if progress is not None:
            progress(total)
        if y.shape[1] < total:
            raise RuntimeError(f"DawDreamer rendered {y.shape[1]} samples, expected {total}")
        return np.ascontiguousarray(y[:, :total])

    def timed_render(self, x: np.ndarray, block: int) -> Tuple[np.ndarray, Timing]:
        # One engine per block size, kept while the settings stay (each render re-prepares
        # the plugin), so that the model's load is not timed; DawDreamer returns all it made.
        s = self._timed.get(int(block))
        if s is None:
            s = self._timed[int(block)] = self.session(int(block), x)
        y, timing = s.render(x.shape[1])
        self._latency = s.latency()
        return y, timing

    @property
    def raw_state(self) -> bytes:
        """The plugin's state after the last render."""
        if self._last is None:
            raise RuntimeError("DawDreamer: no render yet, so no instance to read the state from")
        return self._last.state()

    def reported_latency(self) -> int:
        if self._latency is None:
            s = self.session(512, np.zeros((2, 512), np.float32))
            s.render(512)
            self._latency = s.latency()
        return self._latency
