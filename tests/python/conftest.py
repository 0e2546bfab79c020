"""Fixtures of the Python tests, and the `needs_plugin` marker's rule. Helpers that are not
fixtures live in the `support` package beside this file (on the path through pyproject's
`pythonpath`).

The built bundle, the two CI models (the shipped default and the seed autoencoder), a
stochastic model, private staged copies of the bundle (nnplug.hosts.stage_copy: hard links; the
build tree is never written) and the preset tests' bundle and user folder. A missing build or
default model is a failure, never a skip: `-m "not needs_plugin"` is the only way around it."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from support.models import NoisyGain, RaveLike, wide_model
from support.paths import DEFAULT_MODEL, SR, require_plugin

# A test that uses the built plugin, directly or through another fixture, is marked
# `needs_plugin` (tests that reach the build without this fixture are marked by hand).
PLUGIN_FIXTURES = {"vst3"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if PLUGIN_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.needs_plugin)


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Measured delays are remembered in a per-user cache (nnplug.player.cache_dir): the tests
    keep theirs apart from the user's, and start without one."""
    os.environ["NNPLUG_CACHE_DIR"] = str(tmp_path_factory.mktemp("nnplug-cache"))


# -- the plugin and the models it plays ---------------------------------------------------------
@pytest.fixture(scope="session")
def vst3() -> Path:
    return require_plugin()


@pytest.fixture(scope="session")
def default_model() -> Path:
    if not DEFAULT_MODEL.is_file():
        pytest.fail(f"the default model is missing: {DEFAULT_MODEL}", pytrace=False)
    return DEFAULT_MODEL


@pytest.fixture(scope="session")
def foreign(tmp_path_factory) -> dict:
    """name -> path of every file made by the tools users have (RAVE's exporter, nn-tilde,
    neutone-sdk: support/foreign_models.py), made once per session in a process of its own."""
    import subprocess
    import sys

    from support import foreign_models
    dest = tmp_path_factory.mktemp("foreign")
    done = subprocess.run([sys.executable, foreign_models.__file__, str(dest)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"making the foreign model files failed:\n{done.stderr[-3000:]}", pytrace=False)
    return {name: foreign_models.path_of(dest, name) for name in foreign_models.NAMES}


@pytest.fixture(scope="session")
def seed_model(tmp_path_factory) -> Path:
    """The seed autoencoder, untrained (seeded init), exported as the CI's second model."""
    from nnplug.export import export
    from nnplug.models import build_model
    path = tmp_path_factory.mktemp("seed") / "seed.ts"
    torch.manual_seed(0)
    export(build_model({"architecture": "seed"}), str(path), sample_rate=SR, name="seed-autoencoder", verbose=False)
    return path


@pytest.fixture(scope="session")
def half_weights_model(tmp_path_factory) -> Path:
    from nnplug.export import export
    path = tmp_path_factory.mktemp("half") / "wide-fp16.ts"
    export(wide_model(), str(path), sample_rate=SR, name="wide-fp16", weights="float16", verbose=False)
    return path


@pytest.fixture(scope="session")
def int8_weights_model(tmp_path_factory) -> Path:
    from nnplug.export import export
    path = tmp_path_factory.mktemp("int8") / "wide-int8.ts"
    export(wide_model(), str(path), sample_rate=SR, name="wide-int8", weights="int8", verbose=False)
    return path


@pytest.fixture(scope="session")
def stochastic_model(tmp_path_factory) -> Path:
    io = {"in_channels": 1, "in_ratio": 1, "out_channels": 1, "out_ratio": 1, "delay": 0}
    meta = json.dumps({"format_version": 1, "name": "noisy-gain", "sample_rate": SR, "ratio": 1, "delay": 0,
                       "methods": {"forward": io}, "channels": 1, "latent_size": 0, "streaming": True,
                       "deterministic": False})
    path = tmp_path_factory.mktemp("noisy") / "noisy.ts"
    torch.jit.script(NoisyGain()).save(str(path), _extra_files={"nnplug.json": meta})
    return path


@pytest.fixture(scope="session")
def rave_like_model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ravelike") / "ravelike.ts"
    torch.jit.script(RaveLike()).save(str(path))
    return path


@pytest.fixture(scope="session")
def seed_bundle(vst3, seed_model, tmp_path_factory) -> Path:
    from nnplug.hosts import stage_copy
    return stage_copy(vst3, seed_model, tmp_path_factory.mktemp("seed-bundle"))


# -- presets: a private bundle and user folder (the real home is never read or written) ---------
@pytest.fixture(scope="session")
def user_dir(tmp_path_factory) -> Path:
    """An empty user preset folder the plugin is pointed at (NNPLUG_USER_PRESET_DIR)."""
    d = tmp_path_factory.mktemp("user-presets")
    old = os.environ.get("NNPLUG_USER_PRESET_DIR")
    os.environ["NNPLUG_USER_PRESET_DIR"] = str(d)
    yield d
    if old is None:
        os.environ.pop("NNPLUG_USER_PRESET_DIR", None)
    else:
        os.environ["NNPLUG_USER_PRESET_DIR"] = old


@pytest.fixture(scope="session")
def preset_bundle(vst3, tmp_path_factory, user_dir) -> Path:
    """The built bundle with the default model staged, no presets embedded."""
    from nnplug.hosts import stage_copy
    return stage_copy(vst3, DEFAULT_MODEL, tmp_path_factory.mktemp("preset-bundle"))


@pytest.fixture(scope="session")
def info(preset_bundle):
    """The plugin's real parameter list."""
    from nnplug.presets import plugin_info
    return plugin_info(preset_bundle)
