"""Describe any model file the plugin plays: nnplug exports, RAVE v2 and v1 exports, nn~ files,
Neutone SDK files.

    info = inspect_file("model.ts")     # ModelInfo; raises InspectError with a clear message
    print(format_info(info))

What the plugin reads comes from the contract (`nnplug.contract`); what is not in the file is
measured the way the plugin measures it (`nnplug.player`: from the restored state at a fixed
seed, so every run gives the same answer): the delay of each playable path, whether state
carries across calls where the file does not show it, determinism (two streams from the same
state, and two at the same seed).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

import torch

from nnplug import contract
from nnplug.contract import MAX_ABS_OUTPUT, MAX_REALTIME_FACTOR
from nnplug.errors import NnplugError

REQUIRED_META = ("format_version", "name", "sample_rate", "ratio", "delay", "methods")
METADATA_FILE = contract.METADATA_FILE


class InspectError(NnplugError, ValueError):
    """The file cannot be read as an nn~-convention model; the message says why and what to do."""


@dataclass
class ModelInfo:
    path: str
    kind: str                                  # "nnplug", "rave-v2", "rave-v1", "nn~" or "neutone"
    methods: Dict[str, Dict[str, int]]         # name -> in_channels, in_ratio, out_channels, out_ratio
    sample_rate: Optional[int]                 # None: the file states none (Neutone: plays at any rate)
    ratio: int                                 # audio buffers must be multiples of it
    delay: Optional[int]                       # the played path's output delay, in samples
    delay_source: str                          # "metadata", "measured", "asked of the model" or "unknown"
    latent_size: Optional[int]
    channels: int
    streaming: Optional[bool]                  # None: not known (not measured)
    deterministic: Optional[bool]
    played: str = "forward"                    # the path Auto plays
    streaming_evidence: str = ""
    repeatable_at_seed: Optional[bool] = None  # a stochastic model: the same output at the same seed
    delays: Dict[str, Dict[str, Any]] = field(default_factory=dict)   # path -> {"delay", "source"}
    controls: List[Dict[str, Any]] = field(default_factory=list)      # the "Model control k" parameters
    attributes: Dict[str, Any] = field(default_factory=dict)   # sr, latent_size, stereo_mode, ... as found
    metadata: Optional[Dict[str, Any]] = None                  # nnplug.json, or Neutone's metadata
    weights_ok: Optional[bool] = None                          # nnplug: sha256 of the weights matches
    refusals: List[str] = field(default_factory=list)          # why the plugin refuses it (nnplug.contract)
    warnings: List[str] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


def _attr(module, name: str):
    try:
        return getattr(module, name)
    except (AttributeError, RuntimeError):
        return None


def _load(path: str):
    try:
        return contract.load(path)
    except contract.ContractError as e:
        raise InspectError(str(e)) from e


def _params(module, name: str, path: str) -> Dict[str, int]:
    if _attr(module, f"{name}_params") is not None and not callable(_attr(module, name)):
        raise InspectError(f"{path}: '{name}_params' is present but the module has no method '{name}'")
    try:
        v = contract.read_params(module, name)       # the plugin's rules, for any listed method
    except contract.ContractError as e:
        raise InspectError(f"{path}: {e}") from e
    if v is None:
        raise InspectError(f"{path}: method '{name}' has no '{name}_params' buffer; the nn~ convention needs "
                           f"{name}_params = [in_channels, in_ratio, out_channels, out_ratio]")
    return dict(zip(("in_channels", "in_ratio", "out_channels", "out_ratio"), v))


def _method_names(module, path: str) -> List[str]:
    getter = _attr(module, "get_methods")
    if callable(getter):
        try:
            names = list(getter())
        except Exception as e:  # noqa: BLE001
            raise InspectError(f"{path}: get_methods() fails: {e}") from e
    else:
        names = sorted(n[: -len("_params")] for n, _ in module.named_buffers(recurse=False) if n.endswith("_params"))
    if "forward" not in names:
        if _attr(module, "forward_params") is None:
            raise InspectError(f"{path}: no 'forward_params' buffer: this is not an nn~-convention model. Export it "
                               "with `nnplug export`, or register forward_params = [in_ch, in_ratio, out_ch, "
                               "out_ratio]")
        names.insert(0, "forward")
    return [n for n in names]


# The plugin's own limits are the contract's (nnplug.contract, mirroring plugin/src/ModelInfo.h).
TRIAL_CALLS = 4              # TorchScript runs the first two calls unoptimized (slow); the plugin allows 4
CHECK_BUFFERS = 16


def check_runs(path: str, info: "ModelInfo", buffers: int = CHECK_BUFFERS, player=None) -> None:
    """Run the played path on `buffers` buffers of noise, as the plugin would (one thread,
    buffers of the plugin's Auto size), and raise InspectError when a call raises, returns a
    wrong shape or dtype, NaN/Inf or values beyond MAX_ABS_OUTPUT, or when the first
    TRIAL_CALLS calls all take more than MAX_REALTIME_FACTOR times the buffer's duration."""
    import time

    from nnplug.runtime import plugin_execution
    player = player or _player(path)
    facts = player.facts
    n = contract.buffer_size("Auto", facts.ratio)
    rate = float(info.sample_rate or 44100)
    player.prepare(rate, n)
    budget = n / rate
    g = torch.Generator().manual_seed(0)
    slow: List[float] = []
    with plugin_execution():
        player.reset()
        for i in range(buffers):
            x = 0.1 * torch.randn(1, facts.in_channels, n, generator=g)
            t0 = time.perf_counter()
            try:
                y = player.call(x)
            except Exception as e:  # noqa: BLE001 - the model's own exception, reported
                lines = [line for line in str(e).strip().splitlines() if line.strip()]
                raise InspectError(f"{path}: {facts.played} raised on buffer {i + 1}: "
                                   f"{lines[-1].strip() if lines else type(e).__name__}") from e
            elapsed = time.perf_counter() - t0
            if i < TRIAL_CALLS and (not slow or min(slow) > MAX_REALTIME_FACTOR * budget):
                slow.append(elapsed)
                if len(slow) == TRIAL_CALLS and min(slow) > MAX_REALTIME_FACTOR * budget:
                    raise InspectError(f"{path}: too slow for real time: a buffer of {n} samples "
                                       f"({1000 * budget:.1f} ms) took {1000 * min(slow):.0f} ms at best "
                                       f"({min(slow) / budget:.0f}x real time; the limit is {MAX_REALTIME_FACTOR:g}x)")
            if not isinstance(y, torch.Tensor):
                raise InspectError(f"{path}: {facts.played} did not return a tensor (got {type(y).__name__})")
            want = (1, facts.out_channels, n)
            if y.dtype != torch.float32 or tuple(y.shape) != want:
                raise InspectError(f"{path}: {facts.played} returned shape {tuple(y.shape)} {y.dtype}, expected "
                                   f"{want} torch.float32 (the nn~ contract of its _params)")
            if not bool(torch.isfinite(y).all()):
                raise InspectError(f"{path}: {facts.played} output contains NaN or Inf (buffer {i + 1})")
            peak = float(y.abs().max()) if y.numel() else 0.0
            if peak > MAX_ABS_OUTPUT:
                raise InspectError(f"{path}: {facts.played} output exceeds +-{MAX_ABS_OUTPUT:g} ({peak:.3g}, buffer "
                                   f"{i + 1}): the plugin would refuse it")


def _player(path: str):
    """A player of the file as described: what the plugin refuses only for not streaming is
    still described (and measured)."""
    from nnplug.player import ModelPlayer
    try:
        module, text = contract.load(path)
        return ModelPlayer(path, contract.read_module(module, text, path, strict=False))
    except contract.ContractError as e:
        raise InspectError(f"{path}: {e}") from e


def _attributes(module) -> Dict[str, Any]:
    found: Dict[str, Any] = {}
    for key in ("sr", "sampling_rate", "latent_size", "full_latent_size", "n_channels", "stereo_mode",
                "ratio", "delay", "channels"):
        v = _attr(module, key)
        if isinstance(v, (int, float, bool, str)):
            found[key] = v
    rave = _attr(module, "_rave")
    if rave is not None:
        for key in ("sr", "sampling_rate", "latent_size"):
            v = _attr(rave, key)
            if isinstance(v, (int, float)) and key not in found:
                found[f"_rave.{key}"] = v
    return found


def _nnplug_metadata(module, meta_text: str, methods: Dict[str, Dict[str, int]], path: str) -> Optional[Dict[str, Any]]:
    meta_str = meta_text or _attr(module, "nnplug_metadata")
    if not meta_str:
        return None
    try:
        metadata = json.loads(meta_str)
    except (TypeError, ValueError) as e:
        raise InspectError(f"{path}: its nnplug metadata ({METADATA_FILE}) is not valid JSON: {e}. "
                           "Re-export the model with `nnplug export`") from e
    missing = [k for k in REQUIRED_META if k not in metadata]
    if missing:
        raise InspectError(f"{path}: its nnplug metadata lacks {missing}; re-export the model with `nnplug export`")
    for n, p in methods.items():
        m = metadata["methods"].get(n)
        if m is None or any(int(m.get(k, -1)) != p[k] for k in p):
            raise InspectError(f"{path}: metadata for method '{n}' ({m}) disagrees with {n}_params "
                               f"{list(p.values())}; the file was altered after export: re-export it")
    return metadata


def _path_delays(path: str, facts: contract.Contract, measure: bool) -> Dict[str, Dict[str, Any]]:
    """The delay of each path the file can play (forward, encode -> decode): stated, or measured
    as the plugin measures it (remembered by the file's sha256)."""
    from nnplug.player import ModelPlayer, file_delay
    if facts.format == "neutone":
        player = ModelPlayer(path, facts)
        rate, n = player.native_rate(), player.measure_buffer()
        player.prepare(rate, n)
        return {"forward": {"delay": player.delay(), "source": f"asked of the model at {rate:g} Hz, buffer {n}"}}
    out: Dict[str, Dict[str, Any]] = {}
    for choice in ("forward", "encode -> decode"):
        try:
            chosen = contract.with_method(facts, choice)
        except contract.ContractError:
            continue
        if chosen.delay_known:
            out[choice] = {"delay": chosen.delay, "source": "metadata"}
        elif measure:
            out[choice] = {"delay": file_delay(path, chosen)["delay"], "source": "measured"}
        else:
            out[choice] = {"delay": None, "source": "unknown"}
    return out


def inspect_file(path: str, measure: bool = True) -> ModelInfo:
    """Describe the model in `path` (raises InspectError)."""
    from nnplug.player import MEASURE_SEED
    module, meta_text = _load(path)
    neutone = contract.is_neutone(module)
    methods = {} if neutone else {n: _params(module, n, path) for n in _method_names(module, path)}
    metadata = None if neutone else _nnplug_metadata(module, meta_text, methods, path)
    warnings: List[str] = []

    # what the plugin reads (format, played path, ratio, sample rate, latent size): the contract
    try:
        facts = contract.read_module(module, meta_text or "", path, strict=False)
    except contract.ContractError as e:
        raise InspectError(f"{path}: the plugin refuses this file: {e}") from e
    refused = facts.refusals   # not streaming is no refusal: a warning below
    if refused:
        raise InspectError(f"{path}: the plugin refuses this file: {refused[0]}")
    sample_rate = int(facts.sample_rate) if facts.sample_rate is not None else None
    if sample_rate is None and not facts.resamples_itself:
        warnings.append("no sample rate in the file (no sr / sampling_rate attribute): the plugin will have to assume one")
    latent = facts.latent_size or (methods["encode"]["out_channels"] if "encode" in methods else None)

    player = None
    if measure:
        from nnplug.player import ModelPlayer
        player = ModelPlayer(path, facts)       # one load for every measurement below
    streaming, evidence = facts.streaming, facts.streaming_evidence
    if streaming is None and player is not None:
        streaming = player.carries_state()
        evidence = "measured: one call of 2N against two calls of N from the same state"
    if streaming is False:
        warnings.append("not a streaming model (" + (evidence or "no cached state") + "): each buffer is processed "
                        "on its own, so the output will click at buffer edges in the plugin. Convert it with "
                        "nnplug.streaming.convert, or re-export it with streaming on")

    deterministic, repeatable = (bool(metadata.get("deterministic")) if metadata else None), None
    if measure:
        check_runs(path, ModelInfo(path=path, kind=facts.format, methods=methods, sample_rate=sample_rate,
                                   ratio=facts.ratio, delay=None, delay_source="unknown", latent_size=None,
                                   channels=facts.in_channels, streaming=streaming, deterministic=None),
                   player=player)
        probe = 0.1 * torch.randn(1, facts.in_channels, 4 * contract.buffer_size("Auto", facts.ratio),
                                  generator=torch.Generator().manual_seed(0))
        n = contract.buffer_size("Auto", facts.ratio)
        measured = torch.equal(player.stream(probe, n), player.stream(probe, n))
        if metadata and bool(metadata.get("deterministic")) != measured:
            warnings.append(f"metadata says deterministic={metadata.get('deterministic')} but two streams from the "
                            f"same state {'agree' if measured else 'disagree'}")
        deterministic = measured
        if not measured:
            repeatable = torch.equal(player.stream(probe, n, MEASURE_SEED), player.stream(probe, n, MEASURE_SEED))
    if deterministic is False:
        warnings.append("not deterministic: it draws random numbers (stochastic encode/decode or noise); "
                        + ("renders repeat at a seed (`nnplug render --seed`)" if repeatable else
                           "renders will not be bit-reproducible"))

    delays = _path_delays(path, facts, measure)
    played = delays.get(facts.played, {"delay": None, "source": "unknown"})
    if measure and played["delay"] is None and played["source"] == "measured":
        warnings.append(f"could not measure the delay: {facts.played} does not respond to an impulse "
                        "(the plugin then reports its buffering alone)")

    weights_ok = None
    if metadata and metadata.get("weights_sha256"):
        from nnplug.export import weights_sha256
        weights_ok = weights_sha256(module) == metadata["weights_sha256"]
        if not weights_ok:
            warnings.append("the weights' sha256 differs from the one recorded at export: the file was altered")

    return ModelInfo(path=path, kind=facts.format, methods=methods, sample_rate=sample_rate, ratio=facts.ratio,
                     delay=played["delay"], delay_source=played["source"], latent_size=latent,
                     channels=facts.in_channels, streaming=streaming, deterministic=deterministic,
                     played=facts.played, streaming_evidence=evidence, repeatable_at_seed=repeatable, delays=delays,
                     controls=[asdict(c) for c in facts.controls], attributes={} if neutone else _attributes(module),
                     metadata=metadata if not neutone else facts.metadata, weights_ok=weights_ok,
                     warnings=warnings, refusals=list(facts.refusals))


def format_info(info: ModelInfo) -> str:
    kinds = {"nnplug": "nnplug export", "rave-v2": "RAVE v2 export", "rave-v1": "RAVE v1 export",
             "nn~": "nn~-convention model", "neutone": "Neutone SDK model"}
    lines = [f"{info.path}: {kinds.get(info.kind, info.kind)}"]
    if info.kind == "neutone" and info.metadata:
        m = info.metadata
        authors = ", ".join(m.get("model_authors") or [])
        lines.append(f"  name         {m.get('model_name')} v{m.get('model_version')}" + (f" by {authors}" if authors else ""))
        if m.get("model_short_description"):
            lines.append(f"  description  {m['model_short_description']}")
    elif info.metadata:
        m = info.metadata
        lines.append(f"  name         {m.get('name')}" + (f" v{m['version']}" if m.get("version") else "")
                     + (f" by {m['author']}" if m.get("author") else ""))
        if m.get("description"):
            lines.append(f"  description  {m['description']}")
    sr = f"{info.sample_rate} Hz" if info.sample_rate else \
        ("any (the model resamples itself)" if info.kind == "neutone" else "unknown")
    lines.append(f"  sample rate  {sr}")
    lines.append(f"  plays        {info.played}")
    lines.append(f"  ratio        {info.ratio} (audio buffers must be multiples of it)")
    if info.delay is not None:
        ms = f" ({1000 * info.delay / info.sample_rate:.1f} ms)" if info.sample_rate else ""
        lines.append(f"  delay        {info.delay} samples{ms}, {info.delay_source}")
    else:
        lines.append("  delay        unknown")
    lines.append(f"  channels     {info.channels}")
    lines.append(f"  latent size  {info.latent_size if info.latent_size is not None else '-'}")
    streaming = {True: "yes", False: "NO", None: "not known"}[info.streaming]
    lines.append(f"  streaming    {streaming}" + (f" ({info.streaming_evidence})" if info.streaming_evidence else ""))
    det = {True: "yes", False: "no", None: "not checked"}[info.deterministic]
    if info.deterministic is False and info.repeatable_at_seed is not None:
        det += ", repeatable at a seed" if info.repeatable_at_seed else ", not even at a seed"
    lines.append(f"  deterministic {det}")
    if len(info.delays) > 1:
        for path_name, d in info.delays.items():
            value = "unknown" if d["delay"] is None else f"{d['delay']} samples"
            lines.append(f"  delay of {path_name:<16} {value}, {d['source']}")
    for i, c in enumerate(info.controls):
        lines.append(f"  control {i + 1}    {c['name']} ({c['kind']}, {c['type']} {c['lo']:g}..{c['hi']:g}, "
                     f"default {c['default']:g})")
    if info.weights_ok is not None:
        lines.append(f"  weights      sha256 {'ok' if info.weights_ok else 'MISMATCH'}")
    meta = info.metadata or {}
    if meta.get("weights") == "float16":
        lines.append(f"  precision    float16 weights in {meta.get('half_layers')} wide layers (output changed by "
                     f"{meta.get('half_rounding_error', 0):.2g} relative RMS against float32)")
    if meta.get("weights") == "int8":
        lines.append(f"  precision    int8 weights in {meta.get('int8_layers')} wide layers (>= "
                     f"{meta.get('int8_min_weights')} weights), activations quantized per call")
    error = meta.get("precision_error")
    if error:
        line = (f"  vs float32   {error.get('method', 'forward')} at N = {error['buffer']}: "
                f"{error['relative_rms']:.2g} relative RMS, max {error['max_abs']:.2g} (peak {error['peak']:.2g}), STFT distance {error['stft_distance']:.2g}")
        if error.get("buffer_dependence"):
            b = error["buffer_dependence"]
            line += f"; N = {b['buffers'][1]} differs from N = {b['buffers'][0]} by {b['relative_rms']:.2g}"
        lines.append(line)
    delays = {n: m.get("delay") for n, m in (info.metadata or {}).get("methods", {}).items()} \
        if info.kind != "neutone" else {}
    if info.methods:
        lines.append("  methods      name      in_ch in_ratio out_ch out_ratio" + ("  delay" if delays else ""))
    for name, p in info.methods.items():
        d = f" {delays.get(name, '-'):>6}" if delays else ""
        lines.append(f"               {name:<9} {p['in_channels']:>5} {p['in_ratio']:>8} {p['out_channels']:>6} "
                     f"{p['out_ratio']:>9}{d}")
    shown = {k: v for k, v in info.attributes.items() if k not in ("ratio", "delay", "channels")}
    if shown:
        lines.append("  attributes   " + ", ".join(f"{k}={v}" for k, v in shown.items()))
    for w in info.warnings:
        lines.append(f"  warning: {w}")
    return "\n".join(lines)
