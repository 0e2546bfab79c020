"""pedalboard (Spotify): compensates the reported latency; takes one block size per call.

A block-size sequence is fed chunk by chunk with reset=False; pedalboard then holds back
the first `reported latency` samples across the calls, so that many zeros follow the input
and the output keeps the input's length, as with a single call.

Beyond the common Host interface, one pedalboard instance keeps playing between calls, so it
also offers the stream itself (`process` with reset=False, `reset`), the plugin's raw state
and preset data, and its raw (normalized) parameter list.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import numpy as np

from . import BlockSpec, Host, Timing, block_sequence, param, seed_torch


class RawParameter:
    """One parameter as pedalboard lists it: its key, shown name, normalized value, and for a
    choice parameter its labels. `value` reads and writes in pedalboard's own units (labels
    for choices), for parameters outside the ID table (the wrapper's `program`)."""

    def __init__(self, plugin, key: str):
        self._plugin, self.key = plugin, key
        self._p = plugin.parameters[key]

    @property
    def name(self) -> str:
        return self._p.name

    @property
    def choices(self) -> Tuple[str, ...]:
        return tuple(str(c) for c in self._p.valid_values) if self._p.type is str else ()

    @property
    def raw_value(self) -> float:
        return self._p.raw_value

    @raw_value.setter
    def raw_value(self, v: float) -> None:
        self._p.raw_value = v

    @property
    def value(self):
        return getattr(self._plugin, self.key)

    @value.setter
    def value(self, v) -> None:
        setattr(self._plugin, self.key, v)


class PedalboardHost(Host):
    name = "pedalboard"
    compensates_latency = True
    supports_block_sequence = True
    keeps_instance = True

    def __init__(self, bundle: Union[str, Path], sample_rate: float = 44100.0):
        super().__init__(bundle, sample_rate)
        import pedalboard
        self.plugin = pedalboard.load_plugin(str(self.bundle))
        self._keys: Dict[str, str] = {p.name: key for key, p in self.plugin.parameters.items()}

    def _key(self, pid: str) -> str:
        p = param(pid)
        try:
            return self._keys[p.name]
        except KeyError:
            raise KeyError(f"pedalboard lists no parameter named {p.name!r} (ID {pid})") from None

    def set_param(self, pid: str, value) -> None:
        p = param(pid)
        if p.is_choice:
            setattr(self.plugin, self._key(pid), p.check(value))
        else:
            # The exact normalized value. pedalboard's own setter (setattr) maps a value
            # through a range it infers by sampling the parameter's text, on a coarser grid
            # than the parameter's step: latent_scale_1 = 0.1 became 0.104.
            self.plugin.parameters[self._key(pid)].raw_value = p.normalized(value)

    def get_param(self, pid: str):
        v = getattr(self.plugin, self._key(pid))
        return str(v) if param(pid).is_choice else float(v)

    def parameter_names(self) -> List[str]:
        return [p.name for p in self.plugin.parameters.values()]

    def identity(self) -> Dict[str, str]:
        """The plugin's name, manufacturer and version as the host reads them ("" when absent)."""
        return {"name": getattr(self.plugin, "name", "") or "",
                "manufacturer": getattr(self.plugin, "manufacturer_name", "") or "",
                "version": str(getattr(self.plugin, "version", "") or "")}

    def raw_parameters(self) -> Dict[str, RawParameter]:
        """Every parameter pedalboard lists, by its key (snake_case of the shown name)."""
        return {key: RawParameter(self.plugin, key) for key in self.plugin.parameters}

    def load_preset(self, path: Union[str, Path]) -> None:
        self.plugin.load_preset(str(path))

    @property
    def raw_state(self) -> bytes:
        return self.plugin.raw_state

    @raw_state.setter
    def raw_state(self, data: bytes) -> None:
        self.plugin.raw_state = data

    @property
    def preset_data(self) -> bytes:
        return self.plugin.preset_data

    def process(self, x: np.ndarray, block: int, reset: bool = True,
                sample_rate: Optional[float] = None) -> np.ndarray:
        """One pedalboard call: `reset=False` continues the stream of the previous call (whose
        first `reported latency` output samples pedalboard holds back). `sample_rate` other
        than the host's: the plugin is prepared again at that rate."""
        return self.plugin.process(x, float(sample_rate or self.sample_rate), buffer_size=int(block), reset=reset)

    def reset(self) -> None:
        self.plugin.reset()

    def timed_render(self, x: np.ndarray, block: int) -> Tuple[np.ndarray, Timing]:
        # prepared for this block size, stream restarted; then one timed call
        self.process(np.zeros((x.shape[0], block), np.float32), block, reset=True)
        c0, t0 = time.process_time(), time.perf_counter()
        y = self.process(x, block, reset=True)
        timing = Timing(time.perf_counter() - t0, time.process_time() - c0)
        return np.asarray(y), timing

    def render(self, x: np.ndarray, block: BlockSpec, progress=None, seed: Optional[int] = None) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        channels, total = x.shape
        if isinstance(block, (int, np.integer)) and progress is None:
            if seed is not None:
                # The plugin's reset() waits for its worker thread to finish the last stream's
                # model calls: none of their draws may come after the seed.
                self.reset()
            seed_torch(seed)
            return self.process(x, int(block), reset=True)
        # Chunk by chunk in one stream; a fixed block size is fed in one-second chunks of whole
        # blocks (a live progress bar).
        fixed = isinstance(block, (int, np.integer))
        if not fixed:
            seq = [int(b) for b in block]
            if not seq or min(seq) < 1:
                raise ValueError(f"block sizes must be >= 1, got {block!r}")
            if seq[0] < 3:
                raise ValueError("a block sequence must not start below 3 samples (pedalboard would read a "
                                 "(2, 1) chunk as one channel of two samples)")
        biggest = int(block) if fixed else max(seq)
        # A DAW announces its largest block in prepareToPlay before it plays; pedalboard
        # prepares again whenever buffer_size changes, and a block larger than any prepared
        # before may rebuild the plugin's engine (a new stream). Prepare the largest first.
        self.process(np.zeros((channels, biggest), np.float32), biggest, reset=True)
        self.reset()
        seed_torch(seed)
        # pedalboard holds back the first `latency` output samples across reset=False calls:
        # feed that many zeros after the input so the output keeps the input's length.
        latency = self.reported_latency()
        xp = np.concatenate([x, np.zeros((channels, latency), np.float32)], axis=1)
        if fixed:
            per = max(1, int(self.sample_rate) // int(block)) * int(block)
            sizes = block_sequence(per, xp.shape[1])
            buffer_sizes = [int(block)] * len(sizes)
        else:
            sizes = block_sequence(seq, xp.shape[1])
            buffer_sizes = sizes
        out, pos = [], 0
        for b, bs in zip(sizes, buffer_sizes):
            y = self.process(xp[:, pos:pos + b], bs, reset=False)
            if y.size:
                out.append(y.reshape(channels, -1))
            pos += b
            if progress is not None:
                progress(min(b, max(0, total - (pos - b))))
        y = np.concatenate(out, axis=1) if out else np.zeros((channels, 0), np.float32)
        return np.ascontiguousarray(y[:, :total])

    def reported_latency(self) -> int:
        return int(self.plugin.reported_latency_samples)
