"""`export()`: convert each method to streaming, script the wrapper once, check the file and
write it atomically."""
from __future__ import annotations

import copy
import json
import os
import tempfile
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn

from nnplug import streaming as ns
from nnplug.contract import METADATA_FILE
from nnplug.export.checks import deterministic_as_built, rounding_error, validate_file
from nnplug.export.errors import ExportError, log
from nnplug.export.methods import (SUPPORTED_METHODS, MethodInfo, check_contract, common_ratio, convert_method,
                                   guess_in_channels)
from nnplug.export.randomness import noise_layers
from nnplug.export.weights import share_identical_weights, weights_sha256
from nnplug.export.wrapper import wrapper_class
from nnplug.streaming.half import HALF_MIN_WEIGHTS, round_to_half, store_half
from nnplug.streaming.reparam import plain_copy

FORMAT_VERSION = 1
WEIGHT_FORMATS = ("float32", "float16")
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
    """
    methods = _checked_arguments(model, sample_rate, name, methods, weights)
    model, unrounded, half_layers = _plain_model(model, weights)
    noisy = _set_noise(model, noise, seed)
    infos = _convert_methods(model, methods, dict(in_channels or {}), store_in_half=bool(half_layers))
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
        "weights_sha256": "",
    }
    attributes = {"ratio": ratio, "delay": f.delay, "latent_size": latent_size, "channels": f.in_channels}
    scripted = _script(infos, sample_rate, attributes)
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
    log(f"{name}: methods {list(infos)}, ratio {ratio}, delay {f.delay} samples "
        f"({1000 * f.delay / sample_rate:.1f} ms at {sample_rate} Hz), latent {latent_size}, "
        f"noise {'on (seeded)' if meta['noise'] else ('off' if noisy else 'none')}", verbose)
    _write_checked(scripted, path, meta_json,
                   lambda tmp: validate_file(tmp, model, infos, ratio, expect_deterministic=meta["deterministic"],
                                             verbose=verbose))
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


def _plain_model(model: nn.Module, weights: str) -> tuple:
    """(plain float32 copy, possibly with wide weights rounded to float16; the copy before
    rounding, or None; the number of layers rounded)."""
    # weight norm folded: old-style weight norm cannot even be deep-copied
    try:
        model = plain_copy(model).cpu().float()
    except ns.ConversionError as e:
        raise ExportError(str(e)) from e
    if weights != "float16":
        return model, None, 0
    unrounded = copy.deepcopy(model)
    half_layers = round_to_half(model)
    if not half_layers:
        raise ExportError(f"weights='float16' changes nothing here: no convolution of the model has "
                          f"{HALF_MIN_WEIGHTS} weights or more (smaller layers run faster in float32); "
                          "export with float32 weights")
    return model, unrounded, half_layers


def _set_noise(model: nn.Module, noise: bool, seed: Optional[int]) -> list:
    """Switch the model's seeded noise on or off, reseed it, rewind it; returns its noise layers."""
    layers = noise_layers(model)
    for m in layers:
        m.enabled = bool(noise)
        if seed is not None:
            m.seed = int(seed) & 0xFFFFFFFF
        m.position = 0
    return layers


def _convert_methods(model: nn.Module, methods: List[str], in_channels: Dict[str, int],
                     store_in_half: bool) -> Dict[str, MethodInfo]:
    """Each method converted to streaming, in the caller's order. Encode goes before decode so
    that decode's input channels can be encode's output channels."""
    infos: Dict[str, MethodInfo] = {}
    latent = None
    for m in sorted(methods, key=DEFAULT_METHODS.index):
        infos[m] = convert_method(model, m, in_channels.get(m) or guess_in_channels(model, m, latent))
        if store_in_half:
            store_half(infos[m].stream)
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
    scripted.reset()
    return scripted


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
