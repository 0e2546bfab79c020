"""A model file played the way the plugin plays it (plugin/src/ModelRunner.cpp), for every Python
station whose answer must agree with the plugin: validate's reference, inspect's measurements,
stage's delay, the benchmarks and the tests.

* **A real reset for every file.** Many files keep their stream state in module buffers and have
  no `reset()` (RAVE and nn~ exports: cached_conv's `...cache.pad`). The buffers are copied when
  the file is loaded; `reset()` puts them back, then calls the file's own `reset()` if it has one.
* **The played path**: encode -> decode when the contract says so, forward otherwise.
* **Seeded streams.** Stochastic files (RAVE) draw from torch's default generator, which the
  plugin shares with Python when a Python host loads it. `seeded(s)` seeds it for a stream and
  puts the caller's generator state back afterwards, so measuring never disturbs anyone's draws.
* **Measurements that repeat**: the delay of a file that states none (`measure_delay`) and
  whether state carries across calls (`carries_state`), both from the restored state at a fixed
  seed, so they give the same answer on every load, here and in the plugin.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Union

from nnplug import contract
from nnplug.contract import Contract, ContractError
from nnplug.runtime import plugin_execution

# The seed of every measurement (the plugin's kMeasureSeed): the same draws on every load.
MEASURE_SEED = 0x6E6E706C
# Delay measurement: the impulse comes one buffer into the stream, then this many samples (at
# least 8 buffers) are listened to. RAVE v2-sized models answer within about 12k samples.
DELAY_WINDOW = 65536
# Version of the delay rule below; cached delays measured by another rule are measured again.
DELAY_RULE = 1
# carries_state: one call of 2N against two calls of N from the same state. Beyond this part of
# the output's peak the two disagree because each call starts from silence (a file without
# state), not because of float rounding between the two buffer sizes.
STATE_TOLERANCE = 1e-4


class ModelPlayer:
    """One loaded model file with its restorable state, prepared for a host rate and buffer."""

    def __init__(self, path: Union[str, Path], facts: Optional[Contract] = None, method: str = "Auto"):
        import torch
        self._torch = torch
        self.path = str(path)
        self.module, text = contract.load(self.path)
        self.facts = contract.with_method(facts or contract.read_module(self.module, text, self.path), method)
        # what each model control gets: at the plugin's parameter default, the model's default
        self.controls = [contract.control_value(c, None) for c in self.facts.controls]
        self.sample_rate: Optional[float] = None
        self.n: Optional[int] = None
        self._initial: Dict[str, Any] = {}
        self._knobs = None
        self._snapshot()

    # ---- state
    def prepare(self, sample_rate: float, n: int) -> None:
        """What the plugin does at prepareToPlay for a model buffer of n samples: a Neutone file
        is told the host's rate and buffer (it allocates its queues for them and resets), and that
        state becomes the one every stream starts from. Other files start from their state at load."""
        self.sample_rate, self.n = float(sample_rate), int(n)
        if self.facts.format == "neutone":
            self.module.set_daw_sample_rate_and_buffer_size(int(round(sample_rate)), int(n))
            self._knobs = None
            self._snapshot()

    def _snapshot(self) -> None:
        self._initial = {name: b.detach().clone() for name, b in self.module.named_buffers()}

    def reset(self) -> None:
        """Back to the state remembered at load or prepare (its buffers), then its own reset()."""
        torch = self._torch
        # inference mode: a buffer the file replaced while playing is an inference tensor, which
        # only inference mode may write
        with torch.inference_mode():
            for name, buffer in self.module.named_buffers():
                saved = self._initial.get(name)
                if saved is None:
                    continue
                if buffer.shape == saved.shape and buffer.dtype == saved.dtype:
                    buffer.copy_(saved)
                else:   # the file replaced the buffer (a cache resized for another batch)
                    owner, _, leaf = name.rpartition(".")
                    setattr(self.module.get_submodule(owner) if owner else self.module, leaf, saved.clone())
        if self.facts.has_reset:
            self.module.reset()

    @contextlib.contextmanager
    def seeded(self, seed: Optional[int]) -> Iterator[None]:
        """torch's default generator seeded with `seed` inside, as it was outside (None: untouched)."""
        if seed is None:
            yield
            return
        generator = self._torch.default_generator
        state = generator.get_state()
        generator.manual_seed(int(seed))
        try:
            yield
        finally:
            generator.set_state(state)

    # ---- controls
    def set_control(self, index: int, value: float) -> None:
        """Model control `index` (contract order) to `value` in the control's own units, clamped
        to its range (a bool is on from 0.5, an int rounds half up). Applied at each stream's start."""
        spec = self.facts.controls[index]
        self.controls[index] = contract.typed_control(spec, min(max(float(value), spec.lo), spec.hi))

    def set_control_parameter(self, index: int, parameter: float) -> None:
        """Model control `index` as the plugin's "Model control k" parameter at `parameter` (0..1)
        sets it (contract.control_value)."""
        self.controls[index] = contract.control_value(self.facts.controls[index], parameter)

    def _apply_controls(self) -> None:
        """The plugin gives every attribute control its value on a stream's first buffer."""
        self._knobs = None
        for spec, value in zip(self.facts.controls, self.controls):
            if spec.kind == "attribute":
                typed = value >= 0.5 if spec.type == "bool" else int(value) if spec.type == "int" else value
                getattr(self.module, f"set_{spec.name}")(typed)

    def _knob_rows(self, n: int):
        """Neutone's [4, n] knob tensor: each knob's value held over the buffer (the file's
        defaults for knobs it does not use)."""
        torch = self._torch
        if self._knobs is None or self._knobs.shape[1] != n:
            values = torch.zeros(contract.NEUTONE_KNOBS)
            defaults = self.module.get_default_param_values().flatten()
            count = min(defaults.numel(), contract.NEUTONE_KNOBS)
            values[:count] = defaults[:count]
            for spec, value in zip(self.facts.controls, self.controls):
                if 0 <= spec.slot < contract.NEUTONE_KNOBS:
                    values[spec.slot] = value
            self._knobs = values[:, None].expand(-1, n).contiguous()
        return self._knobs

    # ---- running
    def call(self, x):
        """One buffer (batch, in_channels, N) through the played path."""
        if self.facts.format == "neutone":
            return self._torch.stack([self.module.forward(lane, self._knob_rows(lane.shape[-1])) for lane in x])
        if self.facts.latent_path:
            return self.module.decode(self.module.encode(x))
        return self.module.forward(x)

    def stream(self, lanes, n: int, seed: Optional[int] = None):
        """A fresh stream of `lanes` (batch, in_channels, T; T a multiple of n) in buffers of n,
        from the remembered state; returns (batch, out_channels, T)."""
        torch = self._torch
        batch, _, total = lanes.shape
        if total % n:
            raise ContractError(f"stream length {total} is not a multiple of the buffer size {n}")
        if self.n != n:
            self.prepare(self.sample_rate or self.facts.sample_rate or 44100.0, n)
        expected = (batch, self.facts.out_channels, n)
        outs = []
        with plugin_execution(), self.seeded(seed):
            self.reset()
            self._apply_controls()
            for i in range(0, total, n):
                y = self.call(lanes[..., i:i + n].contiguous())
                if tuple(y.shape) != expected:
                    raise ContractError(f"{self.facts.played} returned shape {tuple(y.shape)}, expected {expected}")
                outs.append(y.contiguous().clone())
        return torch.cat(outs, -1)

    def delay(self) -> Optional[int]:
        """The played path's delay at the current preparation: stated by the file, asked of a
        Neutone file, else measured (remembered by the file's content, `file_delay`)."""
        if self.facts.format == "neutone":
            if self.n is None:
                self.prepare(self.sample_rate or 48000.0, self.measure_buffer())
            return int(self.module.calc_buffering_delay_samples()) + int(self.module.calc_model_delay_samples())
        if self.facts.delay_known:
            return self.facts.delay
        return file_delay(self.path, self.facts, self)["delay"]

    # ---- measurements
    def measure_buffer(self) -> int:
        """The buffer measurements run at: the plugin's Auto size (a Neutone file's first native
        buffer size, at which its wrapper does no re-blocking of its own)."""
        if self.facts.format == "neutone":
            sizes = self.module.get_native_buffer_sizes()
            return int(sizes[0]) if len(sizes) else contract.buffer_size("Auto", 1)
        return contract.buffer_size("Auto", self.facts.ratio)

    def native_rate(self) -> float:
        """The rate a Neutone file runs at without resampling of its own: its first native rate."""
        rates = self.module.get_native_sample_rates()
        return float(rates[0]) if len(rates) else 48000.0

    def _fresh(self, n: int) -> "ModelPlayer":
        """The file loaded again, in the state it was saved in (what this process's own reset
        cannot promise for state that a file without reset() keeps outside its buffers),
        prepared for buffers of n: a Neutone file at its native rate (no resampling of its own)."""
        player = ModelPlayer(self.path, self.facts)
        rate = self.sample_rate or self.facts.sample_rate or 44100.0
        if self.facts.format == "neutone":
            rate = player.native_rate()
        player.prepare(rate, n)
        return player

    def measure_delay(self) -> Optional[int]:
        """Where the response to an impulse lands: the difference between an impulse and a silent
        stream, both from the file's saved state at the same seed (so the noise a stochastic model
        draws cancels), and the delay is where half of that difference's energy has arrived,
        counted from the impulse. None when the impulse changes nothing."""
        torch = self._torch
        n = self.measure_buffer()
        start = n
        total = start + n * max(8, -(-DELAY_WINDOW // n))
        silence = torch.zeros(1, self.facts.in_channels, total)
        impulse = silence.clone()
        impulse[:, :, start] = 1.0
        quiet = self._fresh(n).stream(silence, n, MEASURE_SEED)
        loud = self._fresh(n).stream(impulse, n, MEASURE_SEED)
        energy = ((loud.double() - quiet.double()) ** 2).sum(dim=(0, 1)).numpy()
        delay = energy_median(energy, start)
        return None if delay is None else max(0, delay)

    def carries_state(self) -> bool:
        """Does the output of a call depend on the calls before it as a stream's must? One call
        of 2N against two of N, from the file's saved state at the same seed, on noise."""
        torch = self._torch
        n = self.measure_buffer()
        g = torch.Generator().manual_seed(MEASURE_SEED)
        x = 0.5 * torch.randn(1, self.facts.in_channels, 2 * n, generator=g)
        whole = self._fresh(2 * n).stream(x, 2 * n, MEASURE_SEED)
        halves = self._fresh(n).stream(x, n, MEASURE_SEED)
        peak = float(whole.abs().max())
        return float((whole - halves).abs().max()) <= STATE_TOLERANCE * max(peak, 1e-30)


def energy_median(energy, start: int) -> Optional[int]:
    """The index (minus `start`) where the cumulative energy first reaches half of the total."""
    import numpy as np
    total = float(energy.sum())
    if not total > 0.0:
        return None
    cumulative = np.cumsum(energy)
    return int(np.searchsorted(cumulative, 0.5 * cumulative[-1])) - start


# ---- delays remembered by the file's content
def cache_dir() -> Path:
    """Per-user cache (NNPLUG_CACHE_DIR, else $XDG_CACHE_HOME/nnplug, else ~/.cache/nnplug)."""
    if os.environ.get("NNPLUG_CACHE_DIR"):
        return Path(os.environ["NNPLUG_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nnplug"


def sha256_file(path: Union[str, Path]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_delay(path: Union[str, Path], facts: Optional[Contract] = None,
               player: Optional[ModelPlayer] = None) -> Dict[str, Any]:
    """The played path's delay: the one the file states, else the measured one, remembered by
    the file's sha256 so a large file is measured once. Returns {"delay", "source", "sha256"}."""
    facts = facts or contract.read(path)
    sha = sha256_file(path)
    if facts.delay_known:
        return {"delay": facts.delay, "source": "stated", "sha256": sha}
    entry = cache_dir() / "delays" / f"{sha}.json"
    try:
        saved = json.loads(entry.read_text())
        if saved.get("rule") == DELAY_RULE and saved.get("played") == facts.played:
            return {"delay": saved["delay"], "source": "measured", "sha256": sha}
    except (OSError, ValueError, KeyError):
        pass
    delay = (player or ModelPlayer(path, facts)).measure_delay()
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        # whole, then renamed: a reader (the plugin, another process) never sees half a file
        temp = entry.with_name(f"{entry.name}.{os.getpid()}.tmp")
        temp.write_text(json.dumps({"rule": DELAY_RULE, "played": facts.played, "delay": delay}))
        os.replace(temp, entry)
    except OSError:
        pass   # a read-only home loses only the cache
    return {"delay": delay, "source": "measured", "sha256": sha}
