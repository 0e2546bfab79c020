"""`nnplug render`: a WAV through the plugin in each host, bit-identical to the model run in
Python; parameters by ID; clear errors."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from support.paths import ROOT, SR
from nnplug.audio import read_wav, write_wav
from nnplug.contract import buffer_size, read as model_facts
from nnplug.validate import reference, shifted


def nnplug(*args):
    return subprocess.run([sys.executable, "-m", "nnplug", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def input_wav(tmp_path_factory):
    rng = np.random.default_rng(3)
    t = np.arange(int(1.5 * SR)) / SR
    x = np.stack([0.4 * np.sin(2 * np.pi * 220 * t), 0.2 * rng.standard_normal(t.size)]).astype(np.float32)
    path = tmp_path_factory.mktemp("in") / "in.wav"
    write_wav(path, x, SR)
    return path, x


@pytest.mark.parametrize("host", ["pedalboard", "dawdreamer"])
def test_render_matches_the_model(host, vst3, seed_model, input_wav, tmp_path):
    path, x = input_wav
    out = tmp_path / "out.wav"
    p = nnplug("render", "--plugin", vst3, "--model", seed_model, "--input", path, "--output", out,
               "--host", host, "--block-sizes", 333)
    assert p.returncode == 0, p.stderr
    y, sr = read_wav(out)
    assert sr == SR and y.shape == x.shape
    facts = model_facts(seed_model)
    n = buffer_size("Auto", facts.ratio)
    latency = int(p.stdout.split("latency ")[1].split()[0])
    assert latency == n - 1 + facts.delay
    ref = reference(facts, x, n, total=x.shape[1] + latency + n)
    c = latency if host == "pedalboard" else 0
    assert np.array_equal(y, shifted(ref, c - latency + facts.delay, x.shape[1]))


def test_render_params_dry_is_the_input(vst3, seed_model, input_wav, tmp_path):
    """dry_wet=0 in pedalboard (latency compensated): exactly the input, every bit."""
    path, x = input_wav
    out = tmp_path / "dry.wav"
    p = nnplug("render", "--plugin", vst3, "--model", seed_model, "--input", path, "--output", out,
               "--param", "dry_wet=0", "--param", "inference_mode=Worker thread", "--block-sizes", 256)
    assert p.returncode == 0, p.stderr
    y, _ = read_wav(out)
    assert np.array_equal(y, x)


def test_render_mono_input_and_resampling(vst3, seed_model, tmp_path):
    mono = tmp_path / "mono.wav"
    write_wav(mono, (0.3 * np.sin(np.arange(22050) / 10.0)).astype(np.float32)[None], 22050)
    out = tmp_path / "out.wav"
    p = nnplug("render", "--plugin", vst3, "--model", seed_model, "--input", mono, "--output", out,
               "--sample-rate", SR, "--no-progress")
    assert p.returncode == 0, p.stderr
    y, sr = read_wav(out)
    assert sr == SR and y.shape == (2, 44100) and np.isfinite(y).all() and np.any(y)
    assert np.array_equal(y[0], y[1])      # both channels of a mono input run the same stream


@pytest.mark.parametrize("args, message", [
    (["--input", "nope.wav"], "input not found"),
    (["--param", "dry_wet=200"], "outside"),
    (["--param", "no_such=1"], "unknown parameter ID"),
    (["--param", "dry_wet"], "ID=VALUE"),
    (["--preset", "nope.vstpreset"], "preset not found"),
    (["--block-sizes", "0"], "--block-sizes"),
])
def test_render_user_errors(vst3, seed_model, input_wav, tmp_path, args, message):
    path, _ = input_wav
    base = ["render", "--plugin", vst3, "--model", seed_model, "--input", path, "--output", tmp_path / "o.wav"]
    if args[0] == "--input":
        base[base.index("--input") + 1] = tmp_path / args[1]
        args = []
    p = nnplug(*base, *args)
    assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr, p.stderr


def test_render_fails_with_the_plugins_message_when_it_refuses_the_model(vst3, input_wav, tmp_path):
    """A bundle whose default model the plugin cannot load (staged by hand, past `nnplug stage`'s
    checks): the plugin passes the input dry, and render must say so instead of writing it."""
    import json

    from nnplug.hosts import copy_bundle
    from nnplug.stage import models_dir
    bundle = copy_bundle(vst3, tmp_path)
    models = models_dir(bundle)
    models.mkdir(parents=True)
    (models / "broken.ts").write_bytes(b"not a model")
    (models / "manifest.json").write_text(json.dumps({"format_version": 1, "default": "broken", "models": [
        {"name": "broken", "file": "broken.ts", "sha256": "0" * 64}]}))
    path, _ = input_wav
    out = tmp_path / "o.wav"
    p = nnplug("render", "--plugin", bundle, "--input", path, "--output", out, "--no-progress")
    assert p.returncode == 2 and "the plugin did not play the model" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr and not out.exists()
