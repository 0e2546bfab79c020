"""State and presets round-trip in both hosts: save the state (pedalboard raw_state, and a
.vstpreset from preset_data), restore it into a fresh instance, render, and get the identical
output."""
from __future__ import annotations

import numpy as np
import pytest

from support.paths import SR
from nnplug.hosts import open_host

SETTINGS = {"output_gain": -3.5, "dry_wet": 70.0, "buffer_size": "512", "inference_mode": "Worker thread",
            "input_gain": 2.0}
BLOCK = 333


@pytest.fixture(scope="module")
def signal():
    rng = np.random.default_rng(11)
    t = np.arange(SR) / SR
    return np.stack([0.3 * np.sin(2 * np.pi * 330 * t), 0.1 * rng.standard_normal(SR)]).astype(np.float32)


@pytest.fixture(scope="module")
def original(seed_bundle, signal):
    host = open_host("pedalboard", seed_bundle, SR)
    host.set_params(SETTINGS)
    host.render(np.zeros((2, 4096), np.float32), 4096)    # settle the gain/mix ramps
    y = host.render(signal, BLOCK)
    return host, y


def test_raw_state_round_trip(original, seed_bundle, signal):
    host, y = original
    fresh = open_host("pedalboard", seed_bundle, SR)
    fresh.raw_state = host.raw_state
    for pid, v in SETTINGS.items():
        assert fresh.get_param(pid) == pytest.approx(v) if isinstance(v, float) else fresh.get_param(pid) == v
    fresh.render(np.zeros((2, 4096), np.float32), 4096)
    assert fresh.reported_latency() == host.reported_latency() == 511 + 512 + _delay(seed_bundle)
    assert np.array_equal(fresh.render(signal, BLOCK), y)


def _delay(bundle) -> int:
    from nnplug.stage import models_dir
    from nnplug import contract
    return contract.read(next(models_dir(bundle).glob("*.ts"))).delay


def test_vstpreset_round_trip_in_both_hosts(original, seed_bundle, signal, tmp_path):
    host, y = original
    preset = tmp_path / "settings.vstpreset"
    preset.write_bytes(host.preset_data)

    pb = open_host("pedalboard", seed_bundle, SR)
    pb.load_preset(preset)
    assert pb.get_param("dry_wet") == pytest.approx(70.0) and pb.get_param("buffer_size") == "512"
    pb.render(np.zeros((2, 4096), np.float32), 4096)
    assert np.array_equal(pb.render(signal, BLOCK), y)

    # DawDreamer: a fresh instance with the preset, against one with the same values set by
    # hand, and against pedalboard's output (DawDreamer does not compensate the latency)
    dd = open_host("dawdreamer", seed_bundle, SR)
    dd.load_preset(preset)
    y_preset = dd.render(signal, BLOCK)
    L = dd.reported_latency()
    assert L == host.reported_latency()
    by_hand = open_host("dawdreamer", seed_bundle, SR)
    by_hand.set_params(SETTINGS)
    assert np.array_equal(y_preset, by_hand.render(signal, BLOCK))
    assert np.array_equal(y_preset[:, L:], y[:, :-L])
    assert np.any(y_preset[:, L:])
