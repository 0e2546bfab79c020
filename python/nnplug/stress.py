"""Robustness runs of a built plugin in real hosts, each host in a child process.

    summary = run_stress(plugin)          # `nnplug stress --plugin B`
    print(format_summary(summary))        # cases tried, survived, failed

Three kinds of case, all executed by a child Python (`python -m nnplug.stress --child`) that
loads the plugin in pedalboard or DawDreamer and reports one JSON line per case:

* bad_model   - a hostile file (nnplug.badmodels) staged as the bundle's default model: the
                plugin must render the whole signal as the dry input (or silence, by the
                on_failure parameter) and report the error in its state's STATUS.
* torture     - a hostile host session: block sizes changing every call (1, odd, larger than
                the model buffer), sample-rate and channel-count changes, reset, automation on
                every call, model swaps (by state) while rendering: output finite, and at the
                end an impulse lands where the reported latency says.
* state_fuzz  - hundreds of random/mutated state blobs through the host's state interface.

A child that dies (a signal, an abort) fails the case it was running - named - and a new
child takes the remaining cases, so one crash never hides the others.
"""
from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import numpy as np

SR = 44100
SIGNAL_SECONDS = 0.5


@dataclass
class CaseResult:
    name: str
    host: str
    survived: bool          # the host process did not die
    ok: bool                # survived and every check passed
    detail: str = ""
    seconds: float = 0.0
    counts: Dict[str, int] = field(default_factory=dict)


# ---- the parent side ----------------------------------------------------------------------

def run_in_child(cases: List[Dict[str, Any]], timeout: float = 600.0,
                 log: Callable[[str], None] = lambda s: None) -> List[CaseResult]:
    """Runs `cases` in child processes (a new one after each death); returns one result each."""
    results: Dict[int, CaseResult] = {}
    pending = list(range(len(cases)))
    while pending:
        batch = [dict(cases[i], index=i) for i in pending]
        proc = subprocess.Popen([sys.executable, "-m", "nnplug.stress", "--child"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ, PYTHONUNBUFFERED="1"))
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(batch))
        proc.stdin.close()
        running: Optional[int] = None
        started = time.time()
        for line in proc.stdout:
            if not line.startswith("{"):
                continue
            msg = json.loads(line)
            if "start" in msg:
                running, started = msg["start"], time.time()
            elif "done" in msg:
                i = msg["done"]
                c = cases[i]
                results[i] = CaseResult(c["name"], c["host"], True, bool(msg["ok"]), msg.get("detail", ""),
                                        round(time.time() - started, 2), msg.get("counts", {}))
                log(f"  {'ok  ' if msg['ok'] else 'FAIL'} {c['host']:<10} {c['name']}"
                    + ("" if msg["ok"] else f": {msg.get('detail', '')}"))
                running = None
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        err = proc.stderr.read() if proc.stderr else ""
        pending = [i for i in pending if i not in results]
        if not pending:
            break
        victim = running if running is not None else pending[0]
        how = f"signal {signal.Signals(-rc).name}" if rc < 0 else f"exit code {rc}"
        tail = " | ".join(err.strip().splitlines()[-3:])
        c = cases[victim]
        results[victim] = CaseResult(c["name"], c["host"], False, False,
                                     f"host process died ({how}) during this case; stderr: {tail[-400:]}")
        log(f"  DIED {c['host']:<10} {c['name']}: {how}")
        pending = [i for i in pending if i != victim]
    return [results[i] for i in range(len(cases))]


# ---- the cases ----------------------------------------------------------------------------

def bad_model_cases(bundle: Path, corpus_dir: Path, hosts=("pedalboard", "dawdreamer"),
                    silence: bool = True, worker: bool = True) -> List[Dict[str, Any]]:
    from nnplug.badmodels import write_corpus
    cases = []
    for bm in write_corpus(corpus_dir):
        for host in hosts:
            variants = [("Pass dry", "Synchronous")]
            if silence and bm.name != "slow":
                variants.append(("Silence", "Synchronous"))
            if worker and bm.name != "slow":
                variants.append(("Pass dry", "Worker thread"))
            for failure, mode in variants:
                cases.append({"kind": "bad_model", "host": host, "bundle": str(bundle), "model": str(bm.file),
                              "phase": bm.phase, "plugin_error": bm.plugin_error, "failure": failure, "mode": mode,
                              "name": f"bad_model:{bm.name} ({failure.lower()}, {mode.lower()})"})
    return cases


