"""Files nnplug did not write (RAVE 2.3.1's exporter, nn-tilde 1.6.0, neutone-sdk 1.5.2; the
`foreign` fixture) played by the built plugin in pedalboard and DawDreamer: the latency it reports
is the same on every load and in both hosts, and lands where the Python reference's seeded impulse
response does; validate passes bit for bit (a RAVE file at a seed); the model's own controls act
through the plugin's parameters exactly as the Python model does with the same value."""
from __future__ import annotations

import numpy as np
import pytest

from nnplug import contract
from nnplug.hosts import open_host, stage_copy
from nnplug.player import ModelPlayer, file_delay
from nnplug.validate import run_validate
from nnplug.validate.run import with_played_delay

SR = 44100
pytestmark = pytest.mark.needs_plugin


@pytest.fixture(scope="module")
def bundles(vst3, foreign, tmp_path_factory):
    """A private copy of the plugin per foreign file, with that file staged as its default."""
    made = {}

    def get(name):
        if name not in made:
            made[name] = stage_copy(vst3, foreign[name], tmp_path_factory.mktemp(f"bundle-{name}"))
        return made[name]
    return get


@pytest.mark.parametrize("name", ["rave_v2", "rave_v2_stereo", "nntilde_gain", "neutone_gain"])
def test_latency_is_stable_across_loads_and_hosts_and_true(bundles, foreign, name):
    facts = with_played_delay(contract.read(foreign[name]), SR)   # what validate holds the plugin to
    n = contract.buffer_size("Auto", facts.ratio)
    want = facts.delay
    seen = []
    for host_name in ("pedalboard", "dawdreamer"):
        for _ in range(3):                       # three loads, each a fresh instance
            host = open_host(host_name, bundles(name), SR)
            host.render(np.zeros((2, 4096), np.float32), 512)
            status = host.status()
            assert status.ok, status.message
            assert status.buffer_size == n and status.model_delay == want, (host_name, status)
            seen.append(host.reported_latency())
    # buffering for any block sequence (N - 1), plus the model's delay
    assert seen == [n - 1 + want] * 6, seen


def test_the_seeded_impulse_response_lands_at_the_measured_delay(foreign):
    """Independent of the measurement's energy rule: the reference's impulse-minus-silence
    response at a seed has its largest sample within one model buffer after the delay."""
    import torch
    player = ModelPlayer(foreign["rave_v2"])
    n = player.measure_buffer()
    delay = file_delay(foreign["rave_v2"], player.facts)["delay"]
    total = n * 40
    x = torch.zeros(1, 1, total)
    quiet = player.stream(x, n, seed=11)
    x[0, 0, n] = 1.0
    loud = player.stream(x, n, seed=11)
    response = (loud - quiet)[0, 0].abs().numpy()
    peak = int(np.argmax(response)) - n
    assert abs(peak - delay) <= n, (peak, delay)


@pytest.mark.slow
@pytest.mark.parametrize("name, seed", [("rave_v2", 7), ("nntilde_gain", None), ("neutone_gain", None)])
def test_validate_passes_bit_for_bit(vst3, foreign, name, seed):
    result = run_validate(vst3, foreign[name], blocks=[333, 512], modes=["Synchronous", "Worker thread"],
                          long_signal=False, settings=True, seed=seed, log=lambda s: None)
    assert result.deterministic is True, result.statement
    bad = [r for r in result.rows if not r.ok]
    assert result.ok and not bad, bad[:3]
    assert {r.host for r in result.rows} == {"pedalboard", "dawdreamer"}
    assert all(r.equal is True and r.max_abs_diff == 0.0 for r in result.rows)


def test_without_a_seed_a_rave_render_is_not_claimed(vst3, foreign):
    result = run_validate(vst3, foreign["rave_v2"], hosts=["pedalboard"], blocks=[512], modes=["Synchronous"],
                          long_signal=False, settings=False, log=lambda s: None)
    assert result.deterministic is False and "without --seed" in result.statement
    assert result.ok, [r for r in result.rows if not r.ok][:3]


@pytest.mark.parametrize("name, parameter", [("nntilde_gain", 0.25), ("neutone_gain", 0.3)])
def test_model_controls_act_as_the_python_model_does(bundles, foreign, name, parameter):
    """"Model control 1" (nn~'s gain attribute; Neutone's gain knob) through the plugin's
    parameter: the plugin's output equals the Python model's with that parameter, and differs
    from the default's."""
    import torch

    from nnplug.validate.reference import reference
    facts = contract.read(foreign[name])
    x = (0.3 * np.random.default_rng(3).standard_normal((2, 8192))).astype(np.float32)
    host = open_host("pedalboard", bundles(name), SR)   # pedalboard removes the latency it reports
    default = host.render(x, 512)
    status = host.status()
    assert status.controls[0] == facts.controls[0].name
    assert host.get_param("model_control_1") == contract.DEFAULT_CONTROL_PARAMETER   # the model's default
    host.set_param("model_control_1", parameter)
    moved = host.render(x, 512)
    got = float(host.get_param("model_control_1"))      # the value the plugin holds (a float32)

    n, delay, total = status.buffer_size, status.model_delay, x.shape[1]
    default_ref = reference(facts, x, n, total=total + delay)
    player = ModelPlayer(foreign[name], facts)
    player.prepare(SR, n)
    player.set_control_parameter(0, got)
    padded = np.zeros((2, -(-(total + delay) // n) * n), np.float32)
    padded[:, :total] = x
    lanes = torch.from_numpy(contract.to_lanes(padded, facts.in_channels, facts.mono_mode("Per channel")))
    moved_ref = contract.to_host(player.stream(lanes, n).numpy(), 2)
    # pedalboard removes the whole reported latency (buffering + the model's delay): what is
    # left is the model's stream output, `delay` samples on
    assert np.array_equal(default, default_ref[:, delay:delay + total])
    assert np.array_equal(moved, moved_ref[:, delay:delay + total])
    assert not np.array_equal(moved, default)


def test_a_non_streaming_export_plays_with_a_warning(vst3, foreign, tmp_path):
    from nnplug.hosts import copy_bundle
    from nnplug.stage import stage
    bundle = copy_bundle(vst3, tmp_path)
    import contextlib
    import io
    with contextlib.redirect_stdout(io.StringIO()):
        stage(bundle, [foreign["rave_v2_nonstreaming"]], allow_non_streaming=True)
    host = open_host("pedalboard", bundle, SR)
    host.render(np.zeros((2, 4096), np.float32), 512)
    status = host.status()
    assert status.ok and "not a streaming model" in status.message, status


def test_model_method_parameter_plays_forward(bundles, foreign):
    host = open_host("pedalboard", bundles("rave_v2"), SR)
    host.set_param("model_method", "forward")
    host.render(np.zeros((2, 4096), np.float32), 512)
    status = host.status()
    assert status.ok and status.method == "forward", status
    forward = contract.with_method(contract.read(foreign["rave_v2"]), "forward")
    assert status.model_delay == file_delay(foreign["rave_v2"], forward)["delay"]
