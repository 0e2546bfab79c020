"""`nnplug install` into a temporary HOME, and the installed plugin used from there: lilv finds the
LV2 in ~/.lv2, and pedalboard in a Python without torch (.venv-host) plays the VST3 from ~/.vst3,
bit-identical to the built one, with every libtorch file it maps coming from inside the bundle."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from support.paths import BUILD, CONFIG, HOST_PYTHON, LV2_RENDER, ROOT, SR, require_formats
from nnplug.hosts import open_host
from nnplug.hosts.lv2 import URI
from nnplug.hosts.lv2 import render as lv2_render

pytestmark = pytest.mark.needs_plugin
BLOCK = 512


def nnplug(*args, home, check=True):
    env = dict(os.environ, HOME=str(home))
    done = subprocess.run([sys.executable, "-m", "nnplug", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=600)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def clean_env(home):
    """What a user's session gives a host: no LV2_PATH, no LD_LIBRARY_PATH, no venv."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("LV2_PATH", "LD_LIBRARY_PATH", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["HOME"] = str(home)
    return env


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    require_formats()
    home = tmp_path_factory.mktemp("home")
    done = nnplug("install", "--build-dir", BUILD, "--config", CONFIG, home=home)
    return home, done.stdout


def signal():
    rng = np.random.default_rng(5)
    return (0.2 * rng.standard_normal((2, SR))).astype(np.float32)


def test_install_puts_every_format_in_the_per_user_folders(home):
    home, out = home
    where = {"VST3": home / ".vst3" / "nnplug.vst3", "LV2": home / ".lv2" / "nnplug.lv2",
             "Standalone": home / ".local" / "lib" / "nnplug-standalone"}
    for fmt, path in where.items():
        assert f"installed {fmt:<10} {path}" in out, out
    launcher = home / ".local" / "bin" / "nnplug-standalone"
    assert os.access(launcher, os.X_OK) and str(where["Standalone"] / "nnplug") in launcher.read_text()
    for fmt, binary in (("VST3", where["VST3"] / "Contents" / "x86_64-linux" / "nnplug.so"),
                        ("LV2", where["LV2"] / "libnnplug.so"), ("Standalone", where["Standalone"] / "nnplug")):
        # the binary is a copy (never the build's file); the loader resolves libtorch inside it
        assert binary.stat().st_nlink == 1, fmt
        resolved = dict(re.findall(r"^\s*(\S+) => (\S+)", subprocess.run(
            ["ldd", str(binary)], capture_output=True, text=True, env=clean_env(home)).stdout, re.M))
        for lib in ("libtorch_cpu.so", "libc10.so", "libtorch.so"):
            assert resolved.get(lib) == str(binary.parent / "lib" / lib), (fmt, lib, resolved.get(lib))
        dynamic = subprocess.run(["readelf", "-d", str(binary)], capture_output=True, text=True).stdout
        assert re.findall(r"\((?:RPATH|RUNPATH)\)\s+Library r(?:un)?path: \[(.*)\]", dynamic) == ["$ORIGIN/lib"]


def test_installing_again_replaces_the_bundle(home, tmp_path):
    home, _ = home
    stray = home / ".vst3" / "nnplug.vst3" / "stray.txt"
    stray.write_text("left from an old install")
    out = nnplug("install", "--vst3", "--build-dir", BUILD, "--config", CONFIG, home=home).stdout
    assert out.strip().splitlines() == [f"installed VST3       {home / '.vst3' / 'nnplug.vst3'}"]
    assert not stray.exists()


def test_install_dest_and_clear_errors(tmp_path):
    require_formats()
    out = nnplug("install", "--lv2", "--dest", tmp_path / "plugins", "--build-dir", BUILD, "--config", CONFIG,
                 home=tmp_path).stdout
    assert (tmp_path / "plugins" / "nnplug.lv2" / "libnnplug.so").is_file(), out
    none = nnplug("install", "--build-dir", tmp_path / "no-build", home=tmp_path, check=False)
    assert none.returncode == 2 and "run `nnplug build` first" in none.stderr, none.stderr
    au = nnplug("install", "--au", "--build-dir", BUILD, "--config", CONFIG, home=tmp_path, check=False)
    assert au.returncode == 2 and "AU not built" in au.stderr and "run `nnplug build`" in au.stderr, au.stderr


def test_lilv_finds_and_plays_the_installed_lv2(home, tmp_path):
    home, _ = home
    env = clean_env(home)
    listed = subprocess.run(["lv2ls"], capture_output=True, text=True, env=env).stdout.split()
    assert URI in listed
    x = signal()
    installed = lv2_render(x, SR, BLOCK, LV2_RENDER, env=env)
    built = lv2_render(x, SR, BLOCK, LV2_RENDER, lv2_path=BUILD / "juce_project" / "nnplug_artefacts" / CONFIG / "LV2")
    assert installed.latency == built.latency > 0
    assert np.abs(installed.audio).max() > 1e-3 and np.array_equal(installed.audio, built.audio)


def test_installed_vst3_plays_in_a_python_without_torch(home, tmp_path):
    home, _ = home
    if not HOST_PYTHON.is_file():
        pytest.fail(f"no torch-free Python at {HOST_PYTHON}: run scripts/setup.sh (it makes .venv-host)",
                    pytrace=False)
    bundle = home / ".vst3" / "nnplug.vst3"
    x = signal()
    np.save(tmp_path / "in.npy", x)
    env = clean_env(home)
    env["PYTHONPATH"] = str(ROOT / "python")      # nnplug.hosts only: torch-free
    done = subprocess.run([str(HOST_PYTHON), "-m", "nnplug.hosts.isolated", str(bundle), str(tmp_path / "in.npy"),
                           str(tmp_path / "out.npy"), str(BLOCK), str(SR)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    said = json.loads(done.stdout.strip().splitlines()[-1])
    assert said["torch_importable"] is False
    lib = bundle / "Contents" / "x86_64-linux" / "lib"
    mapped = said["runtime"]
    assert any(p.endswith("/libtorch_cpu.so") for p in mapped), mapped
    assert all(p.startswith(str(lib) + "/") for p in mapped), mapped
    assert said["loaded"] and not said["failed"] and said["model_name"] == "nnplug-default", said
    assert said["model_file"].startswith(str(bundle)), said
    y_installed = np.load(tmp_path / "out.npy")
    # the same bundle as built, played in this (torch) process: the same samples
    reference = open_host("pedalboard", BUILD / "juce_project" / "nnplug_artefacts" / CONFIG / "VST3" / "nnplug.vst3",
                          SR)
    y_built = reference.render(x, BLOCK)
    assert said["latency"] == reference.reported_latency()
    assert np.abs(y_built).max() > 1e-3 and np.array_equal(y_installed, y_built)
