"""Export a model as a self-describing TorchScript file following the nn~ convention.

    nnplug.export(model, "model.ts", sample_rate=44100, name="my-model")

The file holds one top-level scripted module with, for every exported method `m`:

* `m(x)`: `(batch, in_channels, B / in_ratio) -> (batch, out_channels, B / out_ratio)`,
  a streaming version of `model.m` (each method owns an independent streaming state),
* a buffer `m_params = [in_channels, in_ratio, out_channels, out_ratio]` (int),

and `get_methods()`, `get_attributes()`, `reset()` (rewinds the state of every method),
the int attribute `sr`, and the str attribute `nnplug_metadata` (JSON, also stored as the
extra file `nnplug.json`). Before the file is declared good it is reloaded and checked:
shape contract at batch 1 and 2 and several buffer sizes, streaming == offline shifted by
the delay, determinism across two fresh loads. The file appears atomically, only when
every check passed.
"""
from __future__ import annotations

import copy
import hashlib
import io
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
import sys
import types
from typing import Dict, Iterable, List, Optional, Sequence

import torch
import torch.nn as nn

from nnplug import streaming as ns
from nnplug.streaming.check import compare_shifted, interior_margins, run_in_buffers
from nnplug.streaming.half import HALF_MIN_WEIGHTS, round_to_half, store_half
from nnplug.contract import LARGEST_BUFFER, MAX_EXPORT_CHANNELS
from nnplug.streaming.reparam import plain_copy
from nnplug.errors import NnplugError

FORMAT_VERSION = 1
METADATA_FILE = "nnplug.json"
SUPPORTED_METHODS = ("forward", "encode", "decode")
WEIGHT_FORMATS = ("float32", "float16")
# float32 streaming vs offline: the same sums in another order. Rounding stays near
# 1e-6 of the signal's peak; 1e-4 leaves room for deep models while any misaligned or
# stale sample is off by the order of the signal itself.
EXACT_TOLERANCE = 1e-4


class ExportError(NnplugError, ValueError):
    """The model cannot be exported as asked; the message names the method, the shapes and the fix."""


def _log(msg: str, verbose: bool) -> None:
    if verbose:
        print(f"[export] {msg}")


# -- the exported module ---------------------------------------------------------------------
class _Exported(nn.Module):
    """Holds one streaming module per method as `<method>_stream`. Method bodies are added
    per export (see `_wrapper_class`), so the file has exactly the requested methods."""

    def __init__(self, streams: Dict[str, nn.Module], params: Dict[str, List[int]], sample_rate: int,
                 metadata: str, attributes: Dict[str, int]):
        super().__init__()
        for name, stream in streams.items():
            setattr(self, f"{name}_stream", stream)
            self.register_buffer(f"{name}_params", torch.tensor(params[name], dtype=torch.int32))
        self.sr = int(sample_rate)
        self.nnplug_metadata = metadata
        self.methods: List[str] = list(streams)
        for key, value in attributes.items():
            setattr(self, key, int(value))

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return self.methods

    @torch.jit.export
    def get_attributes(self) -> List[str]:
        # no run-time settable attributes; the metadata lives in `nnplug_metadata`
        return []

    @torch.jit.export
    def reset(self):
        if hasattr(self, "forward_stream"):
            self.forward_stream.reset()
        if hasattr(self, "encode_stream"):
            self.encode_stream.reset()
        if hasattr(self, "decode_stream"):
            self.decode_stream.reset()


def _forward(self, x: torch.Tensor) -> torch.Tensor:
    return self.forward_stream(x)


def _encode(self, x: torch.Tensor) -> torch.Tensor:
    return self.encode_stream(x)


def _decode(self, x: torch.Tensor) -> torch.Tensor:
    return self.decode_stream(x)


_BODIES = {"forward": _forward, "encode": _encode, "decode": _decode}


def _wrapper_class(methods: Sequence[str]) -> type:
    attrs = {name: (_BODIES[name] if name == "forward" else torch.jit.export(_BODIES[name])) for name in methods}
    return type("NNPlugModel", (_Exported,), attrs)


