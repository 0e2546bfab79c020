"""The model contract: the one Python reader of a model file (nnplug exports, RAVE v1/v2 exports,
nn~ files, Neutone SDK files), mirroring the plugin's C++ reader (`plugin/src/ModelFile.cpp`, `readConvention` and
`readMetadata`) rule for rule, so that Python says what the plugin will do with a file:

* the nn~ convention: each method `m` in `get_methods()` (or forward/encode/decode when there is
  no `get_methods`) with a `m_params` int tensor [in_channels, in_ratio, out_channels, out_ratio];
* the format, sample rate and latent size from the attributes RAVE and nn~ files carry, and
  nnplug's own metadata (`nnplug.json` in the archive, or an `nnplug_metadata` string);
* the played path: encode -> decode when both exist and fit together (the latent controls act
  there), forward otherwise, unless the user chose one (`played_path`); the ratio every model
  buffer must be a multiple of; the delay the file states; and the plugin's limits, which refuse
  a file at load;
* whether the stream state carries across calls, where the file shows it: nnplug metadata says
  so; a cached_conv model (RAVE) streams when it holds cache buffers of nonzero size (RAVE's
  non-streaming exports have the same module classes but no cache buffers). A file that does
  not stream is played with a warning (each buffer alone: clicks at buffer edges), not refused;
  `nnplug stage` refuses it unless told otherwise;
* the model controls: nn~ attributes with a setter (numbers and bools), Neutone's knobs;
* Neutone SDK files (`.nm`, WaveformToWaveform): the wrapper resamples and re-blocks itself, so
  it plays at the host's rate on any buffer, and its delay is asked of it once the host's rate
  and buffer are known.

`tests/contract_cases/*.json` hold file descriptions with the facts this reader must find.
The facts here are read, never measured: what needs the model to run (the delay of a file that
does not state it, streaming behaviour, determinism) is measured by `nnplug inspect`.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

from nnplug.errors import NnplugError

METADATA_FILE = "nnplug.json"
METADATA_ATTRIBUTE = "nnplug_metadata"
METADATA_FORMAT_VERSION = 1
METHODS = ("forward", "encode", "decode")

# The plugin's limits (plugin/src/ModelInfo.h): a file outside them is refused at load.
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 1000, 768000
MAX_RATIO = 1 << 16
MAX_CHANNELS = 64                 # audio channels of a method's input or output
MAX_LATENT_CHANNELS = 4096        # encode's output, decode's input
MAX_DELAY = 1 << 22
MAX_LATENT_SIZE = 65536           # a stated latent size beyond it is ignored
MAX_ABS_OUTPUT = 1000.0           # an output sample beyond +60 dBFS: a broken model
MAX_REALTIME_FACTOR = 10.0        # trial buffers slower than 10x real time: refused

# The plugin's model buffer N: its "Auto" choice is AUTO_BUFFER_SIZE rounded up to the ratio.
AUTO_BUFFER_SIZE = 1024
# The buffer_size parameter's choices (juce_project/Parameters.cpp; a test reads them from the
# built plugin). A model whose ratio exceeds the largest cannot be played, whatever load accepts.
BUFFER_CHOICES = ("Auto", "64", "128", "256", "512", "1024", "2048", "4096", "8192", "16384")
LARGEST_BUFFER = int(BUFFER_CHOICES[-1])
# nnplug exports at most a stereo pair: the plugin's buses are stereo (foreign files with up to
# MAX_CHANNELS have their channels mapped onto the host's)
MAX_EXPORT_CHANNELS = 2
# The plugin's "Model control k" parameters (nn~ attributes, Neutone knobs), in file order.
MAX_CONTROLS = 8
# The "Model method" parameter's choices: Auto plays encode -> decode when the file has a latent
# path that fits, forward otherwise.
METHOD_CHOICES = ("Auto", "forward", "encode -> decode")
# Neutone's wrapper always takes this many knob rows (neutone_sdk's MAX_N_PARAMS).
NEUTONE_KNOBS = 4


class ContractError(NnplugError, ValueError):
    """The file breaks the contract; the message is the one the plugin gives."""


@dataclass
class Control:
    """A value of the model's own that the plugin exposes as "Model control k"."""
    name: str
    kind: str                 # "attribute" (nn~: get_/set_<name>) or "knob" (Neutone)
    type: str                 # "float", "int" or "bool"
    default: float
    lo: float
    hi: float
    description: str = ""
    slot: int = -1            # a knob's row in Neutone's [4, N] knob tensor


