"""Read any nn~-convention TorchScript file: nnplug exports, RAVE v2 and v1 exports, or any
model with `forward_params`.

    info = inspect_file("model.ts")     # ModelInfo; raises InspectError with a clear message
    print(format_info(info))

What is not in a file's metadata is measured: the delay with an impulse through forward,
streaming (cached state present), determinism (two fresh loads, same input, same bits).
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
    kind: str                                  # "nnplug", "rave-v2", "rave-v1" or "nn~"
    methods: Dict[str, Dict[str, int]]         # name -> in_channels, in_ratio, out_channels, out_ratio
    sample_rate: Optional[int]
    ratio: int                                 # audio buffers must be multiples of it
    delay: Optional[int]                       # forward's output delay, in samples
    delay_source: str                          # "metadata", "measured", "measured (approximate...)", "unknown"
    latent_size: Optional[int]
    channels: int
    streaming: bool
    deterministic: Optional[bool]
    attributes: Dict[str, Any] = field(default_factory=dict)   # sr, latent_size, stereo_mode, ... as found
    metadata: Optional[Dict[str, Any]] = None                  # nnplug.json, when present
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


def _is_streaming(module) -> bool:
    """Cached state present: nnplug's Cached*/Delay layers, cached_conv's CachedPadding1d
    (RAVE), or any `cache` buffer."""
    for name, sub in module.named_modules():
        original = getattr(sub, "original_name", type(sub).__name__)
        if original.startswith("Cached") or original in ("Delay", "CachedPadding1d", "CachedSequential"):
            return True
        for bname, _ in sub.named_buffers(recurse=False):
            if "cache" in bname.lower():
                return True
    return False


def _reset(module) -> None:
    reset = _attr(module, "reset")
    if callable(reset):
        reset()


def _measure_delay(path: str, params: Dict[str, int], ratio: int) -> Optional[int]:
    """Feed an impulse through a fresh forward and subtract its response to silence; the
    delay is where the difference peaks, minus where the impulse was."""
    if params["in_ratio"] != 1 or params["out_ratio"] != 1:
        return None
    block = ratio
    while block < 512:
        block *= 2
    total = block * max(8, -(-16384 // block))
    start = block
    outs = []
    for impulse in (False, True):
        module, _ = _load(path)
        x = torch.zeros(1, params["in_channels"], total)
        if impulse:
            x[:, :, start] = 1.0
        with torch.no_grad():
            y = torch.cat([module.forward(x[..., i:i + block]) for i in range(0, total, block)], -1)
        outs.append(y)
    diff = (outs[1] - outs[0]).abs().sum(1)[0]
    if float(diff.max()) == 0.0:
        return None
    return int(torch.argmax(diff)) - start


def _check_deterministic(path: str, params: Dict[str, int], ratio: int) -> bool:
    g = torch.Generator().manual_seed(0)
    x = 0.1 * torch.randn(1, params["in_channels"], 4 * ratio // params["in_ratio"], generator=g)
    ys = []
    for _ in range(2):
        module, _ = _load(path)
        with torch.no_grad():
            ys.append(module.forward(x))
    return torch.equal(ys[0], ys[1])


# The plugin's own limits are the contract's (nnplug.contract, mirroring plugin/src/ModelHost.h).
TRIAL_CALLS = 4              # TorchScript runs the first two calls unoptimized (slow); the plugin allows 4
CHECK_BUFFERS = 16


def check_runs(path: str, info: "ModelInfo", buffers: int = CHECK_BUFFERS) -> None:
    """Run forward on `buffers` buffers of noise, as the plugin would (fresh load, one thread,
    buffers of the plugin's Auto size), and raise InspectError when a call raises, returns a
    non-tensor, a wrong shape or dtype, NaN/Inf or values beyond MAX_ABS_OUTPUT, or when the
    first TRIAL_CALLS calls all take more than MAX_REALTIME_FACTOR times the buffer's duration."""
    import time
    p = info.methods["forward"]
    n = contract.buffer_size("Auto", info.ratio)
    budget = n / float(info.sample_rate or 44100)
    module, _ = _load(path)
    g = torch.Generator().manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        slow = []
        for i in range(buffers):
            x = 0.1 * torch.randn(1, p["in_channels"], n // p["in_ratio"], generator=g)
            t0 = time.perf_counter()
            try:
                with torch.inference_mode():
                    y = module.forward(x)
            except Exception as e:  # noqa: BLE001 - the model's own exception, reported
                first = str(e).strip().splitlines()
                msg = next((l for l in reversed(first) if l.strip()), type(e).__name__)
                raise InspectError(f"{path}: forward raised on buffer {i + 1}: {msg.strip()}") from e
            elapsed = time.perf_counter() - t0
            if i < TRIAL_CALLS and (not slow or min(slow) > MAX_REALTIME_FACTOR * budget):
                slow.append(elapsed)
                if len(slow) == TRIAL_CALLS and min(slow) > MAX_REALTIME_FACTOR * budget:
                    raise InspectError(f"{path}: too slow for real time: a buffer of {n} samples "
                                       f"({1000 * budget:.1f} ms) took {1000 * min(slow):.0f} ms at best "
                                       f"({min(slow) / budget:.0f}x real time; the limit is {MAX_REALTIME_FACTOR:g}x)")
            if not isinstance(y, torch.Tensor):
                raise InspectError(f"{path}: forward did not return a tensor (got {type(y).__name__})")
            want = (1, p["out_channels"], n // p["out_ratio"])
            if y.dtype != torch.float32 or tuple(y.shape) != want:
                raise InspectError(f"{path}: forward returned shape {tuple(y.shape)} {y.dtype}, expected {want} "
                                   "torch.float32 (the nn~ contract of forward_params)")
            if not bool(torch.isfinite(y).all()):
                raise InspectError(f"{path}: forward output contains NaN or Inf (buffer {i + 1})")
            peak = float(y.abs().max()) if y.numel() else 0.0
            if peak > MAX_ABS_OUTPUT:
                raise InspectError(f"{path}: forward output exceeds +-{MAX_ABS_OUTPUT:g} ({peak:.3g}, buffer {i + 1}): "
                                   "the plugin would refuse it")
    finally:
        torch.set_num_threads(threads)


def inspect_file(path: str, measure: bool = True) -> ModelInfo:
    """Describe the nn~-convention model in `path` (raises InspectError)."""
    module, meta_text = _load(path)
    names = _method_names(module, path)
    methods = {n: _params(module, n, path) for n in names}
    fwd = methods["forward"]
    warnings: List[str] = []

    attributes: Dict[str, Any] = {}
    for key in ("sr", "sampling_rate", "latent_size", "full_latent_size", "n_channels", "stereo_mode",
                "ratio", "delay", "channels"):
        v = _attr(module, key)
        if isinstance(v, (int, float, bool, str)):
            attributes[key] = v
    rave = _attr(module, "_rave")
    if rave is not None:
        for key in ("sr", "sampling_rate", "latent_size"):
            v = _attr(rave, key)
            if isinstance(v, (int, float)) and key not in attributes:
                attributes[f"_rave.{key}"] = v

    metadata = None
    meta_str = meta_text or _attr(module, "nnplug_metadata")
    if meta_str:
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

    # what the plugin reads (format, played path, ratio, sample rate, latent size): the contract
    try:
        facts = contract.read_module(module, meta_text or "", path, strict=False)
    except contract.ContractError as e:
        raise InspectError(f"{path}: the plugin refuses this file: {e}") from e
    refused = [r for r in facts.refusals if r != contract.NOT_STREAMING]   # not streaming: a warning below
    if refused:
        raise InspectError(f"{path}: the plugin refuses this file: {refused[0]}")
    kind = facts.format
    ratio = facts.ratio
    sample_rate = int(facts.sample_rate) if facts.sample_rate is not None else None
    if sample_rate is None:
        warnings.append("no sample rate in the file (no sr / sampling_rate attribute): the plugin will have to assume one")
    latent = facts.latent_size or (methods["encode"]["out_channels"] if "encode" in methods else None)

    streaming = bool(metadata.get("streaming")) if metadata else _is_streaming(module)
    if not streaming:
        warnings.append("not a streaming model (no cached state): each buffer is processed on its own, so the "
                        "output will click at buffer edges in the plugin. Convert it with nnplug.streaming.convert")

    deterministic = None
    if measure:
        check_runs(path, ModelInfo(path=path, kind=kind, methods=methods, sample_rate=sample_rate, ratio=ratio,
                                   delay=None, delay_source="unknown", latent_size=None, channels=fwd["in_channels"],
                                   streaming=streaming, deterministic=None))
        deterministic = _check_deterministic(path, fwd, ratio)
        if metadata and bool(metadata.get("deterministic")) != deterministic:
            warnings.append(f"metadata says deterministic={metadata.get('deterministic')} but two fresh loads "
                            f"{'agree' if deterministic else 'disagree'}")
    elif metadata:
        deterministic = bool(metadata.get("deterministic"))
    delay, delay_source = None, "unknown"
    if metadata:
        delay, delay_source = int(metadata["delay"]), "metadata"
    elif measure:
        delay = _measure_delay(path, fwd, ratio)
        if delay is None:
            warnings.append("could not measure the delay: forward does not respond to an impulse")
        else:
            # a random model's response to an impulse is partly noise: the peak is a guess
            delay_source = "measured" if deterministic else "measured (approximate: the model is random)"
    if deterministic is False:
        warnings.append("not deterministic: the same input gives different outputs on fresh loads "
                        "(stochastic encode/decode or noise); renders will not be bit-reproducible")

    weights_ok = None
    if metadata and metadata.get("weights_sha256"):
        from nnplug.export import weights_sha256
        weights_ok = weights_sha256(module) == metadata["weights_sha256"]
        if not weights_ok:
            warnings.append("the weights' sha256 differs from the one recorded at export: the file was altered")

    return ModelInfo(path=path, kind=kind, methods=methods, sample_rate=sample_rate, ratio=ratio, delay=delay,
                     delay_source=delay_source, latent_size=latent, channels=fwd["in_channels"], streaming=streaming,
                     deterministic=deterministic, attributes=attributes, metadata=metadata, weights_ok=weights_ok,
                     warnings=warnings, refusals=list(facts.refusals))


def format_info(info: ModelInfo) -> str:
    kinds = {"nnplug": "nnplug export", "rave-v2": "RAVE v2 export", "rave-v1": "RAVE v1 export",
             "nn~": "nn~-convention model"}
    lines = [f"{info.path}: {kinds.get(info.kind, info.kind)}"]
    if info.metadata:
        m = info.metadata
        lines.append(f"  name         {m.get('name')}" + (f" v{m['version']}" if m.get("version") else "")
                     + (f" by {m['author']}" if m.get("author") else ""))
        if m.get("description"):
            lines.append(f"  description  {m['description']}")
    sr = f"{info.sample_rate} Hz" if info.sample_rate else "unknown"
    lines.append(f"  sample rate  {sr}")
    lines.append(f"  ratio        {info.ratio} (audio buffers must be multiples of it)")
    if info.delay is not None:
        ms = f" ({1000 * info.delay / info.sample_rate:.1f} ms)" if info.sample_rate else ""
        lines.append(f"  delay        {info.delay} samples{ms}, {info.delay_source}")
    else:
        lines.append("  delay        unknown")
    lines.append(f"  channels     {info.channels}")
    lines.append(f"  latent size  {info.latent_size if info.latent_size is not None else '-'}")
    lines.append(f"  streaming    {'yes' if info.streaming else 'NO'}")
    det = {True: "yes", False: "no", None: "not checked"}[info.deterministic]
    lines.append(f"  deterministic {det}")
    if info.weights_ok is not None:
        lines.append(f"  weights      sha256 {'ok' if info.weights_ok else 'MISMATCH'}")
    meta = info.metadata or {}
    if meta.get("weights") == "float16":
        lines.append(f"  precision    float16 weights in {meta.get('half_layers')} wide layers (output changed by "
                     f"{meta.get('half_rounding_error', 0):.2g} relative RMS against float32)")
    delays = {n: m.get("delay") for n, m in (info.metadata or {}).get("methods", {}).items()}
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
