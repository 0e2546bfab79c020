"""The built plugin in real hosts, with real models: the latency the plugin reports must be
the true one, for many host block sizes, a changing block sequence and both inference modes.

Models: the shipped default (python/nnplug/data/default.ts, a trained RAVE-style model) and
the seed autoencoder, exported here. Both are nonlinear, so an impulse's peak says little
about the delay. Instead the host's output is compared, bit for bit, with the same .ts run in
Python on the plugin's buffer size N (`plugin_support.reference`), shifted by every
candidate latency in a wide range: exactly one shift must match (np.array_equal). The input
is non-periodic noise, so a wrong shift cannot match by accident (test_measurement_can_fail
proves the measurement rejects an off-by-one and a one-ulp change).

The Python reference already contains the model's own delay d (the exported streaming
module's, validated against the offline model by `nnplug export`), so the measured latency
is the matched shift (the plugin's buffering) + d.

pedalboard compensates the reported latency R: its output is the plugin's shifted back by R,
so the measured latency is R + shift + d. DawDreamer does not: the measured latency is
shift + d and must equal get_latency_samples().
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from plugin_support import (DEFAULT_BUFFER, DEFAULT_MODEL, exact_shifts, make_bundle, model_delay,
                            model_metadata, noise_signal, reference)

SR = 44100
N = DEFAULT_BUFFER
BLOCKS = [1, 32, 64, 100, 256, 333, 512, 1000, 2048, 4096]
MODES = ["Synchronous", "Worker thread"]
MODELS = ["default", "seed"]
TOTAL = 16 * N      # a multiple of N, long enough for the largest latency plus a 10k window


def expected_buffering(mode: str) -> int:
    return (N - 1) + (N if mode == "Worker thread" else 0)


def candidates(d: int) -> range:
    """Every plausible shift and then some: from the model delay and two buffers early to two
    buffers late."""
    return range(-(d + 2 * N + 64), 2 * N + 64)


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> dict:
    from nnplug.export import export
    from nnplug.models import build_model
    assert DEFAULT_MODEL.is_file(), f"the shipped default model is missing: {DEFAULT_MODEL}"
    d = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    export(build_model({"architecture": "seed"}), str(d / "seed.ts"), sample_rate=SR, name="seed-autoencoder",
           noise=False, verbose=False)
    return {"default": DEFAULT_MODEL, "seed": d / "seed.ts"}


@pytest.fixture(scope="session")
def bundles(models, tmp_path_factory) -> dict:
    return {k: make_bundle(tmp_path_factory.mktemp(f"bundle-{k}"), [p]) for k, p in models.items()}


@pytest.fixture(scope="session")
def refs(models) -> dict:
    """model -> (input, Python reference output on buffers of N, model delay d)."""
    out = {}
    for k, path in models.items():
        x = noise_signal(2, TOTAL, seed=1)
        d = model_delay(model_metadata(path))
        out[k] = (x, reference(path, x, N), d)
    return out


@pytest.fixture(scope="session")
def pb_plugins(bundles):
    import pedalboard
    loaded = {}

    def get(model):
        if model not in loaded:
            loaded[model] = pedalboard.load_plugin(str(bundles[model]))
        return loaded[model]
    return get


def test_measurement_can_fail(refs):
    """The exact-shift measurement finds a known shift, and nothing for a signal one ulp or
    one sample away from the reference."""
    x, ref, d = refs["default"]
    for s in (-d, 0, 17, 1023):
        y = np.zeros_like(ref)
        if s >= 0:
            y[:, s:] = ref[:, :ref.shape[1] - s]
        else:
            y[:, :s] = ref[:, -s:]
        assert exact_shifts(y, ref, candidates(d)) == [s]
        bad = y.copy()
        bad[1, 5000] = np.nextafter(bad[1, 5000], np.float32(10))
        assert exact_shifts(bad, ref, candidates(d)) == []
    with pytest.raises(ValueError):
        exact_shifts(np.zeros_like(ref), np.zeros_like(ref), candidates(d))


def test_default_model_delay_is_read_right(refs, models):
    meta = model_metadata(models["default"])
    assert model_delay(meta) == meta["delay"] == meta["methods"]["forward"]["delay"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("block", BLOCKS)
@pytest.mark.parametrize("model", MODELS)
def test_pedalboard_latency(pb_plugins, refs, model, mode, block):
    p = pb_plugins(model)
    p.inference_mode = mode
    x, ref, d = refs[model]
    y = p.process(x, SR, buffer_size=block, reset=True)
    R = p.reported_latency_samples
    assert R == expected_buffering(mode) + d
    shifts = exact_shifts(y, ref, candidates(d))
    assert [R + s + d for s in shifts] == [R], f"matching shifts {shifts}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("model", MODELS)
def test_pedalboard_changing_blocks(pb_plugins, refs, model, mode):
    """Blocks of changing size in one stream (reset=False between calls). pedalboard holds
    back the first R output samples across the calls."""
    p = pb_plugins(model)
    p.inference_mode = mode
    x, ref, d = refs[model]
    # not 1 first: pedalboard reads a (2, 1) first chunk as one channel of two samples
    sizes = [511, 1, 64, 1000, 3, 2048, 333, 17, 4096, 100, 256, 777]
    p.reset()
    out, pos, i = [], 0, 0
    while pos < x.shape[1]:
        b = min(sizes[i % len(sizes)], x.shape[1] - pos)
        y = p.process(x[:, pos:pos + b], SR, buffer_size=b, reset=False)
        if y.size:
            out.append(y.reshape(2, -1))
        pos += b
        i += 1
    y = np.concatenate(out, axis=1)
    R = p.reported_latency_samples
    assert R == expected_buffering(mode) + d
    assert y.shape[1] == x.shape[1] - R
    shifts = exact_shifts(y, ref, candidates(d))
    assert [R + s + d for s in shifts] == [R], f"matching shifts {shifts}"


@pytest.mark.parametrize("mode_value", [0.0, 1.0], ids=MODES)
@pytest.mark.parametrize("block", BLOCKS)
@pytest.mark.parametrize("model", MODELS)
def test_dawdreamer_latency(bundles, refs, model, mode_value, block):
    import dawdreamer as daw
    x, ref, d = refs[model]
    engine = daw.RenderEngine(SR, block)
    playback = engine.make_playback_processor("in", x)
    fx = engine.make_plugin_processor("fx", str(bundles[model]))
    names = [fx.get_parameter_name(i) for i in range(fx.get_plugin_parameter_size())]
    fx.set_parameter(names.index("Inference mode"), mode_value)
    engine.load_graph([(playback, []), (fx, ["in"])])
    engine.render(x.shape[1] / SR)
    y = engine.get_audio()
    R = fx.get_latency_samples()
    assert R == expected_buffering(MODES[int(mode_value)]) + d
    shifts = exact_shifts(y, ref, candidates(d))
    assert [s + d for s in shifts] == [R], f"matching shifts {shifts}"
