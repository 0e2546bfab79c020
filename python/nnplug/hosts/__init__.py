"""The built plugin in real hosts (pedalboard, DawDreamer), behind one small interface.
This package is the only code that imports pedalboard or DawDreamer (a test checks it).

    with staged_bundle(plugin, model) as bundle:      # a private copy with MODEL as default
        host = open_host("pedalboard", bundle, sample_rate=44100)
        host.set_param("dry_wet", 50)                 # parameter IDs, human units
        y = host.render(x, 512)                       # (channels, samples) float32
        host.reported_latency(), host.compensates_latency
        host.status()                                 # what the plugin says it plays (status.py)
        y, timing = host.timed_render(x, 512)         # the processing alone, wall and CPU seconds

`open_host("ardour", ...)` renders each call in a headless Ardour 7 session (hosts/ardour.py).
What only one host can do lives on its class: pedalboard keeps one instance playing
(`process(x, block, reset=False)`, `reset()`, `raw_state` read and written, `preset_data`,
`raw_parameters()`); DawDreamer renders a graph (`Session`: automation, parameter text,
chains of instances). `python -m nnplug.hosts.memory` measures a host's memory in a child.

Parameters are addressed by the plugin's stable IDs (juce_project/PluginProcessor.h); the
table below maps them to the names hosts show, with the units and ranges of
Parameters.cpp's createParameterLayout(). A test checks the table against what each host lists.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from nnplug.contract import DEFAULT_CONTROL_PARAMETER, MAX_CONTROLS, METHOD_CHOICES

BlockSpec = Union[int, Sequence[int]]   # one host block size, or a sequence cycled through


class Timing(NamedTuple):
    """Seconds spent processing: wall clock, and CPU time of the whole process (all threads)."""
    wall: float
    cpu: float


@dataclass(frozen=True)
class Param:
    id: str
    name: str                                   # as hosts show it
    lo: float = 0.0
    hi: float = 1.0
    choices: Tuple[str, ...] = ()               # for choice parameters: the labels, in order
    default: Union[float, str] = 0.0

    @property
    def is_choice(self) -> bool:
        return bool(self.choices)

    def choice_label(self, value) -> str:
        """A choice given as its label, its index, or (buffer_size) a number of samples."""
        if isinstance(value, str):
            for c in self.choices:
                if c.lower() == value.strip().lower():
                    return c
            if value.strip().isdigit() and value.strip() in self.choices:
                return value.strip()
        elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            if str(int(value)) in self.choices:
                return str(int(value))
            if 0 <= int(value) < len(self.choices):
                return self.choices[int(value)]
        raise ValueError(f"{self.id}: {value!r} is not one of {list(self.choices)}")

    def check(self, value) -> Union[float, str]:
        if self.is_choice:
            return self.choice_label(value)
        v = float(value)
        if not (self.lo <= v <= self.hi):
            raise ValueError(f"{self.id}: {v} is outside [{self.lo}, {self.hi}]")
        return v

    def normalized(self, value) -> float:
        """The 0..1 value a host's raw parameter interface takes."""
        v = self.check(value)
        if self.is_choice:
            return self.choices.index(v) / max(1, len(self.choices) - 1)
        return (v - self.lo) / (self.hi - self.lo)


BUFFER_SIZES = ("Auto", "64", "128", "256", "512", "1024", "2048", "4096", "8192", "16384")
INFERENCE_MODES = ("Synchronous", "Worker thread")
LATENT_CONTROLS = 8


def _table() -> Dict[str, Param]:
    ps = [
        Param("input_gain", "Input gain", -24.0, 24.0, default=0.0),
        Param("output_gain", "Output gain", -24.0, 24.0, default=0.0),
        Param("dry_wet", "Dry/wet", 0.0, 100.0, default=100.0),
        Param("buffer_size", "Model buffer size", choices=BUFFER_SIZES, default="Auto"),
        Param("inference_mode", "Inference mode", choices=INFERENCE_MODES, default="Synchronous"),
        Param("on_failure", "On failure", choices=("Pass dry", "Silence"), default="Pass dry"),
        Param("mono_mode", "Mono model on stereo", choices=("Per channel", "Downmix"), default="Per channel"),
        Param("model_method", "Model method", choices=METHOD_CHOICES, default="Auto"),
    ]
    for i in range(1, MAX_CONTROLS + 1):
        ps.append(Param(f"model_control_{i}", f"Model control {i}", 0.0, 1.0, default=DEFAULT_CONTROL_PARAMETER))
    for i in range(1, LATENT_CONTROLS + 1):
        ps.append(Param(f"latent_scale_{i}", f"Latent {i} scale", -4.0, 4.0, default=1.0))
        ps.append(Param(f"latent_bias_{i}", f"Latent {i} bias", -4.0, 4.0, default=0.0))
    return {p.id: p for p in ps}