# "Model control k" at this value gives the model its default (ControlSpec::kDefaultParameter).
DEFAULT_CONTROL_PARAMETER = 0.5


def control_value(spec: Control, parameter: Optional[float]) -> float:
    """What the model gets when "Model control k" is at `parameter` (0..1, a float32 as the plugin
    holds it), as ControlSpec::valueAt computes it in double: 0.5 (or None) is the default,
    0..0.5 spans lo..default and 0.5..1 default..hi; an int rounds half up, a bool is on from 0.5."""
    import numpy as np
    if parameter is None or float(np.float32(parameter)) == DEFAULT_CONTROL_PARAMETER:
        return typed_control(spec, spec.default)
    p = min(max(float(np.float32(parameter)), 0.0), 1.0)
    d = spec.default
    v = spec.lo + (d - spec.lo) * (p / 0.5) if p < 0.5 else d + (spec.hi - d) * ((p - 0.5) / 0.5)
    return typed_control(spec, v)


def typed_control(spec: Control, value: float) -> float:
    if spec.type == "bool":
        return 1.0 if value >= 0.5 else 0.0
    if spec.type == "int":
        return float(math.floor(value + 0.5))
    return float(value)


@dataclass
class Contract:
    """What the plugin reads from a model file."""
    path: str
    name: str
    format: str                       # "nnplug", "rave-v2", "rave-v1", "nn~" or "neutone"
    sample_rate: Optional[float]      # None: the file states none
    ratio: int                        # model buffers must be multiples of it
    delay: int                        # the played path's delay in samples (0 when unknown)
    delay_known: bool
    latent_path: bool                 # plays encode -> decode (else forward)
    in_channels: int                  # of the played path
    out_channels: int
    deterministic: bool               # what the file says (RAVE exports: False)
    methods: Dict[str, List[int]] = field(default_factory=dict)      # forward/encode/decode params found
    method_delays: Dict[str, int] = field(default_factory=dict)      # from nnplug metadata, -1: unknown
    listed_methods: List[str] = field(default_factory=list)          # get_methods(), or those found
    latent_size: int = 0
    streaming: Optional[bool] = None  # None: the file does not show it (measured by nnplug.player)
    streaming_evidence: str = ""      # what decided `streaming`
    controls: List[Control] = field(default_factory=list)
    resamples_itself: bool = False    # Neutone: plays at the host's rate, on any buffer
    has_reset: bool = False
    author: str = ""
    description: str = ""
    version: str = ""
    metadata: Optional[Dict[str, Any]] = None
    refusals: List[str] = field(default_factory=list)   # why the plugin refuses the file at load

    @property
    def played(self) -> str:
        return "encode -> decode" if self.latent_path else "forward"

    @property
    def single_stream(self) -> bool:
        """The file holds one stream (a Neutone wrapper): a mono one on a stereo host plays the
        downmix whatever the mono mode (the plugin's Engine does the same)."""
        return self.format == "neutone"

    def mono_mode(self, requested: str) -> str:
        """The mono mode the plugin plays this file with when `requested` is set."""
        return "Downmix" if self.single_stream else requested

    @property
    def has_latent_path(self) -> bool:
        """encode and decode exist and fit together (Auto plays them)."""
        return latent_path_fits(self.methods)


def is_torchscript_archive(path: str) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
    return any(n.endswith("/data.pkl") for n in names) and any("/code/" in n for n in names)


def load(path: Union[str, Path]) -> Tuple[Any, str]:
    """(module, metadata text) of a TorchScript file, loaded on the CPU, with a clear error for
    what is not one."""
    import torch
    path = str(path)
    if not os.path.exists(path):
        raise ContractError(f"{path}: no such file")
    if os.path.isdir(path):
        raise ContractError(f"{path} is a directory, not a TorchScript file")
    if not is_torchscript_archive(path):
        raise ContractError(f"{path} is not a TorchScript file (expected a torch.jit.save archive). A checkpoint "
                            "made by torch.save holds weights only: export it first with `nnplug export`")
    extra = {METADATA_FILE: ""}
    try:
        module = torch.jit.load(path, map_location="cpu", _extra_files=extra)
    except Exception as e:  # noqa: BLE001 - torch raises RuntimeError and others for broken archives
        raise ContractError(f"{path} is not a loadable TorchScript file: {_first_line(e)}") from e
    text = extra[METADATA_FILE]
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return module, text


def _has(module, name: str) -> bool:
    try:
        return hasattr(module, name)
    except RuntimeError:
        return False