# -- helpers ---------------------------------------------------------------------------------
def weights_sha256(module: nn.Module) -> str:
    """sha256 over every parameter and persistent buffer (name order): name, dtype, shape,
    then the raw bytes. `nnplug inspect` recomputes it from a loaded file."""
    h = hashlib.sha256()
    for name, t in sorted(module.state_dict().items()):
        t = t.detach().cpu().contiguous()
        h.update(name.encode())
        h.update(str(t.dtype).encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes())
    return h.hexdigest()


def share_identical_weights(modules: Iterable[nn.Module]) -> int:
    """Each method is converted on its own, so forward, encode and decode each hold a copy of
    the same weights. Point every parameter at the first one with the same dtype, shape and
    bytes: TorchScript saves a shared tensor once and keeps it shared on load, so the file and
    every plugin instance hold each weight once (a RAVE v2-sized model: 148 MB instead of 296).
    Parameters only: they are never written while streaming. Returns the bytes saved."""
    first: Dict[tuple, nn.Parameter] = {}
    saved = 0
    for module in modules:
        for sub in module.modules():
            for name, p in list(sub._parameters.items()):
                if p is None:
                    continue
                data = p.detach().cpu().contiguous()
                raw = data.view(torch.int16) if data.dtype == torch.bfloat16 else data
                key = (p.dtype, tuple(p.shape), hashlib.sha256(raw.numpy().tobytes()).hexdigest())
                kept = first.setdefault(key, p)
                if kept is not p:
                    sub._parameters[name] = kept
                    saved += p.numel() * p.element_size()
    return saved


def _noise_layers(module: nn.Module) -> list:
    from nnplug.models.noise import SeededNoise
    return [m for m in module.modules() if isinstance(m, SeededNoise)]


def set_loaded_randomness(loaded: torch.jit.ScriptModule, enabled: bool) -> int:
    """Switch the seeded noise layers of a *loaded* file on or off (validation only)."""
    count = 0
    for _, m in loaded.named_modules():
        if getattr(m, "original_name", "") == "SeededNoise":
            setattr(m, "enabled", bool(enabled))
            count += 1
    return count


def _guess_in_channels(model: nn.Module, method: str, latent: Optional[int]) -> int:
    if method == "decode":
        if latent:
            return latent
        if isinstance(getattr(model, "latent_size", None), int):
            return model.latent_size
        raise ExportError("cannot tell decode's input channels: give the model an int `latent_size` "
                          "attribute, export `encode` too, or pass in_channels={'decode': N}")
    if isinstance(getattr(model, "channels", None), int):
        return model.channels
    for m in model.modules():
        if isinstance(m, nn.Conv1d):
            return m.in_channels
    raise ExportError(f"cannot tell {method}'s input channels: give the model an int `channels` attribute "
                      f"or pass in_channels={{'{method}': N}}")


def _round_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


@dataclass
class MethodInfo:
    name: str
    stream: nn.Module
    in_channels: int
    out_channels: int
    in_ratio: int
    out_ratio: int
    delay: int
    ratio: int                    # the method's input buffer must be a multiple of it
    receptive_field: tuple = field(default=(0, 0))

    @property
    def audio_ratio(self) -> int:
        """Buffer multiple in audio samples."""
        return self.ratio * self.in_ratio

    def params(self) -> List[int]:
        return [self.in_channels, self.in_ratio, self.out_channels, self.out_ratio]

    def meta(self) -> Dict:
        return {"in_channels": self.in_channels, "in_ratio": self.in_ratio, "out_channels": self.out_channels,
                "out_ratio": self.out_ratio, "delay": self.delay}


