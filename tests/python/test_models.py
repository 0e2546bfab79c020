"""Reference models: shapes, PQMF reconstruction, exact streaming after convert(), and
reproducible seeded noise."""
import math

import pytest
import torch

from nnplug import streaming as ns
from nnplug.models import (PQMF, RaveModel, SeedAutoencoder, SeededNoise, build_model, config_for,
                           set_randomness)

torch.manual_seed(0)


def stream(module, x, sizes):
    """Run `module` over x in consecutive buffers whose lengths cycle through `sizes`."""
    out, i, k = [], 0, 0
    while i < x.shape[-1]:
        n = sizes[k % len(sizes)]
        out.append(module(x[..., i:i + n]))
        i += n
        k += 1
    return torch.cat(out, -1)


def edge_margin(s):
    """Output samples at the start where offline and streaming legitimately differ: offline
    has no layer outputs before time 0, while the stream computes them (biases) from the
    silence in its caches. One receptive field, in output samples, covers it."""
    lo, hi = s.receptive_field
    return math.ceil((hi - lo) * s.in_ratio / s.out_ratio) + 1


def check_streams_exactly(model, method, x, sizes, in_channels=0):
    """The streamed output equals the offline one delayed by `.delay` samples, away from
    the start. float64: both compute the same sums in a different order, so they agree to
    rounding (~1e-16 relative); 1e-9 leaves room for long accumulations yet catches any
    misaligned sample."""
    s = ns.convert(model, method, in_channels=in_channels)
    offline = getattr(model, method)(x)
    streamed = stream(s, x, [n * s.ratio for n in sizes])
    assert streamed.shape == offline.shape
    d, m, n = s.delay, edge_margin(s), offline.shape[-1]
    assert n - d - m > n // 4, "test signal too short for the model's receptive field"
    err = (streamed[..., d + m:] - offline[..., m:n - d]).abs().max().item()
    scale = offline.abs().max().item()
    assert scale > 1e-3
    assert err <= 1e-9 * max(scale, 1.0), f"{method}: max error {err}"
    # and a one-sample misalignment would be far off: the check is not vacuous
    wrong = (streamed[..., d + m + 1:] - offline[..., m:n - d - 1]).abs().max().item()
    assert wrong > 1e-3 * scale
    return s


def test_seed_autoencoder_shapes_and_streaming():
    m = SeedAutoencoder().double().eval()
    x = torch.randn(2, 1, 8 * 64, dtype=torch.float64)
    assert m.encode(x).shape == (2, 16, 64)
    assert m.forward(x).shape == x.shape
    s = check_streams_exactly(m, "forward", x, [1, 3, 2, 8])
    assert (s.delay, s.ratio) == (7, 8)
    e = check_streams_exactly(m, "encode", x, [1, 2, 5])
    assert (e.in_ratio, e.out_ratio) == (1, 8)
    z = torch.randn(2, 16, 64, dtype=torch.float64)
    d = check_streams_exactly(m, "decode", z, [1, 4, 3], in_channels=16)
    assert (d.in_ratio, d.out_ratio) == (8, 1)


@pytest.mark.parametrize("bands", [2, 4, 16])
def test_pqmf_reconstructs_without_shift(bands):
    p = PQMF(bands, 8).double()
    x = torch.randn(1, 1, bands * 256, dtype=torch.float64)
    sub = p.analysis(x)
    assert sub.shape == (1, bands, 256)
    y = p.synthesis(sub)
    assert y.shape == x.shape
    edge = 2 * 16 * bands  # the filters' length: offline zero padding disturbs the ends
    err = (y - x)[..., edge:-edge].pow(2).mean() / x.pow(2).mean()
    # a near-perfect-reconstruction PQMF: its reconstruction error must stay below -50 dB
    assert err < 1e-5
    shifted = (y[..., 1:] - x[..., :-1])[..., edge:-edge].pow(2).mean() / x.pow(2).mean()
    assert shifted > 0.1


@pytest.mark.parametrize("size,ratio", [("tiny", 8), ("small", 64), ("v2", 2048)])
def test_rave_sizes(size, ratio):
    m = RaveModel(config_for(size))
    assert m.ratio == ratio
    if size == "v2":
        c = m.config
        assert (c.bands, c.latent_size, c.capacity) == (16, 128, 96)
        return
    x = torch.randn(2, 1, ratio * 4)
    z = m.encode(x)
    assert z.shape == (2, m.latent_size, 4)
    assert m.decode(z).shape == x.shape


@pytest.mark.parametrize("size,causal", [("tiny", False), ("tiny", True), ("small", True)])
def test_rave_streams_exactly_with_randomness_off(size, causal):
    torch.manual_seed(1)
    m = RaveModel(config_for(size, causal=causal)).double().eval()
    assert set_randomness(m, enabled=False) == 2
    r = m.ratio
    x = torch.randn(1, 1, r * 128, dtype=torch.float64) * 0.5
    f = check_streams_exactly(m, "forward", x, [1, 2, 5, 3])
    assert f.ratio == r and (f.in_ratio, f.out_ratio) == (1, 1)
    e = check_streams_exactly(m, "encode", x, [1, 3])
    assert (e.in_ratio, e.out_ratio) == (1, r)
    z = torch.randn(1, m.latent_size, 128, dtype=torch.float64)
    d = check_streams_exactly(m, "decode", z, [1, 4, 2], in_channels=m.latent_size)
    assert (d.in_ratio, d.out_ratio) == (r, 1)


