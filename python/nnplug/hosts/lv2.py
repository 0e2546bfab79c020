"""The LV2 in a real lilv host: `nnplug_lv2_render` (tests/lv2host/nnplug_lv2_render.c, built
beside the plugin when liblilv-dev is installed).

Debian's lilv tools cannot play a JUCE LV2: lv2apply and lv2file instantiate plugins with no
features (JUCE requires urid:map, options and bufsz:boundedBlockLength) and lv2apply refuses
atom ports. `nnplug_lv2_render` is the smallest host that gives what a DAW gives: it finds the
plugin by URI the way every lilv host does (LV2_PATH, else ~/.lv2 and the system folders),
renders offline (the freeWheeling port on) at a fixed block size, and reports the latency port.

It does not compensate latency: the output is the plugin's, `reported latency` samples late.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Dict, NamedTuple, Optional

import numpy as np

URI = "https://github.com/nnplug/nnplug"      # juce_project/CMakeLists.txt: NNPLUG_LV2_URI
RENDERER = "nnplug_lv2_render"


class Lv2Render(NamedTuple):
    audio: np.ndarray          # (outputs, samples) float32, not latency compensated
    latency: int               # the plugin's lv2:reportsLatency port after the render


def renderer_path(build_dir: Path) -> Path:
    return Path(build_dir) / RENDERER


def render(x: np.ndarray, sample_rate: int, block: int, renderer: Path, lv2_path: Optional[Path] = None,
           uri: str = URI, env: Optional[Dict[str, str]] = None, timeout: float = 600) -> Lv2Render:
    """Render `x` (channels, samples) through the LV2 `uri`. lv2_path: the folder holding the
    .lv2 bundle (LV2_PATH); None leaves the lilv defaults (LV2_PATH from env, else ~/.lv2 and
    the system folders), as for an installed plugin."""
    from nnplug.errors import NnplugError
    renderer = Path(renderer)
    if not renderer.is_file():
        raise NnplugError(f"the LV2 test host is not built: {renderer} (install liblilv-dev, "
                          "scripts/setup.sh does, then `nnplug build`)")
    x = np.ascontiguousarray(x, dtype=np.float32)
    channels, frames = x.shape
    environ = dict(os.environ if env is None else env)
    if lv2_path is not None:
        environ["LV2_PATH"] = str(lv2_path)
    with tempfile.TemporaryDirectory(prefix="nnplug-lv2-") as tmp:
        src, dst = Path(tmp) / "in.f32", Path(tmp) / "out.f32"
        x.tofile(src)
        done = subprocess.run([str(renderer), uri, str(int(sample_rate)), str(int(block)), str(channels),
                               str(frames), str(src), str(dst)],
                              capture_output=True, text=True, env=environ, timeout=timeout)
        if done.returncode != 0:
            raise NnplugError(f"{RENDERER} failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-2000:]}")
        said = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
        outputs = int(said["outputs"])
        y = np.fromfile(dst, dtype=np.float32).reshape(outputs, frames)
    return Lv2Render(y, int(said["latency"]))
