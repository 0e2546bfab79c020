"""The formats the build makes: the LV2 found and played by a real lilv host, bit-identical to the
VST3 in pedalboard; every bundle carrying the default model and the factory presets as named
programs; RUNPATH $ORIGIN/lib alone; only the formats' entry points exported."""
from __future__ import annotations

import json
import os
import re
import subprocess

import numpy as np
import pytest

from support.paths import BUILD, DEFAULT_MODEL, LV2, LV2_RENDER, ROOT, SR, require_formats
from nnplug.hosts import copy_bundle, open_host
from nnplug.hosts.lv2 import URI
from nnplug.hosts.lv2 import render as lv2_render
from nnplug.player import sha256_file

pytestmark = pytest.mark.needs_plugin
BLOCK = 512
ENTRY_POINTS = {"VST3": {"GetPluginFactory", "ModuleEntry", "ModuleExit"},
                "LV2": {"lv2_descriptor", "lv2ui_descriptor"},
                "Standalone": set()}


@pytest.fixture(scope="module")
def formats():
    return require_formats()


def binary_of(fmt, path):
    if fmt == "VST3":
        return path / "Contents" / "x86_64-linux" / "nnplug.so"
    if fmt == "LV2":
        return path / "libnnplug.so"
    return path


def root_of(fmt, path):
    return path.parent if fmt == "Standalone" else path


def no_user_presets(tmp_path):
    """The environment with the plugin's user preset folder pointed at an empty one (the
    programs then are the bundle's factory presets alone, whatever the real home holds)."""
    empty = tmp_path / "no-user-presets"
    empty.mkdir()
    return dict(os.environ, NNPLUG_USER_PRESET_DIR=str(empty))


def run(*cmd, env=None):
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, f"{cmd[0]} failed: {done.stderr[-2000:]}"
    return done.stdout


def labels(manifest_ttl):
    """The preset (program) names JUCE's LV2 helper wrote into manifest.ttl, in order."""
    return re.findall(r'a pset:Preset ;.*?rdfs:label "([^"]*)"', manifest_ttl.read_text(), re.S)


def factory_names():
    import yaml
    return [yaml.safe_load(p.read_text())["name"] for p in sorted((ROOT / "presets").glob("*.yaml"))]


# -- what every bundle carries ---------------------------------------------------------------------
def test_lilv_finds_the_lv2_by_its_https_uri(formats):
    env = dict(os.environ, LV2_PATH=str(LV2.parent))
    assert run("lv2ls", env=env).split() == [URI]
    info = run("lv2info", URI, env=env)
    assert "Audio In 1" in info and "Audio Out 2" in info, info[:2000]
    assert f"<{URI}>" in (LV2 / "manifest.ttl").read_text()


@pytest.mark.parametrize("fmt", ["VST3", "LV2", "Standalone"])
def test_bundle_carries_the_default_model_and_factory_presets(formats, fmt):
    from nnplug.presets.build import factory_dir
    from nnplug.stage import models_dir
    root = root_of(fmt, formats[fmt])
    manifest = json.loads((models_dir(root) / "manifest.json").read_text())
    default = next(m for m in manifest["models"] if m["name"] == manifest["default"])
    assert default["sha256"] == sha256_file(DEFAULT_MODEL)
    assert sha256_file(models_dir(root) / default["file"]) == default["sha256"]
    presets = sorted(p.stem for p in factory_dir(root).glob("*.vstpreset"))
    assert presets == sorted(p.stem for p in (ROOT / "presets").glob("*.yaml"))


def test_lv2_manifest_lists_the_factory_programs_by_name(formats):
    assert labels(LV2 / "manifest.ttl") == factory_names()


def test_program_name_is_never_empty(formats, tmp_path):
    """A bundle without presets has one program: JUCE's LV2 helper asks the plugin for its name
    (getProgramName(0)) and writes it into the copy's manifest."""
    bundle = copy_bundle(LV2, tmp_path)       # without models and presets
    run(BUILD / "juce_project" / "juce_lv2_helper", bundle / "libnnplug.so", env=no_user_presets(tmp_path))
    assert labels(bundle / "manifest.ttl") == ["Default"]


