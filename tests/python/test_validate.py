"""`nnplug validate`: the built plugin is bit-identical to the model run in Python, in
pedalboard and DawDreamer, at every host block size, a changing block sequence and both
inference modes; gain and dry/wet give their analytic result; a one-ulp change is caught."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from support.paths import ROOT, SR
from nnplug.hosts import PARAMETERS, block_sequence, open_host, parse_param_assignment, stage_copy
from nnplug.contract import buffer_size, read as model_facts
from nnplug.validate import (CHANGING, DEFAULT_BLOCKS, measure_shift, run_validate,
                             shifted)

ALL_BLOCKS = [str(b) for b in DEFAULT_BLOCKS] + ["changing"]


# -- the CI proof: both models, both hosts, every block size, both modes -----------------------
def _validate_cli(vst3, model, tmp_path):
    report = tmp_path / "report"
    cmd = [sys.executable, "-m", "nnplug", "validate", "--plugin", str(vst3), "--model", str(model),
           "--host", "all", "--block-sizes", ",".join(ALL_BLOCKS), "--modes", "sync,worker",
           "--report", str(report), "--json"]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=1800)
    assert p.stdout.strip(), p.stderr
    result = json.loads(p.stdout)
    return p, result, report


@pytest.mark.slow
@pytest.mark.parametrize("which", ["default", "seed"])
def test_validate_bit_identical(which, vst3, default_model, seed_model, tmp_path):
    model = default_model if which == "default" else seed_model
    p, result, report = _validate_cli(vst3, model, tmp_path)
    bad = [r for r in result["rows"] if not r["ok"]]
    assert p.returncode == 0 and result["ok"], (bad[:5], result["settings"], p.stderr[-3000:])
    assert result["deterministic"] is True
    rows = result["rows"]
    seen = {(r["host"], r["mode"], r["block"]) for r in rows}
    for mode in ("Synchronous", "Worker thread"):
        for b in ALL_BLOCKS:
            assert ("pedalboard", mode, b) in seen
            if b != "changing":                 # DawDreamer renders at one fixed block size
                assert ("dawdreamer", mode, b) in seen
    for r in rows:
        assert r["equal"] is True and r["max_abs_diff"] == 0.0
        assert r["latency_measured"] == r["latency_reported"] or (r["latency_measured"] is None and r["signal"] != "suite")
    assert {r["signal"] for r in rows} == {"suite", "music10s"}
    assert all(s["ok"] for s in result["settings"]) and len(result["settings"]) == 16
    # the report a person opens
    page = (report / "index.html").read_text()
    assert "PASS" in page and "plot-pedalboard.png" in page and "plot-dawdreamer.png" in page
    assert (report / "plot-pedalboard.png").stat().st_size > 10000
    assert json.loads((report / "report.json").read_text())["ok"] is True


@pytest.mark.parametrize("weights", ["float16", "int8"])
def test_rounded_weights_bit_identical(vst3, weights, request):
    """A file with float16 or int8 wide layers (fbgemm's fp16 or dynamic int8 kernel, weights
    packed on the first call, which the plugin makes at load) plays bit-identically to the same
    file run in Python, in both hosts, both modes, a fixed and a changing block size. For int8
    this holds although each call quantizes its input with its own range: the plugin's libtorch
    runs the same ops on the same buffers of N."""
    model = request.getfixturevalue("half_weights_model" if weights == "float16" else "int8_weights_model")
    result = run_validate(vst3, model, blocks=[512, "changing"], modes=["Synchronous", "Worker thread"],
                          long_signal=False, settings=False, log=lambda s: None)
    assert result.ok and result.deterministic is True, [r for r in result.rows if not r.ok][:3]
    assert {(r.host, r.mode, r.block) for r in result.rows} >= {
        (h, m, b) for h in ("pedalboard", "dawdreamer") for m in ("Synchronous", "Worker thread") for b in ("512",)}
    assert any(r.block == "changing" for r in result.rows)
    assert all(r.equal is True and r.max_abs_diff == 0.0 for r in result.rows)


# -- the check can fail ------------------------------------------------------------------------
def test_one_ulp_in_the_reference_fails(vst3, seed_model):
    """Change one reference sample by one ulp: validate must fail, in both hosts, and point at
    exactly that sample."""
    facts = model_facts(seed_model)
    at = facts.delay + 3000          # in the suite's impulses, where the output is not zero
    changed = {}

    def corrupt(name, ref):
        ref = ref.copy()
        if name == "suite":
            assert ref[0, at] != 0
            ref[0, at] = np.nextafter(ref[0, at], np.float32(np.inf))
            changed["value"] = float(ref[0, at])
        return ref

    result = run_validate(vst3, seed_model, blocks=[512], modes=["Synchronous"], long_signal=False,
                          settings=False, reference_hook=corrupt, log=lambda s: None)
    assert not result.ok
    rows = {r.host: r for r in result.rows}
    assert set(rows) == {"pedalboard", "dawdreamer"}
    for host, r in rows.items():
        assert r.equal is False and not r.ok
        assert 0 < r.max_abs_diff < 1e-6
        L = r.latency_reported
        want = at - facts.delay if host == "pedalboard" else at + L - facts.delay
        assert r.first_diff["sample"] == want and r.first_diff["channel"] == 0
        assert r.first_diff["expected"] == changed["value"]
        assert r.latency_measured == L      # the latency is still right: only the sample is wrong


@pytest.mark.parametrize("kind", ["nnplug", "rave-like"])
def test_stochastic_model_is_not_claimed_bit_identical(kind, vst3, stochastic_model, rave_like_model):
    model = stochastic_model if kind == "nnplug" else rave_like_model
    assert model_facts(model).format == ("nnplug" if kind == "nnplug" else "rave-v2")
    result = run_validate(vst3, model, blocks=[333], modes=["Synchronous"], long_signal=False,
                          log=lambda s: None)
    assert result.deterministic is False
    assert "not claimed without --seed" in result.statement
    assert result.settings == []
    for r in result.rows:
        assert r.equal is None and r.ok, r
        # an unseeded draw cannot place the output: the latency is the status's, whose model
        # delay is checked against the file's (stated, or measured by the shared rule)
        assert r.latency_measured is None and r.model_delay == r.latency_reported - 1023
        assert any("not claimable without a seed" in n for n in r.notes)


@pytest.mark.parametrize("kind", ["nnplug", "rave-like"])
def test_stochastic_model_is_bit_identical_at_a_seed(kind, vst3, stochastic_model, rave_like_model):
    """The plugin's model draws from torch's generator in the host's process: seeded before each
    render, it plays exactly the reference's stream at that seed, in both modes and hosts."""
    model = stochastic_model if kind == "nnplug" else rave_like_model
    result = run_validate(vst3, model, blocks=[333, "changing"], modes=["Synchronous", "Worker thread"],
                          long_signal=False, settings=False, seed=1234, log=lambda s: None)
    assert result.deterministic is True and "at seed 1234" in result.statement
    assert {r.host for r in result.rows} == {"pedalboard", "dawdreamer"}
    assert result.ok and all(r.equal is True and r.max_abs_diff == 0.0 for r in result.rows), \
        [r for r in result.rows if not r.ok][:3]


