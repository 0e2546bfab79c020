"""`export()`: convert each method to streaming, script the wrapper once, check the file and
write it atomically."""
from __future__ import annotations

import copy
import io
import json
import os
import tempfile
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn

from nnplug import streaming as ns
from nnplug.contract import AUTO_BUFFER_SIZE, METADATA_FILE
from nnplug.export.checks import compare_length, deterministic_as_built, rounding_error, test_signal, validate_file
from nnplug.export.errors import ExportError, log
from nnplug.export.methods import (SUPPORTED_METHODS, MethodInfo, check_contract, common_ratio, convert_method,
                                   guess_in_channels)
from nnplug.export.randomness import noise_layers
from nnplug.export.weights import share_identical_weights, weights_sha256
from nnplug.export.wrapper import wrapper_class
from nnplug.export.quality import precision_error
from nnplug.streaming.half import HALF_MIN_WEIGHTS, round_to_half, store_half
from nnplug.streaming.int8 import INT8_MIN_WEIGHTS, round_to_int8, store_int8
from nnplug.streaming.reparam import plain_copy

FORMAT_VERSION = 1
WEIGHT_FORMATS = ("float32", "float16", "int8")
DEFAULT_METHODS = ("forward", "encode", "decode")


def export(model: nn.Module, path: str, *, sample_rate: int, name: str, author: str = "", description: str = "",
           version: str = "", methods: Sequence[str] = DEFAULT_METHODS,
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

    weights="int8" stores the wide layers' weights (convs of at least
    `nnplug.streaming.int8.INT8_MIN_WEIGHTS` weights) as int8 with one scale per output row, run
    with fbgemm's dynamic int8 kernel, which also quantizes each call's input to 7 bits. The file
    holds no float32 copy of those weights. It is validated against the model with those weights
    rounded, within the activation quantization (`checks._quantized_tolerance`).

    For both, the metadata's `precision_error` is the file's error against the float32 model
    (relative RMS, max, multi-resolution STFT distance) streamed at the plugin's Auto buffer.
    """
    methods = _checked_arguments(model, sample_rate, name, methods, weights)
    model, unrounded, rounded_layers = _plain_model(model, weights)
    half_layers = rounded_layers if weights == "float16" else 0
    int8_layers = rounded_layers if weights == "int8" else 0
    noisy = _set_noise(model, noise, seed)
    infos = _convert_methods(model, methods, dict(in_channels or {}), weights if rounded_layers else "float32")
    check_contract(infos)
    ratio = common_ratio(infos)
    f = infos["forward"]
    latent_size = infos["encode"].out_channels if "encode" in infos else (
        infos["decode"].in_channels if "decode" in infos else int(getattr(model, "latent_size", 0) or 0))

    meta = {
        "format_version": FORMAT_VERSION, "name": name, "author": author, "description": description,
        "version": version, "sample_rate": sample_rate, "ratio": ratio, "delay": f.delay,
        "methods": {m: info.meta() for m, info in infos.items()},
        "channels": f.in_channels, "latent_size": latent_size, "streaming": True, "deterministic": True,
        "noise": bool(noise and noisy), "torch_version": torch.__version__.split("+")[0],
        "weights": weights, "half_layers": half_layers,
        "half_rounding_error": rounding_error(unrounded, model, infos, ratio) if half_layers else 0.0,
        "int8_layers": int8_layers, "int8_min_weights": INT8_MIN_WEIGHTS if int8_layers else 0,
        "precision_error": None, "weights_sha256": "",
    }
    attributes = {"ratio": ratio, "delay": f.delay, "latent_size": latent_size, "channels": f.in_channels}
    scripted = _script(infos, sample_rate, attributes)
    if rounded_layers:
        meta["precision_error"] = _precision_error(unrounded, model, scripted, infos, ratio, weights)
    # The digest and the determinism are facts about the scripted module; the metadata that
    # records them is a str attribute, set once they are known (no second scripting).
    meta["weights_sha256"] = weights_sha256(scripted)
    meta["deterministic"] = deterministic_as_built(scripted, f.in_channels, ratio)
    if not meta["deterministic"] and (not noise or bool(noisy)):
        raise ExportError("forward gave different outputs on two fresh loads: the model has randomness nnplug cannot "
                          "control (torch.rand*, ...). Use nnplug.models.SeededNoise, or export with noise on and "
                          "accept a non-deterministic model")
    meta_json = json.dumps(meta, sort_keys=True)
    scripted.nnplug_metadata = meta_json
    if half_layers:
        log(f"float16 weights in {half_layers} wide layers: the output changes by "
            f"{meta['half_rounding_error']:.2g} (relative RMS, offline, noise off) against float32 weights; the "
            "model validated below is the one with those weights rounded", verbose)
    if int8_layers:
        e = meta["precision_error"]
        log(f"int8 weights in {int8_layers} wide layers (>= {INT8_MIN_WEIGHTS} weights): streamed at N = "
            f"{e['buffer']}, the output differs from the float32 model by {e['relative_rms']:.2g} relative RMS "
            f"(max {e['max_abs']:.2g} at peak {e['peak']:.2g}, STFT distance {e['stft_distance']:.2g}; the weights "
            f"alone {e['weights_only_relative_rms']:.2g}); at N = {e['buffer_dependence']['buffers'][1]} it differs "
            f"from N = {e['buffer']} by {e['buffer_dependence']['relative_rms']:.2g}", verbose)
    log(f"{name}: methods {list(infos)}, ratio {ratio}, delay {f.delay} samples "
        f"({1000 * f.delay / sample_rate:.1f} ms at {sample_rate} Hz), latent {latent_size}, "
        f"noise {'on (seeded)' if meta['noise'] else ('off' if noisy else 'none')}", verbose)
    _write_checked(scripted, path, meta_json,
                   lambda tmp: validate_file(tmp, model, infos, ratio, expect_deterministic=meta["deterministic"],
                                             verbose=verbose, quantized=bool(int8_layers)))
    log(f"wrote {path} ({os.path.getsize(path) / 1e6:.2f} MB)", verbose)
    return meta


def _checked_arguments(model: nn.Module, sample_rate, name: str, methods: Sequence[str], weights: str) -> List[str]:
    """The methods to export, once the arguments are known to make sense."""
    if isinstance(model, torch.jit.ScriptModule):
        raise ExportError("export takes the nn.Module (offline) model, not a scripted one")
    if not isinstance(sample_rate, int) or sample_rate <= 0:
        raise ExportError(f"sample_rate must be a positive int, got {sample_rate!r}")
    if not name:
        raise ExportError("a model needs a name")
    methods = list(methods)
    if tuple(methods) == DEFAULT_METHODS:   # the default asks for encode/decode only where the model has them
        methods = [m for m in methods if m == "forward" or callable(getattr(model, m, None))]
    unknown = [m for m in methods if m not in SUPPORTED_METHODS]
    if unknown:
        raise ExportError(f"unsupported method(s) {unknown}: nnplug exports {list(SUPPORTED_METHODS)}")
    if len(set(methods)) != len(methods):
        raise ExportError(f"methods listed twice: {methods}")
    if weights not in WEIGHT_FORMATS:
        raise ExportError(f"weights must be one of {list(WEIGHT_FORMATS)}, got {weights!r}")
    return methods


def _precision_error(original: nn.Module, rounded: nn.Module, scripted: torch.jit.ScriptModule,
                     infos: Dict[str, MethodInfo], ratio: int, weights: str) -> Dict:
    """`quality.precision_error` on the first method, export's test signal (seed 3), at the
    plugin's Auto buffer; for int8 also against 4x that buffer."""
    name, info = next(iter(infos.items()))
    buffer = -(-max(AUTO_BUFFER_SIZE, ratio) // ratio) * ratio
    x = test_signal(info, ratio, max(compare_length(info, ratio), 16 * ratio, 8 * buffer), 1, seed=3)
    return precision_error(original, rounded, scripted, name, info, x, buffer,
                           compare_buffer=4 * buffer if weights == "int8" else 0)


def _plain_model(model: nn.Module, weights: str) -> tuple:
    """(plain float32 copy, possibly with wide weights rounded to float16 or int8; the copy before
    rounding, or None; the number of layers rounded)."""
    # weight norm folded: old-style weight norm cannot even be deep-copied
    try:
        model = plain_copy(model).cpu().float()
    except ns.ConversionError as e:
        raise ExportError(str(e)) from e
    if weights == "float32":
        return model, None, 0
    unrounded = copy.deepcopy(model)
    rounded, threshold = (round_to_half(model), HALF_MIN_WEIGHTS) if weights == "float16" else \
        (round_to_int8(model), INT8_MIN_WEIGHTS)
    if not rounded:
        raise ExportError(f"weights='{weights}' changes nothing here: no convolution of the model has "
                          f"{threshold} weights or more (smaller layers run faster in float32); "
                          "export with float32 weights")
    return model, unrounded, rounded


def _set_noise(model: nn.Module, noise: bool, seed: Optional[int]) -> list:
    """Switch the model's seeded noise on or off, reseed it, rewind it; returns its noise layers."""
    layers = noise_layers(model)
    for m in layers:
        m.enabled = bool(noise)
        if seed is not None:
            m.seed = int(seed) & 0xFFFFFFFF
        m.reset()
    return layers


def _convert_methods(model: nn.Module, methods: List[str], in_channels: Dict[str, int],
                     weights: str) -> Dict[str, MethodInfo]:
    """Each method converted to streaming, in the caller's order. Encode goes before decode so
    that decode's input channels can be encode's output channels."""
    infos: Dict[str, MethodInfo] = {}
    latent = None
    for m in sorted(methods, key=DEFAULT_METHODS.index):
        infos[m] = convert_method(model, m, in_channels.get(m) or guess_in_channels(model, m, latent))
        if weights == "float16":
            store_half(infos[m].stream)
        elif weights == "int8":
            store_int8(infos[m].stream)
        if m == "encode":
            latent = infos[m].out_channels
    return {m: infos[m] for m in methods}


def _script(infos: Dict[str, MethodInfo], sample_rate: int, attributes: Dict[str, int]) -> torch.jit.ScriptModule:
    streams = {m: info.stream for m, info in infos.items()}
    share_identical_weights(streams.values())
    wrapper = wrapper_class(list(infos))(streams, {m: info.params() for m, info in infos.items()}, sample_rate,
                                         "", attributes)
    try:
        scripted = torch.jit.script(wrapper)
    except Exception as e:  # noqa: BLE001
        raise ExportError(f"TorchScript cannot compile the streaming model: {e}") from e
    scripted = inline_calls(scripted)
    scripted.reset()
    return scripted


def inline_calls(scripted: torch.jit.ScriptModule) -> torch.jit.ScriptModule:
    """A copy of `scripted` in which, in every module without submodules (each cached layer, delay
    line, noise source), the calls its methods make to its own helper methods and to functions
    are inlined. The plugin runs TorchScript with the graph optimizer off (`nnplug.runtime`), so
    nothing inlines them at run time: each would cost the interpreter a frame, two or three per
    layer and call. The same ops run in the same order: the output is the same bits.
    The calls from the model's graph to its layers stay calls: inlined too, one method holds the
    whole model, and loading the file then compiles it for seconds instead of a fraction of one.
    The copy (saved and loaded again) has its own compiled classes: inlining in place would
    change the classes this process compiled for every module scripted from them later."""
    buffer = io.BytesIO()
    torch.jit.save(scripted, buffer)
    buffer.seek(0)
    copy = torch.jit.load(buffer)
    for module in copy.modules():
        if next(module.children(), None) is None:
            for name in module._c._method_names():
                torch._C._jit_pass_inline(module._c._get_method(name).graph)
    return copy


def _write_checked(scripted: torch.jit.ScriptModule, path: str, meta_json: str, check) -> None:
    """Save to a temporary file next to `path`, run `check(tmp)` on it, and only then move it
    into place: `path` never holds a file that failed a check."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ExportError(f"output directory {directory} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=".nnplug-export-", suffix=".ts", dir=directory)
    os.close(fd)
    try:
        torch.jit.save(scripted, tmp, _extra_files={METADATA_FILE: meta_json})
        check(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)   # mkstemp made it private; give it a normal file's mode
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
