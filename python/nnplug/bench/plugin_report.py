"""`nnplug bench plugin`'s results: the rows it measures, and the tables and targets made of them."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Sequence


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
    return lines + int8_targets(reports, block)


def int8_targets(reports: Sequence[Report], block: int = 512, max_fraction: float = 0.35) -> List[str]:
    """Issue 18's target: NAME-int8 in pedalboard costs at most `max_fraction` of NAME's CPU time
    at the same N, both measured in this run (medians of their rounds)."""
    def cpu(rep: Report) -> float:
        return next((r.seconds_per_audio_second for r in rep.rows if r.runner == "pedalboard"
                     and r.mode == "Synchronous" and r.block == block), float("nan"))

    lines = []
    for rep in reports:
        if not rep.model.endswith("-int8"):
            continue
        base = next((b for b in reports if b.model == rep.model[:-len("-int8")] and b.buffer == rep.buffer), None)
        if base is None:
            continue
        fraction = cpu(rep) / cpu(base)
        if fraction == fraction:
            lines.append(f"{'PASS' if fraction <= max_fraction else 'MISS'}: {rep.model} pedalboard sync block {block} "
                         f"N={rep.buffer}: {fraction:.3f} of {base.model}'s CPU time in this run "
                         f"(target <= {max_fraction})")
    return lines


def as_dicts(reports: Sequence[Report]) -> List[dict]:
    return [asdict(r) for r in reports]