@pytest.mark.parametrize("args, message", [
    (["--plugin", "missing.vst3"], "plugin bundle not found"),
    (["--block-sizes", "512,zero"], "--block-sizes"),
    (["--modes", "fast"], "--modes"),
])
def test_validate_cli_user_errors(vst3, seed_model, tmp_path, args, message):
    base = {"--plugin": str(vst3), "--model": str(seed_model)}
    for k, v in zip(args[::2], args[1::2]):
        base[k] = str(tmp_path / v) if k == "--plugin" else v
    cmd = [sys.executable, "-m", "nnplug", "validate"] + [x for kv in base.items() for x in kv]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr


def test_validate_renders_given_wav_files(vst3, seed_model, tmp_path):
    from nnplug.audio import write_wav
    rng = np.random.default_rng(5)
    wav = tmp_path / "take.wav"
    write_wav(wav, (0.2 * rng.standard_normal(20000)).astype(np.float32)[None], SR)   # mono: duplicated
    result = run_validate(vst3, seed_model, hosts=["dawdreamer"], blocks=[100], modes=["Worker thread"],
                          inputs=[wav], long_signal=False, settings=False, log=lambda s: None)
    assert result.ok and {r.signal for r in result.rows} == {"suite", "take.wav"}, result.rows
    assert all(r.equal for r in result.rows)
    wrong_rate = tmp_path / "48k.wav"
    write_wav(wrong_rate, np.zeros((2, 100), np.float32), 48000)
    with pytest.raises(ValueError, match="48000"):
        run_validate(vst3, seed_model, inputs=[wrong_rate], log=lambda s: None)