def torture_cases(bundle: Path, work: Path, hosts=("pedalboard", "dawdreamer")) -> List[Dict[str, Any]]:
    from nnplug.badmodels import write_good
    a = write_good(work / "good_a.ts")
    b = write_good(work / "good_b.ts")
    return [{"kind": "torture", "host": h, "bundle": str(bundle), "model": str(a), "swap": str(b),
             "name": f"torture ({mode.lower()})", "mode": mode}
            for h in hosts for mode in ("Synchronous", "Worker thread")]


def state_fuzz_cases(bundle: Path, work: Path, blobs: int = 300, seed: int = 0) -> List[Dict[str, Any]]:
    from nnplug.badmodels import write_good
    good = write_good(work / "good_state.ts")
    return [{"kind": "state_fuzz", "host": "pedalboard", "bundle": str(bundle), "model": str(good),
             "bad_model": str(work / "bad" / "nan.ts"), "blobs": blobs, "seed": seed,
             "name": f"state_fuzz ({blobs} blobs)"}]


def prepare_bundle(plugin: Path, work: Path) -> Path:
    """A private copy of the built bundle (hard-linked libraries; the build tree is never written)."""
    from nnplug.hosts import copy_bundle
    return copy_bundle(plugin, work)


def run_stress(plugin: Path, hosts=("pedalboard", "dawdreamer"), state_blobs: int = 300,
               log: Callable[[str], None] = print) -> Dict[str, Any]:
    """Bad models and host torture in both hosts (and state fuzzing in pedalboard)."""
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="nnplug-stress-") as tmp:
        work = Path(tmp)
        bundle = prepare_bundle(Path(plugin), work / "bundle")
        cases = bad_model_cases(bundle, work / "bad", hosts) + torture_cases(bundle, work, hosts)
        if "pedalboard" in hosts and state_blobs > 0:
            cases += state_fuzz_cases(bundle, work, state_blobs)
        log(f"stress: {len(cases)} cases in {', '.join(hosts)} (each host in a child process)")
        results = run_in_child(cases, log=log)
    return summarize(results, time.time() - t0)


def summarize(results: List[CaseResult], seconds: float) -> Dict[str, Any]:
    return {"tried": len(results), "survived": sum(r.survived for r in results),
            "passed": sum(r.ok for r in results), "failed": sum(not r.ok for r in results),
            "crashes": sum(not r.survived for r in results),
            "bad_models": sum(r.name.startswith("bad_model") for r in results),
            "state_blobs": sum(r.counts.get("blobs", 0) for r in results),
            "seconds": round(seconds, 1), "results": [asdict(r) for r in results]}


def format_summary(s: Dict[str, Any]) -> str:
    lines = [f"{'result':<6} {'host':<10} case"]
    for r in s["results"]:
        tag = "ok" if r["ok"] else ("DIED" if not r["survived"] else "FAIL")
        lines.append(f"{tag:<6} {r['host']:<10} {r['name']}" + ("" if r["ok"] else f"  -- {r['detail']}"))
    lines.append(f"cases tried: {s['tried']}, survived: {s['survived']}, failed: {s['failed']} "
                 f"(host crashes: {s['crashes']}; bad-model cases: {s['bad_models']}; state blobs: {s['state_blobs']}) "
                 f"in {s['seconds']} s")
    return "\n".join(lines)


# ---- the child side -----------------------------------------------------------------------

