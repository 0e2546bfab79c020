"""The runners of `nnplug bench plugin`, behind one protocol.

A runner processes the benchmark's audio once per call of `measure(mode, block, reference)`
and returns the processing's timing (model load and warm-up excluded) and, where it can
tell, whether its output is bit-identical to the raw loop's. `cases()` lists the rows it
fills: (mode, block), with "-" and None for the raw loops, which have neither.

The first raw loop to run leaves its output in the shared `Reference`; the plugin's renders
are checked against it at the latency the plugin reports, so that a plugin that failed to
load its model (and passed the dry signal) cannot look fast.
"""
from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, NamedTuple, Optional, Protocol, Sequence, Tuple

import numpy as np

from nnplug.runtime import plugin_execution

Case = Tuple[str, Optional[int]]        # (inference mode or "-", host block or None)
RAW_CASE: Case = ("-", None)


class Measurement(NamedTuple):
    wall: float                          # seconds of processing, wall clock
    cpu: float                           # CPU seconds of the whole process (all threads)
    exact: Optional[bool] = None         # bit-identical to the raw loop (None: not checked)


class Runner(Protocol):
    name: str                            # the report's runner column
    label: str                           # for progress lines
    batch: int

    def cases(self) -> Sequence[Case]: ...

    def measure(self, mode: str, block: Optional[int], reference: "Reference") -> Measurement: ...


@dataclass
class Reference:
    """The raw loop's output (batch, out_channels, T), from whichever raw runner ran first."""
    facts: object
    channels: int
    raw: Optional[np.ndarray] = None

    def expected(self) -> Optional[np.ndarray]:
        return None if self.raw is None else expected_from_raw(self.raw, self.facts, self.channels)


def expected_from_raw(raw_out: np.ndarray, facts, channels: int) -> np.ndarray:
    """The plugin's wet output (channels, T) at unity from the raw loop's (batch, co, T), as
    validate.reference maps lanes to host channels (per-channel batch, or a model's channels)."""
    batch, co, _ = raw_out.shape
    if batch > 1:
        return raw_out[:channels, 0]
    if co >= channels:
        return raw_out[0, :channels]
    return np.repeat(raw_out[0, :1], channels, 0)


def check_exact(host: str, y: np.ndarray, expected: np.ndarray, reported: int, delay: int) -> Optional[bool]:
    """pedalboard removes the reported latency R: y[t] = raw[t + d]. DawDreamer does not:
    y[t] = raw[t - (R - d)]. Checked over the samples both cover."""
    T = min(y.shape[1], expected.shape[1])
    if host == "pedalboard":
        n = T - reported
        if n <= 0:
            return None
        return bool(np.array_equal(y[:, :n], expected[:, delay:delay + n]))
    s = reported - delay
    if s < 0:
        return False          # a latency below the model's own delay: the model is not running
    if T - s <= 0:
        return None
    return bool(np.array_equal(y[:, s:T], expected[:, :T - s]))


def run_exe(exe: Path, args: Sequence[str], timeout: float = 3600) -> dict:
    p = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError((p.stderr.strip() or p.stdout.strip() or f"exit {p.returncode}").splitlines()[-1])
    return json.loads(p.stdout.strip().splitlines()[-1])


@dataclass
class Job:
    """What every runner processes: the model, its buffer N, the signal (also as a file for
    the C++ runners) and its lanes (batch, in_channels, T) for the raw loops."""
    model: Path
    facts: object
    n: int
    batch: int
    x: np.ndarray                        # (channels, T)
    lanes: np.ndarray
    signal_file: Path
    sample_rate: float

    @property
    def channels(self) -> int:
        return self.x.shape[0]


# ---- raw libtorch ----------------------------------------------------------------------------
class LibtorchCpp:
    """The model's method(s) in a tight loop on buffers of N, in C++ (`nnplug_model_bench raw`,
    called as the plugin calls it): the floor. `batch=1` runs the model alone on one channel
    (the "x real time on one core" figure). Every call's CPU time is kept in `marks`: the
    rounds that bracket each plugin round."""

    label = "libtorch C++"

    def __init__(self, exe: Path, job: Job, batch: Optional[int] = None):
        self.exe, self.job = exe, job
        self.batch = job.batch if batch is None else batch
        self.name = "libtorch-cpp" if batch is None else "libtorch-cpp mono"
        self.marks: List[float] = []
        self.load_seconds = float("nan")
        self.first_calls: List[float] = []

    def cases(self) -> Sequence[Case]:
        return [RAW_CASE]

    def measure(self, mode: str, block: Optional[int], reference: Reference) -> Measurement:
        job = self.job
        out = job.signal_file.with_name(f"raw-{self.batch}.f32")
        args = ["raw", "--model", str(job.model), "--buffer", str(job.n), "--batch", str(self.batch),
                "--input", str(job.signal_file), "--input-channels", str(job.channels), "--rounds", "1"]
        keep = reference.raw is None and self.batch == job.batch
        d = run_exe(self.exe, args + (["--output", str(out)] if self.batch == job.batch else []))
        self.marks.append(d["cpu_rounds"][0])
        self.load_seconds, self.first_calls = d.get("load_seconds", self.load_seconds), d.get("first_calls", [])
        if keep:
            reference.raw = np.fromfile(out, np.float32).reshape(self.batch, job.facts.out_channels, -1)
        return Measurement(d["rounds"][0], d["cpu_rounds"][0])


