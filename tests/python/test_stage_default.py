"""Which model a bundle plays by default once `nnplug build` has staged the shipped one: the first
model a user stages takes over; a default the user chose is never replaced by the build's."""
from __future__ import annotations

import json

from support.paths import DEFAULT_MODEL
from nnplug.stage import models_dir, stage


def default_of(bundle):
    manifest = json.loads((models_dir(bundle) / "manifest.json").read_text())
    return manifest["default"], manifest.get("default_set_by")


def test_the_users_model_replaces_the_default_the_build_staged(tmp_path, seed_model):
    bundle = tmp_path / "nnplug.vst3"
    bundle.mkdir()
    stage(bundle, [DEFAULT_MODEL], by_build=True)
    assert default_of(bundle) == ("nnplug-default", "nnplug build")
    stage(bundle, [seed_model])
    assert default_of(bundle) == ("seed-autoencoder", None)
    stage(bundle, [DEFAULT_MODEL], default="nnplug-default")      # chosen by name: kept
    stage(bundle, [seed_model])
    assert default_of(bundle) == ("nnplug-default", None)


def test_the_build_never_replaces_a_default_the_user_chose(tmp_path, seed_model):
    bundle = tmp_path / "nnplug.lv2"
    bundle.mkdir()
    stage(bundle, [seed_model])
    stage(bundle, [DEFAULT_MODEL], by_build=True)
    assert default_of(bundle) == ("seed-autoencoder", None)