PARAMETERS: Dict[str, Param] = _table()

# The settings at which the plugin must be bit-identical to the model.
UNITY = {"input_gain": 0.0, "output_gain": 0.0, "dry_wet": 100.0,
         **{f"latent_scale_{i}": 1.0 for i in range(1, LATENT_CONTROLS + 1)},
         **{f"latent_bias_{i}": 0.0 for i in range(1, LATENT_CONTROLS + 1)},
         **{f"model_control_{i}": DEFAULT_CONTROL_PARAMETER for i in range(1, MAX_CONTROLS + 1)}}


def param(pid: str) -> Param:
    try:
        return PARAMETERS[pid]
    except KeyError:
        raise KeyError(f"unknown parameter ID {pid!r}; known: {', '.join(PARAMETERS)}") from None


def parse_param_assignment(text: str) -> Tuple[str, Union[float, str]]:
    """`ID=VALUE` (e.g. `dry_wet=50`, `inference_mode=Worker thread`) -> (id, checked value)."""
    if "=" not in text:
        raise ValueError(f"--param {text!r}: expected ID=VALUE")
    pid, value = (s.strip() for s in text.split("=", 1))
    p = param(pid)
    if p.is_choice:
        return pid, p.check(value)
    try:
        return pid, p.check(float(value))
    except ValueError as e:
        raise ValueError(f"--param {text!r}: {e}") from None


class Host:
    """One plugin instance in one host. Subclasses: PedalboardHost, DawDreamerHost, ArdourHost."""

    name = "?"
    compensates_latency = False   # does the host remove the reported latency from its output?
    supports_block_sequence = False
    keeps_instance = False        # do renders play one plugin instance on (parameter ramps carry over)?

    def __init__(self, bundle: Union[str, Path], sample_rate: float = 44100.0):
        self.bundle = Path(bundle)
        self.sample_rate = float(sample_rate)
        self.last_seconds: Optional[float] = None   # wall time of the last render's processing alone

    def set_param(self, pid: str, value) -> None:
        raise NotImplementedError

    def get_param(self, pid: str) -> Union[float, str]:
        raise NotImplementedError

    def set_params(self, values: Dict[str, Union[float, str]]) -> None:
        for k, v in values.items():
            self.set_param(k, v)

    def load_preset(self, path: Union[str, Path]) -> None:
        raise NotImplementedError

    def render(self, x: np.ndarray, block: BlockSpec, progress=None, seed: Optional[int] = None) -> np.ndarray:
        """Render `x` (channels, samples) from a fresh stream; returns (channels, samples').
        `seed`: torch's default generator, which the plugin's model draws from in this process,
        is seeded with it just before the stream starts (a stochastic model then plays as the
        reference at that seed)."""
        raise NotImplementedError

    def timed_render(self, x: np.ndarray, block: int) -> Tuple[np.ndarray, Timing]:
        """Render `x` at a fixed block size, timing the processing alone (the plugin and its
        model loaded and prepared before). Returns all the output the host made, and the timing."""
        raise NotImplementedError

    def reported_latency(self) -> int:
        raise NotImplementedError

    def parameter_names(self) -> List[str]:
        raise NotImplementedError

    @property
    def raw_state(self) -> bytes:
        """The host's state of the plugin (a container holding the plugin's own state)."""
        raise NotImplementedError

    def stream_prefix(self, latency: int, block: int) -> int:
        """Silent samples the plugin plays, from the start of its stream, before the first input
        sample: 0 in the Python hosts; a DAW's export pre-roll (hosts/ardour.py)."""
        return 0

    def close(self) -> None:
        """Release what the host holds outside the process (temporary sessions)."""

    def status(self):
        """The STATUS the plugin publishes in its state (hosts/status.py: PluginStatus): what it
        loaded, its model buffer size N, its latency, whether it failed and why."""
        from .status import plugin_status
        return plugin_status(self.raw_state)


def seed_torch(seed: Optional[int]) -> None:
    """Seeds torch's default generator (the one a model in the plugin draws from: the plugin's
    libtorch is this process's). None: left alone."""
    if seed is not None:
        import torch
        torch.manual_seed(int(seed))


