"""Drive CMake: configure (once) and build the plugin, with a progress display.

Ninja is used when present; the Python interpreter running this is the one whose torch
wheel provides libtorch, so the plugin and the Python tools share one libtorch.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def artefacts(build_dir: Path, config: str) -> dict[str, Path]:
    """The bundles a build produced, by format."""
    base = Path(build_dir) / "juce_project" / "nnplug_artefacts" / config
    found = {}
    # the Standalone is nnplug.app on macOS, nnplug.exe on Windows (those two not run here)
    for fmt, rel in (("VST3", "VST3/nnplug.vst3"), ("LV2", "LV2/nnplug.lv2"),
                     ("Standalone", "Standalone/nnplug.app"), ("Standalone", "Standalone/nnplug.exe"),
                     ("Standalone", "Standalone/nnplug"), ("AU", "AU/nnplug.component")):
        if fmt not in found and (base / rel).exists():
            found[fmt] = base / rel
    return found


def _progress(line: str, start: float) -> None:
    m = re.match(r"\[(\d+)/(\d+)\]\s*(.*)", line)
    if not m:
        return
    done, total, what = int(m[1]), int(m[2]), m[3]
    width = 30
    filled = width * done // max(total, 1)
    what = what.split("/")[-1][:40]
    sys.stdout.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {time.time() - start:5.0f}s {what:<40}")
    sys.stdout.flush()


@contextlib.contextmanager
def build_lock(build_dir: Path):
    """Serialise builds of one build directory (two ninja runs in one tree race), and let
    tests that copy the bundle wait until a build in progress has finished."""
    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir / ".nnplug-build.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def build(config: str = "Release", build_dir: Path | str = "build", juce_dir: str | None = None,
          targets: list[str] | None = None, jobs: int | None = None, verbose: bool = False,
          package: bool = True) -> dict[str, Path]:
    """Configure and build; then (package, and a full build) give every bundle the shipped default
    model and the factory presets (`package_bundles`), so that a fresh build is a usable plugin."""
    from nnplug.errors import UserError
    if config not in ("Release", "Debug"):
        raise UserError(f"--config must be Release or Debug, not {config}")
    cmake = shutil.which("cmake")
    if cmake is None:
        raise UserError("cmake not found: run scripts/setup.sh")
    build_dir = Path(build_dir)
    if not build_dir.is_absolute():
        build_dir = ROOT / build_dir
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    cache = build_dir / "CMakeCache.txt"
    configure = [cmake, "-S", str(ROOT), "-B", str(build_dir), *([] if cache.exists() else generator),
                 f"-DCMAKE_BUILD_TYPE={config}", f"-DNNPLUG_PYTHON={sys.executable}"]
    if juce_dir:
        configure.append(f"-DJUCE_DIR={juce_dir}")
    with build_lock(build_dir):
        found = _configure_and_build(cmake, configure, build_dir, config, targets, jobs, verbose)
        if package and not targets:
            package_bundles(found, build_dir)
        return found


def _configure_and_build(cmake, configure, build_dir, config, targets, jobs, verbose) -> dict[str, Path]:
    from nnplug.errors import UserError
    start = time.time()
    print(f"configuring {build_dir} ({config})", flush=True)
    r = subprocess.run(configure, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stdout[-4000:] + r.stderr[-4000:])
        raise UserError("CMake configuration failed (output above)")

    cmd = [cmake, "--build", str(build_dir), "--config", config]
    if targets:
        cmd += ["--target", *targets]
    if jobs:
        cmd += ["-j", str(jobs)]
    env = dict(os.environ, NINJA_STATUS="[%f/%t] ")
    log = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env) as p:
        assert p.stdout is not None
        for line in p.stdout:
            log.append(line)
            if verbose:
                sys.stdout.write(line)
            elif sys.stdout.isatty():
                _progress(line, start)
            elif line.startswith("[") and "Linking" in line:
                print(line.rstrip(), flush=True)
        rc = p.wait()
    if sys.stdout.isatty() and not verbose:
        print()
    if rc != 0:
        errors = [line for line in log if "error" in line.lower()]
        sys.stderr.write("".join((errors or log)[-40:]))
        raise UserError("build failed (full log: rerun with --verbose)")
    found = artefacts(build_dir, config)
    print(f"built in {time.time() - start:.0f}s")
    for fmt, path in found.items():
        print(f"  {fmt:<10} {path}")
    return found


# -- packaging: the default model and the factory presets in every bundle ---------------------
DEFAULT_MODEL = ROOT / "python" / "nnplug" / "data" / "default.ts"
FACTORY_PRESETS = ROOT / "presets"
PACKAGE_STAMP = ".nnplug-package.json"


def bundle_root(fmt: str, built: Path) -> Path:
    """The folder that holds a format's Resources: the bundle itself, or the Linux/Windows
    Standalone's folder (its executable, lib/ and Resources/ side by side)."""
    if fmt == "Standalone" and built.suffix != ".app":
        return built.parent
    return built


