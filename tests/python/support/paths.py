"""Where things are: the repository, the build and its bundle, the shipped default model."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
BUILD = Path(os.environ.get("NNPLUG_BUILD_DIR", ROOT / "build"))
CONFIG = os.environ.get("NNPLUG_CONFIG", "Release")
ARTEFACTS = BUILD / "juce_project" / "nnplug_artefacts" / CONFIG
VST3 = ARTEFACTS / "VST3" / "nnplug.vst3"
LV2 = ARTEFACTS / "LV2" / "nnplug.lv2"
STANDALONE = ARTEFACTS / "Standalone" / "nnplug"
LV2_RENDER = BUILD / "nnplug_lv2_render"     # the lilv test host (tests/lv2host)
# the torch-free Python (scripts/setup.sh: pedalboard and numpy only) the install test loads from
HOST_PYTHON = Path(os.environ.get("NNPLUG_HOST_PYTHON", ROOT / ".venv-host" / "bin" / "python"))
DEFAULT_MODEL = ROOT / "python" / "nnplug" / "data" / "default.ts"
SR = 44100


def require_formats() -> dict:
    """Every format the Linux build makes, by name; a missing one is a failure, like the VST3."""
    require_plugin()
    found = {"VST3": VST3, "LV2": LV2, "Standalone": STANDALONE}
    missing = [f"{fmt} ({path})" for fmt, path in found.items() if not path.exists()]
    if missing:
        pytest.fail(f"not built: {', '.join(missing)}: run `make build`", pytrace=False)
    return found


def require_plugin() -> Path:
    """The built bundle. A missing build is a failure, never a skip: a skipped test must not hide
    a broken build (deselect `needs_plugin` tests instead)."""
    if not (VST3 / "Contents").is_dir():
        pytest.fail(f"plugin not built: run `make build` (no bundle at {VST3})", pytrace=False)
    return VST3
