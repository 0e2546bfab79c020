"""The built plugin in real hosts: an impulse measures the latency, which must equal what
the plugin reports, for many host block sizes and both inference modes.

pedalboard compensates the reported latency (so the impulse must come out where it went
in); DawDreamer does not (so it must come out exactly get_latency_samples() later). The
sample after the peak carries the fixture model's second tap (0.25), which proves the wet
path was measured, not the dry one.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("NNPLUG_BUILD_DIR", ROOT / "build"))
VST3 = BUILD / "juce_project" / "nnplug_artefacts" / os.environ.get("NNPLUG_CONFIG", "Release") / "VST3" / "nnplug.vst3"
SR = 44100
BLOCKS = [1, 32, 64, 100, 256, 333, 512, 1000, 2048, 4096]
MODES = ["Synchronous", "Worker thread"]
AT = 3000          # impulse position
TAP = 0.25         # make_models.py: y[t] = x[t - 7] + 0.25 x[t - 8]

pytestmark = pytest.mark.skipif(not VST3.exists(), reason=f"plugin not built ({VST3}); run `make build`")


@pytest.fixture(scope="session")
def bundle(tmp_path_factory) -> Path:
    """A relocated copy of the built bundle (hard links), with the fixture model staged as default."""
    models = tmp_path_factory.mktemp("models")
    subprocess.run([sys.executable, str(ROOT / "tests/fixtures/make_models.py"), str(models)], check=True,
                   capture_output=True)
    dest = tmp_path_factory.mktemp("bundle") / "nnplug.vst3"

    def link(src, dst):
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(VST3, dest, copy_function=link, ignore=shutil.ignore_patterns("models"))
    from nnplug.stage import stage
    stage(dest, [models / "delay_mono.ts"])
    return dest


def impulse(channels: int, total: int) -> np.ndarray:
    x = np.zeros((channels, total), np.float32)
    x[:, AT] = 1.0
    return x


def peak(y: np.ndarray) -> int:
    return int(np.argmax(np.abs(y)))


@pytest.fixture(scope="session")
def pb_plugin(bundle):
    import pedalboard
    return pedalboard.load_plugin(str(bundle))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("block", BLOCKS)
def test_pedalboard_latency(pb_plugin, mode, block):
    p = pb_plugin
    p.inference_mode = mode
    x = impulse(2, 12000)
    y = p.process(x, SR, buffer_size=block, reset=True)
    reported = p.reported_latency_samples
    n = 1024  # default model buffer
    assert reported == (n - 1) + (n if mode == "Worker thread" else 0) + 7
    for ch in range(2):
        # pedalboard shifted the output back by `reported`: what is left is the error.
        measured = reported + (peak(y[ch]) - AT)
        assert measured == reported
        assert y[ch, AT] == 1.0 and y[ch, AT + 1] == TAP


@pytest.mark.parametrize("mode", MODES)
def test_pedalboard_changing_blocks(pb_plugin, mode):
    """Blocks of changing size in one stream (reset=False between calls). pedalboard holds
    back the first `reported` output samples across the calls, so the impulse comes out at
    its input position only if the reported latency is the true one."""
    p = pb_plugin
    p.inference_mode = mode
    x = impulse(2, 14000)
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
    reported = p.reported_latency_samples
    assert y.shape[1] == x.shape[1] - reported
    for ch in range(2):
        assert peak(y[ch]) == AT
        assert y[ch, AT + 1] == TAP


@pytest.mark.parametrize("mode_value", [0.0, 1.0], ids=MODES)
@pytest.mark.parametrize("block", BLOCKS)
def test_dawdreamer_latency(bundle, mode_value, block):
    import dawdreamer as daw
    engine = daw.RenderEngine(SR, block)
    x = impulse(2, 12000)
    playback = engine.make_playback_processor("in", x)
    fx = engine.make_plugin_processor("fx", str(bundle))
    names = [fx.get_parameter_name(i) for i in range(fx.get_plugin_parameter_size())]
    fx.set_parameter(names.index("Inference mode"), mode_value)
    engine.load_graph([(playback, []), (fx, ["in"])])
    engine.render(x.shape[1] / SR)
    y = engine.get_audio()
    reported = fx.get_latency_samples()
    assert reported == 1023 + (1024 if mode_value else 0) + 7
    for ch in range(2):
        assert peak(y[ch]) - AT == reported
        assert y[ch, AT + reported + 1] == TAP
