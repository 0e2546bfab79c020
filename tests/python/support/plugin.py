"""Shared helpers of the plugin host tests: where the built bundle is, relocated copies of it
with a chosen model staged as default, the Python reference run of a .ts on the plugin's
buffer size, and the exact-shift latency measurement."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import torch

from support.paths import BUILD, VST3, require_plugin

DEFAULT_BUFFER = 1024      # the plugin's model buffer N when buffer_size is "Auto" (models here: ratio | 1024)


def make_bundle(dest_dir: Path, models: list[Path]) -> Path:
    """A relocated copy of the built bundle (hard links), with `models` staged (the first is
    the default) and no factory presets (they are the shipped model's). Waits for a build of
    the same tree in progress."""
    require_plugin()
    from nnplug.build import build_lock
    from nnplug.stage import stage
    dest = Path(dest_dir) / "nnplug.vst3"

    def link(src, dst):
        # The plugin binary itself is a real copy: the dynamic loader identifies a library
        # by its inode, so two bundles sharing a hard-linked nnplug.so would be one loaded
        # plugin in one process, finding its models next to whichever path came first.
        if Path(src).name == "nnplug.so":
            shutil.copy2(src, dst)
            return
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    with build_lock(BUILD):
        shutil.copytree(VST3, dest, copy_function=link, ignore=shutil.ignore_patterns("models", "presets"))
    stage(dest, [Path(m) for m in models])
    return dest


def model_metadata(path: Path) -> dict:
    extra = {"nnplug.json": ""}
    torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    return json.loads(extra["nnplug.json"])


def audio_path(meta: dict) -> str:
    """The method chain the plugin runs (ModelFile.cpp): encode > decode when both exist and fit."""
    m = meta["methods"]
    e, d = m.get("encode"), m.get("decode")
    if e and d and e["in_ratio"] == 1 and d["out_ratio"] == 1 and e["out_channels"] == d["in_channels"] \
            and e["out_ratio"] == d["in_ratio"]:
        return "latent"
    return "forward"


def model_delay(meta: dict) -> int:
    """The audio path's delay in samples, as the plugin must compute it: encode's delay is in
    latent frames (out_ratio samples apart), decode's in audio samples."""
    if audio_path(meta) == "latent":
        e, d = meta["methods"]["encode"], meta["methods"]["decode"]
        return e["delay"] * e["out_ratio"] + d["delay"]
    return meta["methods"]["forward"]["delay"]


def reference(path: Path, x: np.ndarray, n: int) -> np.ndarray:
    """The .ts run in Python the way the plugin runs it (`nnplug.validate.reference`: a fresh
    load, `plugin_execution`, every host channel as one batch item of a mono model, buffers of
    exactly n samples). x: (channels, T), T a multiple of n. Returns float32 (channels, T)."""
    from nnplug import contract
    from nnplug.validate import reference as run_reference
    assert x.shape[1] % n == 0
    return run_reference(contract.read(path), np.ascontiguousarray(x, np.float32), n)


def exact_shifts(y: np.ndarray, ref: np.ndarray, candidates: range) -> list[int]:
    """Every shift s in `candidates` with y[..., t] == ref[..., t - s] bit for bit over one
    window of t common to all candidates. The window must carry signal (else every shift
    would match)."""
    lo = max(candidates.stop - 1, 0)                            # t - s >= 0 for the largest s
    hi = min(y.shape[-1], ref.shape[-1] + candidates.start)    # t - s < len(ref) for the smallest
    if hi - lo < 256:
        raise ValueError(f"comparison window too short ({hi - lo} samples) for shifts {candidates}")
    found = []
    for s in candidates:
        seg = ref[..., lo - s:hi - s]
        if np.std(seg) < 1e-4:
            raise ValueError(f"reference is (nearly) silent at shift {s}: the comparison would be vacuous")
        # cheap pre-check on a few samples, then the whole window
        if np.array_equal(y[..., lo:lo + 8], seg[..., :8]) and np.array_equal(y[..., lo:hi], seg):
            found.append(s)
    return found


def noise_signal(channels: int, total: int, seed: int = 0) -> np.ndarray:
    """Noise with a slow envelope: never periodic, so exactly one shift can match."""
    rng = np.random.default_rng(seed)
    t = np.arange(total)
    env = 0.5 + 0.4 * np.sin(2 * np.pi * t / 5000.0)
    x = 0.2 * env * rng.standard_normal((channels, total))
    return x.astype(np.float32)

