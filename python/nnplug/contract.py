"""The model contract: the one Python reader of a model file (nnplug exports, RAVE v1/v2 exports,
nn~ files), mirroring the plugin's C++ reader (`plugin/src/ModelHost.cpp`, `readConvention` and
`readMetadata`) rule for rule, so that Python says what the plugin will do with a file:

* the nn~ convention: each method `m` in `get_methods()` (or forward/encode/decode when there is
  no `get_methods`) with a `m_params` int tensor [in_channels, in_ratio, out_channels, out_ratio];
* the format, sample rate and latent size from the attributes RAVE and nn~ files carry, and
  nnplug's own metadata (`nnplug.json` in the archive, or an `nnplug_metadata` string);
* the played path: encode -> decode when both exist and fit together (the latent controls act
  there), forward otherwise; the ratio every model buffer must be a multiple of; the delay the
  file states; and the plugin's limits, which refuse a file at load.

`tests/contract_cases/*.json` hold file descriptions with the facts this reader must find.
The facts here are read, never measured: what needs the model to run (the delay of a file that
does not state it, streaming behaviour, determinism) is measured by `nnplug inspect`.
"""
from __future__ import annotations

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

# The plugin's limits (plugin/src/ModelHost.h): a file outside them is refused at load.
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
# The buffer_size parameter's choices (juce_project/PluginProcessor.cpp; a test reads them from the
# built plugin). A model whose ratio exceeds the largest cannot be played, whatever load accepts.
BUFFER_CHOICES = ("Auto", "64", "128", "256", "512", "1024", "2048", "4096", "8192", "16384")
LARGEST_BUFFER = int(BUFFER_CHOICES[-1])
# nnplug exports at most a stereo pair: the plugin's buses are stereo (foreign files with up to
# MAX_CHANNELS have their channels mapped onto the host's)
MAX_EXPORT_CHANNELS = 2


class ContractError(NnplugError, ValueError):
    """The file breaks the contract; the message is the one the plugin gives."""


@dataclass
class Contract:
    """What the plugin reads from a model file."""
    path: str
    name: str
    format: str                       # "nnplug", "rave-v2", "rave-v1" or "nn~"
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
    streaming: bool = True            # False only when nnplug metadata says so (the plugin refuses it)
    has_reset: bool = False
    author: str = ""
    description: str = ""
    version: str = ""
    metadata: Optional[Dict[str, Any]] = None
    refusals: List[str] = field(default_factory=list)   # why the plugin refuses the file at load

    @property
    def played(self) -> str:
        return "encode -> decode" if self.latent_path else "forward"


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
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ContractError(f"{path} is not a loadable TorchScript file: {first}") from e
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
    """An int, float or bool attribute as a number (ModelHost's attrNumber), else None."""
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
            raise ContractError(f"get_methods() fails: {str(e).strip().splitlines()[0] if str(e).strip() else e}")
    return [n for n in METHODS if callable(getattr(module, n, None))]


def _int(value, fallback: int) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else fallback


def read_module(module, metadata_text: str = "", path: str = "", strict: bool = True) -> Contract:
    """The contract of a loaded module (`load`), as ModelHost reads it. A file the plugin refuses
    raises ContractError with its message; with `strict=False` the reasons are only listed in
    `refusals` (to describe such a file, as `nnplug inspect` does)."""
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
    text = metadata_text
    if not text and _has(module, METADATA_ATTRIBUTE) and isinstance(getattr(module, METADATA_ATTRIBUTE), str):
        text = getattr(module, METADATA_ATTRIBUTE)
    if text:
        _read_metadata(contract, text)
    _settle(contract)
    if strict and contract.refusals:
        raise ContractError(contract.refusals[0])
    return contract


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
    if meta.get("streaming", True) is False:
        c.streaming = False
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


NOT_STREAMING = ("not a streaming model (its nnplug metadata says streaming: false): each buffer would be "
                 "processed alone and click at buffer edges. Convert it with nnplug.streaming.convert")


def _settle(c: Contract) -> None:
    """The played path, and the checks ModelHost makes once everything is read (in its order)."""
    if not c.name:
        c.name = Path(c.path).stem if c.path else ""
    e, d = c.methods.get("encode"), c.methods.get("decode")
    c.latent_path = bool(e and d and e[1] == 1 and d[3] == 1 and e[2] == d[0] and e[3] == d[1] and e[3] >= 1)
    forward = c.methods.get("forward")
    if not c.latent_path:
        if forward is None:
            c.refusals.append("model has no usable method: needs forward_params (or encode/decode) per the nn~ "
                              "convention")
        elif forward[1] != 1 or forward[3] != 1:
            c.refusals.append(f"forward is not audio-to-audio (in_ratio {forward[1]}, out_ratio {forward[3]})")
        else:
            c.in_channels, c.out_channels = forward[0], forward[2]
    else:
        c.latent_size = c.latent_size if c.latent_size > 0 else e[2]
        c.ratio = math.lcm(c.ratio, e[3])
        ed, dd = c.method_delays.get("encode", -1), c.method_delays.get("decode", -1)
        if ed >= 0 and dd >= 0:
            # each method's delay counts samples of its own output rate: encode's latent frames
            # are out_ratio audio samples apart
            c.delay, c.delay_known = ed * e[3] + dd, True
        c.in_channels, c.out_channels = e[0], d[2]
    if c.latent_size < 0 or c.latent_size > MAX_LATENT_SIZE:
        c.latent_size = 0
    if c.ratio > MAX_RATIO:
        c.refusals.append(f"model ratio {c.ratio} is absurd (limit {MAX_RATIO})")
    if c.sample_rate is not None and not MIN_SAMPLE_RATE <= c.sample_rate <= MAX_SAMPLE_RATE:
        c.refusals.append(f"model sample rate {c.sample_rate:g} Hz is not plausible (expected {MIN_SAMPLE_RATE} to "
                          f"{MAX_SAMPLE_RATE} Hz): re-export it with the right rate")
    if not c.streaming:
        c.refusals.append(NOT_STREAMING)


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