def test_v2_converts_with_ratio_2048():
    m = RaveModel(config_for("v2")).eval()
    s = ns.convert(m, "encode")
    assert (s.ratio, s.in_ratio, s.out_ratio) == (2048, 1, 2048)


def test_seeded_noise_reproducible_and_streamable():
    n = SeededNoise(salt=5, kind="normal", seed=3)
    x = torch.zeros(2, 3, 4096)
    a = n(x)
    n.reset()
    assert torch.equal(n(x), a)                       # reset() rewinds the stream
    n.reset()
    parts = torch.cat([n(x[..., :1000]), n(x[..., 1000:1001]), n(x[..., 1001:])], -1)
    assert torch.equal(parts, a)                      # buffer boundaries do not matter
    assert not torch.equal(a[0], a[1]) and not torch.equal(a[:, 0], a[:, 1])
    assert abs(a.mean().item()) < 0.05 and abs(a.std().item() - 1) < 0.05  # 24576 samples: 6 sigma
    other = SeededNoise(salt=5, kind="normal", seed=4)
    assert not torch.equal(other(x), a)
    u = SeededNoise(salt=1)(x)
    assert u.min() > -1 and u.max() < 1 and abs(u.std().item() - 3 ** -0.5) < 0.02
    scripted = torch.jit.script(SeededNoise(salt=5, kind="normal", seed=3))
    assert torch.equal(scripted(x), a)                # TorchScript computes the same bits
    n.enabled = False
    assert torch.equal(n(x), torch.zeros_like(x))


def _documented_uniform(seed, salt, batch, channel, position):
    """SeededNoise's uniform value for one element, from its documented hash in plain Python ints."""
    def mix(v):
        v = ((v >> 16) ^ v) * 0x045D9F3B & 0xFFFFFFFF
        v = ((v >> 16) ^ v) * 0x045D9F3B & 0xFFFFFFFF
        return (v >> 16) ^ v
    key = mix(mix(mix(channel * 2) ^ seed) ^ salt)
    key = mix((key + batch * 0x9E3779B) & 0xFFFFFFFF)
    bits = mix(mix(position ^ key) ^ salt)
    return 2.0 * (((bits >> 8) + 0.5) / 16777216.0) - 1.0


def test_seeded_noise_keys_follow_the_shape_and_the_seed():
    """The per-(batch, channel) keys are kept between calls: a new batch size, and a new seed after
    reset, must give the documented values, not the kept keys'."""
    n = SeededNoise(salt=9, seed=11)
    n(torch.zeros(2, 3, 64))                                       # keys for batch 2, 3 channels
    y = n(torch.zeros(1, 2, 16))                                   # another shape, same stream
    for c, t in [(0, 0), (1, 5), (1, 15)]:
        assert y[0, c, t].item() == pytest.approx(_documented_uniform(11, 9, 0, c, 64 + t), abs=1e-7)
    n.reset()
    y = n(torch.zeros(1, 2, 16))
    assert y[0, 1, 5].item() == pytest.approx(_documented_uniform(11, 9, 0, 1, 5), abs=1e-7)
    n.seed = 12
    n.reset()
    y = n(torch.zeros(3, 1, 8))
    assert y[2, 0, 7].item() == pytest.approx(_documented_uniform(12, 9, 2, 0, 7), abs=1e-7)
    assert y[0, 0, 3].item() != pytest.approx(_documented_uniform(11, 9, 0, 0, 3), abs=1e-7)


def test_rave_stream_with_noise_is_repeatable():
    torch.manual_seed(2)
    m = RaveModel(config_for("tiny")).eval()
    s = torch.jit.script(ns.convert(m))
    x = torch.randn(1, 1, 8 * 32)
    a = stream(s, x, [8, 16])
    s.reset()
    b = stream(s, x, [8, 16])
    assert torch.equal(a, b)
    set_randomness(m, enabled=False)
    quiet = torch.jit.script(ns.convert(m))
    assert not torch.equal(stream(quiet, x, [8]), a)  # the noise is really there when enabled


def test_build_model():
    assert isinstance(build_model({"architecture": "seed"}), SeedAutoencoder)
    m = build_model({"architecture": "rave", "size": "tiny", "latent_size": 3})
    assert m.latent_size == 3 and m.ratio == 8
    with pytest.raises(ValueError, match="unknown architecture"):
        build_model({"architecture": "wavenet"})
    with pytest.raises(ValueError, match="unknown RAVE config keys"):
        build_model({"architecture": "rave", "size": "tiny", "latnt": 3})