def _number(module, name: str) -> Optional[float]:
    """An int, float or bool attribute as a number (ModelFile's attrNumber), else None."""
    if not _has(module, name):
        return None
    v = getattr(module, name)
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        return float(v)
    return None


def _count(module, name: str, fallback: int) -> int:
    v = _number(module, name)
    return int(v) if v is not None and math.isfinite(v) and 0 <= v <= 1e9 else fallback


def read_params(module, method: str) -> Optional[List[int]]:
    """`method`'s [in_channels, in_ratio, out_channels, out_ratio], None when the method or its
    `_params` buffer is missing; ContractError (the plugin's message) when they are malformed."""
    import torch
    attr = f"{method}_params"
    if not callable(getattr(module, method, None)) or not _has(module, attr):
        return None
    value = getattr(module, attr)
    if not isinstance(value, torch.Tensor):
        raise ContractError(f"{attr} must be an integer tensor of 4 values, is not a tensor")
    if value.dim() != 1 or value.numel() != 4 or value.dtype.is_floating_point or value.dtype.is_complex \
            or value.dtype == torch.bool:
        raise ContractError(f"{attr} must be an integer tensor of 4 values [in_channels, in_ratio, out_channels, "
                            f"out_ratio], has {value.numel()} values of type {value.dtype} in {value.dim()} "
                            "dimension(s)")
    v = [int(x) for x in value.tolist()]
    max_in = MAX_LATENT_CHANNELS if method == "decode" else MAX_CHANNELS
    max_out = MAX_LATENT_CHANNELS if method == "encode" else MAX_CHANNELS
    for i, x in enumerate(v):
        if x < 1 or x > (max_in if i == 0 else max_out if i == 2 else MAX_RATIO):
            raise ContractError(f"{attr} has an entry out of range (channels 1..{max_in if i == 0 else max_out}, "
                                f"ratios 1..{MAX_RATIO})")
    return v


def _listed_methods(module) -> List[str]:
    getter = getattr(module, "get_methods", None)
    if callable(getter):
        try:
            return [str(n) for n in getter()]
        except Exception as e:  # noqa: BLE001 - the file's own method failed
            raise ContractError(f"get_methods() fails: {_first_line(e)}") from e
    return [n for n in METHODS if callable(getattr(module, n, None))]


def _int(value, fallback: int) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else fallback


def read_module(module, metadata_text: str = "", path: str = "", strict: bool = True) -> Contract:
    """The contract of a loaded module (`load`), as ModelFile.cpp reads it. A file the plugin refuses
    raises ContractError with its message; with `strict=False` the reasons are only listed in
    `refusals` (to describe such a file, as `nnplug inspect` does)."""
    if is_neutone(module):
        contract = _read_neutone(module, path)
    else:
        contract = _read_nn_tilde(module, metadata_text, path)
    if strict and contract.refusals:
        raise ContractError(contract.refusals[0])
    return contract


def _read_nn_tilde(module, metadata_text: str, path: str) -> Contract:
    """nnplug, RAVE and nn~ files: the nn~ convention, the formats' attributes, nnplug metadata."""
    methods = {m: p for m in METHODS if (p := read_params(module, m)) is not None}
    forward = methods.get("forward")
    ratio = max(1, forward[1], forward[3]) if forward else 1
    deterministic = True
    sample_rate: Optional[float] = None
    latent_size = 0
    if _has(module, "full_latent_size") or (_has(module, "sr") and _has(module, "latent_size")):
        fmt, sample_rate, deterministic = "rave-v2", _number(module, "sr"), False
        latent_size = _count(module, "latent_size", 0)
    elif _has(module, "sampling_rate") and _has(module, "_rave"):
        fmt, sample_rate, deterministic = "rave-v1", _number(module, "sampling_rate"), False
        latent_size = _count(module, "latent_size", 0)
    else:
        fmt = "nn~"
        sample_rate = _number(module, "sr") if _has(module, "sr") else _number(module, "sampling_rate")

    contract = Contract(path=path, name="", format=fmt, sample_rate=sample_rate, ratio=ratio, delay=0,
                        delay_known=False, latent_path=False, in_channels=0, out_channels=0,
                        deterministic=deterministic, methods=methods, listed_methods=_listed_methods(module),
                        latent_size=latent_size, has_reset=callable(getattr(module, "reset", None)))
    _read_streaming_state(contract, module)
    contract.controls = _attribute_controls(module)
    text = metadata_text
    if not text and _has(module, METADATA_ATTRIBUTE) and isinstance(getattr(module, METADATA_ATTRIBUTE), str):
        text = getattr(module, METADATA_ATTRIBUTE)
    if text:
        _read_metadata(contract, text)
    _settle(contract)
    return contract


