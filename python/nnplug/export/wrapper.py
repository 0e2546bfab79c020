"""The module an export file holds: one streaming module per method, its `<method>_params`
buffer, and the nn~ convention's `get_methods()`, `get_attributes()` and `reset()`."""
from __future__ import annotations

from typing import Dict, List, Sequence

import torch
import torch.nn as nn


class ExportedModel(nn.Module):
    """Holds one streaming module per method as `<method>_stream`. The method bodies are added
    by `wrapper_class`, so that the file has exactly the requested methods (TorchScript compiles
    every exported method, and a body naming an absent stream would not compile)."""

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


def wrapper_class(methods: Sequence[str]) -> type:
    """A subclass of ExportedModel with a body for each of `methods` (forward is TorchScript's
    entry point; the others are exported explicitly)."""
    attrs = {name: (_BODIES[name] if name == "forward" else torch.jit.export(_BODIES[name])) for name in methods}
    return type("NNPlugModel", (ExportedModel,), attrs)
