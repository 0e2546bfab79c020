"""Streaming equals offline, shifted by the computed delay: property tests over random
architectures and buffer sequences, plus the error paths of `convert`.

Tolerances: float64 <= 1e-12 absolute (streaming and offline sum the same products, only
in a different order/blocking; observed ~1e-15), float32 <= 1e-5 relative to the signal's
peak (the same reorderings at float32 precision, accumulated over a few layers).
"""
from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import nnplug.streaming as ns
from nnplug.streaming.check import compare_shifted, interior_margins, run_in_buffers
from support.streaming_cases import models

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def buffer_sequence(draw, ratio: int):
    return draw(st.lists(st.integers(1, 12), min_size=1, max_size=6).map(lambda ks: [k * ratio for k in ks]))


def stream_vs_offline(model, x, sizes, delay_offset=0, dtype=torch.float64):
    model = model.to(dtype)
    x = x.to(dtype)
    stream = ns.convert(model)
    with torch.no_grad():
        offline = model(x)
        streamed = run_in_buffers(stream, x, sizes)
    left, right = interior_margins(stream.receptive_field)
    if stream.recurrent:      # the offline edge fades from a recurrent state: compare the second half
        left = max(left, (x.shape[-1] - stream.delay) // 2)
    return stream, compare_shifted(offline, streamed, stream.delay + delay_offset, left, right)


def signal(ratio: int, seed: int, receptive=(0, 0), batch: int = 2, recurrent: bool = False):
    """Noise long enough to have samples whose receptive field lies inside it (and, past a
    recurrent layer, a few hundred steps for the offline edge to fade), for a batch of one
    (mono) or two (a stereo pair) streams."""
    g = torch.Generator().manual_seed(seed)
    span = int(abs(receptive[0]) + abs(receptive[1]))
    length = ratio * max(8, -(-(3 * span + 256) // ratio), 1024 if recurrent else 0)
    return torch.randn(batch, 1, length, generator=g, dtype=torch.float64)


@SETTINGS
@given(model=models(), data=st.data())
def test_streaming_equals_offline_float64(model, data):
    probe = ns.convert(model)
    sizes = buffer_sequence(data.draw, probe.ratio)
    x = signal(probe.ratio, data.draw(st.integers(0, 1000)), probe.receptive_field, data.draw(st.sampled_from([1, 2])),
               probe.recurrent)
    _, cmp = stream_vs_offline(model, x, sizes)
    assert cmp.compared > 0
    assert cmp.max_abs_error <= 1e-12, cmp


@pytest.mark.slow
@SETTINGS
@given(model=models(), data=st.data())
def test_streaming_equals_offline_float32(model, data):
    probe = ns.convert(model)
    sizes = buffer_sequence(data.draw, probe.ratio)
    x = signal(probe.ratio, data.draw(st.integers(0, 1000)), probe.receptive_field, data.draw(st.sampled_from([1, 2])),
               probe.recurrent)
    _, cmp = stream_vs_offline(model, x, sizes, dtype=torch.float32)
    assert cmp.relative_error <= 1e-5, cmp


@pytest.mark.slow
@SETTINGS
@given(model=models(), data=st.data(), off=st.sampled_from([-1, 1]))
def test_off_by_one_delay_is_detected(model, data, off):
    """The comparison is not vacuous: the same check with delay +-1 must fail."""
    probe = ns.convert(model)
    assume(probe.delay + off >= 0)
    x = signal(probe.ratio, data.draw(st.integers(0, 1000)), probe.receptive_field, recurrent=probe.recurrent)
    with torch.no_grad():
        offline = model.double()(x)
    left, right = interior_margins(probe.receptive_field)
    if probe.recurrent:
        left = max(left, (x.shape[-1] - probe.delay) // 2)
    assume(float(offline[..., left:-right].std()) > 1e-3)   # a (rare) constant output can't show a shift
    _, cmp = stream_vs_offline(model, x, [probe.ratio * 3], delay_offset=off)
    assert cmp.max_abs_error > 1e-6


def seed_autoencoder():
    torch.manual_seed(0)
    return nn.Sequential(
        ns.Conv1d(1, 16, 3, stride=2, padding=1), nn.ReLU(),
        ns.Conv1d(16, 16, 3, stride=2, padding=1), nn.ReLU(),
        ns.Conv1d(16, 16, 3, stride=2, padding=1),
        ns.ConvTranspose1d(16, 16, 4, stride=2, padding=1), nn.ReLU(),
        ns.ConvTranspose1d(16, 16, 4, stride=2, padding=1), nn.ReLU(),
        ns.ConvTranspose1d(16, 1, 4, stride=2, padding=1),
    ).eval()


def test_seed_autoencoder_delay_and_ratio():
    stream = ns.convert(seed_autoencoder())
    # strided convs with centred padding add no delay (their stride gives the look-ahead);
    # each transposed conv (k=4, s=2, p=1) gives d -> 2d + 1: 0 -> 1 -> 3 -> 7
    assert (stream.delay, stream.ratio) == (7, 8)


def test_delay_zero_model_is_compared():
    """A causal model has delay 0; the check must still compare samples (no y[..., :-0])."""
    model = nn.Sequential(ns.Conv1d(1, 4, 5, padding="causal"), nn.Tanh(), ns.Conv1d(4, 1, 3, padding="causal")).eval()
    x = signal(1, 3)
    stream, cmp = stream_vs_offline(model, x, [1, 7, 64])
    assert stream.delay == 0
    assert cmp.compared > 200 and cmp.max_abs_error <= 1e-12
    _, shifted = stream_vs_offline(model, x, [64], delay_offset=1)
    assert shifted.max_abs_error > 1e-3


def test_anticausal_padding_adds_delay():
    model = nn.Sequential(ns.Conv1d(1, 1, 5, padding="anticausal")).eval()
    assert ns.convert(model).delay == 4


def test_transposed_conv_any_padding():
    """kernel - stride != 2 * padding streams exactly too."""
    for k, s, p in [(5, 2, 0), (7, 3, 1), (2, 3, 0), (9, 2, 4), (4, 4, 3)]:
        model = nn.Sequential(ns.Conv1d(1, 2, 1), ns.ConvTranspose1d(2, 1, k, stride=s, padding=p)).eval()
        stream, cmp = stream_vs_offline(model, signal(1, k), [5, 16])
        assert cmp.max_abs_error <= 1e-12, (k, s, p, cmp)
        assert stream.delay == p


def test_branches_with_different_strides_are_aligned():
    """The reference implementation misaligns strided branches with unequal delays."""
    torch.manual_seed(1)

    class TwoScale(nn.Module):
        def __init__(self):
            super().__init__()
            self.fine = ns.Sequential(ns.Conv1d(1, 2, 5, padding="anticausal"), ns.Conv1d(2, 1, 3, padding=1))
            self.coarse = ns.Sequential(ns.Conv1d(1, 2, 4, stride=4, padding="centered"), nn.Tanh(),
                                        ns.ConvTranspose1d(2, 1, 8, stride=4, padding=2))

        def forward(self, x):
            return self.fine(x) * torch.sigmoid(self.coarse(x)) + self.coarse(x)

    model = TwoScale().eval()
    stream, cmp = stream_vs_offline(model, signal(4, 5), [4, 12, 40])
    assert cmp.max_abs_error <= 1e-12


def test_branches_module_returns_aligned_list():
    model = ns.Branches(ns.Conv1d(1, 1, 3, padding="anticausal"), ns.Conv1d(1, 1, 1)).double().eval()
    stream = ns.convert(model)
    x = signal(1, 9)
    outs = stream(x)
    assert stream.delay == 2
    offline = model(x)
    for o, ref in zip(outs, offline):
        cmp = compare_shifted(ref, o, 2, 3, 3)
        assert cmp.max_abs_error <= 1e-12


def test_scripted_and_eager_streams_are_identical():
    stream = ns.convert(seed_autoencoder())
    scripted = torch.jit.script(ns.convert(seed_autoencoder()))   # no warm-up call before scripting
    x = torch.randn(1, 1, 2048)
    sizes = [8, 64, 256, 24]
    assert torch.equal(run_in_buffers(stream, x, sizes), run_in_buffers(scripted, x, sizes))
    assert (scripted.delay, scripted.ratio) == (stream.delay, stream.ratio)


def test_reset_returns_to_silence():
    stream = ns.convert(seed_autoencoder())
    x = torch.randn(1, 1, 512)
    first = run_in_buffers(stream, x, [64])
    run_in_buffers(stream, torch.randn(1, 1, 256), [64])
    stream.reset()
    assert torch.equal(run_in_buffers(stream, x, [64]), first)


def test_buffer_not_multiple_of_ratio_is_an_error():
    stream = ns.convert(seed_autoencoder())
    with pytest.raises(RuntimeError, match="not a multiple of the model ratio 8"):
        stream(torch.zeros(1, 1, 12))


def test_chains_share_one_cache_and_start_from_silence():
    """Convs joined by pointwise ops only merge their caches: the seed autoencoder (six convs,
    ReLUs between) keeps one, at its input. A fresh stream still starts from silence in every
    layer: with centred padding and delay 0, encode streams exactly from the first sample, and
    again after reset(); a branch point (two users) keeps its own caches."""
    from nnplug.models import SeedAutoencoder
    torch.manual_seed(0)
    model = SeedAutoencoder().double().eval()
    stream = ns.convert(model)
    convs = [m for m in stream.stateful if isinstance(m, (ns.CachedConv1d, ns.CachedConvTranspose1d))]
    assert [m.own_cache for m in convs] == [True, False, False, False, False, False]
    encode = ns.convert(model, "encode")
    x = torch.randn(2, 1, 256, dtype=torch.float64)
    with torch.no_grad():
        offline = model.encode(x)
        for _ in range(2):
            streamed = run_in_buffers(encode, x, [8, 24, 16])
            assert (streamed - offline).abs().max() <= 1e-12
            encode.reset()
    branchy = nn.Sequential(ns.Conv1d(1, 4, 3, padding=1), nn.ReLU(),
                            ns.Residual(ns.Sequential(ns.Conv1d(4, 4, 3, padding=1)))).double().eval()
    kept = [m.own_cache for m in ns.convert(branchy).stateful if isinstance(m, ns.CachedConv1d)]
    assert kept == [True, True]


def test_batch_change_requires_reset():
    stream = ns.convert(seed_autoencoder())
    stream(torch.zeros(2, 1, 16))
    with pytest.raises(RuntimeError, match="batch size changed from 2 to 3; call reset"):
        stream(torch.zeros(3, 1, 16))
    stream.reset()
    assert stream(torch.zeros(3, 1, 16)).shape == (3, 1, 16)


def test_encode_method_streams_at_latent_rate():
    class AE(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = seed_autoencoder()[:5]

        def encode(self, x):
            return self.encoder(x)

    model = AE().eval()
    stream = ns.convert(model, method="encode")
    assert (stream.in_ratio, stream.out_ratio, stream.ratio) == (1, 8, 8)
    x = signal(8, 2)
    with torch.no_grad():
        offline = model.double().encode(x)
    streamed = run_in_buffers(ns.convert(model, method="encode"), x, [8, 32])
    left, right = interior_margins(stream.receptive_field, 1 / 8)
    assert compare_shifted(offline, streamed, stream.delay, left, right).max_abs_error <= 1e-12


class Permuted(nn.Module):
    """(B, C, T) -> the layout `layer` wants -> back."""

    def __init__(self, layer, time_major: bool):
        super().__init__()
        self.layer = layer
        self.time_major = time_major

    def forward(self, x):
        y = self.layer(x.permute(2, 0, 1) if self.time_major else x.transpose(1, 2))
        if isinstance(self.layer, nn.RNNBase):
            y = y[0]
        return y.permute(1, 2, 0) if self.time_major else y.transpose(1, 2)


@pytest.mark.parametrize("layer, message", [
    (lambda: nn.Linear(64, 64), "runs on a signal of 64 samples but not on one of 128"),
    (lambda: Permuted(nn.LSTM(4, 4, bidirectional=True), True), r"'1.layer' \(LSTM\) is bidirectional"),
    (lambda: nn.GroupNorm(1, 4), r"unsupported layer '1' \(GroupNorm\)"),
    (lambda: nn.Upsample(scale_factor=2), r"unsupported layer '1' \(Upsample\)"),
])
def test_unsupported_layers_are_named(layer, message):
    model = nn.Sequential(ns.Conv1d(1, 4, 3, padding=1), layer())
    with pytest.raises(ns.ConversionError, match=message):
        ns.convert(model, example_length=64)


class TimeCat(nn.Module):
    def forward(self, x):
        return torch.cat([x, x], -1)


class Interpolate(nn.Module):
    def forward(self, x):
        return F.interpolate(x, scale_factor=2.0)


class ShapeDependent(nn.Module):
    def forward(self, x):
        return x * x.shape[-1]


class MeanOverTime(nn.Module):
    def forward(self, x):
        return x - x.mean(-1, keepdim=True)


class FixedCrop(nn.Module):
    def forward(self, x):
        return x[..., 2:40]


class StartFromEnd(nn.Module):
    def forward(self, x):
        return x[..., -8:]


class ValueBranch(nn.Module):
    def forward(self, x):
        return x if x.mean() > 0 else -x


class Noisy(nn.Module):
    def forward(self, x):
        return x + 0.1 * torch.randn_like(x)


class NoisyFactory(nn.Module):
    def forward(self, x):
        b, c, t = x.shape
        return x + torch.rand(b, c, t)


@pytest.mark.parametrize("module, message", [
    (TimeCat, r"test_streaming.py:\d+ in module '1': `return torch.cat\(\[x, x\], -1\)`: 'cat' along dim -1 works "
              "along the time axis"),
    (Interpolate, "unsupported operation 'torch.nn.functional.interpolate'"),
    (ShapeDependent, r"`return x \* x.shape\[-1\]`: '_operator.mul' is given 64 for a signal of 64 samples and 128"),
    (MeanOverTime, r"'.mean\(\)' works along the time axis \(dim -1\)"),
    (FixedCrop, "the time crop 2:40 keeps a fixed number of samples"),
    (StartFromEnd, "a time crop counted from the end"),
    (ValueBranch, r"`return x if x.mean\(\) > 0 else -x`: the truth value of a tensor's values"),
    (Noisy, r"`return x \+ 0.1 \* torch.randn_like\(x\)`: random op torch.randn_like: .*SeededNoise"),
    (NoisyFactory, r"`return x \+ torch.rand\(b, c, t\)`: random op torch.rand: .*SeededNoise"),
])
def test_unsupported_operations_are_named(module, message):
    """Every refusal names the user's source line, the module and the op (not torch.fx internals)."""
    with pytest.raises(ns.ConversionError, match=message):
        ns.convert(nn.Sequential(ns.Conv1d(1, 1, 3, padding=1), module()), example_length=64)


def test_a_model_that_cannot_run_is_named_at_its_line():
    class Bad(nn.Module):
        def __init__(self):
            super().__init__()
            self.down = ns.Conv1d(1, 1, 2, stride=2)

        def forward(self, x):
            return torch.cat([self.down(x), self.down(x)], 1) + x[:, :, :]

    with pytest.raises(ns.ConversionError, match=r"test_streaming.py:\d+: `return torch.cat.*must match the size"):
        ns.convert(Bad())


def test_original_model_is_untouched_and_weights_shared_by_value():
    model = seed_autoencoder()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    stream = ns.convert(model)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not any(isinstance(m, ns.CachedConv1d) for m in model.modules())
    assert sum(isinstance(m, ns.CachedConv1d) for m in stream.modules()) == 3


def test_weight_norm_is_folded():
    conv = nn.utils.parametrizations.weight_norm(nn.Conv1d(1, 2, 3, padding=1))
    model = nn.Sequential(conv, ns.Conv1d(2, 1, 1)).eval()
    _, cmp = stream_vs_offline(model, signal(1, 4), [16])
    assert cmp.max_abs_error <= 1e-12


def test_baselines():
    model = seed_autoencoder().double()
    x = signal(8, 7)
    with torch.no_grad():
        offline = model(x)
    cw = ns.ContextWindow(model, 64)
    out = run_in_buffers(cw, x, [64])
    assert compare_shifted(offline, out, cw.delay, 32, 32).max_abs_error <= 1e-12
    ola = ns.OverlapAdd(model, 64, 0.5)
    assert ola.delay == 32
    out = run_in_buffers(ola, x, [64])
    cmp = compare_shifted(offline, out, ola.delay, 64, 64)
    assert 1e-6 < cmp.max_abs_error   # overlap-add is only an approximation



class ChannelOps(nn.Module):
    def forward(self, x):
        a, b = x.chunk(2, dim=1)
        return torch.cat([F.softmax(a, dim=1), F.glu(torch.cat([a, b], 1), dim=1), x[:, 1:3]], 1)


def test_channel_ops_stream():
    model = nn.Sequential(ns.Conv1d(1, 4, 3, padding=1), ChannelOps()).double().eval()
    _, cmp = stream_vs_offline(model, signal(1, 11), [16])
    assert cmp.max_abs_error <= 1e-12


class GluOverTime(nn.Module):
    def forward(self, x):
        return F.glu(x)          # default dim=-1: time


def test_channel_op_over_time_is_refused():
    with pytest.raises(ns.ConversionError, match=r"'torch.nn.functional.glu' works along the time axis \(dim -1\)"):
        ns.convert(nn.Sequential(ns.Conv1d(1, 2, 3, padding=1), GluOverTime()))


@pytest.mark.parametrize("batch", [1, 2])
def test_wide_layers_on_short_buffers_take_the_matmul_kernels_exactly(monkeypatch, batch):
    """Many channels, few samples per buffer (a RAVE bottleneck): the cached layers switch to
    their matmul kernels, for a mono stream and a stereo pair; the output must stay exact."""
    torch.manual_seed(3)
    model = nn.Sequential(
        ns.Conv1d(1, 64, 4, stride=4, padding="centered"), nn.Tanh(),
        ns.Conv1d(64, 128, 4, stride=4, padding="centered"), nn.Tanh(),
        ns.Conv1d(128, 128, 3, dilation=3, padding="centered"), nn.Tanh(),
        ns.Conv1d(128, 128, 1), nn.Tanh(),
        ns.ConvTranspose1d(128, 64, 8, stride=4, padding=2), nn.Tanh(),
        ns.ConvTranspose1d(64, 1, 8, stride=4, padding=2),
    ).double().eval()
    calls = {"conv": 0, "transposed": 0}
    for cls, key in ((ns.CachedConv1d, "conv"), (ns.CachedConvTranspose1d, "transposed")):
        original = cls._as_matmul

        def counting(self, x, original=original, key=key):
            calls[key] += 1
            return original(self, x)
        monkeypatch.setattr(cls, "_as_matmul", counting)
    _, cmp = stream_vs_offline(model, signal(16, 5, batch=batch), [16, 32])
    assert cmp.max_abs_error <= 1e-12
    assert calls["conv"] > 0 and calls["transposed"] > 0


@pytest.mark.parametrize("batch", [1, 2])
def test_long_buffers_take_the_polyphase_kernel_exactly(monkeypatch, batch):
    """Small transposed convs on long buffers switch to their polyphase kernel: any kernel,
    stride and padding (kernels shorter than the stride included), a merged chain (the
    transposed conv also emits the past the next conv needs), and buffers that move between
    the two kernels mid-stream must all stay exact."""
    calls = []
    original = ns.CachedConvTranspose1d._polyphase

    def counting(self, x):
        calls.append(x.size(-1))
        return original(self, x)
    monkeypatch.setattr(ns.CachedConvTranspose1d, "_polyphase", counting)
    for k, s, p in [(4, 2, 1), (5, 2, 0), (7, 3, 1), (2, 3, 0), (9, 2, 4), (3, 1, 1)]:
        torch.manual_seed(k * 10 + s)
        model = nn.Sequential(
            ns.Conv1d(1, 4, 3, padding="centered"), nn.ReLU(),
            ns.ConvTranspose1d(4, 16, k, stride=s, padding=p), nn.Tanh(),
            ns.Conv1d(16, 1, 5, padding="centered")).eval()
        calls.clear()
        x = torch.randn(batch, 1, 2400, generator=torch.Generator().manual_seed(k), dtype=torch.float64)
        stream, cmp = stream_vs_offline(model, x, [16, 700, 64, 420])
        assert cmp.max_abs_error <= 1e-12, (k, s, p, cmp)
        # the long buffers took it, the short ones (16, 64) kept torch's kernel
        assert calls and all(n >= 256 for n in calls), (k, s, p, calls)


def _stream_eager_and_scripted(model, stream, batch):
    """The stream, eager and scripted, on noise in changing buffers, and its comparison with the
    offline model (shifted by the stream's delay, away from the edges)."""
    x = torch.randn(batch, 1, 64 * 60, generator=torch.Generator().manual_seed(batch))
    with torch.no_grad():
        offline = model(x)
        streamed = run_in_buffers(stream, x, [64, 256, 128])
        stream.reset()
        scripted = run_in_buffers(torch.jit.script(stream), x, [64, 256, 128])
    left, right = interior_margins(stream.receptive_field)
    return streamed, scripted, compare_shifted(offline, streamed, stream.delay, left, right)


@pytest.mark.parametrize("batch", [1, 2])
def test_half_weights_stream_the_rounded_model(batch):
    """store_half: wide cached convs (a conv, a transposed conv) keep float16 weights and the
    fp16 kernel; the stream equals the offline model with those weights rounded (float32
    summation order only), eager and scripted alike. Weights that are not float16 values are
    left alone: the stream never computes with weights the offline model does not have."""
    from support.models import wide_model
    from nnplug.streaming.half import round_to_half, store_half
    model = wide_model()
    assert store_half(ns.convert(model)) == 0           # float32 weights: not rounded, not touched
    assert round_to_half(model) == 2
    stream = ns.convert(model)
    assert store_half(stream) == 2
    cached = [m for m in stream.modules() if isinstance(m, (ns.CachedConv1d, ns.CachedConvTranspose1d))]
    assert sorted(type(m).__name__ for m in cached if m.half_weights) == ["CachedConv1d", "CachedConvTranspose1d"]
    streamed, scripted, cmp = _stream_eager_and_scripted(model, stream, batch)
    assert cmp.max_abs_error <= 1e-5 * cmp.max_abs_reference, cmp
    assert torch.equal(streamed, scripted)


@pytest.mark.parametrize("batch", [1, 2])
def test_int8_weights_stream_the_rounded_model(batch):
    """store_int8: wide cached convs (a conv, a transposed conv) keep int8 weights (|q| <= 127, each
    row reaching 127) and fbgemm's dynamic int8 kernel. The grid is idempotent: rounding twice
    changes nothing, which is how store_int8 recognises rounded weights and leaves float32 ones
    alone. The stream differs from the rounded offline model by the activation quantization only
    (7 bits per call: well under 1 %), and eager and scripted compute the same bits."""
    from support.models import wide_model
    from nnplug.streaming.int8 import round_to_int8, store_int8
    model = wide_model()
    assert store_int8(ns.convert(model)) == 0           # float32 weights: not on the grid, not touched
    assert round_to_int8(model) == 2
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert round_to_int8(model) == 2
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    stream = ns.convert(model)
    assert store_int8(stream) == 2
    layers = [m for m in stream.modules() if isinstance(m, (ns.CachedConv1d, ns.CachedConvTranspose1d))
              and m.int8_weights]
    assert sorted(type(m).__name__ for m in layers) == ["CachedConv1d", "CachedConvTranspose1d"]
    for m in layers:
        rows = m.weight.reshape(m.weight.size(0), -1)
        rows = rows.t() if isinstance(m, ns.CachedConvTranspose1d) else rows
        assert m.weight.dtype == torch.int8 and int(rows.abs().max()) == 127
        assert torch.equal(rows.abs().amax(1), torch.full((rows.size(0),), 127, dtype=torch.int8))
    streamed, scripted, cmp = _stream_eager_and_scripted(model, stream, batch)
    assert 0 < cmp.max_abs_error <= 1e-2 * cmp.max_abs_reference, cmp
    assert torch.equal(streamed, scripted)


def test_activations_are_inlined_as_functions():
    """Stateless activations leave the converted graph as function calls (no submodule call per
    activation); an activation with state or options it cannot copy (PReLU's weight, an in-place
    ReLU) stays a module. The stream is exact either way (the property tests above)."""
    model = nn.Sequential(ns.Conv1d(1, 4, 3, padding="centered"), nn.LeakyReLU(0.3), nn.Tanh(),
                          ns.Conv1d(4, 4, 3, padding="centered"), nn.PReLU(), nn.ReLU(inplace=True),
                          ns.Conv1d(4, 1, 1), nn.Identity()).eval()
    stream = ns.convert(model)
    kinds = {type(m) for m in stream.modules()}
    assert not kinds & {nn.LeakyReLU, nn.Tanh, nn.Identity}
    assert {nn.PReLU, nn.ReLU} <= kinds
    _, cmp = stream_vs_offline(model, signal(1, 4), [8, 24])
    assert cmp.max_abs_error <= 1e-12


@pytest.mark.parametrize("block", [
    "pad-reflect", "pad-replicate-weight_norm", "pad-constant-parametrized", "pad-reflect-spectral",
    "crop", "channels_last", "lstm", "lstm-batch_first", "gru", "gru-batch_first"])
def test_public_style_blocks_stream_exactly(block):
    """Each block the property suite may draw, on its own between two strided convs (so it sees a
    delayed, downsampled signal): exact in float64, and the scripted stream computes the same bits."""
    from support.streaming_cases import CHANNELS, ChannelsLast, CroppedResidual, PadInForward, Recurrent
    torch.manual_seed(sum(map(ord, block)))
    kind, *rest = block.split("-")
    if kind == "pad":
        inner = PadInForward(5, 2, 1, rest[0])
        norm = rest[1] if len(rest) > 1 else None
        if norm == "weight_norm":
            inner = nn.utils.weight_norm(inner)
        elif norm == "parametrized":
            inner = nn.utils.parametrizations.weight_norm(inner)
        elif norm == "spectral":
            inner = nn.utils.spectral_norm(inner)
    elif kind == "crop":
        inner = CroppedResidual(5)
    elif kind == "channels_last":
        inner = ChannelsLast()
    else:
        inner = Recurrent(kind, batch_first=bool(rest))
    model = nn.Sequential(ns.Conv1d(1, CHANNELS, 4, stride=2, padding="centered"), nn.Tanh(), inner,
                          ns.ConvTranspose1d(CHANNELS, 1, 4, stride=2, padding=1)).double().eval()
    probe = ns.convert(model)
    x = signal(probe.ratio, 5, probe.receptive_field, recurrent=probe.recurrent)
    stream, cmp = stream_vs_offline(model, x, [probe.ratio * k for k in (3, 1, 7)])
    assert cmp.compared > 100 and cmp.max_abs_error <= 1e-12, cmp
    stream.reset()
    eager = run_in_buffers(stream, x, [probe.ratio * 4])
    scripted = torch.jit.script(stream)
    scripted.reset()
    assert torch.equal(run_in_buffers(scripted, x, [probe.ratio * 4]), eager)
