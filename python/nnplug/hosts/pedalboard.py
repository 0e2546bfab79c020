"""pedalboard (Spotify): compensates the reported latency; takes one block size per call.

A block-size sequence is fed chunk by chunk with reset=False; pedalboard then holds back
the first `reported latency` samples across the calls, so that many zeros follow the input
and the output keeps the input's length, as with a single call.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Union

import numpy as np

from . import BlockSpec, Host, block_sequence, param


class PedalboardHost(Host):
    name = "pedalboard"
    compensates_latency = True
    supports_block_sequence = True

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

    def render(self, x: np.ndarray, block: BlockSpec, progress=None) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        channels, total = x.shape
        sr = self.sample_rate
        if isinstance(block, (int, np.integer)) and progress is None:
            return self.plugin.process(x, sr, buffer_size=int(block), reset=True)
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
        self.plugin.process(np.zeros((channels, biggest), np.float32), sr, buffer_size=biggest, reset=True)
        self.plugin.reset()
        # pedalboard holds back the first `latency` output samples across reset=False calls:
        # feed that many zeros after the input so the output keeps the input's length.
        latency = self.reported_latency()
        xp = np.concatenate([x, np.zeros((channels, latency), np.float32)], axis=1)
        if fixed:
            per = max(1, int(sr) // int(block)) * int(block)
            sizes = block_sequence(per, xp.shape[1])
            buffer_sizes = [int(block)] * len(sizes)
        else:
            sizes = block_sequence(seq, xp.shape[1])
            buffer_sizes = sizes
        out, pos = [], 0
        for b, bs in zip(sizes, buffer_sizes):
            y = self.plugin.process(xp[:, pos:pos + b], sr, buffer_size=bs, reset=False)
            if y.size:
                out.append(y.reshape(channels, -1))
            pos += b
            if progress is not None:
                progress(min(b, max(0, total - (pos - b))))
        y = np.concatenate(out, axis=1) if out else np.zeros((channels, 0), np.float32)
        return np.ascontiguousarray(y[:, :total])

    def reported_latency(self) -> int:
        return int(self.plugin.reported_latency_samples)