def _convert_method(model: nn.Module, name: str, in_channels: int) -> MethodInfo:
    if not callable(getattr(model, name, None)):
        raise ExportError(f"the model has no method '{name}'; export only methods it has, e.g. methods=('forward',)")
    try:
        stream = ns.convert(model, name, in_channels=in_channels)
    except ns.ConversionError as e:
        raise ExportError(f"method '{name}' cannot be streamed: {e}") from e
    probe = torch.zeros(1, in_channels, stream.ratio * 2)
    try:
        with torch.no_grad():
            out = getattr(model, name)(probe)
    except Exception as e:  # noqa: BLE001 - any failure of the user's model is reported the same way
        raise ExportError(f"method '{name}' fails on an input of shape {tuple(probe.shape)}: {e}. "
                          f"Check its input channels (pass in_channels={{'{name}': N}})") from e
    if not isinstance(out, torch.Tensor) or out.dim() != 3:
        raise ExportError(f"method '{name}' must return one tensor (batch, channels, time); got "
                          f"{type(out).__name__}{'' if not isinstance(out, torch.Tensor) else tuple(out.shape)}")
    return MethodInfo(name, stream, in_channels, int(out.shape[1]), int(stream.in_ratio), int(stream.out_ratio),
                      int(stream.delay), int(stream.ratio), tuple(stream.receptive_field))


def _check_contract(infos: Dict[str, MethodInfo]) -> None:
    """Refuse what the plugin cannot run, with the fix."""
    f = infos.get("forward")
    if f is None:
        raise ExportError("the plugin runs `forward`: include it in methods")
    if (f.in_ratio, f.out_ratio) != (1, 1):
        raise ExportError(f"forward maps audio at 1/{f.in_ratio} of the rate to 1/{f.out_ratio}; the plugin needs "
                          "audio in and audio out at the same rate (in_ratio = out_ratio = 1)")
    for side, n in (("input", f.in_channels), ("output", f.out_channels)):
        if not 1 <= n <= MAX_EXPORT_CHANNELS:
            raise ExportError(f"forward has {n} {side} channels; the plugin supports 1 to {MAX_EXPORT_CHANNELS}")
    for info in infos.values():
        if info.audio_ratio > LARGEST_BUFFER:
            raise ExportError(f"method '{info.name}' needs buffers that are multiples of {info.audio_ratio} samples; "
                              f"the plugin's largest buffer is {LARGEST_BUFFER}: reduce the model's total stride")
    e, d = infos.get("encode"), infos.get("decode")
    if e and d:
        if e.out_channels != d.in_channels or e.out_ratio != d.in_ratio:
            raise ExportError(f"encode returns {e.out_channels} channels at 1/{e.out_ratio} of the rate but decode "
                              f"takes {d.in_channels} channels at 1/{d.in_ratio}: they must match")