def _point_default_at(bundle: Path, model: Path) -> None:
    """The bundle's manifest names `model` (any file, unchecked) as its default model."""
    from nnplug.stage import models_dir
    d = models_dir(bundle)
    d.mkdir(parents=True, exist_ok=True)
    (d / "manifest.json").write_text(json.dumps({"format_version": 1, "default": "m", "models": [
        {"name": "m", "file": str(Path(model).resolve()), "sha256": "", "sample_rate": SR}]}))


def _signal(channels: int, total: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.2 * rng.standard_normal((channels, total))).astype(np.float32)


def _pedalboard(bundle: Path, params: Dict[str, Any]):
    from nnplug.hosts.pedalboard import PedalboardHost
    host = PedalboardHost(bundle, SR)
    host.set_params(params)
    return host


def _dawdreamer_render(bundle: Path, x: np.ndarray, block: int, params: Dict[str, Any],
                       sample_rate: int = SR, automation: Optional[Dict[str, np.ndarray]] = None):
    """Renders x in DawDreamer; returns (y, latency, state bytes)."""
    from nnplug.hosts.dawdreamer import DawDreamerHost
    host = DawDreamerHost(bundle, sample_rate)
    host.set_params(params)
    for pid, curve in (automation or {}).items():
        host.set_automation(pid, curve)
    y = host.render(x, block)
    return y, host.reported_latency(), host.raw_state


def _check_status(raw: bytes, pattern: str, failed: bool = True) -> Optional[str]:
    """None when the status reports a failure (or, `failed=False`, plays with a warning) whose
    message matches `pattern`; else what is wrong."""
    from nnplug.hosts.status import plugin_status
    st = plugin_status(raw)
    if not failed and not st.ok:
        return f"status reports a failure instead of a warning: {st}"
    if failed and not st.failed:
        return f"status does not report a failure: {st}"
    if not re.search(pattern, st.message, re.I):
        return f"status message {st.message!r} does not match {pattern!r}"
    return None


