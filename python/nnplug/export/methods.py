"""One exported method: converted to streaming, probed for its shapes, and the checks that
refuse what the plugin cannot run."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import torch
import torch.nn as nn

from nnplug import streaming as ns
from nnplug.contract import LARGEST_BUFFER, MAX_EXPORT_CHANNELS
from nnplug.export.errors import ExportError

SUPPORTED_METHODS = ("forward", "encode", "decode")


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


def guess_in_channels(model: nn.Module, method: str, latent: Optional[int]) -> int:
    """A method's input channels from what the model shows: decode takes the latent (encode's
    output when it is exported too), the others the model's `channels` or first Conv1d."""
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


def convert_method(model: nn.Module, name: str, in_channels: int) -> MethodInfo:
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


def check_contract(infos: Dict[str, MethodInfo]) -> None:
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


def common_ratio(infos: Dict[str, MethodInfo]) -> int:
    """The file's ratio: the least audio buffer every method accepts."""
    ratio = 1
    for info in infos.values():
        ratio = ratio * info.audio_ratio // math.gcd(ratio, info.audio_ratio)
    return ratio