def _test_signal(info: MethodInfo, ratio: int, length_audio: int, batch: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    n = length_audio // info.in_ratio
    if info.in_ratio == 1:   # audio: a band-limited-ish random signal at a sane level
        return 0.5 * torch.randn(batch, info.in_channels, n, generator=g)
    return torch.randn(batch, info.in_channels, n, generator=g)


def _rounding_error(original: nn.Module, rounded: nn.Module, infos: Dict[str, MethodInfo], ratio: int) -> float:
    """RMS of (rounded - original) / RMS of original, on the first method's offline output for a
    test signal, randomness off: what rounding the weights did to the model."""
    name, info = next(iter(infos.items()))
    x = _test_signal(info, ratio, max(_compare_length(info, ratio), 16 * ratio), 1, seed=3)
    outputs = []
    for model in (original, rounded):
        model = copy.deepcopy(model).eval()
        for m in _noise_layers(model):
            m.enabled = False
        with torch.no_grad():
            outputs.append(getattr(model, name)(x))
    a, b = outputs
    return float((b - a).pow(2).mean().sqrt() / a.pow(2).mean().sqrt().clamp_min(1e-12))


def _compare_length(info: MethodInfo, ratio: int) -> int:
    """Audio samples of test signal: room for the delay and both margins, plus 8 ratios."""
    lo, hi = info.receptive_field
    span_in = math.ceil(float(hi) - float(lo)) + 2          # input samples
    delay_in = math.ceil(info.delay * info.out_ratio / info.in_ratio) + 1
    need = (2 * span_in + delay_in) * info.in_ratio + 32 * ratio
    return _round_up(need, ratio)


# -- validation of a saved file --------------------------------------------------------------
@dataclass
class ValidationReport:
    max_errors: Dict[str, float] = field(default_factory=dict)
    deterministic: bool = True
    notes: List[str] = field(default_factory=list)


def _run_stream(module, method: str, x: torch.Tensor, sizes: Sequence[int]) -> torch.Tensor:
    fn = getattr(module, method)
    module.reset()
    with torch.no_grad():
        return run_in_buffers(fn, x, sizes)


def _check_shapes(loaded, infos: Dict[str, MethodInfo], ratio: int) -> None:
    for name, info in infos.items():
        params = getattr(loaded, f"{name}_params").tolist()
        if params != info.params():
            raise ExportError(f"saved {name}_params {params} differ from the method's contract {info.params()}")
        for batch in (1, 2):
            loaded.reset()
            for k in (1, 2, 3, 8):
                b = k * ratio
                x = torch.zeros(batch, info.in_channels, b // info.in_ratio)
                try:
                    with torch.no_grad():
                        y = getattr(loaded, name)(x)
                except Exception as e:  # noqa: BLE001
                    raise ExportError(f"the saved method '{name}' fails on input {tuple(x.shape)} "
                                      f"(batch {batch}, buffer {b} samples): {str(e).strip().splitlines()[-1]}") from e
                want = (batch, info.out_channels, b // info.out_ratio)
                if tuple(y.shape) != want:
                    raise ExportError(f"the saved method '{name}' returned {tuple(y.shape)} for input {tuple(x.shape)}; "
                                      f"its params {info.params()} promise {want}. Fix the model so that a buffer of "
                                      f"B samples gives B/{info.out_ratio} output frames")
    loaded.reset()


def validate_file(path: str, offline: nn.Module, infos: Dict[str, MethodInfo], ratio: int,
                  expect_deterministic: bool, verbose: bool = True) -> ValidationReport:
    """Reload `path` and check it against the offline model. Raises ExportError."""
    report = ValidationReport()
    try:
        loaded = torch.jit.load(path)
    except Exception as e:  # noqa: BLE001
        raise ExportError(f"the saved file does not load back: {e}") from e
    if list(loaded.get_methods()) != list(infos):
        raise ExportError(f"get_methods() returns {list(loaded.get_methods())}, expected {list(infos)}")
    _check_shapes(loaded, infos, ratio)
    _log(f"shape contract ok for {', '.join(infos)} at batch 1 and 2, buffers of 1, 2, 3, 8 x {ratio} samples",
         verbose)

    # determinism: two fresh loads, the same stream
    again = torch.jit.load(path)
    for name, info in infos.items():
        x = _test_signal(info, ratio, 8 * ratio, 1, seed=1)
        a = _run_stream(loaded, name, x, [ratio // info.in_ratio])
        b = _run_stream(again, name, x, [ratio // info.in_ratio])
        if not torch.equal(a, b):
            report.deterministic = False
            if expect_deterministic:
                diff = float((a - b).abs().max())
                raise ExportError(f"method '{name}' gave different outputs (max diff {diff:.3g}) on two fresh loads "
                                  "with randomness off: remove unseeded randomness (torch.rand*, dropout in train "
                                  "mode) or use nnplug.models.SeededNoise")
    _log("deterministic: two fresh loads give bit-identical outputs" if report.deterministic
         else "NOT deterministic: outputs differ between fresh loads (randomness on)", verbose)

    # streaming == offline, shifted by the delay (randomness off on both sides)
    noisy = set_loaded_randomness(loaded, False)
    reference = copy.deepcopy(offline).eval()
    for m in _noise_layers(reference):
        m.enabled = False
    if not report.deterministic and not noisy:
        report.notes.append("streaming == offline not checked: the model has randomness nnplug cannot switch off")
        _log(report.notes[-1], verbose)
        return report
    for name, info in infos.items():
        length = _compare_length(info, ratio)
        x = _test_signal(info, ratio, length, 2, seed=2)
        step = ratio // info.in_ratio
        sizes = [step, 3 * step, 2 * step, 5 * step]
        streamed = _run_stream(loaded, name, x, sizes)
        with torch.no_grad():
            ref = getattr(reference, name)(x)
        if tuple(ref.shape) != tuple(streamed.shape):
            raise ExportError(f"method '{name}': offline output {tuple(ref.shape)} but streamed {tuple(streamed.shape)} "
                              f"for input {tuple(x.shape)}")
        rate = info.in_ratio / info.out_ratio
        left, right = interior_margins(info.receptive_field, rate)
        try:
            cmp = compare_shifted(ref, streamed, info.delay, left, right)
        except ValueError as e:
            raise ExportError(f"method '{name}': {e}") from e
        report.max_errors[name] = cmp.max_abs_error
        tol = EXACT_TOLERANCE * max(cmp.max_abs_reference, 1.0)
        _log(f"{name}: streaming == offline shifted by {info.delay} samples, max error {cmp.max_abs_error:.3g} "
             f"(peak {cmp.max_abs_reference:.3g}, {cmp.compared} samples/channel, tolerance {tol:.3g})", verbose)
        if not cmp.max_abs_error <= tol:
            raise ExportError(f"method '{name}': the streamed output differs from the offline one (shifted by "
                              f"{info.delay}) by up to {cmp.max_abs_error:.3g} (tolerance {tol:.3g}) on input "
                              f"{tuple(x.shape)}: the model has an operation that does not stream; check it with "
                              "nnplug.streaming.convert and compare")
    set_loaded_randomness(loaded, True)
    return report


# -- export ----------------------------------------------------------------------------------
def export(model: nn.Module, path: str, *, sample_rate: int, name: str, author: str = "", description: str = "",
           version: str = "", methods: Sequence[str] = ("forward", "encode", "decode"),
           noise: bool = True, seed: Optional[int] = None, in_channels: Optional[Dict[str, int]] = None,
           weights: str = "float32", verbose: bool = True) -> Dict:
    """Convert `model` to streaming (per method), script it, validate it and save it to
    `path` atomically. Returns the metadata dict.

    noise=False switches every `SeededNoise` off (a deterministic model, equal to its
    offline self); noise=True keeps it, seeded with `seed` (or the model's own seed), so
    the file is still reproducible: the same stream after reset() gives the same bits.
    Methods the model lacks are an error, except that `encode`/`decode` are silently
    skipped when absent from the default tuple.

    weights="float16" stores the wide layers' weights (convs of at least
    `nnplug.streaming.half.HALF_MIN_WEIGHTS` weights) as float16, run with fbgemm's fp16 kernel:
    about half the memory traffic, which is what such layers are bound by on short buffers. The
    file is then the model with those weights rounded to float16, and is validated against it.
    """
    if isinstance(model, torch.jit.ScriptModule):
        raise ExportError("export takes the nn.Module (offline) model, not a scripted one")
    if not isinstance(sample_rate, int) or sample_rate <= 0:
        raise ExportError(f"sample_rate must be a positive int, got {sample_rate!r}")
    if not name:
        raise ExportError("a model needs a name")
    methods = list(methods)
    if tuple(methods) == ("forward", "encode", "decode"):
        methods = [m for m in methods if m == "forward" or callable(getattr(model, m, None))]
    unknown = [m for m in methods if m not in SUPPORTED_METHODS]
    if unknown:
        raise ExportError(f"unsupported method(s) {unknown}: nnplug exports {list(SUPPORTED_METHODS)}")
    if len(set(methods)) != len(methods):
        raise ExportError(f"methods listed twice: {methods}")

    if weights not in WEIGHT_FORMATS:
        raise ExportError(f"weights must be one of {list(WEIGHT_FORMATS)}, got {weights!r}")
    # weight norm folded: old-style weight norm cannot even be deep-copied
    try:
        model = plain_copy(model).cpu().float()
    except ns.ConversionError as e:
        raise ExportError(str(e)) from e
    half_layers = 0
    unrounded = None
    if weights == "float16":
        unrounded = copy.deepcopy(model)
        half_layers = round_to_half(model)
        if not half_layers:
            raise ExportError(f"weights='float16' changes nothing here: no convolution of the model has "
                              f"{HALF_MIN_WEIGHTS} weights or more (smaller layers run faster in float32); "
                              "export with float32 weights")
    noise_layers = _noise_layers(model)
    for m in noise_layers:
        m.enabled = bool(noise)
        if seed is not None:
            m.seed = int(seed) & 0xFFFFFFFF
        m.position = 0

    in_channels = dict(in_channels or {})
    infos: Dict[str, MethodInfo] = {}
    order = sorted(methods, key=lambda m: ("forward", "encode", "decode").index(m))
    latent = None
    for m in order:
        ch = in_channels.get(m) or _guess_in_channels(model, m, latent)
        infos[m] = _convert_method(model, m, ch)
        if half_layers:
            store_half(infos[m].stream)
        if m == "encode":
            latent = infos[m].out_channels
    infos = {m: infos[m] for m in methods}
    _check_contract(infos)
    ratio = 1
    for info in infos.values():
        ratio = ratio * info.audio_ratio // math.gcd(ratio, info.audio_ratio)
    f = infos["forward"]
    latent_size = infos["encode"].out_channels if "encode" in infos else (
        infos["decode"].in_channels if "decode" in infos else int(getattr(model, "latent_size", 0) or 0))

    params = {m: info.params() for m, info in infos.items()}
    rounding_error = _rounding_error(unrounded, model, infos, ratio) if half_layers else 0.0
    attributes = {"ratio": ratio, "delay": f.delay, "latent_size": latent_size, "channels": f.in_channels}

    def build(meta: Dict) -> torch.jit.ScriptModule:
        cls = _wrapper_class(list(infos))
        streams = copy.deepcopy({m: i.stream for m, i in infos.items()})
        share_identical_weights(streams.values())
        wrapper = cls(streams, params, sample_rate, json.dumps(meta, sort_keys=True), attributes)
        try:
            scripted = torch.jit.script(wrapper)
        except Exception as e:  # noqa: BLE001
            raise ExportError(f"TorchScript cannot compile the streaming model: {e}") from e
        scripted.reset()
        return scripted

    meta = {
        "format_version": FORMAT_VERSION, "name": name, "author": author, "description": description,
        "version": version, "sample_rate": sample_rate, "ratio": ratio, "delay": f.delay,
        "methods": {m: info.meta() for m, info in infos.items()},
        "channels": f.in_channels, "latent_size": latent_size, "streaming": True, "deterministic": True,
        "noise": bool(noise and noise_layers), "torch_version": torch.__version__.split("+")[0],
        "weights": weights, "half_layers": half_layers, "half_rounding_error": rounding_error,
        "weights_sha256": "",
    }
    scripted = build(meta)
    meta["weights_sha256"] = weights_sha256(scripted)

    # Is it deterministic as built? (two fresh loads of an in-memory copy)
    buf = io.BytesIO()
    torch.jit.save(scripted, buf)
    loads = []
    for _ in range(2):
        buf.seek(0)
        loads.append(torch.jit.load(buf))
    x = 0.5 * torch.randn(1, f.in_channels, 8 * ratio, generator=torch.Generator().manual_seed(0))
    meta["deterministic"] = torch.equal(_run_stream(loads[0], "forward", x, [ratio]),
                                        _run_stream(loads[1], "forward", x, [ratio]))
    expect_det = not noise or bool(noise_layers)
    if not meta["deterministic"] and expect_det:
        raise ExportError("forward gave different outputs on two fresh loads: the model has randomness nnplug cannot "
                          "control (torch.rand*, ...). Use nnplug.models.SeededNoise, or export with noise on and "
                          "accept a non-deterministic model")
    scripted = build(meta)
    if weights_sha256(scripted) != meta["weights_sha256"]:
        raise ExportError("internal error: the weights changed between two builds")
    meta_json = json.dumps(meta, sort_keys=True)
    if half_layers:
        _log(f"float16 weights in {half_layers} wide layers: the output changes by "
             f"{meta['half_rounding_error']:.2g} (relative RMS, offline, noise off) against float32 weights; the "
             "model validated below is the one with those weights rounded", verbose)
    _log(f"{name}: methods {list(infos)}, ratio {ratio}, delay {f.delay} samples "
         f"({1000 * f.delay / sample_rate:.1f} ms at {sample_rate} Hz), latent {latent_size}, "
         f"noise {'on (seeded)' if meta['noise'] else ('off' if noise_layers else 'none')}", verbose)

    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ExportError(f"output directory {directory} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=".nnplug-export-", suffix=".ts", dir=directory)
    os.close(fd)
    try:
        torch.jit.save(scripted, tmp, _extra_files={METADATA_FILE: meta_json})
        validate_file(tmp, model, infos, ratio, expect_deterministic=meta["deterministic"], verbose=verbose)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)   # mkstemp made it private; give it a normal file's mode
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _log(f"wrote {path} ({os.path.getsize(path) / 1e6:.2f} MB)", verbose)
    return meta


# -- SPEC loading for the CLI ----------------------------------------------------------------
def load_factory(spec: str) -> nn.Module:
    """'package.module:factory' -> factory() (must return an nn.Module)."""
    import importlib
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ExportError(f"model spec {spec!r}: use package.module:factory or a YAML model config")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())   # like `python -m`: modules in the current directory import
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ExportError(f"cannot import {module_name!r}: {e}") from e
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise ExportError(f"{module_name} has no callable {attr!r}")
    model = factory()
    if not isinstance(model, nn.Module):
        raise ExportError(f"{spec} returned {type(model).__name__}, not a torch.nn.Module")
    return model


def load_config(path: str, checkpoint: Optional[str] = None) -> tuple:
    """A YAML model config -> (model with the checkpoint's weights, config dict).

    YAML: architecture (seed | rave), size and RaveConfig overrides, optional
    checkpoint (relative to the YAML file), sample_rate, name, author, description, version.
    A checkpoint is a state_dict, or a dict with a "state_dict" entry (what `nnplug train`
    writes). It is read with weights_only=True: it can hold tensors and plain data,
    never code."""
    import yaml

    from nnplug.models import build_model
    try:
        with open(path) as fh:
            config = yaml.safe_load(fh) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ExportError(f"cannot read model config {path}: {e}") from e
    if not isinstance(config, dict):
        raise ExportError(f"{path}: a model config is a mapping (architecture: ..., size: ...)")
    config = dict(config)
    export_keys = {k: config.pop(k) for k in ("sample_rate", "name", "author", "description", "version",
                                              "checkpoint", "noise", "seed_export") if k in config}
    ckpt = checkpoint or export_keys.get("checkpoint")
    state = None
    if ckpt:
        if not os.path.isabs(ckpt) and not checkpoint:
            ckpt = os.path.join(os.path.dirname(os.path.abspath(path)), ckpt)
        try:
            state = torch.load(ckpt, map_location="cpu", weights_only=True)
        except Exception as e:  # noqa: BLE001 - unpickling refused or file unreadable
            raise ExportError(f"cannot load checkpoint {ckpt} as weights only (no code may run): "
                              f"{str(e).strip().splitlines()[0]}") from e
        if isinstance(state, dict) and "state_dict" in state:   # an `nnplug train` checkpoint
            state = state["state_dict"]
    if config.get("architecture") == "rave" and "sample_rate" in export_keys:
        config.setdefault("sample_rate", export_keys["sample_rate"])
    try:
        model = build_model(config)
    except ValueError as e:
        raise ExportError(f"{path}: {e}") from e
    if state is not None:
        try:
            model.load_state_dict(state)
        except RuntimeError as e:
            raise ExportError(f"checkpoint {ckpt} does not fit the model in {path}: "
                              f"{str(e).strip().splitlines()[0]}") from e
    return model, export_keys


class _CallableModule(types.ModuleType):
    """`nnplug.export(model, path, ...)` calls `export` (the module is callable)."""

    def __call__(self, *args, **kwargs):
        return export(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
