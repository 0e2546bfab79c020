"""The architectures people actually train, built by their own packages (pinned test
dependencies, random weights), convert exactly or are refused by name.

RAVE v2's encoder and generator (acids-rave 2.3.1 on cached_conv 2.5.0 with caching off,
weight norm on as its v1/v2 configs set it, LeakyReLU and Snake, amplitude modulation),
descript-audio-codec 1.0.0's encoder and decoder (hook weight norm, a TorchScript Snake, shape
reads and a residual crop), EnCodec 0.1.1's SEANet encoder and decoder (reflect padding computed
from the length, causal and not, with its LSTM).

Tolerance: float64, <= 1e-10 of the output's peak away from the edges. The stream sums the same
products as offline in another order (observed ~1e-15); a conversion mistake is of the order of
the signal (the delay off by one is checked to fail by far more).
"""
from __future__ import annotations

import pytest
import torch

import nnplug.streaming as ns
from support import thirdparty
from nnplug.streaming.check import interior_margins, run_in_buffers

CASES = {
    "rave-encoder": ("rave_encoder", {}),
    "rave-encoder-snake": ("rave_encoder", {"snake": True}),
    "rave-generator": ("rave_generator", {}),
    "rave-generator-snake": ("rave_generator", {"snake": True}),
    "rave-generator-plain": ("rave_generator", {"amplitude_modulation": False}),
    "dac-encoder": ("dac_encoder", {}),
    "dac-decoder": ("dac_decoder", {}),
    "seanet-encoder": ("seanet_encoder", {"causal": False, "lstm": 1}),
    "seanet-encoder-causal": ("seanet_encoder", {"causal": True, "lstm": 2}),
    "seanet-decoder": ("seanet_decoder", {"causal": False, "lstm": 1}),
    "seanet-decoder-causal": ("seanet_decoder", {"causal": True, "lstm": 2}),
}


def build(name):
    builder, kwargs = CASES[name]
    torch.manual_seed(sum(map(ord, name)))
    model = getattr(thirdparty, builder)(**kwargs)
    return model.double().eval(), thirdparty.INPUT_CHANNELS[builder]


def long_signal(stream, channels, seed):
    lo, hi = stream.receptive_field
    span = int(abs(lo)) + int(abs(hi)) + 1
    frames = 1024 if stream.recurrent else 0
    length = stream.ratio * max(64, -(-(4 * span) // stream.ratio), frames)
    g = torch.Generator().manual_seed(seed)
    return torch.randn(2, channels, length, generator=g, dtype=torch.float64)


def interior(stream, offline, streamed, delay):
    rate = stream.in_ratio / stream.out_ratio
    left, right = interior_margins(stream.receptive_field, rate)
    n = min(offline.shape[-1], streamed.shape[-1] - delay)
    if stream.recurrent:
        left = max(left, n // 2)      # the offline edge fades from a recurrent state, see prove.py
    ref = offline[..., left:n - right]
    got = streamed[..., left + delay:n - right + delay]
    return ref, got


@pytest.mark.parametrize("name", sorted(CASES))
def test_public_architecture_streams_exactly(name):
    model, channels = build(name)
    stream = ns.convert(model, in_channels=channels)
    x = long_signal(stream, channels, seed=len(name))
    sizes = [stream.ratio * k for k in (1, 3, 8, 2, 5)]
    with torch.no_grad():
        offline = model(x)
        streamed = run_in_buffers(stream, x, sizes)
        ref, got = interior(stream, offline, streamed, stream.delay)
        peak = float(ref.abs().max())
        assert ref.numel() > 0 and peak > 0
        assert float((ref - got).abs().max()) <= 1e-10 * peak
        # the output really moves (no dead model hiding errors), and a delay off by one is far off
        assert float(ref.std()) > 1e-3 * peak
        for off in (-1, 1):
            if stream.delay + off >= 0:
                r, g = interior(stream, offline, streamed, stream.delay + off)
                assert float((r - g).abs().max()) > 1e-4 * peak
        # reset() replays the stream bit for bit; TorchScript computes the same bits
        stream.reset()
        assert torch.equal(run_in_buffers(stream, x, sizes), streamed)
        scripted = torch.jit.script(stream)
        scripted.reset()
        assert torch.equal(run_in_buffers(scripted, x, sizes), streamed)


def test_rave_noise_generator_is_refused_at_its_line():
    torch.manual_seed(0)
    model, channels = thirdparty.rave_generator(noise=True), thirdparty.INPUT_CHANNELS["rave_generator"]
    with pytest.raises(ns.ConversionError, match=r"rave/blocks.py:\d+: `noise = torch.rand_like\(ir\) \* 2 - 1`: "
                                                 r"random op torch.rand_like: .*SeededNoise"):
        ns.convert(model.eval(), in_channels=channels)


def test_user_model_is_left_untouched():
    """Weight norm hooks stay on the user's model (the plain copy folds them), and it still runs."""
    model, channels = build("dac-decoder")
    hooked = [m for m in model.modules() if hasattr(m, "weight_g")]
    assert hooked
    before = {k: v.clone() for k, v in model.state_dict().items()}
    ns.convert(model, in_channels=channels)
    assert all(hasattr(m, "weight_g") and m._forward_pre_hooks for m in hooked)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    with torch.no_grad():
        model(torch.randn(1, channels, 16, dtype=torch.float64))


@pytest.mark.needs_plugin
@pytest.mark.slow
def test_exported_rave_blocks_play_bit_identically_in_both_hosts(tmp_path):
    """RAVE's own blocks through `nnplug export` (the CLI, a factory spec) and `nnplug validate`:
    the plugin's output equals the file run in Python (np.array_equal) in pedalboard and
    DawDreamer, both inference modes, a fixed and a changing host block size."""
    import os
    import subprocess
    import sys

    from support.paths import ROOT, require_plugin
    from nnplug.validate import run_validate
    vst3 = require_plugin()
    path = tmp_path / "rave-blocks.ts"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "tests" / "python" / "support"), os.environ.get("PYTHONPATH", "")]))
    p = subprocess.run([sys.executable, "-m", "nnplug", "export", "thirdparty:rave_autoencoder", "-o", str(path),
                        "--name", "rave-blocks", "-q"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0 and path.is_file(), p.stderr[-2000:]
    result = run_validate(vst3, path, blocks=[512, "changing"], modes=["Synchronous", "Worker thread"],
                          long_signal=False, settings=False, log=lambda s: None)
    assert result.ok and result.deterministic is True, [r for r in result.rows if not r.ok][:3]
    assert {r.host for r in result.rows} == {"pedalboard", "dawdreamer"}
    assert all(r.equal is True and r.max_abs_diff == 0.0 for r in result.rows)