# cached_conv keeps a stream's past in `pad` buffers of its padding modules; RAVE's exporter
# makes them only with caching on. Its containers are in both kinds of export (nnplug's own
# layers have other names: CachedConv1d is one of both, so it does not tell them apart).
CACHED_CONV_CLASSES = ("CachedSequential", "CachedPadding1d", "CachedPQMF")
CACHE_BUFFER = "pad"


def _read_streaming_state(c: Contract, module) -> None:
    """What the module's structure says about its stream state (nnplug metadata, read later,
    has the last word)."""
    classes = {getattr(sub, "original_name", type(sub).__name__) for _, sub in module.named_modules()}
    if not classes & set(CACHED_CONV_CLASSES):
        return
    caches = [b for name, b in module.named_buffers() if name.rpartition(".")[2] == CACHE_BUFFER]
    if any(b.numel() > 0 for b in caches):
        c.streaming, c.streaming_evidence = True, "cached_conv cache buffers"
    else:
        c.streaming, c.streaming_evidence = False, "cached_conv layers without cache buffers (exported without streaming)"


def _attribute_controls(module) -> List[Control]:
    """nn~ attributes (`get_attributes()`) holding one number or bool, with a `set_<name>`: the
    getter gives the type and default. nn~ states no range: a bool is 0..1; an int or float d
    gets [min(0, 2d), max(1, 2d)], room to turn it down to 0 and up to twice its default."""
    getter = getattr(module, "get_attributes", None)
    if not callable(getter):
        return []
    try:
        names = [str(n) for n in getter()]
    except Exception:  # noqa: BLE001 - the file's own method failed: no controls
        return []
    controls = []
    for name in names:
        get, set_ = getattr(module, f"get_{name}", None), getattr(module, f"set_{name}", None)
        if not (callable(get) and callable(set_)):
            continue
        try:
            value = get()
        except Exception:  # noqa: BLE001
            continue
        if isinstance(value, tuple):
            if len(value) != 1:
                continue
            value = value[0]
        if isinstance(value, bool):
            controls.append(Control(name, "attribute", "bool", float(value), 0.0, 1.0))
        elif isinstance(value, (int, float)) and math.isfinite(value):
            d = float(value)
            controls.append(Control(name, "attribute", "int" if isinstance(value, int) else "float", d,
                                    min(0.0, 2 * d), max(1.0, 2 * d)))
        if len(controls) == MAX_CONTROLS:
            break
    return controls


NEUTONE_METHODS = ("set_daw_sample_rate_and_buffer_size", "calc_buffering_delay_samples",
                   "calc_model_delay_samples", "is_input_mono", "is_output_mono", "get_metadata_json")


def is_neutone(module) -> bool:
    """A Neutone SDK WaveformToWaveform file (its SampleQueueWrapper's methods)."""
    return all(callable(getattr(module, m, None)) for m in NEUTONE_METHODS) and not _has(module, "forward_params")


def _read_neutone(module, path: str) -> Contract:
    try:
        meta = json.loads(module.get_metadata_json())
        mono_in, mono_out = bool(module.is_input_mono()), bool(module.is_output_mono())
        defaults = [float(v) for v in module.get_default_param_values().flatten().tolist()] \
            if callable(getattr(module, "get_default_param_values", None)) else []
    except Exception as e:  # noqa: BLE001 - the file's own methods failed
        raise ContractError(f"Neutone file whose metadata cannot be read: {_first_line(e)}") from e
    if not isinstance(meta, dict):
        raise ContractError("Neutone file whose metadata is not a JSON object")
    c = Contract(path=path, name=str(meta.get("model_name") or ""), format="neutone", sample_rate=None, ratio=1,
                 delay=0, delay_known=False, latent_path=False, in_channels=1 if mono_in else 2,
                 out_channels=1 if mono_out else 2, deterministic=True, listed_methods=["forward"],
                 has_reset=callable(getattr(module, "reset", None)), resamples_itself=True)
    authors = meta.get("model_authors")
    c.author = ", ".join(str(a) for a in authors) if isinstance(authors, list) else str(authors or "")
    c.description = str(meta.get("model_short_description") or "")
    c.version = str(meta.get("model_version") or "")
    c.metadata = meta
    params = meta.get("neutone_parameters") if isinstance(meta.get("neutone_parameters"), dict) else {}
    for i in range(NEUTONE_KNOBS):
        spec = params.get(f"p{i + 1}")
        if not isinstance(spec, dict) or not spec.get("used", True) or spec.get("type", "continuous") != "continuous":
            continue
        default = defaults[i] if i < len(defaults) else 0.0
        c.controls.append(Control(str(spec.get("name") or f"p{i + 1}"), "knob", "float", default, 0.0, 1.0,
                                  str(spec.get("description") or ""), slot=i))
    if not c.name:
        c.name = Path(path).stem if path else ""
    return c


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def latent_path_fits(methods: Dict[str, List[int]]) -> bool:
    e, d = methods.get("encode"), methods.get("decode")
    return bool(e and d and e[1] == 1 and d[3] == 1 and e[2] == d[0] and e[3] == d[1] and e[3] >= 1)


