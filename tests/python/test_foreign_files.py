"""Files nnplug did not write (RAVE 2.3.1's exporter, nn-tilde 1.6.0, neutone-sdk 1.5.2; random
weights, tests/python/support/foreign_models.py; the `foreign` fixture) read through the
contract and played by the Python player as the plugin plays them."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from nnplug import contract
from nnplug.player import ModelPlayer, energy_median


@pytest.mark.parametrize("name, fmt, played, channels, ratio, streaming", [
    ("rave_v2", "rave-v2", "encode -> decode", (1, 1), 128, True),
    ("rave_v2_nonstreaming", "rave-v2", "encode -> decode", (1, 1), 128, False),
    ("rave_v1", "rave-v2", "encode -> decode", (1, 1), 512, True),   # 2.3.1's exporter writes v2 attributes
    ("rave_v2_stereo", "rave-v2", "encode -> decode", (2, 2), 128, True),
    ("rave_v2_causal", "rave-v2", "encode -> decode", (1, 1), 128, True),
    ("rave_v2_discrete", "rave-v2", "encode -> decode", (1, 1), 256, True),
    ("nntilde_gain", "nn~", "forward", (1, 1), 1, None),
    ("neutone_gain", "neutone", "forward", (2, 2), 1, None),
])
def test_contract_reads_foreign_files(foreign, name, fmt, played, channels, ratio, streaming):
    c = contract.read(foreign[name])
    assert (c.format, c.played, (c.in_channels, c.out_channels), c.ratio) == (fmt, played, channels, ratio)
    assert c.streaming is streaming, c.streaming_evidence
    assert not c.refusals


def test_non_streaming_rave_export_is_told_apart_by_its_cache_buffers(foreign):
    streaming, plain = contract.read(foreign["rave_v2"]), contract.read(foreign["rave_v2_nonstreaming"])
    assert streaming.streaming and "cache buffers" in streaming.streaming_evidence
    assert plain.streaming is False and "without cache buffers" in plain.streaming_evidence


def test_files_that_show_no_state_are_measured(foreign):
    """The nn~ gain is pointwise and the Neutone model keeps its queues: both carry across calls;
    the non-streaming RAVE export restarts from zero padding at each call."""
    assert ModelPlayer(foreign["nntilde_gain"]).carries_state()
    neutone = ModelPlayer(foreign["neutone_gain"])
    neutone.prepare(48000, 512)
    assert neutone.carries_state()
    assert not ModelPlayer(foreign["rave_v2_nonstreaming"]).carries_state()


@pytest.mark.parametrize("name", ["rave_v2", "rave_v2_stereo", "rave_v2_causal"])
def test_rave_delay_is_the_same_on_every_load_and_disturbs_no_draws(foreign, name):
    torch.manual_seed(123)
    expected_draw = torch.rand(3)
    torch.manual_seed(123)
    first = ModelPlayer(foreign[name]).measure_delay()
    assert torch.equal(torch.rand(3), expected_draw)     # the caller's generator is as it was
    assert first is not None and first > 0
    assert ModelPlayer(foreign[name]).measure_delay() == first


def test_measured_delay_finds_the_stated_delay_of_a_trained_model():
    """The shipped default model states its exact delay (2025, from the conversion's analysis):
    the measurement rule, blind to it, must land within a sample of it."""
    path = Path(contract.__file__).parent / "data" / "default.ts"
    player = ModelPlayer(path)
    assert player.facts.delay_known
    assert abs(player.measure_delay() - player.facts.delay) <= 1


def test_control_values():
    """The same table as tests/cpp/test_model_runner.cpp (ModelControlValuesMatchTheContract)."""
    gain = contract.Control("gain", "attribute", "float", 1.0, 0.0, 2.0)
    assert [contract.control_value(gain, p) for p in (0.5, 0.25, 0.75, 1.0, None)] == [1.0, 0.5, 1.5, 2.0, 1.0]
    steps = contract.Control("steps", "attribute", "int", 3.0, 0.0, 6.0)
    assert (contract.control_value(steps, 0.6), contract.control_value(steps, 0.1)) == (4.0, 1.0)
    off = contract.Control("invert", "attribute", "bool", 0.0, 0.0, 1.0)
    assert [contract.control_value(off, p) for p in (0.5, 0.7, 0.75)] == [0.0, 0.0, 1.0]
    knob = contract.Control("mix", "knob", "float", float(np.float32(0.3)), 0.0, 1.0)
    assert (contract.control_value(knob, 0.5), contract.control_value(knob, 0.0)) == (float(np.float32(0.3)), 0.0)


def test_energy_median():
    e = np.zeros(100)
    e[40], e[60] = 1.0, 3.0
    assert energy_median(e, 10) == 50
    assert energy_median(np.zeros(5), 0) is None


def test_a_reset_restores_the_state_of_a_file_without_reset(foreign):
    """RAVE exports have no reset(): without restoring their buffers, a second stream starts
    from the first one's cache."""
    player = ModelPlayer(foreign["rave_v2"])
    assert not player.facts.has_reset
    x = 0.1 * torch.randn(1, 1, 4096, generator=torch.Generator().manual_seed(1))
    a = player.stream(x, 1024, seed=7)
    b = player.stream(x, 1024, seed=7)
    assert torch.equal(a, b)
    with torch.inference_mode():        # the same calls without the restore differ
        torch.manual_seed(7)
        c = torch.cat([player.call(x[..., i:i + 1024]) for i in range(0, 4096, 1024)], -1)
    assert not torch.equal(a, c)


def test_seeded_streams_of_a_stochastic_model(foreign):
    player = ModelPlayer(foreign["rave_v2"])
    x = 0.1 * torch.randn(1, 1, 2048, generator=torch.Generator().manual_seed(2))
    assert torch.equal(player.stream(x, 512, seed=3), player.stream(x, 512, seed=3))
    assert not torch.equal(player.stream(x, 512, seed=3), player.stream(x, 512, seed=4))


def test_nn_tilde_attributes_are_controls(foreign):
    player = ModelPlayer(foreign["nntilde_gain"])
    assert [(c.name, c.type, c.default, c.lo, c.hi) for c in player.facts.controls] == \
        [("gain", "float", 1.0, 0.0, 2.0), ("invert", "bool", 0.0, 0.0, 1.0)]
    x = torch.randn(1, 1, 1024, generator=torch.Generator().manual_seed(3))
    unity = player.stream(x, 512)
    player.set_control(0, 0.5)            # conv(x) * gain: a power of two scales exactly
    assert torch.equal(player.stream(x, 512), unity * 0.5)
    player.set_control(1, 1.0)
    assert torch.equal(player.stream(x, 512), -unity * 0.5)
    player.set_control(0, 99.0)           # clamped to the range
    assert player.controls[0] == 2.0


def test_neutone_knobs_are_controls_and_its_delay_is_asked(foreign):
    player = ModelPlayer(foreign["neutone_gain"])
    c = player.facts
    assert (c.name, c.author, c.resamples_itself, c.sample_rate) == ("nnplug.gain", "nnplug tests", True, None)
    assert [(k.name, k.kind, k.default) for k in c.controls] == [("gain", "knob", 0.5), ("mix", "knob", 1.0)]
    player.prepare(48000, 512)              # its native rate and buffer: nothing to queue
    assert player.delay() == 0
    x = torch.randn(1, 2, 2048, generator=torch.Generator().manual_seed(4))
    half = player.stream(x, 512)            # gain 0.5: conv(x) * 0.5 * 2 * mix(1)
    player.set_control(0, 0.25)
    assert torch.equal(player.stream(x, 512), half * 0.5)
    player.prepare(44100, 512)              # the wrapper resamples to 48 kHz itself, and says so
    assert player.delay() > 0


def test_model_method_choice(foreign):
    rave = contract.read(foreign["rave_v2"])
    forward = contract.with_method(rave, "forward")
    assert (forward.played, forward.delay_known) == ("forward", False)
    assert contract.with_method(rave, "Auto") is rave
    with pytest.raises(contract.ContractError, match="no encode/decode pair"):
        contract.with_method(contract.read(foreign["nntilde_gain"]), "encode -> decode")
    default = contract.read(Path(contract.__file__).parent / "data" / "default.ts")
    assert contract.with_method(default, "forward").delay == default.method_delays["forward"]


def test_stage_refuses_a_non_streaming_export_and_records_measured_delays(foreign, tmp_path):
    import json

    from nnplug.errors import UserError
    from nnplug.player import ModelPlayer
    from nnplug.stage import stage
    bundle = tmp_path / "nnplug.vst3"
    (bundle / "Contents").mkdir(parents=True)
    with pytest.raises(UserError, match="not a streaming model.*--allow-non-streaming"):
        stage(bundle, [foreign["rave_v2_nonstreaming"]])
    manifest = json.loads(stage(bundle, [foreign["rave_v2"], foreign["rave_v2_nonstreaming"]],
                                allow_non_streaming=True).read_text())
    by_name = {m["name"]: m for m in manifest["models"]}
    assert manifest["default"] == "rave_v2"
    assert by_name["rave_v2"]["delay"] == {"played": "encode -> decode", "rule": "measured",
                                           "samples": ModelPlayer(foreign["rave_v2"]).measure_delay()}
    stage(bundle, [foreign["neutone_gain"]])          # its delay is asked at prepare, none recorded
    neutone = {m["name"]: m for m in json.loads((bundle / "Contents/Resources/models/manifest.json").read_text())
               ["models"]}["neutone_gain"]
    assert neutone["file"] == "neutone_gain.nm" and "delay" not in neutone
