"""nnplug.export: the nn~ convention, metadata, validation, atomic writes, and the CLI."""
import json
import os

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from nnplug import streaming as ns
from nnplug.export import ExportError, export, weights_sha256
from nnplug.models import RaveModel, SeedAutoencoder, config_for, set_randomness
from nnplug.export.checks import run_stream
from nnplug.streaming.check import compare_shifted, interior_margins, run_in_buffers


META_KEYS = {"format_version", "name", "author", "description", "version", "sample_rate", "ratio", "delay",
             "methods", "channels", "latent_size", "streaming", "deterministic", "torch_version",
             "weights_sha256", "weights", "half_layers", "half_rounding_error", "int8_layers", "int8_min_weights",
             "precision_error"}


def load_with_meta(path):
    extra = {"nnplug.json": ""}
    m = torch.jit.load(path, _extra_files=extra)
    return m, json.loads(extra["nnplug.json"])


@pytest.fixture(scope="module")
def seed_file(tmp_path_factory):
    torch.manual_seed(0)
    model = SeedAutoencoder().eval()
    path = str(tmp_path_factory.mktemp("seed") / "seed.ts")
    meta = export(model, path, sample_rate=48000, name="seed", author="me", description="d", version="1.2",
                  verbose=False)
    return model, path, meta


@pytest.fixture(scope="module")
def rave_file(tmp_path_factory):
    torch.manual_seed(0)
    model = RaveModel(config_for("tiny")).eval()
    path = str(tmp_path_factory.mktemp("rave") / "rave.ts")
    meta = export(model, path, sample_rate=44100, name="rave-tiny", noise=False, verbose=False)
    return model, path, meta


def test_seed_file_follows_the_convention(seed_file):
    model, path, meta = seed_file
    m, extra = load_with_meta(path)
    assert extra == meta == json.loads(m.nnplug_metadata)
    assert META_KEYS <= set(meta)
    assert m.get_methods() == ["forward", "encode", "decode"]
    assert m.get_attributes() == []
    assert m.forward_params.tolist() == [1, 1, 1, 1]
    assert m.encode_params.tolist() == [1, 1, 16, 8]
    assert m.decode_params.tolist() == [16, 8, 1, 1]
    assert m.sr == 48000
    assert (meta["ratio"], meta["delay"], meta["latent_size"], meta["channels"]) == (8, 7, 16, 1)
    assert meta["methods"]["forward"] == {"in_channels": 1, "in_ratio": 1, "out_channels": 1, "out_ratio": 1,
                                          "delay": 7}
    assert meta["methods"]["encode"]["delay"] == 0 and meta["methods"]["decode"]["delay"] == 7
    assert (meta["name"], meta["author"], meta["description"], meta["version"]) == ("seed", "me", "d", "1.2")
    assert meta["format_version"] == 1 and meta["streaming"] is True and meta["deterministic"] is True
    assert meta["torch_version"] == torch.__version__.split("+")[0]
    assert meta["weights_sha256"] == weights_sha256(m)
    # the hash covers the weights: changing one changes it
    with torch.no_grad():
        next(iter(m.parameters())).add_(1.0)
    assert weights_sha256(m) != meta["weights_sha256"]


def test_seed_file_streams_like_the_python_module(seed_file):
    model, path, meta = seed_file
    m = torch.jit.load(path)
    x = torch.randn(2, 1, 8 * 100)
    with torch.no_grad():
        streamed = run_in_buffers(m.forward, x, [8, 24, 16, 64])
        offline = model(x)
    margins = interior_margins(ns.convert(model).receptive_field)
    cmp = compare_shifted(offline, streamed, meta["delay"], *margins)
    # float32, same sums in another order: rounding only (~1e-7 of the peak)
    assert cmp.max_abs_error <= 1e-5 * cmp.max_abs_reference
    # and encode/decode each stream on their own state
    m.reset()
    with torch.no_grad():
        z = run_in_buffers(m.encode, x, [8, 16])
        z_off = model.encode(x)
        assert z.shape == z_off.shape == (2, 16, 100)
        assert (z - z_off).abs().max() <= 1e-5 * z_off.abs().max()   # encode's delay is 0
        y = run_in_buffers(m.decode, z_off, [1, 3])
    assert y.shape == (2, 1, 800)