HOSTS = ("pedalboard", "dawdreamer")
# Hosts that are whole applications (installed apart, for validation in a real DAW: hosts/ardour.py).
DAWS = ("ardour",)


def open_host(name: str, bundle: Union[str, Path], sample_rate: float = 44100.0) -> Host:
    if name == "pedalboard":
        from .pedalboard import PedalboardHost
        return PedalboardHost(bundle, sample_rate)
    if name == "dawdreamer":
        from .dawdreamer import DawDreamerHost
        return DawDreamerHost(bundle, sample_rate)
    if name == "ardour":
        from .ardour import ArdourHost
        return ArdourHost(bundle, sample_rate)
    raise ValueError(f"unknown host {name!r}: choose one of {list(HOSTS + DAWS)}")


def block_sequence(block: BlockSpec, total: int) -> List[int]:
    """The host block sizes that cover `total` samples: `block` repeated, or a sequence cycled."""
    sizes = [int(block)] if isinstance(block, (int, np.integer)) else [int(b) for b in block]
    if not sizes or min(sizes) < 1:
        raise ValueError(f"block sizes must be >= 1, got {block!r}")
    out, pos, i = [], 0, 0
    while pos < total:
        b = min(sizes[i % len(sizes)], total - pos)
        out.append(b)
        pos += b
        i += 1
    return out


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


@contextlib.contextmanager
def _no_build_running(plugin: Path):
    """Holds a shared lock on the build directory's `nnplug build` lock file (if the bundle
    lives in one), so that a bundle is never copied while a build is rewriting it."""
    lock = next((d / ".nnplug-build.lock" for d in plugin.resolve().parents
                 if (d / ".nnplug-build.lock").exists()), None)
    if lock is None:
        yield
        return
    import fcntl
    fd = os.open(lock, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def copy_bundle(plugin: Union[str, Path], dest_dir: Union[str, Path]) -> Path:
    """A private copy of a built bundle (without its staged models and factory presets) in dest_dir.
    The factory presets `nnplug build` embeds are the shipped default model's: a copy staged
    with another model does not list them as its programs.

    The bundled libraries (`lib/`, libtorch: hundreds of MB) are hard-linked; everything else,
    the plugin binary above all, is copied. The dynamic linker loads a file only once per
    process (same inode = same image), and the plugin finds its staged models relative to
    where its binary was first loaded from: two hard-linked copies staged with different
    models would both play the first copy's model."""
    plugin = Path(plugin)
    if not plugin.exists():
        raise FileNotFoundError(f"plugin bundle not found: {plugin} (run `nnplug build` first)")
    dest = Path(dest_dir) / plugin.name

    def copy(src: str, dst: str) -> None:
        if "lib" in Path(src).relative_to(plugin).parts[:-1]:
            _link_or_copy(src, dst)
        else:
            shutil.copy2(src, dst)

    with _no_build_running(plugin):
        shutil.copytree(plugin, dest, copy_function=copy, ignore=shutil.ignore_patterns("models", "presets"))
    return dest


def stage_copy(plugin: Union[str, Path], model: Union[str, Path], dest_dir: Union[str, Path]) -> Path:
    """copy_bundle + stage `model` into the copy as its default model. The shared build tree
    is never written: staging writes new files in the copy only."""
    import contextlib as _cl
    import io

    from nnplug.stage import stage
    dest = copy_bundle(plugin, dest_dir)
    with _cl.redirect_stdout(io.StringIO()):
        stage(dest, [Path(model)])
    return dest


@contextlib.contextmanager
def staged_bundle(plugin: Union[str, Path], model: Optional[Union[str, Path]]) -> Iterator[Path]:
    """A temporary staged copy of `plugin` (the built bundle as is when model is None)."""
    if model is None:
        yield Path(plugin)
        return
    with tempfile.TemporaryDirectory(prefix="nnplug-bundle-") as tmp:
        yield stage_copy(plugin, model, tmp)


def default_bundle(root: Optional[Path] = None, config: str = "Release", build_dir: Optional[Path] = None) -> Path:
    """Where `nnplug build` puts the VST3 bundle."""
    root = Path(root or Path.cwd())
    build_dir = Path(build_dir or os.environ.get("NNPLUG_BUILD_DIR", root / "build"))
    return build_dir / "juce_project" / "nnplug_artefacts" / config / "VST3" / "nnplug.vst3"
