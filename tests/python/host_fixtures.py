"""Fixtures shared by the validate/render/state tests: the built bundle, the two CI models
(the shipped default and the seed autoencoder), a stochastic model, and private staged
copies of the bundle (nnplug.hosts.stage_copy: hard links; the build tree is never written).

A missing build or default model is a failure, never a skip."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from nnplug.hosts import default_bundle, stage_copy

ROOT = Path(__file__).resolve().parents[2]
VST3 = default_bundle(ROOT)
DEFAULT_MODEL = ROOT / "python" / "nnplug" / "data" / "default.ts"
SR = 44100


def require_plugin() -> Path:
    if not (VST3 / "Contents").is_dir():
        pytest.fail(f"plugin not built: run `make build` (no bundle at {VST3})", pytrace=False)
    return VST3


@pytest.fixture(scope="session")
def vst3() -> Path:
    return require_plugin()


@pytest.fixture(scope="session")
def default_model() -> Path:
    if not DEFAULT_MODEL.is_file():
        pytest.fail(f"the default model is missing: {DEFAULT_MODEL}", pytrace=False)
    return DEFAULT_MODEL


@pytest.fixture(scope="session")
def seed_model(tmp_path_factory) -> Path:
    """The seed autoencoder, untrained (seeded init), exported as the CI's second model."""
    from nnplug.export import export
    from nnplug.models import build_model
    path = tmp_path_factory.mktemp("seed") / "seed.ts"
    torch.manual_seed(0)
    export(build_model({"architecture": "seed"}), str(path), sample_rate=SR, name="seed-autoencoder", verbose=False)
    return path


def wide_model() -> nn.Module:
    """A small model with two wide layers (a conv of 196 k weights, a transposed conv of 131 k) at
    1/16 of the sample rate: what `export(weights="float16")` stores as float16."""
    from nnplug import streaming as ns
    torch.manual_seed(0)
    return nn.Sequential(
        ns.Conv1d(1, 256, 16, stride=16, padding="centered"), nn.LeakyReLU(0.2),
        ns.Conv1d(256, 256, 3, padding="centered"), nn.LeakyReLU(0.2),
        ns.ConvTranspose1d(256, 128, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        ns.Conv1d(128, 16, 3, stride=2, padding="centered"), nn.LeakyReLU(0.2),
        ns.ConvTranspose1d(16, 1, 16, stride=16)).eval()


@pytest.fixture(scope="session")
def half_weights_model(tmp_path_factory) -> Path:
    from nnplug.export import export
    path = tmp_path_factory.mktemp("half") / "wide-fp16.ts"
    export(wide_model(), str(path), sample_rate=SR, name="wide-fp16", weights="float16", verbose=False)
    return path


class NoisyGain(nn.Module):
    """y = 0.5 x + 0.01 * randn: a stochastic model (unseeded, like RAVE's sampling)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("forward_params", torch.tensor([1, 1, 1, 1]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * x + 0.01 * torch.randn_like(x)

    @torch.jit.export
    def reset(self):
        pass

    @torch.jit.export
    def get_methods(self):
        return ["forward"]


@pytest.fixture(scope="session")
def stochastic_model(tmp_path_factory) -> Path:
    io = {"in_channels": 1, "in_ratio": 1, "out_channels": 1, "out_ratio": 1, "delay": 0}
    meta = json.dumps({"format_version": 1, "name": "noisy-gain", "sample_rate": SR, "ratio": 1, "delay": 0,
                       "methods": {"forward": io}, "channels": 1, "latent_size": 0, "streaming": True,
                       "deterministic": False})
    path = tmp_path_factory.mktemp("noisy") / "noisy.ts"
    torch.jit.script(NoisyGain()).save(str(path), _extra_files={"nnplug.json": meta})
    return path


class RaveLike(NoisyGain):
    """The same, dressed as a RAVE v2 export: `sr`, `latent_size`, no nnplug metadata (so no
    stated delay and no determinism claim)."""

    def __init__(self):
        super().__init__()
        self.sr = SR
        self.latent_size = 4
        self.full_latent_size = 4


@pytest.fixture(scope="session")
def rave_like_model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ravelike") / "ravelike.ts"
    torch.jit.script(RaveLike()).save(str(path))
    return path


@pytest.fixture(scope="session")
def seed_bundle(vst3, seed_model, tmp_path_factory) -> Path:
    return stage_copy(vst3, seed_model, tmp_path_factory.mktemp("seed-bundle"))