def test_reset_restarts_every_method(seed_file):
    _, path, _ = seed_file
    m = torch.jit.load(path)
    x = torch.randn(1, 1, 64)
    first = (m.forward(x), m.encode(x))
    m.forward(x), m.encode(x)
    m.reset()
    assert torch.equal(m.forward(x), first[0]) and torch.equal(m.encode(x), first[1])
    with pytest.raises((RuntimeError, torch.jit.Error), match="batch size changed"):
        m.forward(torch.randn(2, 1, 64))
    m.reset()
    assert m.forward(torch.randn(2, 1, 64)).shape == (2, 1, 64)
    with pytest.raises((RuntimeError, torch.jit.Error), match="not a multiple of the model ratio 8"):
        m.forward(torch.randn(2, 1, 12))


def test_methods_hold_each_weight_once(seed_file):
    """forward, encode and decode are converted separately; the file stores each weight once
    and a loaded model keeps the methods' copies shared (one tensor in memory)."""
    model, path, _ = seed_file
    m = torch.jit.load(path)
    loaded = dict(m.named_parameters())              # deduplicated by tensor identity
    weights = {n: p for n, p in loaded.items() if not n.rsplit(".", 1)[-1].startswith("poly_")}
    assert sum(p.numel() for p in weights.values()) == sum(p.numel() for p in model.parameters())
    # the polyphase layout of each small transposed conv (weights and a bias per phase) is held once too
    poly = sum(p.numel() for n, p in loaded.items() if n not in weights)
    transposed = [c for c in model.modules() if isinstance(c, torch.nn.ConvTranspose1d)]
    assert poly == sum(c.stride[0] * c.out_channels * (-(-c.kernel_size[0] // c.stride[0]) * c.in_channels + 1)
                       for c in transposed) > 0
    state = m.state_dict()                           # every holder's name, shared or not
    fwd = state["forward_stream.stateful.0.weight"]  # the first encoder conv, as forward holds it
    enc = state["encode_stream.stateful.0.weight"]   # ... and as encode holds it
    assert torch.equal(fwd, model.encoder[0].weight) and fwd.data_ptr() == enc.data_ptr()


def test_rave_file_matches_the_python_module(rave_file):
    model, path, meta = rave_file
    m, extra = load_with_meta(path)
    assert extra["ratio"] == 8 and extra["latent_size"] == 4 and extra["noise"] is False
    assert m.encode_params.tolist() == [1, 1, 4, 8] and m.decode_params.tolist() == [4, 8, 1, 1]
    reference = RaveModel(model.config).eval()
    reference.load_state_dict(model.state_dict())
    set_randomness(reference, enabled=False)
    conv = ns.convert(reference)
    assert meta["delay"] == conv.delay
    x = 0.3 * torch.randn(1, 1, 8 * 200)
    with torch.no_grad():
        streamed = run_in_buffers(m.forward, x, [8, 40, 16])
        offline = reference(x)
    cmp = compare_shifted(offline, streamed, meta["delay"], *interior_margins(conv.receptive_field))
    assert cmp.compared > 600
    assert cmp.max_abs_error <= 1e-5 * cmp.max_abs_reference


@pytest.mark.slow
def test_noisy_export_is_reproducible_across_loads(tmp_path):
    torch.manual_seed(0)
    model = RaveModel(config_for("tiny")).eval()
    a, b = str(tmp_path / "a.ts"), str(tmp_path / "b.ts")
    meta = export(model, a, sample_rate=44100, name="n", noise=True, seed=7, verbose=False)
    export(model, b, sample_rate=44100, name="n", noise=True, seed=8, verbose=False)
    assert meta["noise"] is True and meta["deterministic"] is True
    x = torch.randn(1, 1, 8 * 32)
    runs = []
    for p in (a, a, b):
        m = torch.jit.load(p)
        runs.append(run_in_buffers(m.forward, x, [8, 16]))
    assert torch.equal(runs[0], runs[1])          # same file, fresh loads: same bits
    assert not torch.equal(runs[0], runs[2])      # another seed: other noise


def test_failed_export_leaves_no_file(tmp_path):
    class Unstreamable(nn.Module):
        channels = 1

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(1, 1, 3, padding=1)

        def forward(self, x):
            return self.conv(x).flip(-1)   # time reversal cannot stream

    path = tmp_path / "bad.ts"
    with pytest.raises(ExportError, match="method 'forward' cannot be streamed"):
        export(Unstreamable(), str(path), sample_rate=44100, name="bad", methods=("forward",), verbose=False)
    assert os.listdir(tmp_path) == []


def test_model_drawing_from_the_global_generator_is_refused(tmp_path):
    class Random(nn.Module):
        channels = 1

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(1, 1, 3, padding=1)

        def forward(self, x):
            return self.conv(x) + 0.1 * torch.rand_like(x)

    # torch's global generator in the graph: refused at the user's line, with the way out
    for noise in (False, True):
        with pytest.raises(ExportError, match=r"test_export.py:\d+: `return self.conv\(x\) \+ 0.1 \* "
                                              r"torch.rand_like\(x\)`: random op torch.rand_like: .*SeededNoise"):
            export(Random(), str(tmp_path / "r.ts"), sample_rate=44100, name="r", noise=noise, verbose=False)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("kwargs,message", [
    (dict(methods=("encode",)), "the plugin runs `forward`"),
    (dict(methods=("forward", "prior")), r"unsupported method\(s\) \['prior'\]"),
    (dict(sample_rate=0), "sample_rate must be a positive int"),
    (dict(name=""), "needs a name"),
])
def test_bad_arguments(tmp_path, kwargs, message):
    args = dict(sample_rate=44100, name="x", verbose=False)
    args.update(kwargs)
    with pytest.raises(ExportError, match=message):
        export(SeedAutoencoder(), str(tmp_path / "x.ts"), **args)
    assert os.listdir(tmp_path) == []


def test_contract_the_plugin_cannot_meet_is_refused(tmp_path):
    class Downsampler(nn.Module):   # forward returns audio at 1/2 the rate
        channels = 1

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(1, 1, 2, stride=2)

        def forward(self, x):
            return self.conv(x)

    with pytest.raises(ExportError, match="in_ratio = out_ratio = 1"):
        export(Downsampler(), str(tmp_path / "d.ts"), sample_rate=44100, name="d", verbose=False)

    class Huge(nn.Module):          # total stride 32768 > the plugin's largest buffer
        channels = 1

        def __init__(self):
            super().__init__()
            self.down = nn.Conv1d(1, 2, 32768, stride=32768)
            self.up = nn.ConvTranspose1d(2, 1, 32768, stride=32768)

        def forward(self, x):
            return self.up(self.down(x))

    with pytest.raises(ExportError, match="multiples of 32768 samples; the plugin's largest buffer is 16384"):
        export(Huge(), str(tmp_path / "h.ts"), sample_rate=44100, name="h", verbose=False)

    class EightChannels(nn.Module):
        channels = 8

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(8, 8, 3, padding=1)

        def forward(self, x):
            return self.conv(x)

    with pytest.raises(ExportError, match="forward has 8 input channels; the plugin supports 1 to 2"):
        export(EightChannels(), str(tmp_path / "e.ts"), sample_rate=44100, name="e", verbose=False)
    assert os.listdir(tmp_path) == []


def seed_factory():
    torch.manual_seed(3)
    return SeedAutoencoder()


def cli(argv):
    """Run one sub-command through the real CLI entry point."""
    from nnplug.cli import main
    return main(argv)


@pytest.mark.slow
def test_cli_export_factory_and_config(tmp_path, capsys):
    out = tmp_path / "f.ts"
    assert cli(["export", "test_export:seed_factory", "-o", str(out), "--sample-rate", "48000", "--name", "s"]) == 0
    m, meta = load_with_meta(str(out))
    assert meta["sample_rate"] == 48000 and meta["name"] == "s" and m.sr == 48000
    assert "max error" in capsys.readouterr().out

    # YAML config + weights-only checkpoint
    model = RaveModel(config_for("tiny"))
    ckpt = tmp_path / "w.ckpt"
    torch.save({"architecture": "rave", "state_dict": model.state_dict()}, ckpt)
    cfg = tmp_path / "m.yaml"
    cfg.write_text(f"architecture: rave\nsize: tiny\nname: from-yaml\nsample_rate: 22050\ncheckpoint: {ckpt.name}\n")
    out2 = tmp_path / "y.ts"
    assert cli(["export", str(cfg), "-o", str(out2), "--no-noise", "-q"]) == 0
    m2, meta2 = load_with_meta(str(out2))
    assert meta2["name"] == "from-yaml" and meta2["sample_rate"] == 22050 and meta2["noise"] is False
    sd = model.state_dict()
    w = dict(m2.named_parameters())
    first_conv = [k for k in sd if k.startswith("encoder.0.")][0]
    assert any(torch.equal(v, sd[first_conv]) for v in w.values())


def test_cli_checkpoint_never_runs_code(tmp_path, capsys):
    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    ckpt = tmp_path / "evil.ckpt"
    torch.save({"state_dict": Evil()}, ckpt)
    cfg = tmp_path / "m.yaml"
    cfg.write_text("architecture: seed\n")
    code = cli(["export", str(cfg), "--checkpoint", str(ckpt), "-o", str(tmp_path / "o.ts")])
    assert code == 2
    assert "as weights only (no code may run)" in capsys.readouterr().err
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "o.ts").exists()


@pytest.mark.parametrize("argv,message", [
    (["nomodule_xyz:f"], "cannot import 'nomodule_xyz'"),
    (["test_export:nothing_here"], "has no callable 'nothing_here'"),
    (["justaname"], "use package.module:factory or a YAML model config"),
])
def test_cli_bad_spec(tmp_path, capsys, argv, message):
    assert cli(["export", *argv, "-o", str(tmp_path / "o.ts")]) == 2
    assert message in capsys.readouterr().err


def test_exported_file_has_a_normal_mode(seed_file):
    _, path, _ = seed_file
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def test_cli_factory_from_the_current_directory(tmp_path, monkeypatch):
    (tmp_path / "my_factory_mod.py").write_text(
        "from nnplug.models import SeedAutoencoder\n\ndef make():\n    return SeedAutoencoder()\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.path", [p for p in __import__("sys").path if p not in ("", str(tmp_path))])
    assert cli(["export", "my_factory_mod:make", "-o", "m.ts", "-q"]) == 0
    assert (tmp_path / "m.ts").exists()


def test_forward_only_export(tmp_path):
    path = str(tmp_path / "f.ts")
    meta = export(SeedAutoencoder(), path, sample_rate=44100, name="f", methods=("forward",), verbose=False)
    m = torch.jit.load(path)
    assert m.get_methods() == ["forward"] and list(meta["methods"]) == ["forward"]
    assert not hasattr(m, "encode") and not hasattr(m, "encode_params")
    m.forward(torch.zeros(1, 1, 16))
    m.reset()


def test_float16_weights(tmp_path):
    """weights="float16": the wide layers keep float16 weights (stored once, half the bytes), the
    file passed export's check against the model with those weights rounded, and it differs from
    the float32 export by that rounding only. A model without a wide layer is refused."""
    from support.models import wide_model
    from nnplug.runtime import plugin_execution
    model = wide_model()
    f32, f16 = tmp_path / "f32.ts", tmp_path / "f16.ts"
    export(model, str(f32), sample_rate=44100, name="wide", verbose=False)
    meta = export(model, str(f16), sample_rate=44100, name="wide", weights="float16", verbose=False)
    assert meta["weights"] == "float16" and meta["half_layers"] == 2
    assert 0 < meta["half_rounding_error"] < 1e-3
    a, b = torch.jit.load(str(f32)), torch.jit.load(str(f16))
    assert sorted(tuple(p.shape) for p in b.parameters() if p.dtype == torch.float16) == [(256, 128, 4), (256, 256, 3)]
    assert not any(p.dtype == torch.float16 for p in a.parameters())
    wide_bytes = 2 * (256 * 256 * 3 + 256 * 128 * 4)
    assert os.path.getsize(f16) < os.path.getsize(f32) - 0.9 * wide_bytes
    x = 0.5 * torch.randn(1, 1, 64 * 40, generator=torch.Generator().manual_seed(1))
    with plugin_execution():
        ya, yb = run_in_buffers(a.forward, x, [64, 256]), run_in_buffers(b.forward, x, [64, 256])
    assert not torch.equal(ya, yb)                       # a different model: rounded weights
    assert float((ya - yb).norm() / ya.norm()) < 1e-3    # float16 rounding of the weights: ~1e-4 per layer
    with pytest.raises(ExportError, match="changes nothing"):
        export(SeedAutoencoder().eval(), str(tmp_path / "s.ts"), sample_rate=44100, name="s", weights="float16",
               verbose=False)
    with pytest.raises(ExportError, match="weights must be one of"):
        export(model, str(tmp_path / "w.ts"), sample_rate=44100, name="w", weights="int4", verbose=False)


def test_int8_weights(tmp_path):
    """weights="int8": the wide layers keep int8 weights and one float32 scale per output row, and
    the file holds no float32 copy of them; its error against float32 is in the metadata, and that
    figure holds on a signal export never saw; the output depends on the buffer size (per-call
    activation scales) by about as much as the metadata says. A model without a wide layer is
    refused."""
    from support.models import wide_model
    from nnplug.runtime import plugin_execution
    from nnplug.streaming.int8 import INT8_MIN_WEIGHTS
    model = wide_model()
    f32, i8 = tmp_path / "f32.ts", tmp_path / "i8.ts"
    export(model, str(f32), sample_rate=44100, name="wide", verbose=False)
    meta = export(model, str(i8), sample_rate=44100, name="wide", weights="int8", verbose=False)
    assert meta["weights"] == "int8" and meta["int8_layers"] == 2 and meta["int8_min_weights"] == INT8_MIN_WEIGHTS
    a, b = torch.jit.load(str(f32)), torch.jit.load(str(i8))
    wide = [(256, 128, 4), (256, 256, 3)]
    assert sorted(tuple(p.shape) for p in b.parameters() if p.dtype == torch.int8) == wide
    assert not any(tuple(p.shape) in wide for p in b.parameters() if p.dtype != torch.int8)
    assert sorted(tuple(p.shape) for n, p in b.named_parameters() if n.endswith("weight_scale")) == [(256,), (512,)]
    assert os.path.getsize(i8) < os.path.getsize(f32) - 0.9 * 3 * (256 * 256 * 3 + 256 * 128 * 4)
    error = meta["precision_error"]
    assert error["buffer"] == 1024 and error["buffer_dependence"]["buffers"] == [1024, 4096]
    assert 0 < error["weights_only_relative_rms"] < error["relative_rms"] < 1e-2
    assert error["stft_distance"] > 0 and 0 < error["max_abs"] < 0.05 * error["peak"]

    x = 0.5 * torch.randn(1, 1, 1024 * 12, generator=torch.Generator().manual_seed(7))
    with plugin_execution():
        ya, yb = run_in_buffers(a.forward, x, [1024]), run_in_buffers(b.forward, x, [1024])
        b.reset()
        yb_short = run_in_buffers(b.forward, x, [64])
    cut = slice(1024, None)      # past the start, where both streams begin from silence
    fresh = float((yb - ya)[..., cut].norm() / ya[..., cut].norm())
    assert 0.5 < fresh / error["relative_rms"] < 2, (fresh, error)
    assert not torch.equal(yb, yb_short)
    dependence = float((yb_short - yb)[..., cut].norm() / yb[..., cut].norm())
    assert 0.25 < dependence / error["buffer_dependence"]["relative_rms"] < 4, (dependence, error)
    with pytest.raises(ExportError, match="changes nothing"):
        export(SeedAutoencoder().eval(), str(tmp_path / "s.ts"), sample_rate=44100, name="s", weights="int8",
               verbose=False)


def test_int8_stream_check_catches_a_stream_off_by_one_sample(tmp_path):
    """The int8 file's stream is checked against the rounded offline model within a tolerance
    derived from the activation quantization: a reference one sample late must fail it."""
    import copy

    import torch.nn.functional as F
    from support.models import wide_model
    from nnplug.export.checks import validate_file
    from nnplug.export.methods import convert_method
    from nnplug.streaming.int8 import round_to_int8
    path = tmp_path / "i8.ts"
    export(wide_model(), str(path), sample_rate=44100, name="wide", weights="int8", verbose=False)
    rounded = wide_model()
    round_to_int8(rounded)
    infos = {"forward": convert_method(copy.deepcopy(rounded), "forward", 1)}
    report = validate_file(str(path), rounded, infos, 16, expect_deterministic=True, verbose=False, quantized=True)
    assert 0 < report.relative_rms["forward"] < 1e-2

    class OneLate(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return F.pad(self.inner(x), (1, 0))[..., :-1]

    with pytest.raises(ExportError, match="beyond what quantizing"):
        validate_file(str(path), OneLate(rounded), infos, 16, expect_deterministic=True, verbose=False,
                      quantized=True)


@pytest.mark.parametrize("weights", ["float16", "int8"])
def test_inspect_names_rounded_weights(tmp_path, weights):
    from support.models import wide_model
    from nnplug.describe import format_info, inspect_file
    path = tmp_path / f"{weights}.ts"
    export(wide_model(), str(path), sample_rate=44100, name="wide", weights=weights, verbose=False)
    text = format_info(inspect_file(str(path), measure=False))
    assert f"{weights} weights in 2 wide layers" in text and "sha256 ok" in text
    assert "vs float32   forward at N = 1024:" in text and "STFT distance" in text
    assert ("N = 4096 differs from N = 1024" in text) == (weights == "int8")


class _FunctionalActivations(nn.Module):
    """Activations written as functions in forward, as HiFi-GAN's residual blocks write
    `F.leaky_relu(x, LRELU_SLOPE)` (no HiFi-GAN package is pinned here)."""

    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv1d(1 if i == 0 else 4, 4 if i < 2 else 1, 3, padding=d, dilation=d)
                                   for i, d in enumerate((1, 3, 5)))

    def forward(self, x):
        x = self.convs[0](x)
        x = x + self.convs[1](F.leaky_relu(x, 0.1))
        return self.convs[2](F.silu(F.elu(x, alpha=0.5)))


def _rave_package_blocks():
    from support.thirdparty import rave_autoencoder
    return rave_autoencoder()


@pytest.mark.parametrize("make, methods", [
    (lambda: RaveModel(config_for("tiny")).eval(), ("forward", "encode")),   # nnplug's own, with seeded noise
    (_rave_package_blocks, ("forward", "encode")),                         # acids-rave's blocks
    (lambda: _FunctionalActivations().eval(), ("forward",)),
], ids=["nnplug-rave", "acids-rave-blocks", "functional-activations"])
def test_exported_layers_are_inlined_and_give_the_same_bits(tmp_path, monkeypatch, make, methods):
    """The plugin runs TorchScript with the graph optimizer off, which opens an interpreter frame
    for every method and function call: inside each layer they are inlined in the saved file, and
    the activations between layers call their builtin op. The file streams exactly what the same
    model exported without inlining streams."""
    import nnplug.export.pipeline as pipeline
    paths = {}
    for inline in (True, False):
        if not inline:
            monkeypatch.setattr(pipeline, "inline_calls", lambda scripted: scripted)
        torch.manual_seed(0)
        paths[inline] = str(tmp_path / f"inline-{inline}.ts")
        export(make(), paths[inline], sample_rate=44100, name="r", verbose=False)
    inlined, plain = torch.jit.load(paths[True]), torch.jit.load(paths[False])

    def calls_in_layers(module):
        calls = 0
        for m in module.modules():
            if next(m.children(), None) is None:
                for name in m._c._method_names():
                    if m._c._has_method(name):      # a helper inlined everywhere is not saved
                        graph = str(m._c._get_method(name).graph)
                        calls += graph.count("prim::CallMethod") + graph.count("prim::CallFunction")
        return calls
    assert calls_in_layers(inlined) == 0 and calls_in_layers(plain) > 0
    for method in methods:
        assert "prim::CallFunction" not in str(getattr(inlined, f"{method}_stream").forward.graph), method
    channels = int(inlined.forward_params[0])
    x = 0.3 * torch.randn(1, channels, 2048 * 12, generator=torch.Generator().manual_seed(3))
    ratio = int(json.loads(inlined.nnplug_metadata)["ratio"])
    for method in methods:
        sizes = [ratio, 3 * ratio, 2048] if method == "forward" else [4 * ratio]
        a = run_stream(inlined, method, x, sizes)
        b = run_stream(plain, method, x, sizes)
        assert torch.equal(a, b), method


def test_export_scripts_the_wrapper_once_and_records_the_final_metadata(tmp_path, monkeypatch):
    """The digest and determinism are measured on the one scripted module, then written into its
    metadata attribute: no second scripting, and the attribute equals the extra file."""
    scripted = []
    real_script = torch.jit.script

    def counting_script(obj, *args, **kwargs):
        scripted.append(type(obj).__name__)
        return real_script(obj, *args, **kwargs)

    monkeypatch.setattr(torch.jit, "script", counting_script)
    torch.manual_seed(0)
    path = str(tmp_path / "once.ts")
    meta = export(SeedAutoencoder().eval(), path, sample_rate=44100, name="once", verbose=False)
    assert scripted.count("NNPlugModel") == 1
    loaded, extra = load_with_meta(path)
    assert json.loads(loaded.nnplug_metadata) == extra == meta
    assert meta["weights_sha256"] == weights_sha256(loaded)