def _bad_model(case: Dict[str, Any]) -> Dict[str, Any]:
    bundle = Path(case["bundle"])
    _point_default_at(bundle, Path(case["model"]))
    params = {"on_failure": case["failure"], "inference_mode": case["mode"]}
    x = _signal(2, int(SR * SIGNAL_SECONDS))
    if case["host"] == "pedalboard":
        p = _pedalboard(bundle, params)
        y = p.process(x, 512, reset=True)
        L, raw = 0, p.raw_state   # pedalboard compensates the reported latency
    else:
        y, L, raw = _dawdreamer_render(bundle, x, 512, params)
    if y.shape != x.shape:
        return {"ok": False, "detail": f"rendered {y.shape}, expected {x.shape}"}
    if not np.isfinite(y).all():
        return {"ok": False, "detail": "non-finite output"}
    silence = case["failure"] == "Silence"
    if case["phase"] == "warning":   # played, with the warning in its status
        why = _check_status(raw, case["plugin_error"], failed=False)
        return {"ok": why is None, "detail": why or ""}
    if case["phase"] == "load":
        want = np.zeros_like(x) if silence else x
        if L != 0:
            return {"ok": False, "detail": f"a refused model reports latency {L}"}
        if not np.array_equal(y, want):
            return {"ok": False, "detail": f"output is not the {'silence' if silence else 'dry input'}"}
    else:
        tail = slice(x.shape[1] // 2, x.shape[1])
        want = np.zeros_like(x) if silence else np.concatenate([np.zeros((2, L), np.float32), x], 1)[:, :x.shape[1]]
        if not np.array_equal(y[:, tail], want[:, tail]):
            return {"ok": False, "detail": "after the failure the output is not the aligned dry input / silence"}
    why = _check_status(raw, case["plugin_error"])
    return {"ok": why is None, "detail": why or ""}


def _impulse_peak(y: np.ndarray, at: int) -> int:
    return int(np.argmax(np.abs(y[0]))) - at


def _torture(case: Dict[str, Any]) -> Dict[str, Any]:
    from nnplug.hosts.status import with_state_fields
    bundle, rng = Path(case["bundle"]), random.Random(5)
    _point_default_at(bundle, Path(case["model"]))
    blocks = 0
    if case["host"] == "pedalboard":
        p = _pedalboard(bundle, {"inference_mode": case["mode"]})
        sizes = [1, 2, 3, 7, 31, 64, 127, 512, 1023, 1024, 1025, 4096, 5000]
        for session, (rate, ch) in enumerate([(44100, 2), (48000, 2), (44100, 1), (22050, 2), (96000, 1),
                                              (44100, 2)]):
            p.reset()
            for i in range(40):
                n = rng.choice(sizes)
                p.set_params({"input_gain": rng.uniform(-24, 24), "output_gain": rng.uniform(-24, 24),
                              "dry_wet": rng.uniform(0, 100), "latent_scale_1": rng.uniform(-4, 4)})
                if i % 17 == 5:
                    p.reset()
                if i % 23 == 7:   # a model swap by state while rendering
                    path = case["swap"] if (i // 23) % 2 == 0 else case["model"]
                    p.raw_state = with_state_fields(p.raw_state, model_path=path, model_sha256="")
                x = _signal(ch, max(n, 3) * rng.randint(1, 3), seed=i)
                y = p.process(x, n, reset=False, sample_rate=rate)
                blocks += 1
                if not np.isfinite(y).all():
                    return {"ok": False, "detail": f"non-finite output (session {session}, call {i}, block {n}, {rate} Hz)"}
        # the latency report stays true: unity, a model at the host's rate, an impulse
        p.set_params({"input_gain": 0.0, "output_gain": 0.0, "dry_wet": 100.0, "latent_scale_1": 1.0})
        p.process(np.zeros((2, 8192), np.float32), 512, reset=True)
        x = np.zeros((2, 16384), np.float32)
        x[:, 1000] = 1.0
        y = p.process(x, 512, reset=True)
        st = p.status()
        peak = _impulse_peak(y, 1000)
        # pedalboard compensates the reported latency (buffering + the model's delay of 1): a
        # true report puts the impulse back where it was
        if not st.ok or peak != 0:
            return {"ok": False, "detail": f"after torture: impulse at +{peak} (want +0, latency {p.reported_latency()}), "
                                           f"status {st.message!r}"}
        return {"ok": True, "counts": {"blocks": blocks}}
    # DawDreamer: one block size per render; several renders at hostile sizes, rates and widths,
    # with every parameter automated per sample
    for block, rate, ch in [(1, 44100, 2), (7, 48000, 2), (333, 44100, 1), (4096, 22050, 2), (1025, 96000, 2)]:
        n = int(rate * 0.25)
        x = _signal(ch, n, seed=block)
        t = np.linspace(0, 1, n)
        auto = {"dry_wet": (0.5 + 0.5 * np.sin(40 * t)), "input_gain": 0.5 + 0.3 * np.sin(13 * t),
                "output_gain": 0.5 + 0.3 * np.cos(7 * t)}
        y, L, _ = _dawdreamer_render(bundle, x, block, {"inference_mode": case["mode"]}, rate, auto)
        blocks += 1
        if not np.isfinite(y).all():
            return {"ok": False, "detail": f"non-finite output (block {block}, {rate} Hz, {ch} ch)"}
    for block in (1, 333, 4096):
        x = np.zeros((2, 16384), np.float32)
        x[:, 1000] = 1.0
        y, L, raw = _dawdreamer_render(bundle, x, block, {"inference_mode": case["mode"]})
        peak = _impulse_peak(y, 1000)
        if peak != L:
            return {"ok": False, "detail": f"block {block}: impulse at +{peak}, reported latency {L}"}
    return {"ok": True, "counts": {"blocks": blocks}}


def mutate(blob: bytes, rng: random.Random) -> bytes:
    """One random mutation of a state blob (bytes level or XML level)."""
    b = bytearray(blob)
    kind = rng.randrange(7)
    if kind == 0:
        return bytes(b[:rng.randrange(len(b) + 1)])
    if kind == 1:
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        return bytes(b)
    if kind == 2:
        return bytes(rng.getrandbits(8) for _ in range(rng.randrange(2000)))
    if kind == 3 and len(b) > 8:
        b[4:8] = rng.getrandbits(32).to_bytes(4, "little")
        return bytes(b)
    text = blob[8:].split(b"\0", 1)[0].decode("utf-8", "replace")
    junk = ["", "nan", "inf", "-1e999", "abc", "1e38", "-5", "99999999999", "<", "&", "\u00e9\u2603"]
    text = re.sub(r'value="[^"]*"', lambda m: f'value="{rng.choice(junk)}"' if rng.random() < 0.3 else m.group(0), text)
    if rng.random() < 0.3:
        text = re.sub(r'version="[^"]*"', f'version="{rng.choice(junk + ["2", "0", "1"])}"', text)
    if rng.random() < 0.3:
        text = re.sub(r'model_sha256="[^"]*"', f'model_sha256="{rng.choice(["", "0" * 64, "xyz"])}"', text)
    if rng.random() < 0.2:
        text = text.replace("<PARAM", "<PARAM><PARAM", 1)
    from nnplug.hosts.status import wrap_xml_binary
    return wrap_xml_binary(text)


def _state_fuzz(case: Dict[str, Any]) -> Dict[str, Any]:
    from nnplug.hosts.status import plugin_state_blob, plugin_status, rewrap, with_state_fields, without_status
    bundle, rng = Path(case["bundle"]), random.Random(case.get("seed", 0))
    _point_default_at(bundle, Path(case["model"]))
    p = _pedalboard(bundle, {})
    x = _signal(2, 2048)
    p.process(x, 512)
    base = p.raw_state
    seeds = [base,
             with_state_fields(base, params={"dry_wet": "40", "output_gain": "-6"}),
             with_state_fields(base, model_path="/nonexistent/model.ts"),
             with_state_fields(base, model_path=case["bad_model"]),
             with_state_fields(base, model_sha256="ab" * 32),
             with_state_fields(base, model_path=case["model"])]
    rejected = 0
    for i in range(int(case["blobs"])):
        seed = rng.choice(seeds)
        blob = mutate(plugin_state_blob(seed), rng) if i >= len(seeds) else plugin_state_blob(seed)
        before = without_status(p.raw_state)
        try:
            p.raw_state = rewrap(base, blob)
        except Exception as e:  # noqa: BLE001 - a host may refuse a container; the plugin must not care
            return {"ok": False, "detail": f"blob {i}: pedalboard refused the container: {e}"}
        y = p.process(x[:, :rng.choice([64, 333, 512])], 512, reset=False)
        if not np.isfinite(y).all():
            return {"ok": False, "detail": f"blob {i}: non-finite output"}
        st = plugin_status(p.raw_state)
        if st.state_message.startswith("state ignored"):
            rejected += 1
            if without_status(p.raw_state) != before:
                return {"ok": False, "detail": f"blob {i}: a rejected state changed the plugin's state"}
    # the last good state comes back whole
    p.raw_state = seeds[1]
    p.process(x, 512)
    st = p.status()
    if not st.ok or abs(p.get_param("dry_wet") - 40.0) > 1e-3:
        return {"ok": False, "detail": f"the good state did not restore: {st}"}
    return {"ok": True, "counts": {"blobs": int(case["blobs"]), "rejected": rejected}}


def soak_model(path: Path) -> Path:
    """The seed autoencoder (seeded init) exported: deterministic and time-invariant, so a
    periodic input gives a periodic output. (The shipped default model is not time-invariant:
    its noise is counter-based, so its periods legitimately differ.)"""
    import torch
    from nnplug.export import export
    from nnplug.models import build_model
    torch.manual_seed(0)
    export(build_model({"architecture": "seed"}), str(path), sample_rate=SR, name="soak-seed", verbose=False)
    return path


def soak_case(bundle: Path, model: Path, minutes: float) -> Dict[str, Any]:
    return {"kind": "soak", "host": "pedalboard", "bundle": str(bundle), "model": str(model), "minutes": minutes,
            "name": f"soak ({minutes:g} min of audio)"}


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def _soak(case: Dict[str, Any]) -> Dict[str, Any]:
    """`minutes` of audio through one plugin instance, in one-period calls. The input repeats
    with a period P that is a whole number of model buffers, so after warm-up every period's
    output must be bit-identical to the first one's (no drift); resident memory after the
    last period is within 1 % of the value after warm-up (the first minute)."""
    bundle = Path(case["bundle"])
    _point_default_at(bundle, Path(case["model"]))
    p = _pedalboard(bundle, {})
    P = 43 * 1024                                   # ~1 s, a multiple of the default buffer N = 1024
    x = _signal(2, P, seed=3) * np.hanning(P).astype(np.float32)[None, :] * 2
    periods = max(3, int(round(case["minutes"] * 60 * SR / P)))
    warm = min(periods - 1, max(1, int(60 * SR / P)))    # the first minute (or less) is warm-up
    ref = None
    rss_warm = rss_peak = 0
    for i in range(periods):
        y = p.process(x, 1024, reset=(i == 0))
        if not np.isfinite(y).all():
            return {"ok": False, "detail": f"non-finite output in period {i}"}
        if i == warm:
            ref, rss_warm = y.copy(), _rss_kb()
        elif i > warm:
            rss_peak = max(rss_peak, _rss_kb())
            if not np.array_equal(y, ref):
                return {"ok": False, "detail": f"drift: period {i} differs from period {warm} "
                                               f"(max {float(np.abs(y - ref).max()):.3g})"}
    growth = (rss_peak - rss_warm) / rss_warm
    counts = {"periods": periods, "seconds_of_audio": int(periods * P / SR), "rss_warm_kb": rss_warm,
              "rss_peak_kb": rss_peak, "rss_growth_ppm": int(round(growth * 1e6))}
    if growth > 0.01:
        return {"ok": False, "detail": f"resident memory grew {100 * growth:.2f} % after warm-up", "counts": counts}
    return {"ok": True, "detail": f"RSS growth {100 * growth:.3f} %", "counts": counts}


def _child() -> int:
    cases = json.loads(sys.stdin.read())
    for case in cases:
        print(json.dumps({"start": case["index"]}), flush=True)
        if case["kind"] == "_crash":      # the harness's own test: a host dying mid-case
            os.kill(os.getpid(), signal.SIGSEGV)
        fn = {"bad_model": _bad_model, "torture": _torture, "state_fuzz": _state_fuzz, "soak": _soak,
              "_noop": lambda c: {"ok": True}}[case["kind"]]
        try:
            r = fn(case)
        except Exception as e:  # noqa: BLE001 - reported as the case's failure, the child goes on
            r = {"ok": False, "detail": f"{type(e).__name__}: {e}"}
        print(json.dumps({"done": case["index"], **r}), flush=True)
    return 0


def main(argv: List[str]) -> int:
    if argv == ["--child"]:
        return _child()
    if len(argv) >= 1 and argv[0] == "--soak":
        print("nnplug: note: python -m nnplug.stress --soak is deprecated; use nnplug soak --minutes N", file=sys.stderr)
        from nnplug.hosts import default_bundle
        minutes = float(argv[1]) if len(argv) > 1 else 60.0
        plugin = Path(argv[2]) if len(argv) > 2 else default_bundle()
        with tempfile.TemporaryDirectory(prefix="nnplug-soak-") as tmp:
            model = soak_model(Path(tmp) / "seed.ts")
            bundle = prepare_bundle(plugin, Path(tmp))
            t0 = time.time()
            r = run_in_child([soak_case(bundle, model, minutes)], timeout=6 * 3600)[0]
        print(f"soak: {'ok' if r.ok else 'FAILED'} in {time.time() - t0:.0f} s: {r.detail} {json.dumps(r.counts)}")
        return 0 if r.ok else 1
    print("usage: python -m nnplug.stress --child | --soak MINUTES [PLUGIN]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