def _read_metadata(c: Contract, text: str) -> None:
    try:
        meta = json.loads(text)
    except ValueError as e:
        raise ContractError(f"nnplug metadata is not valid JSON: {e}") from e
    if not isinstance(meta, dict):
        raise ContractError("nnplug metadata is not a JSON object")
    version = _int(meta.get("format_version"), 0)
    if version != METADATA_FORMAT_VERSION:
        raise ContractError(f"unsupported nnplug metadata format_version {version}")
    c.format, c.metadata = "nnplug", meta
    c.name, c.author = str(meta.get("name") or ""), str(meta.get("author") or "")
    c.description, c.version = str(meta.get("description") or ""), str(meta.get("version") or "")
    if isinstance(meta.get("sample_rate"), (int, float)) and not isinstance(meta.get("sample_rate"), bool):
        c.sample_rate = float(meta["sample_rate"])
    ratio = _int(meta.get("ratio"), -1)
    if not 1 <= ratio <= MAX_RATIO:
        raise ContractError(f"nnplug metadata: ratio must be 1..{MAX_RATIO}")
    if isinstance(meta.get("streaming"), bool):
        c.streaming, c.streaming_evidence = meta["streaming"], "nnplug metadata"
    c.ratio = math.lcm(c.ratio, ratio)
    if isinstance(meta.get("delay"), (int, float)) and not isinstance(meta.get("delay"), bool):
        delay = int(meta["delay"])
        if delay > MAX_DELAY:
            raise ContractError(f"nnplug metadata: delay {delay} is absurd (limit {MAX_DELAY} samples)")
        c.delay_known, c.delay = delay >= 0, max(0, delay)
    c.latent_size = _int(meta.get("latent_size"), c.latent_size)
    c.deterministic = meta.get("deterministic", True) if isinstance(meta.get("deterministic", True), bool) else True
    for name, spec in (meta.get("methods") or {}).items() if isinstance(meta.get("methods"), dict) else ():
        if name in METHODS and isinstance(spec, dict) and isinstance(spec.get("delay"), (int, float)):
            c.method_delays[name] = min(max(int(spec["delay"]), -1), MAX_DELAY)


def _settle(c: Contract) -> None:
    """The played path, and the checks ModelFile.cpp makes once everything is read (in its order)."""
    if not c.name:
        c.name = Path(c.path).stem if c.path else ""
    if c.format != "neutone":
        why_not = _apply_path(c, latent_path_fits(c.methods))
        if why_not:
            c.refusals.append(why_not)
    if c.latent_size < 0 or c.latent_size > MAX_LATENT_SIZE:
        c.latent_size = 0
    if c.ratio > MAX_RATIO:
        c.refusals.append(f"model ratio {c.ratio} is absurd (limit {MAX_RATIO})")
    if c.sample_rate is not None and not MIN_SAMPLE_RATE <= c.sample_rate <= MAX_SAMPLE_RATE:
        c.refusals.append(f"model sample rate {c.sample_rate:g} Hz is not plausible (expected {MIN_SAMPLE_RATE} to "
                          f"{MAX_SAMPLE_RATE} Hz): re-export it with the right rate")