def test_vst3_lists_the_factory_programs_in_pedalboard(formats, tmp_path, monkeypatch):
    from nnplug.hosts.pedalboard import PedalboardHost
    monkeypatch.setenv("NNPLUG_USER_PRESET_DIR", no_user_presets(tmp_path)["NNPLUG_USER_PRESET_DIR"])
    host = PedalboardHost(formats["VST3"], SR)
    assert list(host.raw_parameters()["program"].choices) == factory_names()


# -- relocatable, and exporting nothing but the entry points ---------------------------------------
@pytest.mark.parametrize("fmt", ["VST3", "LV2", "Standalone"])
def test_runpath_is_origin_lib_only(formats, fmt):
    binary = binary_of(fmt, formats[fmt])
    dynamic = run("readelf", "-d", binary)
    paths = re.findall(r"\((RPATH|RUNPATH)\)\s+Library r(?:un)?path: \[(.*)\]", dynamic)
    assert paths == [("RUNPATH", "$ORIGIN/lib")], paths
    assert {"libtorch.so", "libtorch_cpu.so", "libc10.so"} <= {p.name for p in (binary.parent / "lib").iterdir()}


@pytest.mark.parametrize("fmt", ["VST3", "LV2", "Standalone"])
def test_only_entry_points_are_exported(formats, fmt):
    symbols = set()
    for line in run("nm", "-D", "--defined-only", binary_of(fmt, formats[fmt])).splitlines():
        symbols.add(line.split()[-1])
    # the executable must keep libstdc++'s copy-relocated data (typeinfo, vtables) global:
    # they are versioned (name@GLIBCXX_...) and none of ours
    ours = {s for s in symbols if "@" not in s}
    assert ours == ENTRY_POINTS[fmt], sorted(ours)[:20]


# -- the LV2 in a lilv host against the VST3 in pedalboard -----------------------------------------
def signal(seconds=1.5):
    rng = np.random.default_rng(17)
    t = np.arange(int(seconds * SR)) / SR
    return np.stack([0.3 * np.sin(2 * np.pi * 196 * t) * np.exp(-t), 0.1 * rng.standard_normal(t.size)]
                    ).astype(np.float32)


@pytest.fixture(scope="module")
def vst3_render(formats):
    host = open_host("pedalboard", formats["VST3"], SR)
    y = host.render(signal(), BLOCK)
    status = host.status()
    assert status.ok and status.model_name == "nnplug-default", status
    return y, host.reported_latency()


@pytest.mark.parametrize("block", [BLOCK, 333])
def test_lv2_in_lilv_is_bit_identical_to_the_vst3_in_pedalboard(formats, vst3_render, block):
    """The same block size as the VST3's render, and one that does not divide the model buffer
    (the reported latency, N - 1 + d, covers any block size, so the output cannot depend on it)."""
    y_vst3, latency = vst3_render
    x = signal()
    # the lilv host does not compensate latency: feed `latency` more zeros and drop as many
    xp = np.concatenate([x, np.zeros((2, latency), np.float32)], axis=1)
    out = lv2_render(xp, SR, block, LV2_RENDER, lv2_path=LV2.parent)
    assert out.latency == latency
    y_lv2 = out.audio[:, latency:]
    assert y_lv2.shape == y_vst3.shape == x.shape
    assert np.abs(y_vst3).max() > 1e-3 and not np.array_equal(y_vst3, x)   # the model played
    if not np.array_equal(y_lv2, y_vst3):
        bad = np.nonzero(np.abs(y_lv2 - y_vst3).max(axis=0))[0]
        pytest.fail(f"LV2 differs from VST3 at {bad.size} samples, first {bad[0]}, "
                    f"max {np.abs(y_lv2 - y_vst3).max():.3g}")
