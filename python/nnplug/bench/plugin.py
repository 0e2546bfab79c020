"""The plugin against raw libtorch: what a host pays per second of audio, beyond the model.

In one run (so that ratios hold on a noisy machine), every runner processes the same audio,
in interleaved rounds, and the median round is kept:

* libtorch C++  - the model's method(s) in a tight loop on buffers of N (`nnplug_model_bench raw`,
                  built with the project; called as the plugin calls it, plugin/src/ModelCall.h):
                  the floor;
* libtorch Python - the same loop from Python (`nnplug.runtime.plugin_execution`);
* engine C++    - the plugin's engine without a host (`nnplug_model_bench engine`), per host block;
* pedalboard, dawdreamer - the built plugin rendering the audio at each host block size, in each
                  inference mode.

Each runner's rounds time the processing alone (model load and warm-up excluded; they are
reported separately). The ratio plugin / raw pairs each plugin round with the raw C++ rounds
that bracket it (see `_median_row`). The plugin and the raw loops run the same batch: a mono model on a
stereo signal runs per channel, as a batch of two. Every plugin render is checked to be
bit-identical (np.array_equal) to the raw output at the plugin's known latency, so that a
plugin that failed to load its model (and passed the dry signal) cannot look fast.

Memory: each host runs in a subprocess with one and with four plugin instances; its peak
resident set (VmHWM) is read at the end. The growth per extra instance should be the model
(weights, caches, activations), not another libtorch.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from nnplug.runtime import plugin_execution

DEFAULT_BLOCKS = (32, 128, 512, 2048)
MODES = ("Synchronous", "Worker thread")
RUNNERS = ("libtorch-cpp", "libtorch-python", "engine-cpp", "pedalboard", "dawdreamer")
EXE_NAME = "nnplug_model_bench"


@dataclass
class Row:
    model: str
    runner: str
    mode: str                       # inference mode for plugin/engine rows, "-" for raw loops
    block: Optional[int]            # host block size (None for raw loops)
    buffer: int                     # the model buffer N
    batch: int
    seconds_per_audio_second: float = float("nan")      # CPU seconds (all threads) per second of audio
    wall_per_audio_second: float = float("nan")         # wall-clock seconds per second of audio
    times_real_time: float = float("nan")   # audio seconds per CPU second (1 / RTF on a free core)
    ratio_to_raw: float = float("nan")      # CPU time / libtorch C++'s at the same batch, same run
    # CPU time / libtorch Python's, run in the same process as pedalboard and DawDreamer
    ratio_to_python: float = float("nan")
    exact: Optional[bool] = None    # output bit-identical to the raw loop's (None: not checked)
    rounds: List[float] = field(default_factory=list)        # wall seconds per round
    cpu_rounds: List[float] = field(default_factory=list)    # CPU seconds per round
    error: str = ""


@dataclass
class PairedRow:
    """pedalboard against the raw Python loop in the same process, chunk by chunk (see `paired_run`)."""
    host: str
    mode: str
    block: int
    chunk: int                      # samples per chunk
    pairs: int
    median_ratio: float             # median over chunks of plugin CPU time / raw CPU time
    total_ratio: float              # sum of plugin CPU times / sum of raw CPU times


@dataclass
class MemoryRow:
    host: str
    instances: int
    peak_rss_mb: float = float("nan")
    baseline_rss_mb: float = float("nan")   # the host process before any plugin is loaded
    plugin_load_seconds: float = float("nan")   # loading the first plugin (bundle + libtorch)
    model_load_seconds: float = float("nan")    # the first instance's first render (model load, prepare, warm-up)
    error: str = ""


@dataclass
class Report:
    model: str
    model_path: str
    buffer: int
    batch: int
    channels: int
    seconds: float
    rounds: int
    weights_mb: float
    raw_load_seconds: float = float("nan")
    raw_first_calls: List[float] = field(default_factory=list)
    rows: List[Row] = field(default_factory=list)
    memory: List[MemoryRow] = field(default_factory=list)
    machine: Dict[str, str] = field(default_factory=dict)
    paired: List["PairedRow"] = field(default_factory=list)

    def errors(self) -> List[str]:
        out = [f"{r.runner} {r.mode} block {r.block}: {r.error}" for r in self.rows if r.error]
        out += [f"memory {m.host} x{m.instances}: {m.error}" for m in self.memory if m.error]
        out += [f"{r.runner} {r.mode} block {r.block}: output differs from raw libtorch"
                for r in self.rows if r.exact is False]
        return out


def machine_state() -> Dict[str, str]:
    info = {"cpu": platform.processor() or platform.machine(), "cores": str(os.cpu_count())}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        info["load"] = subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        info["load"] = "load average: " + ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return info


def find_exe(plugin: Path, explicit: Optional[str] = None) -> Optional[Path]:
    """The benchmark executable of the build that made `plugin` (<build>/bench/), or of ./build."""
    if explicit:
        return Path(explicit)
    plugin = Path(plugin).resolve()
    for d in plugin.parents:
        if (d / "CMakeCache.txt").exists():
            return d / "bench" / EXE_NAME
    build = Path(os.environ.get("NNPLUG_BUILD_DIR", Path.cwd() / "build"))
    return build / "bench" / EXE_NAME


def _signal(channels: int, samples: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.5 * rng.standard_normal((channels, samples))).astype(np.float32)


def _median_row(row: Row, audio_seconds: float, raw_brackets: Optional[List[float]],
                python_rounds: Optional[List[float]]) -> None:
    """CPU time is what the ratios use: on a shared machine wall time mostly measures the other
    processes (a single-threaded loop's CPU time barely moves with the load). Wall time is kept.

    The ratio to raw libtorch is paired round by round: this machine's speed drifts by tens of
    percent over minutes (a shared VM), so each plugin round is divided by the raw C++ rounds run
    just before and just after its round (their mean), and the median of those ratios is kept.
    The ratio to raw Python pairs each round with the Python loop's round: the same libtorch in
    the same process as the hosts (pedalboard and DawDreamer load the plugin into Python, and the
    plugin then shares Python's libtorch), so what is left is the plugin's own cost."""
    if not row.cpu_rounds or row.error:
        return
    t = statistics.median(row.cpu_rounds)
    row.seconds_per_audio_second = t / audio_seconds
    row.wall_per_audio_second = statistics.median(row.rounds) / audio_seconds
    row.times_real_time = audio_seconds / t if t > 0 else float("inf")
    if raw_brackets and len(row.cpu_rounds) + 1 == len(raw_brackets):
        row.ratio_to_raw = statistics.median(
            c / (0.5 * (raw_brackets[i] + raw_brackets[i + 1])) for i, c in enumerate(row.cpu_rounds))
    if python_rounds and len(row.cpu_rounds) == len(python_rounds):
        row.ratio_to_python = statistics.median(c / p for c, p in zip(row.cpu_rounds, python_rounds))


# ---------------------------------------------------------------------------------------------
# runners: each returns (seconds of processing, output (channels, T) or None)
class RawPython:
    def __init__(self, path: str, facts, n: int, batch: int, warmup: int = 3):
        import torch
        self.torch = torch
        self.m = torch.jit.load(path, map_location="cpu")
        self.m.eval()
        self.facts, self.n, self.batch = facts, n, batch
        with plugin_execution():
            for _ in range(warmup):
                self._call(torch.zeros(batch, facts.in_channels, n))

    def _call(self, x):
        return self.m.decode(self.m.encode(x)) if self.facts.latent_path else self.m.forward(x)

    def run(self, lanes: np.ndarray) -> Tuple[float, float, np.ndarray]:
        """lanes: (batch, in_channels, T), T a multiple of n. Returns wall s, CPU s, output."""
        torch = self.torch
        src = torch.from_numpy(np.ascontiguousarray(lanes))
        outs = []
        with plugin_execution():
            if hasattr(self.m, "reset"):
                self.m.reset()
            c0, t0 = time.process_time(), time.perf_counter()
            for i in range(0, src.shape[-1], self.n):
                outs.append(self._call(src[..., i:i + self.n].contiguous()))
            dt, dc = time.perf_counter() - t0, time.process_time() - c0
        return dt, dc, torch.cat(outs, -1).numpy()


def paired_run(raw_py: RawPython, runner: "PedalboardRunner", lanes: np.ndarray, x: np.ndarray, block: int,
               mode: str, chunk_seconds: float = 0.25) -> PairedRow:
    """The plugin's overhead measured so that the machine's drift cancels: the same audio, cut
    into chunks of ~`chunk_seconds`, goes through the raw Python loop and through pedalboard
    (one continuing stream each) alternately, A B then B A, in one process, the one in which
    pedalboard runs the plugin on Python's own libtorch. Each pair's ratio is taken a fraction
    of a second apart; rounds of whole runners are tens of seconds apart, over which this
    machine's speed moves by tens of percent."""
    n, sr, p = raw_py.n, runner.sr, runner.host.plugin
    # whole model buffers (host blocks may straddle chunks), at least two chunks when the signal allows
    chunk = max(1, min(int(chunk_seconds * sr), x.shape[1] // 2) // n) * n
    src = raw_py.torch.from_numpy(np.ascontiguousarray(lanes))
    p.process(np.zeros((x.shape[0], block), np.float32), sr, buffer_size=block, reset=True)
    pairs: List[Tuple[float, float]] = []
    with plugin_execution():
        if hasattr(raw_py.m, "reset"):
            raw_py.m.reset()

        def raw(start: int) -> float:
            c0 = time.process_time()
            for i in range(start, start + chunk, n):
                raw_py._call(src[..., i:i + n].contiguous())
            return time.process_time() - c0

        def plugin(start: int) -> float:
            c0 = time.process_time()
            p.process(x[:, start:start + chunk], sr, buffer_size=block, reset=False)
            return time.process_time() - c0

        for k, start in enumerate(range(0, x.shape[1] - chunk + 1, chunk)):
            if k % 2 == 0:
                a = raw(start)
                b = plugin(start)
            else:
                b = plugin(start)
                a = raw(start)
            pairs.append((a, b))
    if not pairs:
        raise ValueError(f"signal shorter than one chunk ({chunk} samples)")
    return PairedRow("pedalboard", mode, block, chunk, len(pairs), statistics.median(b / a for a, b in pairs),
                     sum(b for _, b in pairs) / sum(a for a, _ in pairs))


def run_exe(exe: Path, args: Sequence[str], timeout: float = 3600) -> dict:
    p = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError((p.stderr.strip() or p.stdout.strip() or f"exit {p.returncode}").splitlines()[-1])
    return json.loads(p.stdout.strip().splitlines()[-1])


class PedalboardRunner:
    def __init__(self, bundle: Path, mode: str, sr: float, buffer_choice: Optional[str]):
        from nnplug.hosts import open_host
        self.host = open_host("pedalboard", bundle, sr)
        self.host.set_param("inference_mode", mode)
        if buffer_choice:
            self.host.set_param("buffer_size", buffer_choice)
        self.sr = sr

    def run(self, x: np.ndarray, block: int) -> Tuple[float, float, np.ndarray, int]:
        p = self.host.plugin
        # prepared for this block size, stream restarted; then one timed render call
        p.process(np.zeros((x.shape[0], block), np.float32), self.sr, buffer_size=block, reset=True)
        c0, t0 = time.process_time(), time.perf_counter()
        y = p.process(x, self.sr, buffer_size=block, reset=True)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        # pedalboard compensates the reported latency R by rendering R samples of silence after
        # the input (to return the tail): the plugin processed T + R samples, the other runners
        # T. Times are scaled to T samples so that every runner is compared per sample (for
        # RAVE v2 at N = 16384, R = 64 k samples: unscaled, 6 s of audio would look 24 % slower).
        reported = self.host.reported_latency()
        scale = x.shape[1] / (x.shape[1] + max(reported, 0))
        return dt * scale, dc * scale, np.asarray(y), reported


class DawDreamerRunner:
    """One RenderEngine per block size, reused across rounds (each render re-prepares the plugin)."""

    def __init__(self, bundle: Path, mode: str, sr: float, buffer_choice: Optional[str]):
        self.bundle, self.mode, self.sr, self.buffer_choice = bundle, mode, sr, buffer_choice
        self.engines: Dict[int, tuple] = {}

    def _engine(self, block: int, x: np.ndarray):
        if block not in self.engines:
            import dawdreamer as daw

            from nnplug.hosts import param
            engine = daw.RenderEngine(int(self.sr), int(block))
            tag = f"{id(self)}_{block}"
            playback = engine.make_playback_processor(f"in{tag}", x)
            fx = engine.make_plugin_processor(f"fx{tag}", str(self.bundle))
            names = [fx.get_parameter_name(i) for i in range(fx.get_plugin_parameter_size())]
            values = {"inference_mode": self.mode}
            if self.buffer_choice:
                values["buffer_size"] = self.buffer_choice
            for pid, v in values.items():
                fx.set_parameter(names.index(param(pid).name), param(pid).normalized(v))
            engine.load_graph([(playback, []), (fx, [f"in{tag}"])])
            self.engines[block] = (engine, fx)
        return self.engines[block]

    def run(self, x: np.ndarray, block: int) -> Tuple[float, float, np.ndarray, int]:
        engine, fx = self._engine(block, x)
        c0, t0 = time.process_time(), time.perf_counter()
        engine.render(x.shape[1] / self.sr)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        return dt, dc, np.asarray(engine.get_audio(), np.float32), int(fx.get_latency_samples())


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


# ---------------------------------------------------------------------------------------------
# memory: one subprocess per (host, instances)
_MEMORY_SCRIPT = r"""
import json, sys, time
import numpy as np
host, bundle, count, sr, block = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
def rss(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])
x = (0.1 * np.random.default_rng(0).standard_normal((2, int(sr)))).astype(np.float32)
out = {}
if host == "pedalboard":
    import pedalboard
    out["baseline_kb"] = rss("VmRSS:")
    t = time.perf_counter(); plugins = [pedalboard.load_plugin(bundle)]; out["plugin_load"] = time.perf_counter() - t
    t = time.perf_counter(); plugins[0].process(x, sr, buffer_size=block, reset=True); out["model_load"] = time.perf_counter() - t
    for _ in range(count - 1):
        plugins.append(pedalboard.load_plugin(bundle))
    for p in plugins:
        p.process(x, sr, buffer_size=block, reset=True)
else:
    import dawdreamer as daw
    out["baseline_kb"] = rss("VmRSS:")
    engine = daw.RenderEngine(int(sr), block)
    graph = [(engine.make_playback_processor("in", x), [])]
    t = time.perf_counter(); fx = [engine.make_plugin_processor("fx0", bundle)]; out["plugin_load"] = time.perf_counter() - t
    for i in range(1, count):
        fx.append(engine.make_plugin_processor(f"fx{i}", bundle))
    prev = "in"
    for i, f in enumerate(fx):
        graph.append((f, [prev])); prev = f"fx{i}"
    engine.load_graph(graph)
    t = time.perf_counter(); engine.render(1.0); out["model_load"] = time.perf_counter() - t
out["peak_kb"] = rss("VmHWM:")
print(json.dumps(out))
"""


def measure_memory(host: str, bundle: Path, instances: int, sr: float, block: int = 512,
                   timeout: float = 900) -> MemoryRow:
    row = MemoryRow(host, instances)
    try:
        p = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, host, str(bundle), str(instances), str(sr), str(block)],
                           capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError((p.stderr.strip() or f"exit {p.returncode}").splitlines()[-1])
        d = json.loads(p.stdout.strip().splitlines()[-1])
        row.peak_rss_mb = d["peak_kb"] / 1024
        row.baseline_rss_mb = d["baseline_kb"] / 1024
        row.plugin_load_seconds = d["plugin_load"]
        # DawDreamer's first render also runs `instances` plugins for a second: per instance
        row.model_load_seconds = d["model_load"] / (instances if host == "dawdreamer" else 1)
    except Exception as e:  # noqa: BLE001  (reported in the table, never hidden)
        row.error = f"{type(e).__name__}: {e}"
    return row


# ---------------------------------------------------------------------------------------------
def exported_model(name: str, directory: Path, progress: Callable[[str], None] = lambda s: None) -> Path:
    """A named benchmark architecture (`nnplug.models.MODEL_CONFIGS`, e.g. rave-v2:
    RAVE v2 proportions, 37 M parameters, ratio 2048), seeded, noise off, exported with the
    current streaming kernels; NAME-fp16 exports it with float16 wide-layer weights
    (`export(weights="float16")`). Cached in `directory`; re-exported when a streaming or model
    source file is newer than the file."""
    import torch

    import nnplug
    from nnplug.export import export
    from nnplug.models import MODEL_CONFIGS, build_model, set_randomness
    architecture, weights = (name[:-len("-fp16")], "float16") if name.endswith("-fp16") else (name, "float32")
    if architecture not in MODEL_CONFIGS:
        raise ValueError(f"unknown model {name!r}: a .ts file or one of {list(MODEL_CONFIGS)} "
                         "(each also as NAME-fp16: float16 weights in the wide layers)")
    path = Path(directory) / f"{name}.ts"
    pkg = Path(nnplug.__file__).parent
    sources = [p for d in ("streaming", "models", "export") for p in (pkg / d).glob("*.py")]
    if path.is_file() and path.stat().st_mtime > max(p.stat().st_mtime for p in sources):
        return path
    progress(f"exporting {name} to {path} (once; slow for large models)")
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model = build_model(MODEL_CONFIGS[architecture])
    set_randomness(model, enabled=False)
    export(model, str(path), sample_rate=44100, name=name, noise=False, weights=weights, verbose=False)
    return path


def bench_plugin(plugin: Path, model: Path, *, blocks: Sequence[int] = DEFAULT_BLOCKS, modes: Sequence[str] = MODES,
                 runners: Sequence[str] = RUNNERS, seconds: float = 10.0, rounds: int = 3, channels: int = 2,
                 buffer: Optional[int] = None, exe: Optional[Path] = None, memory: bool = True,
                 name: Optional[str] = None, progress: Callable[[str], None] = lambda s: None) -> Report:
    import torch

    from nnplug.hosts import staged_bundle
    from nnplug import contract

    facts = contract.read(model)
    sr = float(facts.sample_rate or 44100)
    n = contract.buffer_size(buffer if buffer else "Auto", facts.ratio)
    choice = str(buffer) if buffer else None
    per_channel = facts.in_channels == 1 and channels > 1
    batch = channels if per_channel else 1
    total = max(n, int(seconds * sr) // n * n)
    audio_seconds = total / sr
    x = _signal(channels, total)
    lanes = x[:, None, :] if per_channel else np.stack([x[c % channels] for c in range(facts.in_channels)])[None]

    m = torch.jit.load(str(model), map_location="cpu")
    weights = sum(t.numel() * t.element_size() for t in list(m.parameters()) + list(m.buffers()))
    del m
    report = Report(name or facts.name, str(model), n, batch, channels, audio_seconds, rounds, weights / 2 ** 20,
                    machine=machine_state())

    exe = find_exe(plugin, str(exe) if exe else None)
    need_exe = any(r in runners for r in ("libtorch-cpp", "engine-cpp"))
    rows: Dict[Tuple[str, str, Optional[int]], Row] = {}

    def row(runner, mode, block, b=batch) -> Row:
        key = (runner, mode, block)
        if key not in rows:
            rows[key] = Row(report.model, runner, mode, block, n, b)
        return rows[key]

    with tempfile.TemporaryDirectory(prefix="nnplug-bench-") as tmp:
        sig = Path(tmp) / "signal.f32"
        x.tofile(sig)
        raw_out: Optional[np.ndarray] = None
        if need_exe and (exe is None or not exe.is_file()):
            for r in runners:
                if r in ("libtorch-cpp", "engine-cpp"):
                    row(r, "-" if r == "libtorch-cpp" else "Synchronous", None).error = \
                        f"{EXE_NAME} not found at {exe} (run `nnplug build`)"
            runners = [r for r in runners if r not in ("libtorch-cpp", "engine-cpp")]

        raw_py = None
        if "libtorch-python" in runners:
            try:
                raw_py = RawPython(str(model), facts, n, batch)
            except Exception as e:  # noqa: BLE001
                row("libtorch-python", "-", None).error = f"{type(e).__name__}: {e}"

        with staged_bundle(plugin, model) as bundle:
            hosts: Dict[Tuple[str, str], object] = {}
            for h in ("pedalboard", "dawdreamer"):
                if h not in runners:
                    continue
                for mode in modes:
                    try:
                        hosts[h, mode] = (PedalboardRunner if h == "pedalboard" else DawDreamerRunner)(
                            bundle, mode, sr, choice)
                    except Exception as e:  # noqa: BLE001
                        for b in blocks:
                            row(h, mode, b).error = f"{type(e).__name__}: {e}"

            raw_marks: List[float] = []     # raw C++ CPU time at the start of every round, and after the last

            def raw_cpp_round(marks: List[float], record: bool = True) -> None:
                """One raw C++ round; `record`: one of the row's rounds (not the closing bracket)."""
                nonlocal raw_out
                rr = row("libtorch-cpp", "-", None)
                if rr.error:
                    return
                out = Path(tmp) / "raw.f32"
                try:
                    d = run_exe(exe, ["raw", "--model", str(model), "--buffer", str(n), "--batch", str(batch),
                                      "--input", str(sig), "--input-channels", str(channels),
                                      "--rounds", "1", "--output", str(out)])
                    if record:
                        rr.rounds.append(d["rounds"][0])
                        rr.cpu_rounds.append(d["cpu_rounds"][0])
                    marks.append(d["cpu_rounds"][0])
                    report.raw_load_seconds = d["load_seconds"]
                    report.raw_first_calls = d["first_calls"]
                    if raw_out is None:
                        raw_out = np.fromfile(out, np.float32).reshape(batch, facts.out_channels, -1)
                except Exception as e:  # noqa: BLE001
                    rr.error = f"{type(e).__name__}: {e}"

            expected: Optional[np.ndarray] = None
            for r in range(rounds):
                tag = f"round {r + 1}/{rounds}"
                if "libtorch-cpp" in runners:
                    progress(f"libtorch C++ ({tag})")
                    raw_cpp_round(raw_marks)
                    r1 = row("libtorch-cpp mono", "-", None, b=1) if batch > 1 else None
                    if r1 is not None and not r1.error:
                        # the model alone on one channel: the "x real time on one core" figure
                        try:
                            d = run_exe(exe, ["raw", "--model", str(model), "--buffer", str(n), "--batch", "1",
                                              "--input", str(sig), "--input-channels", str(channels), "--rounds", "1"])
                            r1.rounds.append(d["rounds"][0])
                            r1.cpu_rounds.append(d["cpu_rounds"][0])
                        except Exception as e:  # noqa: BLE001
                            r1.error = f"{type(e).__name__}: {e}"
                if raw_py is not None:
                    progress(f"libtorch Python ({tag})")
                    rp = row("libtorch-python", "-", None)
                    dt, dc, y = raw_py.run(lanes)
                    rp.rounds.append(dt)
                    rp.cpu_rounds.append(dc)
                    if raw_out is None:
                        raw_out = y
                    elif rp.exact is None:
                        rp.exact = bool(np.array_equal(y[..., :raw_out.shape[-1]], raw_out))
                if expected is None and raw_out is not None:
                    expected = expected_from_raw(raw_out, facts, channels)
                for block in blocks:
                    for mode in modes:
                        if "engine-cpp" in runners:
                            progress(f"engine C++ {mode} block {block} ({tag})")
                            er = row("engine-cpp", mode, block)
                            if not er.error:
                                try:
                                    d = run_exe(exe, ["engine", "--model", str(model), "--buffer", str(n),
                                                      "--channels", str(channels), "--block", str(block),
                                                      "--mode", "worker" if mode == "Worker thread" else "sync",
                                                      "--input", str(sig), "--input-channels", str(channels),
                                                      "--rounds", "1"])
                                    er.rounds.append(d["rounds"][0])
                                    er.cpu_rounds.append(d["cpu_rounds"][0])
                                except Exception as e:  # noqa: BLE001
                                    er.error = f"{type(e).__name__}: {e}"
                        for h in ("pedalboard", "dawdreamer"):
                            runner = hosts.get((h, mode))
                            hr = row(h, mode, block) if h in runners else None
                            if runner is None or hr is None or hr.error:
                                continue
                            progress(f"{h} {mode} block {block} ({tag})")
                            try:
                                dt, dc, y, reported = runner.run(x, block)
                                hr.rounds.append(dt)
                                hr.cpu_rounds.append(dc)
                                if hr.exact is None and expected is not None and facts.delay_known:
                                    hr.exact = check_exact(h, y, expected, reported, facts.delay)
                            except Exception as e:  # noqa: BLE001
                                hr.error = f"{type(e).__name__}: {e}"
            if "libtorch-cpp" in runners:
                progress("libtorch C++ (closing the last round)")
                raw_cpp_round(raw_marks, record=False)
            if raw_py is not None and ("pedalboard", "Synchronous") in hosts:
                for block in blocks:
                    progress(f"pedalboard Synchronous block {block}: paired with raw Python, chunk by chunk")
                    try:
                        report.paired.append(paired_run(raw_py, hosts["pedalboard", "Synchronous"], lanes, x, block,
                                                        "Synchronous"))
                    except Exception as e:  # noqa: BLE001
                        row("pedalboard", "Synchronous", block).error = f"paired run: {type(e).__name__}: {e}"
            if memory:
                for h in ("pedalboard", "dawdreamer"):
                    if h in runners:
                        for count in (1, 4):
                            progress(f"memory: {h} with {count} instance(s)")
                            report.memory.append(measure_memory(h, bundle, count, sr))

    raw = rows.get(("libtorch-cpp", "-", None))
    brackets = raw_marks if raw is not None and not raw.error and len(raw_marks) == rounds + 1 else None
    py = rows.get(("libtorch-python", "-", None))
    py_rounds = py.cpu_rounds if py is not None and not py.error else None
    for rw in rows.values():
        same = rw.batch == batch
        _median_row(rw, audio_seconds, brackets if same else None, py_rounds if same else None)
    if raw is not None and brackets:
        raw.ratio_to_raw = 1.0
    order = {r: i for i, r in enumerate(RUNNERS)}
    report.rows = sorted(rows.values(), key=lambda r: (order.get(r.runner.split(" ")[0], 9), r.block or 0,
                                                       MODES.index(r.mode) if r.mode in MODES else -1))
    return report


# ---------------------------------------------------------------------------------------------
def _f(v: float, fmt: str) -> str:
    return "–" if v != v else format(v, fmt)   # NaN -> dash


def markdown(reports: Sequence[Report]) -> str:
    out = []
    if reports:
        m = reports[0].machine
        out.append(f"Machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores; `uptime` at start: "
                   f"{m.get('load', '?')}. One intra-op thread everywhere; medians of interleaved rounds. "
                   "*CPU s per s*: CPU time of the whole process (worker thread included) per second of audio, "
                   "what the ratios and *× real time* use; *wall*: wall-clock time, which on a loaded machine "
                   "mostly measures the other processes.\n")
    out += ["| model | runner | mode | host block | N | batch | CPU s per s of audio | wall s per s | × real time | "
            "plugin / raw C++ | plugin / raw Python, same process | bit-identical |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for rep in reports:
        for r in rep.rows:
            exact = {True: "yes", False: "**NO**", None: ""}[r.exact]
            if r.error:
                exact = f"error: {r.error[:80]}"
            out.append(f"| {r.model} | {r.runner} | {r.mode} | {r.block or ''} | {r.buffer} | {r.batch} | "
                       f"{_f(r.seconds_per_audio_second, '.4f')} | {_f(r.wall_per_audio_second, '.4f')} | "
                       f"{_f(r.times_real_time, '.2f')} | "
                       f"{_f(r.ratio_to_raw, '.3f')} | {_f(r.ratio_to_python, '.3f')} | {exact} |")
    mem = [(rep, mrow) for rep in reports for mrow in rep.memory]
    if mem:
        out += ["", "| model | host | instances | peak RSS MB | host alone MB | per extra instance MB | "
                    "model weights MB | plugin load s | model load s |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for rep, mrow in mem:
            one = next((x for x in rep.memory if x.host == mrow.host and x.instances == 1), None)
            extra = ((mrow.peak_rss_mb - one.peak_rss_mb) / (mrow.instances - 1)
                     if one is not None and mrow.instances > 1 else float("nan"))
            if mrow.error:
                out.append(f"| {rep.model} | {mrow.host} | {mrow.instances} | error: {mrow.error[:80]} | | | | | |")
                continue
            out.append(f"| {rep.model} | {mrow.host} | {mrow.instances} | {_f(mrow.peak_rss_mb, '.0f')} | "
                       f"{_f(mrow.baseline_rss_mb, '.0f')} | {_f(extra, '.0f')} | {rep.weights_mb:.1f} | "
                       f"{_f(mrow.plugin_load_seconds, '.2f')} | {_f(mrow.model_load_seconds, '.2f')} |")
    paired = [(rep, pr) for rep in reports for pr in rep.paired]
    if paired:
        out += ["", "Paired, in one process (`paired_run`): the same audio in chunks through the raw Python loop "
                    "and through pedalboard alternately, so that the machine's drift cancels:", "",
                "| model | host | mode | host block | chunk | pairs | plugin / raw Python, median of pairs | "
                "sum / sum |",
                "|---|---|---|---:|---:|---:|---:|---:|"]
        for rep, pr in paired:
            out.append(f"| {rep.model} | {pr.host} | {pr.mode} | {pr.block} | {pr.chunk} | {pr.pairs} | "
                       f"{pr.median_ratio:.3f} | {pr.total_ratio:.3f} |")
    loads = [rep for rep in reports if rep.raw_first_calls]
    if loads:
        out += ["", "| model | libtorch load s | first calls s (TorchScript warm-up; the plugin does them at load) |",
                "|---|---:|---|"]
        for rep in loads:
            out.append(f"| {rep.model} | {rep.raw_load_seconds:.2f} | "
                       f"{', '.join(f'{t:.3f}' for t in rep.raw_first_calls)} |")
    return "\n".join(out)


def targets(reports: Sequence[Report], block: int = 512, max_ratio: float = 1.05, min_speed: float = 5.0) -> List[str]:
    """The issue's targets, as lines 'PASS: ...' / 'MISS: ...' (benchmarks, not tests)."""
    lines = []
    for rep in reports:
        for r in rep.rows:
            if r.runner in ("pedalboard", "dawdreamer") and r.mode == "Synchronous" and r.block == block \
                    and r.ratio_to_raw == r.ratio_to_raw:
                ok = r.ratio_to_raw <= max_ratio
                lines.append(f"{'PASS' if ok else 'MISS'}: {rep.model} {r.runner} sync block {block}: plugin / raw "
                             f"{r.ratio_to_raw:.3f} (target <= {max_ratio}); against raw libtorch in the host's "
                             f"own process: {r.ratio_to_python:.3f}")
        for pr in rep.paired:
            if pr.block == block and pr.mode == "Synchronous":
                ok = pr.median_ratio <= max_ratio
                lines.append(f"{'PASS' if ok else 'MISS'}: {rep.model} {pr.host} sync block {block}, paired with raw "
                             f"libtorch chunk by chunk in one process: {pr.median_ratio:.3f} (target <= {max_ratio})")
        sync = [r for r in rep.rows if r.runner in ("pedalboard", "dawdreamer") and r.mode == "Synchronous"
                and r.block == block and r.times_real_time == r.times_real_time]
        for r in sync:
            ok = r.times_real_time >= min_speed
            lines.append(f"{'PASS' if ok else 'MISS'}: {rep.model} {r.runner} sync block {block}: "
                         f"{r.times_real_time:.2f}x real time, batch {r.batch} (target >= {min_speed}x)")
    return lines


def as_dicts(reports: Sequence[Report]) -> List[dict]:
    return [asdict(r) for r in reports]