class LibtorchPython:
    """The same loop from Python (`nnplug.runtime.plugin_execution`), in the process where
    pedalboard and DawDreamer run the plugin on Python's own libtorch."""

    name, label = "libtorch-python", "libtorch Python"

    def __init__(self, job: Job, warmup: int = 3):
        import torch

        from nnplug.player import ModelPlayer
        self.torch, self.job, self.batch = torch, job, job.batch
        self.player = ModelPlayer(job.model, job.facts)
        self.player.prepare(job.sample_rate, job.n)
        with plugin_execution():
            for _ in range(warmup):
                self.player.call(torch.zeros(job.batch, job.facts.in_channels, job.n))

    def call(self, x):
        return self.player.call(x)

    def reset(self) -> None:
        self.player.reset()

    def cases(self) -> Sequence[Case]:
        return [RAW_CASE]

    def measure(self, mode: str, block: Optional[int], reference: Reference) -> Measurement:
        n, src = self.job.n, self.torch.from_numpy(np.ascontiguousarray(self.job.lanes))
        outs = []
        with plugin_execution():
            self.reset()
            c0, t0 = time.process_time(), time.perf_counter()
            for i in range(0, src.shape[-1], n):
                outs.append(self.call(src[..., i:i + n].contiguous()))
            dt, dc = time.perf_counter() - t0, time.process_time() - c0
        y = self.torch.cat(outs, -1).numpy()
        if reference.raw is None:
            reference.raw = y
            return Measurement(dt, dc)
        return Measurement(dt, dc, bool(np.array_equal(y[..., :reference.raw.shape[-1]], reference.raw)))


# ---- the plugin ------------------------------------------------------------------------------
class EngineCpp:
    """The plugin's engine without a host (`nnplug_model_bench engine`), per host block."""

    name, label = "engine-cpp", "engine C++"

    def __init__(self, exe: Path, job: Job, blocks: Sequence[int], modes: Sequence[str]):
        self.exe, self.job, self.batch = exe, job, job.batch
        self._cases = [(mode, b) for b in blocks for mode in modes]

    def cases(self) -> Sequence[Case]:
        return self._cases

    def measure(self, mode: str, block: Optional[int], reference: Reference) -> Measurement:
        job = self.job
        d = run_exe(self.exe, ["engine", "--model", str(job.model), "--buffer", str(job.n),
                               "--channels", str(job.channels), "--block", str(block),
                               "--mode", "worker" if mode == "Worker thread" else "sync",
                               "--input", str(job.signal_file), "--input-channels", str(job.channels),
                               "--rounds", "1"])
        return Measurement(d["rounds"][0], d["cpu_rounds"][0])


class HostRunner:
    """The built plugin in a host (nnplug.hosts) in one inference mode, at each host block."""

    def __init__(self, host_name: str, bundle: Path, mode: str, job: Job, blocks: Sequence[int],
                 buffer_choice: Optional[str]):
        from nnplug.hosts import open_host
        self.name = self.label = host_name
        self.job, self.batch, self.mode = job, job.batch, mode
        self._cases = [(mode, b) for b in blocks]
        self.host = open_host(host_name, bundle, job.sample_rate)
        self.host.set_param("inference_mode", mode)
        if buffer_choice:
            self.host.set_param("buffer_size", buffer_choice)

    def cases(self) -> Sequence[Case]:
        return self._cases

    def measure(self, mode: str, block: Optional[int], reference: Reference) -> Measurement:
        x = self.job.x
        y, timing = self.host.timed_render(x, int(block))
        reported = self.host.reported_latency()
        # A host that compensates the reported latency R (pedalboard) renders R samples of
        # silence after the input to return the tail: the plugin processed T + R samples, the
        # other runners T. Times are scaled to T samples so that every runner is compared per
        # sample.
        scale = x.shape[1] / (x.shape[1] + max(reported, 0)) if self.host.compensates_latency else 1.0
        exact = None
        expected = reference.expected()
        if expected is not None and self.job.facts.delay_known:
            exact = check_exact(self.name, y, expected, reported, self.job.facts.delay)
        return Measurement(timing.wall * scale, timing.cpu * scale, exact)
