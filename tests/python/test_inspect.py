"""nnplug inspect: our exports, hand-built RAVE v2/v1-like files, plain nn~ files, and
files broken in each way the reader checks."""
import json
import zipfile
from typing import List

import pytest
import torch
import torch.nn as nn

from nnplug import streaming as ns
from nnplug.export import export
from nnplug.describe import InspectError, format_info, inspect_file
from nnplug.player import ModelPlayer
from nnplug.models import SeedAutoencoder



def cli(argv):
    from nnplug.cli import main
    return main(argv)


# -- hand-built files ------------------------------------------------------------------------
class CachedPadding1d(nn.Module):
    """Stands in for cached_conv's padding layer found in RAVE exports: a `pad` buffer
    holding the tail of the previous buffer."""

    def __init__(self, channels: int, size: int):
        super().__init__()
        self.size = size
        self.register_buffer("pad", torch.zeros(1, channels, size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.cat([self.pad, x], -1)
        self.pad = y[..., y.shape[-1] - self.size:].clone()
        return y


class RaveV2Like(nn.Module):
    """encode: 1 -> 8 latent channels at 1/16 of the rate, stochastic; decode back."""

    def __init__(self):
        super().__init__()
        self.sr = 48000
        self.latent_size = 8
        self.full_latent_size = 16
        self.n_channels = 1
        self.stereo_mode = False
        self.pad = CachedPadding1d(1, 15)
        self.enc = nn.Conv1d(1, 16, 16, stride=16)
        self.dec = nn.ConvTranspose1d(8, 1, 16, stride=16)
        for name, p in (("forward", [1, 1, 1, 1]), ("encode", [1, 1, 8, 16]), ("decode", [8, 16, 1, 1])):
            self.register_buffer(f"{name}_params", torch.tensor(p))

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        mean, scale = self.enc(self.pad(x)[..., 15:]).chunk(2, 1)
        return mean + torch.randn_like(mean) * torch.sigmoid(scale)

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.dec(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["encode", "decode", "forward"]

    @torch.jit.export
    def get_attributes(self) -> List[str]:
        return []


class RaveV1Core(nn.Module):
    def __init__(self):
        super().__init__()
        self.sampling_rate = 44100
        self.latent_size = 4
        self.conv = nn.Conv1d(1, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class RaveV1Like(nn.Module):
    """Old exports: `sampling_rate`, a `_rave` submodule, no get_methods()."""

    def __init__(self):
        super().__init__()
        self._rave = RaveV1Core()
        self.sampling_rate = 44100
        self.register_buffer("forward_params", torch.tensor([1, 1, 1, 1]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._rave(x)


class Plain(nn.Module):
    """A non-streaming nn~ file: every buffer is processed alone (zero padding each time)."""

    def __init__(self, params=(1, 1, 1, 1), dtype=torch.int64):
        super().__init__()
        self.conv = nn.Conv1d(1, 1, 5, padding=2)
        if params is not None:
            self.register_buffer("forward_params", torch.tensor(list(params), dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


def save(module, path, extra=None):
    torch.jit.save(torch.jit.script(module), str(path), _extra_files=extra or {})
    return str(path)


# -- our exports -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def seed_ts(tmp_path_factory):
    torch.manual_seed(0)
    path = str(tmp_path_factory.mktemp("i") / "seed.ts")
    export(SeedAutoencoder(), path, sample_rate=44100, name="seed", version="3", verbose=False)
    return path


def test_our_export(seed_ts):
    info = inspect_file(seed_ts)
    assert info.kind == "nnplug"
    assert info.methods == {"forward": dict(in_channels=1, in_ratio=1, out_channels=1, out_ratio=1),
                            "encode": dict(in_channels=1, in_ratio=1, out_channels=16, out_ratio=8),
                            "decode": dict(in_channels=16, in_ratio=8, out_channels=1, out_ratio=1)}
    assert (info.sample_rate, info.ratio, info.delay, info.delay_source) == (44100, 8, 7, "metadata")
    assert (info.latent_size, info.channels, info.streaming, info.deterministic) == (16, 1, True, True)
    assert info.weights_ok is True and info.warnings == []
    text = format_info(info)
    assert "nnplug export" in text and "7 samples (0.2 ms), metadata" in text and "seed v3" in text
    assert "encode        1        1     16         8      0" in text   # per-method delay column


def test_altered_weights_are_flagged(seed_ts, tmp_path):
    extra = {"nnplug.json": ""}
    m = torch.jit.load(seed_ts, _extra_files=extra)
    with torch.no_grad():
        next(iter(m.parameters())).mul_(2)
    path = str(tmp_path / "altered.ts")
    torch.jit.save(m, path, _extra_files=extra)
    info = inspect_file(path, measure=False)
    assert info.weights_ok is False
    assert any("sha256 differs" in w for w in info.warnings)


# -- other producers -------------------------------------------------------------------------
def test_rave_v2_like(tmp_path):
    path = save(RaveV2Like(), tmp_path / "v2.ts")
    info = inspect_file(path)
    assert info.kind == "rave-v2"
    assert list(info.methods) == ["encode", "decode", "forward"]
    assert info.methods["encode"] == dict(in_channels=1, in_ratio=1, out_channels=8, out_ratio=16)
    assert (info.sample_rate, info.ratio, info.latent_size, info.channels) == (48000, 16, 8, 1)
    assert info.attributes["full_latent_size"] == 16 and info.attributes["stereo_mode"] is False
    assert info.streaming is True           # CachedPadding1d state found
    assert info.deterministic is False      # stochastic encode
    assert any("not deterministic" in w for w in info.warnings)
    # measured from the restored state at a fixed seed: the same value on every run
    assert info.delay_source == "measured" and info.repeatable_at_seed is True
    assert ModelPlayer(path).measure_delay() == info.delay      # a fresh load, not the sha256 cache


def test_rave_v1_like(tmp_path):
    info = inspect_file(save(RaveV1Like(), tmp_path / "v1.ts"))
    assert info.kind == "rave-v1"
    assert list(info.methods) == ["forward"]
    assert info.sample_rate == 44100 and info.attributes["sampling_rate"] == 44100
    assert info.deterministic is True
    # no cache buffers, but a pointwise model: two calls of N give what one call of 2N gives
    assert info.streaming is True and info.streaming_evidence.startswith("measured")


def test_non_streaming_file_warns_about_clicks(tmp_path, capsys):
    path = save(Plain(), tmp_path / "plain.ts")
    info = inspect_file(path)
    assert info.kind == "nn~" and info.streaming is False and info.sample_rate is None
    assert any("click at buffer edges" in w for w in info.warnings)
    assert cli(["inspect", path]) == 0
    out = capsys.readouterr().out
    assert "streaming    NO" in out and "warning: not a streaming model" in out


def test_delay_measured_with_an_impulse(tmp_path):
    """A streaming file without metadata whose forward is a zero-phase 75-tap identity:
    streamed, it delays by exactly 37 samples, which the impulse must find."""
    conv = ns.Conv1d(1, 1, 75, padding="centered", bias=False)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0, 37] = 1.0
    stream = ns.convert(nn.Sequential(conv))
    assert stream.delay == 37

    class Wrapped(nn.Module):
        def __init__(self):
            super().__init__()
            self.stream = stream
            self.register_buffer("forward_params", torch.tensor([1, 1, 1, 1]))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.stream(x)

    info = inspect_file(save(Wrapped(), tmp_path / "d.ts"))
    assert (info.delay, info.delay_source, info.streaming) == (37, "measured", True)


def test_json_output(seed_ts, capsys):
    assert cli(["inspect", seed_ts, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["delay"] == 7 and data["metadata"]["name"] == "seed" and data["methods"]["encode"]["out_ratio"] == 8


# -- broken files ----------------------------------------------------------------------------
def _metadata_file(seed_ts, tmp_path, edit):
    extra = {"nnplug.json": ""}
    m = torch.jit.load(seed_ts, _extra_files=extra)
    path = str(tmp_path / "edited.ts")
    torch.jit.save(m, path, _extra_files={"nnplug.json": edit(extra["nnplug.json"])})
    return path


def _dropped(key):
    def edit(text):
        d = json.loads(text)
        d.pop(key)
        return json.dumps(d)
    return edit


def _mismatch(text):
    d = json.loads(text)
    d["methods"]["encode"]["out_channels"] = 99
    return json.dumps(d)


def test_broken_metadata(seed_ts, tmp_path):
    with pytest.raises(InspectError, match="metadata .nnplug.json. is not valid JSON"):
        inspect_file(_metadata_file(seed_ts, tmp_path, lambda t: t[:-5]))
    with pytest.raises(InspectError, match=r"metadata lacks \['ratio'\]"):
        inspect_file(_metadata_file(seed_ts, tmp_path, _dropped("ratio")))
    with pytest.raises(InspectError, match="metadata for method 'encode'.*disagrees with encode_params"):
        inspect_file(_metadata_file(seed_ts, tmp_path, _mismatch))


class OnlyEncodeParams(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("forward_params", torch.tensor([1, 1, 1, 1]))
        self.register_buffer("encode_params", torch.tensor([1, 1, 1, 1]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


@pytest.mark.parametrize("make,message", [
    (lambda p: p.write_bytes(b"not a model"), "is not a TorchScript file"),
    (lambda p: torch.save({"w": torch.zeros(3)}, str(p)), "is not a TorchScript file .* torch.save holds weights only"),
    (lambda p: save(Plain(params=None), p), "no 'forward_params' buffer: this is not an nn~-convention model"),
    (lambda p: save(Plain(params=(1, 1, 1)), p), "forward_params must be an integer tensor of 4 values"),
    (lambda p: save(Plain(dtype=torch.float32), p), r"forward_params must be an integer tensor .* torch.float32"),
    (lambda p: save(Plain(params=(1, 0, 1, 1)), p), r"forward_params has an entry out of range \(channels 1..64, ratios 1..65536\)"),
    (lambda p: save(OnlyEncodeParams(), p), "'encode_params' is present but the module has no method 'encode'"),
])
def test_broken_files(tmp_path, make, message):
    path = tmp_path / "broken.ts"
    make(path)
    with pytest.raises(InspectError, match=message):
        inspect_file(str(path))


def test_corrupt_archive_and_missing_file(tmp_path, seed_ts, capsys):
    path = tmp_path / "corrupt.ts"
    with zipfile.ZipFile(seed_ts) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.namelist():
            data = src.read(item)
            dst.writestr(item, data[: len(data) // 2] if item.endswith("data.pkl") else data)
    with pytest.raises(InspectError, match="is not a loadable TorchScript file"):
        inspect_file(str(path))
    with pytest.raises(InspectError, match="no such file"):
        inspect_file(str(tmp_path / "missing.ts"))
    assert cli(["inspect", str(path)]) == 2
    err = capsys.readouterr().err
    assert "nnplug inspect: error:" in err and "Traceback" not in err
