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

Each runner (bench/runners.py: one protocol, `cases()` and `measure()`) times the processing
alone (model load and warm-up excluded; they are reported separately). The ratio plugin / raw
pairs each plugin round with the raw C++ rounds that bracket it (see `_median_row`). The
plugin and the raw loops run the same batch: a mono model on a stereo signal runs per
channel, as a batch of two. Every plugin render is checked to be
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
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from nnplug.runtime import plugin_execution

from .plugin_report import MemoryRow, PairedRow, Report, Row, as_dicts, markdown, targets  # noqa: F401
from .runners import (RAW_CASE, Case, EngineCpp, HostRunner, Job, LibtorchCpp, LibtorchPython, Reference,  # noqa: F401
                      Runner, check_exact, expected_from_raw, run_exe)

DEFAULT_BLOCKS = (32, 128, 512, 2048)
MODES = ("Synchronous", "Worker thread")
RUNNERS = ("libtorch-cpp", "libtorch-python", "engine-cpp", "pedalboard", "dawdreamer")
EXE_NAME = "nnplug_model_bench"


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


def paired_run(raw_py: LibtorchPython, runner: HostRunner, block: int, mode: str,
               chunk_seconds: float = 0.25) -> PairedRow:
    """The plugin's overhead measured so that the machine's drift cancels: the same audio, cut
    into chunks of ~`chunk_seconds`, goes through the raw Python loop and through pedalboard
    (one continuing stream each) alternately, A B then B A, in one process, the one in which
    pedalboard runs the plugin on Python's own libtorch. Each pair's ratio is taken a fraction
    of a second apart; rounds of whole runners are tens of seconds apart, over which this
    machine's speed moves by tens of percent."""
    job, host = raw_py.job, runner.host
    n, x = job.n, job.x
    # whole model buffers (host blocks may straddle chunks), at least two chunks when the signal allows
    chunk = max(1, min(int(chunk_seconds * job.sample_rate), x.shape[1] // 2) // n) * n
    src = raw_py.torch.from_numpy(np.ascontiguousarray(job.lanes))
    host.process(np.zeros((x.shape[0], block), np.float32), block, reset=True)
    pairs: List[Tuple[float, float]] = []
    with plugin_execution():
        raw_py.reset()

        def raw(start: int) -> float:
            c0 = time.process_time()
            for i in range(start, start + chunk, n):
                raw_py.call(src[..., i:i + n].contiguous())
            return time.process_time() - c0

        def plugin(start: int) -> float:
            c0 = time.process_time()
            host.process(x[:, start:start + chunk], block, reset=False)
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


# ---------------------------------------------------------------------------------------------
# memory: one subprocess per (host, instances), measured by nnplug.hosts.memory
def measure_memory(host: str, bundle: Path, instances: int, sr: float, block: int = 512,
                   timeout: float = 900) -> MemoryRow:
    row = MemoryRow(host, instances)
    try:
        p = subprocess.run([sys.executable, "-m", "nnplug.hosts.memory", host, str(bundle), str(instances), str(sr),
                            str(block)], capture_output=True, text=True, timeout=timeout)
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
WEIGHT_SUFFIXES = {"-fp16": "float16", "-int8": "int8"}


def split_weights_suffix(name: str) -> tuple:
    """'rave-v2-int8' -> ('rave-v2', 'int8'); a name without a weights suffix is float32."""
    for suffix, weights in WEIGHT_SUFFIXES.items():
        if name.endswith(suffix):
            return name[:-len(suffix)], weights
    return name, "float32"


def exported_model(name: str, directory: Path, progress: Callable[[str], None] = lambda s: None) -> Path:
    """A named benchmark architecture (`nnplug.models.MODEL_CONFIGS`, e.g. rave-v2:
    RAVE v2 proportions, 37 M parameters, ratio 2048), seeded, noise off, exported with the
    current streaming kernels; NAME-fp16 exports it with float16 wide-layer weights
    (`export(weights="float16")`), NAME-int8 with int8 ones (`export(weights="int8")`). Cached in `directory`; re-exported when a streaming or model
    source file is newer than the file."""
    import torch

    import nnplug
    from nnplug.export import export
    from nnplug.models import MODEL_CONFIGS, build_model, set_randomness
    architecture, weights = split_weights_suffix(name)
    if architecture not in MODEL_CONFIGS:
        raise ValueError(f"unknown model {name!r}: a .ts file or one of {list(MODEL_CONFIGS)} "
                         "(each also as NAME-fp16 or NAME-int8: float16 or int8 weights in the wide layers)")
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
    from nnplug import contract
    from nnplug.hosts import staged_bundle

    facts = contract.read(model)
    sr = float(facts.sample_rate or 44100)
    n = contract.buffer_size(buffer if buffer else "Auto", facts.ratio)
    batch = contract.lane_batch(channels, facts.in_channels)
    total = max(n, int(seconds * sr) // n * n)
    x = _signal(channels, total)
    lanes = contract.to_lanes(x, facts.in_channels)
    report = Report(name or facts.name, str(model), n, batch, channels, total / sr, rounds, _weights_mb(model),
                    machine=machine_state())
    table = _Rows(report.model, n, batch)
    exe = find_exe(plugin, str(exe) if exe else None)

    with tempfile.TemporaryDirectory(prefix="nnplug-bench-") as tmp:
        job = Job(Path(model), facts, n, batch, x, lanes, Path(tmp) / "signal.f32", sr)
        x.tofile(job.signal_file)
        with staged_bundle(plugin, model) as bundle:
            active = _make_runners(job, runners, blocks, modes, exe, bundle, str(buffer) if buffer else None, table)
            reference = Reference(facts, channels)
            for r in range(rounds):
                _round(active, blocks, modes, reference, table, progress, f"round {r + 1}/{rounds}")
            raw_cpp = next((rn for rn in active if rn.name == "libtorch-cpp"), None)
            if raw_cpp is not None:
                progress("libtorch C++ (closing the last round)")
                _closing_round(raw_cpp, reference, table)
                report.raw_load_seconds, report.raw_first_calls = raw_cpp.load_seconds, raw_cpp.first_calls
            report.paired = _paired(active, blocks, table, progress)
            if memory:
                report.memory = [_memory(h, bundle, count, sr, progress)
                                 for h in ("pedalboard", "dawdreamer") if h in runners for count in (1, 4)]
    _summarize(table, raw_cpp.marks if raw_cpp is not None else [], rounds, total / sr)
    report.rows = table.sorted()
    return report


def _weights_mb(model: Path) -> float:
    import torch
    m = torch.jit.load(str(model), map_location="cpu")
    return sum(t.numel() * t.element_size() for t in list(m.parameters()) + list(m.buffers())) / 2 ** 20


class _Rows:
    """The report's rows by (runner, mode, block), in the order they were first made."""

    def __init__(self, model: str, n: int, batch: int):
        self.model, self.n, self.batch = model, n, batch
        self.rows: Dict[Tuple[str, str, Optional[int]], Row] = {}

    def get(self, runner: str, mode: str, block: Optional[int], batch: Optional[int] = None) -> Row:
        key = (runner, mode, block)
        if key not in self.rows:
            self.rows[key] = Row(self.model, runner, mode, block, self.n, self.batch if batch is None else batch)
        return self.rows[key]

    def sorted(self) -> List[Row]:
        order = {r: i for i, r in enumerate(RUNNERS)}
        return sorted(self.rows.values(), key=lambda r: (order.get(r.runner.split(" ")[0], 9), r.block or 0,
                                                         MODES.index(r.mode) if r.mode in MODES else -1))


def _error(e: Exception) -> str:
    return f"{type(e).__name__}: {e}"


def _make_runners(job: Job, names: Sequence[str], blocks: Sequence[int], modes: Sequence[str], exe: Optional[Path],
                  bundle: Path, buffer_choice: Optional[str], table: _Rows) -> List[Runner]:
    """The runners asked for, in RUNNERS order; one that cannot start fills its rows with the error."""
    out: List[Runner] = []
    have_exe = exe is not None and exe.is_file()
    for name in names:
        if name in ("libtorch-cpp", "engine-cpp") and not have_exe:
            table.get(name, "-" if name == "libtorch-cpp" else "Synchronous", None).error = \
                f"{EXE_NAME} not found at {exe} (run `nnplug build`)"
    for name in [r for r in RUNNERS if r in names]:
        if name == "libtorch-cpp" and have_exe:
            out.append(LibtorchCpp(exe, job))
            if job.batch > 1:
                out.append(LibtorchCpp(exe, job, batch=1))
        elif name == "libtorch-python":
            try:
                out.append(LibtorchPython(job))
            except Exception as e:  # noqa: BLE001  (reported in the table, never hidden)
                table.get(name, "-", None).error = _error(e)
        elif name == "engine-cpp" and have_exe:
            out.append(EngineCpp(exe, job, blocks, modes))
        elif name in ("pedalboard", "dawdreamer"):
            for mode in modes:
                try:
                    out.append(HostRunner(name, bundle, mode, job, blocks, buffer_choice))
                except Exception as e:  # noqa: BLE001
                    for b in blocks:
                        table.get(name, mode, b).error = _error(e)
    return out


def _schedule(active: Sequence[Runner], blocks: Sequence[int], modes: Sequence[str]) -> List[Tuple[Runner, Case]]:
    """One round: the raw loops, then every host block and mode through each plugin runner."""
    raw = [(rn, c) for rn in active for c in rn.cases() if c[1] is None]
    plugin = [(rn, (mode, b)) for b in blocks for mode in modes for rn in active if (mode, b) in rn.cases()]
    return raw + plugin


def _measure(runner: Runner, case: Case, reference: Reference, table: _Rows, record: bool = True) -> None:
    row = table.get(runner.name, case[0], case[1], runner.batch)
    if row.error:
        return
    try:
        m = runner.measure(case[0], case[1], reference)
    except Exception as e:  # noqa: BLE001  (reported in the table, never hidden)
        row.error = _error(e)
        return
    if record:
        row.rounds.append(m.wall)
        row.cpu_rounds.append(m.cpu)
    if row.exact is None:
        row.exact = m.exact


def _round(active, blocks, modes, reference: Reference, table: _Rows, progress, tag: str) -> None:
    for runner, (mode, block) in _schedule(active, blocks, modes):
        progress(f"{runner.label} ({tag})" if block is None else f"{runner.label} {mode} block {block} ({tag})")
        _measure(runner, (mode, block), reference, table)


def _closing_round(raw_cpp: LibtorchCpp, reference: Reference, table: _Rows) -> None:
    """One more raw C++ run, after the last round: the bracket that closes it (not a round)."""
    _measure(raw_cpp, RAW_CASE, reference, table, record=False)


def _paired(active, blocks, table: _Rows, progress) -> List[PairedRow]:
    raw_py = next((rn for rn in active if rn.name == "libtorch-python"), None)
    host = next((rn for rn in active if rn.name == "pedalboard" and rn.mode == "Synchronous"), None)
    if raw_py is None or host is None:
        return []
    out = []
    for block in blocks:
        progress(f"pedalboard Synchronous block {block}: paired with raw Python, chunk by chunk")
        try:
            out.append(paired_run(raw_py, host, block, "Synchronous"))
        except Exception as e:  # noqa: BLE001
            table.get("pedalboard", "Synchronous", block).error = f"paired run: {_error(e)}"
    return out


def _memory(host: str, bundle: Path, count: int, sr: float, progress) -> MemoryRow:
    progress(f"memory: {host} with {count} instance(s)")
    return measure_memory(host, bundle, count, sr)


def _summarize(table: _Rows, raw_marks: List[float], rounds: int, audio_seconds: float) -> None:
    raw = table.rows.get(("libtorch-cpp", "-", None))
    brackets = raw_marks if raw is not None and not raw.error and len(raw_marks) == rounds + 1 else None
    py = table.rows.get(("libtorch-python", "-", None))
    py_rounds = py.cpu_rounds if py is not None and not py.error else None
    for rw in table.rows.values():
        same = rw.batch == table.batch
        _median_row(rw, audio_seconds, brackets if same else None, py_rounds if same else None)
    if raw is not None and brackets:
        raw.ratio_to_raw = 1.0
