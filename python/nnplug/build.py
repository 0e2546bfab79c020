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
    for fmt, rel in (("VST3", "VST3/nnplug.vst3"), ("LV2", "LV2/nnplug.lv2"),
                     ("Standalone", "Standalone/nnplug"), ("AU", "AU/nnplug.component")):
        if (base / rel).exists():
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
          targets: list[str] | None = None, jobs: int | None = None, verbose: bool = False) -> dict[str, Path]:
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
        return _configure_and_build(cmake, configure, build_dir, config, targets, jobs, verbose)


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