def _apply_path(c: Contract, latent: bool) -> Optional[str]:
    """Sets the facts of playing encode -> decode (latent) or forward; returns why that path
    cannot be played, or None."""
    e, d, forward = c.methods.get("encode"), c.methods.get("decode"), c.methods.get("forward")
    c.latent_path = latent
    if not latent:
        if forward is None:
            return "model has no usable method: needs forward_params (or encode/decode) per the nn~ convention"
        if forward[1] != 1 or forward[3] != 1:
            return f"forward is not audio-to-audio (in_ratio {forward[1]}, out_ratio {forward[3]})"
        c.in_channels, c.out_channels = forward[0], forward[2]
        if c.method_delays.get("forward", -1) >= 0:
            c.delay, c.delay_known = c.method_delays["forward"], True
        return None
    c.latent_size = c.latent_size if c.latent_size > 0 else e[2]
    c.ratio = math.lcm(c.ratio, e[3])
    ed, dd = c.method_delays.get("encode", -1), c.method_delays.get("decode", -1)
    if ed >= 0 and dd >= 0:
        # each method's delay counts samples of its own output rate: encode's latent frames
        # are out_ratio audio samples apart
        c.delay, c.delay_known = ed * e[3] + dd, True
    c.in_channels, c.out_channels = e[0], d[2]
    return None


def with_method(c: Contract, choice: str) -> Contract:
    """The contract when the "Model method" parameter is `choice` (METHOD_CHOICES): Auto is the
    file's own rule (encode -> decode when it fits, forward otherwise). A choice the file cannot
    play raises ContractError with the plugin's message."""
    choice = next((m for m in METHOD_CHOICES if m.lower() == str(choice).strip().lower()), None) or \
        {"encode->decode": "encode -> decode", "latent": "encode -> decode"}.get(str(choice).strip().lower())
    if choice is None:
        raise ContractError(f"model method must be one of {', '.join(METHOD_CHOICES)}")
    if choice == "Auto" or c.format == "neutone":
        return c
    latent = choice == "encode -> decode"
    if latent == c.latent_path:
        return c
    if latent and not latent_path_fits(c.methods):
        raise ContractError("model method encode -> decode: the file has no encode/decode pair that fits together")
    chosen = dataclasses.replace(c, refusals=list(c.refusals), delay=0, delay_known=False)
    why_not = _apply_path(chosen, latent)
    if why_not:
        raise ContractError(f"model method {choice}: {why_not}")
    return chosen


def read(path: Union[str, Path]) -> Contract:
    """The contract of the model file at `path` (raises ContractError with the plugin's message)."""
    module, text = load(path)
    try:
        return read_module(module, text, str(path))
    except ContractError as e:
        raise ContractError(f"{path}: {e}") from e


def buffer_size(choice: Union[str, int, float], ratio: int) -> int:
    """The plugin's model buffer N for its `buffer_size` choice: the request (Auto =
    AUTO_BUFFER_SIZE) rounded up to the ratio."""
    want = AUTO_BUFFER_SIZE if str(choice).strip().lower() == "auto" else int(float(str(choice)))
    ratio = max(1, int(ratio))
    return -(-want // ratio) * ratio


# ---- host channels <-> model lanes (plugin/src/LaneMap.h, rule for rule)
MONO_MODES = ("Per channel", "Downmix")


def lane_batch(host_channels: int, in_channels: int, mono_mode: str = "Per channel") -> int:
    """How many streams the model runs at once: one per host channel for a mono model on a
    multichannel host in "Per channel" mode, else one."""
    return host_channels if in_channels == 1 and host_channels > 1 and mono_mode == "Per channel" else 1


def to_lanes(x, in_channels: int, mono_mode: str = "Per channel"):
    """Host channels x (H, T) float32 -> the model's input (batch, in_channels, T) float32."""
    import numpy as np
    h = x.shape[0]
    if lane_batch(h, in_channels, mono_mode) > 1:
        return np.ascontiguousarray(x[:, None, :])
    if in_channels == 1 and h > 1:
        s = np.zeros(x.shape[1], np.float32)
        for ch in range(h):
            s = (s + x[ch]).astype(np.float32)
        return (s / np.float32(h)).astype(np.float32)[None, None, :]
    return np.stack([x[c % h] for c in range(in_channels)])[None]


def to_host(out, host_channels: int):
    """The model's output (batch, out_channels, T) -> host channels (H, T) float32."""
    import numpy as np
    batch, co, total = out.shape
    wet = np.zeros((host_channels, total), np.float32)
    for ch in range(host_channels):
        if batch > 1:
            wet[ch] = out[ch, 0]
        elif co == host_channels or (co > host_channels > 1):
            wet[ch] = out[0, ch]
        elif co == 1:
            wet[ch] = out[0, 0]
        else:
            s = np.zeros(total, np.float32)
            for c in range(co):
                s = (s + out[0, c]).astype(np.float32)
            wet[ch] = s / np.float32(co)
    return wet
