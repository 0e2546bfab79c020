"""Where things are: the repository, the build and its bundle, the shipped default model."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
BUILD = Path(os.environ.get("NNPLUG_BUILD_DIR", ROOT / "build"))
CONFIG = os.environ.get("NNPLUG_CONFIG", "Release")
VST3 = BUILD / "juce_project" / "nnplug_artefacts" / CONFIG / "VST3" / "nnplug.vst3"
DEFAULT_MODEL = ROOT / "python" / "nnplug" / "data" / "default.ts"
SR = 44100


def require_plugin() -> Path:
    """The built bundle. A missing build is a failure, never a skip: a skipped test must not hide
    a broken build (deselect `needs_plugin` tests instead)."""
    if not (VST3 / "Contents").is_dir():
        pytest.fail(f"plugin not built: run `make build` (no bundle at {VST3})", pytrace=False)
    return VST3