def test_staged_copies_play_their_own_model(vst3, seed_model, tmp_path):
    """Two staged copies with different models, loaded in one process, each play their own
    model (the plugin binary is copied, not hard-linked: one inode is loaded only once). Same
    architecture, other weights: only the right model's output is bit-identical."""
    import torch
    from nnplug.export import export
    from nnplug.models import build_model
    other = tmp_path / "other.ts"
    torch.manual_seed(1)
    export(build_model({"architecture": "seed"}), str(other), sample_rate=SR, name="other", verbose=False)
    for model in (seed_model, other):
        result = run_validate(vst3, model, hosts=["pedalboard"], blocks=[512], modes=["Synchronous"],
                              long_signal=False, settings=False, log=lambda s: None)
        assert result.ok, [r.notes for r in result.rows]
        assert result.rows[0].latency_reported == 1023 + model_facts(model).delay


# -- pieces ------------------------------------------------------------------------------------
def test_parameter_table_matches_the_hosts(vst3, seed_model, tmp_path):
    bundle = stage_copy(vst3, seed_model, tmp_path)
    for name in ("pedalboard", "dawdreamer"):
        names = open_host(name, bundle, SR).parameter_names()
        for p in PARAMETERS.values():
            assert p.name in names, (name, p.id)


def test_buffer_size_and_sequences():
    assert buffer_size("Auto", 64) == 1024 and buffer_size("Auto", 48) == 1056 and buffer_size("512", 3) == 513
    assert block_sequence(100, 250) == [100, 100, 50]
    assert sum(block_sequence(CHANGING, 20000)) == 20000
    assert parse_param_assignment("dry_wet=50") == ("dry_wet", 50.0)
    assert parse_param_assignment("inference_mode=worker thread") == ("inference_mode", "Worker thread")
    assert parse_param_assignment("buffer_size=2048") == ("buffer_size", "2048")
    for bad in ("dry_wet=150", "nope=1", "dry_wet", "mono_mode=sideways"):
        with pytest.raises((ValueError, KeyError)):
            parse_param_assignment(bad)


def test_measure_shift_finds_the_exact_lag():
    rng = np.random.default_rng(0)
    ref = rng.standard_normal((2, 6000)).astype(np.float32)
    for k in (-1500, -1, 0, 7, 1023):
        y = shifted(ref, k, 5000)
        assert measure_shift(y, ref, 2000) == k
        dc = ref - 0.4          # a large DC offset (untrained models) must not fool it
        assert measure_shift(shifted(dc, k, 5000), dc, 2000) == k
    assert measure_shift(np.zeros((2, 100), np.float32), ref, 50) is None


def test_measure_shift_sees_past_a_call_rate_component():
    """An output with steps every model buffer (int8 files: one activation scale per call)
    correlates best at lags off by multiples of the buffer when the steps before what the render
    shows are strong; told the buffer size, measure_shift confirms those lags moved back."""
    rng = np.random.default_rng(0)
    period, k = 128, 4000
    ref = 0.1 * rng.standard_normal((1, 6000 + k))
    ref[0, k % period:k:period] += 50.0     # strong steps before the part the render shows
    ref[0, k::period] += 1.0                # weak ones in it
    ref = ref.astype(np.float32)
    y = shifted(ref, k, 6000)
    assert measure_shift(y, ref, 4200) != k           # the correlation alone is fooled
    assert measure_shift(y, ref, 4200, period=period) == k


def test_what_the_plugin_played_is_checked_against_the_contract(seed_model):  # noqa: F811
    """validate takes N, the latency and the audio path from the plugin's status, and fails a
    render whose status disagrees with the contract or with the host."""
    from dataclasses import replace

    from nnplug.hosts.status import PluginStatus
    from nnplug.validate import played_problems
    facts = model_facts(seed_model)
    n = buffer_size("Auto", facts.ratio)
    latency = n - 1 + facts.delay
    good = PluginStatus(True, False, "", "", facts.name, str(seed_model), latency, n, {},
                        method="encode>decode" if facts.latent_path else "forward", model_delay=facts.delay)
    assert played_problems(good, facts, "Auto", latency) == []
    assert played_problems(replace(good, method="", model_delay=None), facts, "Auto", latency) == []  # not said
    bad = {"N": replace(good, buffer_size=2 * n), "latency": replace(good, latency=latency + 1),
           "path": replace(good, method="encode>decode" if not facts.latent_path else "forward"),
           "delay": replace(good, model_delay=facts.delay + 1),
           "not loaded": replace(good, loaded=False, failed=True, message="model not found")}
    for what, status in bad.items():
        problems = played_problems(status, facts, "Auto", latency)
        assert len(problems) == 1, (what, problems)
    assert "model not found" in played_problems(bad["not loaded"], facts, "Auto", latency)[0]
    assert "4096" in played_problems(good, facts, "4096", latency)[0]     # another buffer-size choice
