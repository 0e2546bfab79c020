"""Fixtures for the preset tests: a private copy of the built bundle with the shipped default
model staged (the build tree is never written), its real parameter list, and an empty user
preset folder the plugin is pointed at (NNPLUG_USER_PRESET_DIR), so the real home is never
read or written."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from host_fixtures import DEFAULT_MODEL, ROOT, require_plugin

FACTORY = ROOT / "presets"


@pytest.fixture(scope="session")
def user_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("user-presets")
    old = os.environ.get("NNPLUG_USER_PRESET_DIR")
    os.environ["NNPLUG_USER_PRESET_DIR"] = str(d)
    yield d
    if old is None:
        os.environ.pop("NNPLUG_USER_PRESET_DIR", None)
    else:
        os.environ["NNPLUG_USER_PRESET_DIR"] = old


@pytest.fixture(scope="session")
def preset_bundle(tmp_path_factory, user_dir) -> Path:
    """The built bundle with the default model staged, no presets embedded."""
    from nnplug.hosts import stage_copy
    vst3 = require_plugin()
    return stage_copy(vst3, DEFAULT_MODEL, tmp_path_factory.mktemp("preset-bundle"))


@pytest.fixture(scope="session")
def info(preset_bundle):
    from nnplug.presets import plugin_info
    return plugin_info(preset_bundle)


def copy_factory(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for f in FACTORY.glob("*.yaml"):
        shutil.copy(f, dest / f.name)
    return dest


def tree(path: Path) -> dict:
    """Every file under path with its bytes (to prove nothing was written)."""
    if not path.exists():
        return {}
    return {p.relative_to(path).as_posix(): (p.read_bytes() if p.is_file() else None) for p in path.rglob("*")}