def _binary_identity(bundle: Path) -> list:
    """Size and mtime of the plugin binaries: the factory presets hold the plugin's own state,
    so they are rebuilt whenever the binary changes."""
    files = sorted(p for p in (bundle / "Contents").glob("*/*") if p.is_file() and p.suffix in (".so", ".dylib", ""))
    return [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in files]


def package_bundles(found: dict[str, Path], build_dir: Path) -> None:
    """Stage the shipped default model into every built bundle that does not carry it yet
    (a model the user staged as default stays the default), build the factory presets
    (presets/*.yaml) against the VST3 and embed the same .vstpreset files in every bundle as
    its programs; then have JUCE's LV2 helper write the LV2's .ttl again, so that its manifest
    lists the programs by name. Skipped when nothing changed since the last time."""
    import hashlib
    import importlib.util
    import json
    import tempfile

    from nnplug.player import sha256_file
    from nnplug.presets.build import PresetsInvalid, factory_dir, replace_dir
    from nnplug.presets.build import build as build_presets
    from nnplug.stage import models_dir, stage

    vst3 = found.get("VST3")
    if vst3 is None or not DEFAULT_MODEL.is_file():
        return
    roots = {fmt: bundle_root(fmt, path) for fmt, path in found.items()}
    model_sha = sha256_file(DEFAULT_MODEL)
    for fmt, root in roots.items():
        manifest = models_dir(root) / "manifest.json"
        shas = {m.get("sha256") for m in json.loads(manifest.read_text()).get("models", [])} \
            if manifest.is_file() else set()
        if model_sha not in shas:
            stage(root, [DEFAULT_MODEL], by_build=True)

    yaml = sorted(FACTORY_PRESETS.glob("*.yaml"))
    key = {"presets": {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in yaml},
           "model": model_sha, "binary": _binary_identity(vst3), "bundles": sorted(str(r) for r in roots.values())}
    stamp = Path(build_dir) / PACKAGE_STAMP
    names = sorted(f"{p.stem}.vstpreset" for p in yaml)
    if stamp.is_file() and json.loads(stamp.read_text()) == key and \
            all(sorted(p.name for p in factory_dir(r).glob("*.vstpreset")) == names for r in roots.values()):
        return
    if importlib.util.find_spec("pedalboard") is None:
        # the presets are the plugin's own state, read by loading it in pedalboard (nnplug[hosts])
        print("factory presets not embedded: they need pedalboard (pip install 'nnplug[hosts]')")
        return
    with tempfile.TemporaryDirectory(prefix="nnplug-presets-") as tmp:
        try:
            build_presets(FACTORY_PRESETS, vst3, Path(tmp), embed=True)
        except PresetsInvalid as e:
            # e.g. the user staged another model as the VST3's default: the factory presets are
            # the shipped model's, so they are left out rather than failing the build
            print(f"factory presets not embedded ({len(e.problems)} problem(s)): {e.problems[0]}")
            return
        blobs = {p.name: p.read_bytes() for p in Path(tmp).glob("*.vstpreset")}
    for fmt, root in roots.items():
        if fmt != "VST3":
            replace_dir(factory_dir(root), blobs)
    lv2 = found.get("LV2")
    helper = Path(build_dir) / "juce_project" / "juce_lv2_helper"
    if lv2 is not None and helper.is_file():
        binary = next(lv2.glob("*.so"))
        # The plugin lists the user preset folder's presets as programs too: point it at an
        # empty folder, so that the manifest lists the factory programs and never the presets
        # of whoever ran the build.
        with tempfile.TemporaryDirectory(prefix="nnplug-no-user-presets-") as empty:
            done = subprocess.run([str(helper), str(binary)], capture_output=True, text=True,
                                  env=dict(os.environ, NNPLUG_USER_PRESET_DIR=empty))
        if done.returncode != 0:
            from nnplug.errors import UserError
            raise UserError(f"JUCE's LV2 helper failed on {binary}: {(done.stderr or done.stdout)[-2000:]}")
    print(f"packaged {', '.join(roots)}: default model {DEFAULT_MODEL.name}, {len(blobs)} factory presets")
    stamp.write_text(json.dumps(key, indent=1) + "\n")
